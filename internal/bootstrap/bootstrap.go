// Package bootstrap writes the CloudFormation template that prepares an AWS
// account for tap-deploy: the state bucket, GitHub's OIDC provider, and one
// role per job kind, each trusting one exact OIDC subject and allowed what
// the stack's own resource graph needs. It is pure: the graph comes from
// running the stack program offline (internal/offline), and the IAM actions
// of every resource type from one table (Table).
package bootstrap

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/org/tap-deploy/internal/awsfacts"
	"github.com/org/tap-deploy/internal/inputs"
	"github.com/org/tap-deploy/internal/problems"
)

// Options are what the template is for.
type Options struct {
	// Project is the Pulumi project and the prefix of every name.
	Project string
	// Environments are the stacks to deploy (dev, staging, prod).
	Environments []string
	// Region is where the stacks and the state bucket live.
	Region string
	// Repository is the GitHub repository (owner/repo) whose workflows
	// assume the roles.
	Repository string
	// StateBucket names the state bucket; empty derives one from the
	// project, the account and the region.
	StateBucket string
	// CreateOIDCProvider is the default of the template's parameter: an
	// account has one GitHub OIDC provider, so only the first template in
	// an account creates it.
	CreateOIDCProvider bool
	// APIGatewayAccount says who owns the region's API Gateway CloudWatch
	// logging role: OwnerTemplate, OwnerNone, or an environment's stack.
	APIGatewayAccount string
	// ReviewEnvironment is the environment whose review stacks the review
	// role deploys, or OwnerNone for no review role.
	ReviewEnvironment string
	// MergeQueue also lets merge-queue checks assume the preview role.
	MergeQueue bool
}

// Who may own the API Gateway logging role, besides an environment.
const (
	OwnerTemplate = "template"
	OwnerNone     = "none"
)

// ReviewGitHubEnvironment is the GitHub environment of review-stack and
// sweep jobs: its OIDC subject tells the review role from the preview role
// (both run on pull requests).
const ReviewGitHubEnvironment = "review"

// DriftSuffix ends the GitHub environment of an environment's drift job.
const DriftSuffix = "-drift"

