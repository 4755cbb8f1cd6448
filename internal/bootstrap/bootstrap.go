// Package bootstrap writes the CloudFormation templates that prepare an AWS
// account for tap-deploy: one for the account (the state bucket, GitHub's
// OIDC provider, the preview and review roles, what every role reads) and
// one per environment (its deploy and drift roles and the permissions
// boundary of every role its stack makes). Each role trusts exact OIDC
// subjects and is allowed what the stack's own resource graph needs. It is
// pure: the graph comes from running the stack program offline
// (internal/offline), and the IAM actions of every resource type from one
// table (Table).
//
// One template per environment keeps every template far below what
// `aws cloudformation deploy --template-file` sends (51,200 bytes), for
// any number of environments, and an environment added later is one more
// stack: the others are not deployed again. An environment in an account
// of its own, as AWS recommends for production, is bootstrapped there with
// an account template of its own.
package bootstrap

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/org/tap-deploy/internal/awsfacts"
	"github.com/org/tap-deploy/internal/inputs"
	"github.com/org/tap-deploy/internal/problems"
	"github.com/org/tap-deploy/stack"
)

// Options are what the templates are for: the environments that live in
// one AWS account, and how that account is set up.
type Options struct {
	// Project is the Pulumi project and the prefix of every name.
	Project string
	// Environments are the stacks deployed into this account (dev,
	// staging, prod); another account's environments are bootstrapped
	// there.
	Environments []string
	// Region is where the stacks and the state bucket live.
	Region string
	// Repository is the GitHub repository (owner/repo) whose workflows
	// assume the roles.
	Repository string
	// RepositoryID, when set, is the repository's numeric id, which every
	// role's trust policy also requires (the OIDC token's repository_id
	// claim): a repository renamed or deleted and then re-created under the
	// old name by someone else has another id.
	RepositoryID string
	// StateBucket names the state bucket; empty derives one from the
	// project, the account and the region.
	StateBucket string
	// CreateOIDCProvider is the default of the account template's
	// parameter: an account has one GitHub OIDC provider, so an account
	// that has it (most accounts that use GitHub Actions) deploys with
	// CreateGitHubOidcProvider=false and the roles trust that one.
	CreateOIDCProvider bool
	// APIGatewayLogging says who sets the region's API Gateway CloudWatch
	// logging role, an account-wide setting: OwnerNone (something else, or
	// nobody yet), OwnerAccount (the account template), or an environment
	// (its stack sets manageApiGatewayAccount=true).
	APIGatewayLogging string
	// ReviewEnvironment is the environment whose review stacks the review
	// role deploys, or OwnerNone for no review role.
	ReviewEnvironment string
	// MergeQueue also lets merge-queue checks assume the preview role.
	MergeQueue bool
	// Promotions are the environments of this account that a deploy in
	// another account promotes from: their drift role (read only) also
	// trusts that deploy's job.
	Promotions []Promotion
}

// Promotion is a deploy of To, in another account, that promotes from
// From, in this one.
type Promotion struct{ From, To string }

func (p Promotion) String() string { return p.From + ":" + p.To }

// Who may set the API Gateway logging role, besides an environment; none
// is also "no review role".
const (
	OwnerAccount = "account"
	OwnerNone    = "none"
)

// ReviewGitHubEnvironment is the GitHub environment of review-stack and
// sweep jobs: its OIDC subject tells the review role from the preview role
// (both run on pull requests).
const ReviewGitHubEnvironment = "review"

// DriftSuffix ends the GitHub environment of an environment's drift job.
const DriftSuffix = "-drift"

// Repository variables the example workflows read.
const (
	VarBackendURL       = "TAP_BACKEND_URL"
	VarReviewBackendURL = "TAP_REVIEW_BACKEND_URL"
	VarPreviewRole      = "TAP_PREVIEW_ROLE_ARN"
	VarDeployRole       = "TAP_DEPLOY_ROLE_ARN"
	VarDriftRole        = "TAP_DRIFT_ROLE_ARN"
	VarReviewRole       = "TAP_REVIEW_ROLE_ARN"
	VarPromoteFromRole  = "TAP_PROMOTE_FROM_ROLE_ARN"
	// VarPromoteFromBackendURL is, in the target's GitHub environment, the
	// source account's backend (promote-from-backend-url).
	VarPromoteFromBackendURL = "TAP_PROMOTE_FROM_BACKEND_URL"
)