var repositoryPattern = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$`)

// Problems says everything wrong with the options at once, each naming its
// flag; nil when they are fine.
func (o Options) Problems() error {
	var found problems.List
	if msg := inputs.ProjectProblem("--project-name", o.Project); msg != "" {
		found = append(found, msg)
	}
	if len(o.Environments) == 0 {
		found = append(found, "--environment: required: the environments to deploy, comma-separated (like dev,staging,prod)")
	}
	for i, env := range o.Environments {
		switch {
		case inputs.EnvironmentProblem("--environment", env) != "":
			found = append(found, inputs.EnvironmentProblem("--environment", env))
		case slices.Contains(o.Environments[:i], env):
			found = append(found, fmt.Sprintf("--environment: %q is named twice", env))
		case env == ReviewGitHubEnvironment:
			found = append(found, fmt.Sprintf("--environment: %q is the GitHub environment of review stacks; choose another name", env))
		case slices.Contains(o.Environments, strings.TrimSuffix(env, DriftSuffix)) && strings.HasSuffix(env, DriftSuffix):
			found = append(found, fmt.Sprintf("--environment: %q is the GitHub environment of %s's drift checks; choose another name", env, strings.TrimSuffix(env, DriftSuffix)))
		default:
			for _, other := range o.Environments {
				for _, c := range AlarmComponents {
					if env == other+"-"+c || strings.HasPrefix(env, other+"-"+c+"-") {
						found = append(found, fmt.Sprintf("--environment: %q would name its alarms like %s's (%s-%s-%s-…); choose another name", env, other, o.Project, other, c))
					}
				}
			}
		}
	}
	if o.Region == "" {
		found = append(found, "--aws-region: required: the region of the stacks and the state bucket (like eu-west-1)")
	} else if msg := inputs.RegionProblem("--aws-region", o.Region); msg != "" {
		found = append(found, msg)
	}
	if !repositoryPattern.MatchString(o.Repository) {
		found = append(found, fmt.Sprintf("--repository: %q must be the GitHub repository as owner/repo, spelled as GitHub spells it (the OIDC subject is compared exactly)", o.Repository))
	}
	if o.StateBucket != "" {
		if msg := awsfacts.BucketName.Check(o.StateBucket); msg != "" {
			found = append(found, "--state-bucket: "+msg)
		}
	}
	switch a := o.APIGatewayAccount; {
	case a == OwnerTemplate || a == OwnerNone || slices.Contains(o.Environments, a):
	default:
		found = append(found, fmt.Sprintf("--api-gateway-account: %q must be template (this template owns the region's API Gateway logging role), none (another owns it), or one of the environments (its stack sets manageApiGatewayAccount=true)", a))
	}
	if r := o.ReviewEnvironment; r != OwnerNone && !slices.Contains(o.Environments, r) {
		found = append(found, fmt.Sprintf("--review-environment: %q must be one of the environments (review stacks are copies of its stack) or none", r))
	} else if r != OwnerNone {
		for _, env := range o.Environments {
			if strings.HasPrefix(env, r+"-pr-") {
				found = append(found, fmt.Sprintf("--environment: %q would name its resources like the review stacks of %s (%s-%s-pr-<N>-…); choose another name", env, r, o.Project, r))
			}
		}
	}
	if len(found) > 0 {
		return found
	}
	return nil
}

// Template returns the CloudFormation template (YAML) for the options.
func Template(o Options) ([]byte, error) {
	if err := o.Problems(); err != nil {
		return nil, err
	}
	t, err := build(o)
	if err != nil {
		return nil, err
	}
	return render(t, header(o))
}

// LoginURL is the backend an administrator logs in to once, after
// deploying the template: Pulumi's first login writes the layout
// (.pulumi/meta.yaml) that every environment's stack is found by, and
// that no role of the template may write. The region is in the URL: the
// administrator's default region may be another.
func LoginURL(o Options) string {
	bucket := o.StateBucket
	if bucket == "" {
		bucket = strings.ReplaceAll(namer(o, "pulumi").Name(awsfacts.BucketName, "state"), modelAccount, "<account-id>")
	}
	return "s3://" + bucket + "/" + o.Project + "?region=" + o.Region
}

// header says how the template was made and how to deploy it.
func header(o Options) string {
	args := []string{"tap-deploy bootstrap",
		"--environment " + strings.Join(o.Environments, ","),
		"--aws-region " + o.Region,
		"--repository " + o.Repository,
		"--project-name " + o.Project}
	if o.StateBucket != "" {
		args = append(args, "--state-bucket "+o.StateBucket)
	}
	args = append(args,
		fmt.Sprintf("--create-oidc-provider=%t", o.CreateOIDCProvider),
		"--api-gateway-account "+o.APIGatewayAccount,
		"--review-environment "+o.ReviewEnvironment)
	if o.MergeQueue {
		args = append(args, "--merge-queue")
	}
	shared := ""
	if len(o.Environments) > 1 {
		shared = "; the environments' deploy and drift roles share their policies,\n" +
			"which name the environment as ${aws:PrincipalTag/environment}: each role's environment tag"
	}
	return "Made by: " + strings.Join(args, " ") + "\n" +
		"Deploy it (as an administrator of the account, in " + o.Region + "):\n" +
		"  aws cloudformation deploy --region " + o.Region + " --stack-name " + o.Project + "-bootstrap --capabilities CAPABILITY_NAMED_IAM --template-file <this file>\n" +
		"Then, once, with the same credentials, create the backend (its .pulumi/meta.yaml, which no role here may write):\n" +
		"  pulumi login '" + LoginURL(o) + "'\n" +
		"Generated from the stack's resource graph: do not edit; run tap-deploy bootstrap again when the stack changes.\n" +
		"Every role reads what previews read (ReadPolicy)" + shared + "."
}