// GitHub's limits on names: an owner (user or organization) has at most 39
// characters, a repository 100.
var repositoryPattern = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$`)

var repositoryID = regexp.MustCompile(`^[1-9][0-9]{0,19}$`)

// Warnings are what the options take but an administrator should read: a
// region this release does not know.
func (o Options) Warnings() []string {
	if msg := inputs.RegionWarning("--aws-region", o.Region); msg != "" {
		return []string{msg}
	}
	return nil
}

// Problems says everything wrong with the options at once, each naming its
// flag and the fix; nil when they are fine.
func (o Options) Problems() error {
	var found problems.List
	if msg := inputs.ProjectProblem("--project-name", o.Project); msg != "" {
		found = append(found, msg)
	}
	if len(o.Environments) == 0 {
		found = append(found, "--environment: required: the environments this AWS account holds, comma-separated (like dev,staging,prod)")
	}
	for i, env := range o.Environments {
		if msg := environmentProblem(env); msg != "" {
			found = append(found, msg)
		} else if slices.Contains(o.Environments[:i], env) {
			found = append(found, fmt.Sprintf("--environment: %q is named twice", env))
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
	if o.RepositoryID != "" && !repositoryID.MatchString(o.RepositoryID) {
		found = append(found, fmt.Sprintf("--repository-id: %q must be the repository's numeric id (gh api repos/OWNER/REPO --jq .id)", o.RepositoryID))
	}
	if o.StateBucket != "" {
		if msg := awsfacts.BucketName.Check(o.StateBucket); msg != "" {
			found = append(found, "--state-bucket: "+msg)
		}
	}
	switch a := o.APIGatewayLogging; {
	case a == OwnerAccount || a == OwnerNone || slices.Contains(o.Environments, a):
	default:
		found = append(found, fmt.Sprintf("--api-gateway-logging: %q must be none (the default: the templates leave the region's API Gateway logging role alone), account (the account template sets it) or one of the environments (its stack sets manageApiGatewayAccount=true)", a))
	}
	if r := o.ReviewEnvironment; r != OwnerNone && !slices.Contains(o.Environments, r) {
		found = append(found, fmt.Sprintf("--review-environment: %q must be one of the environments (review stacks are copies of its stack) or none", r))
	} else if r != OwnerNone && len(found) == 0 {
		if msg := reviewNamesProblem(o); msg != "" {
			found = append(found, msg)
		}
	}
	for _, p := range o.Promotions {
		switch {
		case !slices.Contains(o.Environments, p.From):
			found = append(found, fmt.Sprintf("--promotion: %s: %q is not one of this account's environments; name as source an environment this bootstrap holds (source:target, like staging:prod)", p, p.From))
		case slices.Contains(o.Environments, p.To):
			found = append(found, fmt.Sprintf("--promotion: %s: %s is bootstrapped in this account with %s, and its deploy role reads %s already; --promotion is for a target in another account", p, p.To, p.From, p.From))
		case environmentProblem(p.To) != "":
			found = append(found, strings.Replace(environmentProblem(p.To), "--environment", "--promotion", 1))
		}
	}
	if len(found) > 0 {
		return found
	}
	return nil
}

// reviewNamesProblem says when a review stack's names would lose what
// tells them apart. The review role may change what is named
// <project>-<environment>-pr-*; a name too long for AWS is cut and hashed
// (stack.Namer), and a review stack's role cut before its "-pr-" would
// look like the environment's own, which no pattern could then keep the
// review role from. The longest pull request number decides.
func reviewNamesProblem(o Options) string {
	base := stack.Base{Project: o.Project, Environment: o.ReviewEnvironment, Region: o.Region}
	cfg, err := stack.NewReviewStackConfig(base, nil, 999999)
	if err != nil {
		return "--review-environment: " + err.Error()
	}
	marker := strings.ToLower(o.Project + "-" + o.ReviewEnvironment + "-pr-")
	for _, n := range stack.PlannedNames(cfg, stack.AccountPlaceholder) {
		if !strings.HasPrefix(strings.ToLower(n.Name), marker) {
			return fmt.Sprintf("--review-environment: %s: a review stack's %s would be cut to AWS's limit of %d characters and lose its pull request number (%s), so no role pattern could tell it from %s's own; choose a shorter --project-name or review environment, or --review-environment none",
				o.ReviewEnvironment, n.Kind.Label, n.Kind.Max, n.Name, o.ReviewEnvironment)
		}
	}
	return ""
}

// environmentProblem is what is wrong with an environment's name on its
// own, whatever the other environments: it is a valid environment, and
// no role of any other environment (or of review stacks) can be made to
// reach it by its name.
func environmentProblem(env string) string {
	switch {
	case inputs.EnvironmentProblem("--environment", env) != "":
		return inputs.EnvironmentProblem("--environment", env)
	case env == ReviewGitHubEnvironment:
		return fmt.Sprintf("--environment: %q is the GitHub environment of review stacks; choose another name", env)
	case strings.HasSuffix(env, DriftSuffix):
		return fmt.Sprintf("--environment: %q ends like the GitHub environment of %s's drift checks (%s-drift); choose another name", env, strings.TrimSuffix(env, DriftSuffix), strings.TrimSuffix(env, DriftSuffix))
	case strings.HasSuffix(env, "-pr") || strings.Contains(env, "-pr-"):
		before, _, _ := strings.Cut(env+"-", "-pr-")
		return fmt.Sprintf("--environment: %q would name its resources like the review stacks of %s (<project>-%s-pr-<N>-…), which %s's review role may change; choose another name", env, before, before, before)
	}
	return ""
}

// File is one template to deploy as its own CloudFormation stack.
type File struct {
	// Name is the file's name in the output directory.
	Name string
	// Stack is the CloudFormation stack to deploy it as.
	Stack string
	// Environment is the environment it is for; "" for the account's.
	Environment string
	// What says in a few words what it holds.
	What string
	Body []byte
}

// Generate returns the account's template, then one per environment, in
// the order they are deployed. Bad options make no template at all.
func Generate(o Options) ([]File, error) {
	if err := o.Problems(); err != nil {
		return nil, err
	}
	a, err := newAccount(o)
	if err != nil {
		return nil, err
	}
	envs := make([]*environment, len(o.Environments))
	for i, env := range o.Environments {
		if envs[i], err = newEnvironment(o, env, a.readParts); err != nil {
			return nil, err
		}
	}
	if err := checkApart(o, a, envs); err != nil {
		return nil, err
	}
	body, err := a.template()
	if err != nil {
		return nil, err
	}
	files := []File{{Name: "account.yaml", Stack: AccountStack(o), What: a.what(), Body: body}}
	for _, e := range envs {
		body, err := e.template()
		if err != nil {
			return nil, err
		}
		files = append(files, File{Name: e.env + ".yaml", Stack: EnvironmentStack(o, e.env), Environment: e.env, What: e.what(), Body: body})
	}
	return files, nil
}

// AccountStack is the CloudFormation stack of the account's template.
func AccountStack(o Options) string { return o.Project + "-bootstrap" }

// EnvironmentStack is the CloudFormation stack of an environment's.
func EnvironmentStack(o Options, env string) string { return o.Project + "-bootstrap-" + env }

// StateBucket is the state bucket's name, with the account id left for
// CloudFormation (${AWS::AccountId}) when it is derived.
func (o Options) stateBucket() string {
	if o.StateBucket != "" {
		return o.StateBucket
	}
	return stack.NewNamer(stack.Config{Base: stack.Base{Project: o.Project, Region: o.Region}, EnvironmentSuffix: "pulumi"}, "${AWS::AccountId}").
		Name(awsfacts.BucketName, "state")
}

// LoginURL is the backend an administrator logs in to once, after
// deploying the account's template: Pulumi's first login writes the layout
// (.pulumi/meta.yaml) that every environment's stack is found by, and that
// no role of the templates may write. The region is in the URL: the
// administrator's default region may be another.
func LoginURL(o Options) string {
	bucket := strings.ReplaceAll(o.stateBucket(), "${AWS::AccountId}", "<account-id>")
	return "s3://" + bucket + "/" + o.Project + "?region=" + o.Region
}

// DeployCommand is how an administrator deploys one template.
func DeployCommand(o Options, f File, dir string) string {
	cmd := "aws cloudformation deploy --region " + o.Region + " --stack-name " + f.Stack +
		" --capabilities CAPABILITY_NAMED_IAM --template-file " + strings.TrimSuffix(dir, "/") + "/" + f.Name
	if f.Environment == "" && !o.CreateOIDCProvider {
		cmd += " --parameter-overrides CreateGitHubOidcProvider=false"
	}
	return cmd
}

// DeployFileLimit is the largest template aws cloudformation deploy sends
// from --template-file alone; Headroom is what the templates keep below it.
const (
	DeployFileLimit = 51200
	Headroom        = 46000
)

// Summary is what `tap-deploy bootstrap` prints once it wrote the files to
// dir: each file, the commands that deploy them in order, the backend's
// one login, the GitHub variables, and what environments that share the
// account share.
func Summary(o Options, files []File, dir string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Wrote %d templates to %s/ for %s in %s (one AWS account):\n", len(files), strings.TrimSuffix(dir, "/"), o.Repository, o.Region)
	for _, f := range files {
		fmt.Fprintf(&b, "  %-24s %6d bytes  stack %-22s %s\n", f.Name, len(f.Body), f.Stack, f.What)
	}
	fmt.Fprintf(&b, "\nDeploy them with an administrator's credentials for this account, in this order (the account's first):\n")
	for _, f := range files {
		fmt.Fprintf(&b, "  %s\n", DeployCommand(o, f, dir))
	}
	fmt.Fprintf(&b, "An account that already has GitHub's OIDC provider (aws iam list-open-id-connect-providers lists %s) deploys the first with --parameter-overrides CreateGitHubOidcProvider=false.\n", oidcHost)
	fmt.Fprintf(&b, "\nThen, once, with the same credentials, create the backend (its .pulumi/meta.yaml, which no role may write):\n  pulumi login '%s'\n", LoginURL(o))
	fmt.Fprintf(&b, "\nSet the GitHub variables from the stacks' outputs (aws cloudformation describe-stacks --region %s --stack-name <stack> --query 'Stacks[0].Outputs'):\n", o.Region)
	fmt.Fprintf(&b, "  %-24s repository variable            %s output BackendUrl\n", VarBackendURL, AccountStack(o))
	fmt.Fprintf(&b, "  %-24s repository variable            %s output PreviewRoleArn\n", VarPreviewRole, AccountStack(o))
	if o.ReviewEnvironment != OwnerNone {
		fmt.Fprintf(&b, "  %-24s repository variable            %s output ReviewBackendUrl\n", VarReviewBackendURL, AccountStack(o))
		fmt.Fprintf(&b, "  %-24s GitHub environment %-11s %s output ReviewRoleArn\n", VarReviewRole, ReviewGitHubEnvironment, AccountStack(o))
	}
	for _, env := range o.Environments {
		fmt.Fprintf(&b, "  %-24s GitHub environment %-11s %s output DeployRoleArn\n", VarDeployRole, env, EnvironmentStack(o, env))
		fmt.Fprintf(&b, "  %-24s GitHub environment %-11s %s output DriftRoleArn\n", VarDriftRole, env+DriftSuffix, EnvironmentStack(o, env))
	}
	for _, p := range o.Promotions {
		fmt.Fprintf(&b, "  %-24s GitHub environment %-11s %s output BackendUrl (where the other account's %s reads %s)\n", VarPromoteFromBackendURL, p.To, AccountStack(o), p.To, p.From)
		fmt.Fprintf(&b, "  %-24s GitHub environment %-11s %s output DriftRoleArn (the other account's %s promotes from %s through it)\n", VarPromoteFromRole, p.To, EnvironmentStack(o, p.From), p.To, p.From)
	}
	if len(o.Environments) > 1 {
		fmt.Fprintf(&b, "\n%s share this AWS account. They share its state bucket (each deploy role writes only its own environment's state), "+
			"GitHub's OIDC provider, the preview role (which reads every one of them), IAM's one namespace, the region's Lambda concurrency limit "+
			"and API Gateway logging role, and every service quota. No environment's role may change another's resources, but an administrator of "+
			"the account reaches all of them. AWS recommends an account per environment for production: run bootstrap in that account with "+
			"--environment prod (and --promotion staging:prod here, so that prod can promote from staging).\n", strings.Join(o.Environments, ", "))
	}
	return b.String()
}
