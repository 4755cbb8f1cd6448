// Package inputs parses and validates the action's inputs. It is pure: the
// caller hands in a lookup for inputs and one for the environment, so the same
// code serves INPUT_* variables in GitHub Actions and flags on a laptop.
package inputs

import (
	"cmp"
	"fmt"
	"net/url"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/org/tap-deploy/internal/problems"
	"github.com/org/tap-deploy/internal/shift"
)

// Command is what the action does on a run.
type Command string

const (
	Auto     Command = "auto"
	Validate Command = "validate"
	Preview  Command = "preview"
	Up       Command = "up"
	Rollback Command = "rollback"
	Drift    Command = "drift"
	History  Command = "history"
	Sweep    Command = "sweep"
	// Destroy tears the environment's stack down: only from
	// workflow_dispatch (or a laptop), with confirm-destroy naming the
	// environment.
	Destroy Command = "destroy"
	// DestroyReviewStack is what a pull request's closing (or losing its
	// label) does to its review stack; the event decides it, a user does
	// not name it.
	DestroyReviewStack Command = "destroy-review-stack"
	// DeployReviewStack deploys a pull request's review stack and nothing
	// else: a run given review-stack-backend-url but no backend-url (the
	// review role, which never reaches the environment's state).
	DeployReviewStack Command = "deploy-review-stack"
	// Bootstrap prints the CloudFormation template that prepares an AWS
	// account (tap-deploy bootstrap). An administrator runs it on a
	// laptop; it is never the action's command.
	Bootstrap Command = "bootstrap"
)

// Commands lists every command a user may name, in the order the docs show them.
var Commands = []Command{Auto, Validate, Preview, Up, Rollback, Drift, History, Sweep, Destroy}

// LocalCommands are the commands of the local command line only: they take
// flags of their own, not the action's inputs.
var LocalCommands = []Command{Bootstrap}

// Input names exactly as action.yml declares them. A test keeps the three
// places (this list, action.yml, the README table) in step.
const (
	NameCommand         = "command"
	NameEnvironment     = "environment"
	NameAWSRegion       = "aws-region"
	NameProjectName     = "project-name"
	NameStackName       = "stack-name"
	NameBackendURL      = "backend-url"
	NameSecretsProvider = "secrets-provider"
	NameGitHubToken     = "github-token"
	NameCommentOnPR     = "comment-on-pr"
	NameConfig          = "config"
	NameRollbackTo      = "rollback-to"
	NamePolicyOverrides = "policy-overrides"
	NameFailOnDrift     = "fail-on-drift"
	NameOutput          = "output"
	NameLockTimeout     = "lock-timeout"
	NameDeployBranches  = "deploy-branches"
	NameCommitOrder     = "commit-order"
	NameReviewedPlan    = "reviewed-plan"
	NameDeployments     = "github-deployments"
	NameDriftIssue      = "drift-issue"
	NameReviewStack     = "review-stack"
	NameReviewStackTTL  = "review-stack-ttl"
	// NameReviewStackBackendURL is where review stacks keep their state.
	NameReviewStackBackendURL = "review-stack-backend-url"
	// NameReviewBackendToken is the Pulumi Cloud token of previews and
	// review stacks, apart from the deploy's PULUMI_ACCESS_TOKEN.
	NameReviewBackendToken = "review-backend-token"
	// NameDeploymentPreference is how a deploy shifts traffic to new code.
	NameDeploymentPreference = "deployment-preference"
	// NamePromoteFrom is the stack a deploy must match (promotion).
	NamePromoteFrom = "promote-from"
	// NamePromoteFromBackendURL is the source's backend in another
	// account (promotion across accounts).
	NamePromoteFromBackendURL = "promote-from-backend-url"
	// NamePromoteFromRoleARN is the source's read-only role in another
	// account, assumed with the job's OIDC token.
	NamePromoteFromRoleARN = "promote-from-role-arn"
	// NameConfigFile is the environment's configuration file.
	NameConfigFile = "config-file"
	// NameConfirmDestroy must repeat the environment's name for destroy.
	NameConfirmDestroy = "confirm-destroy"
	// NameDestroyProtected is what destroy does with protected resources.
	NameDestroyProtected = "destroy-protected"
)

// Names is every input the action reads, in action.yml's order (a test
// checks both).
var Names = []string{
	NameCommand, NameEnvironment, NameAWSRegion, NameProjectName, NameStackName,
	NameBackendURL, NameSecretsProvider, NameGitHubToken, NameCommentOnPR, NameConfig,
	NameRollbackTo, NamePolicyOverrides, NameFailOnDrift, NameOutput, NameLockTimeout,
	NameDeployBranches, NameReviewedPlan, NameDeployments, NameDriftIssue,
	NameReviewStack, NameReviewStackTTL, NameReviewStackBackendURL, NameReviewBackendToken, NameCommitOrder, NameDeploymentPreference,
	NamePromoteFrom, NamePromoteFromBackendURL, NamePromoteFromRoleARN, NameConfigFile, NameConfirmDestroy, NameDestroyProtected,
}

// PolicyAction is what a user may do to a policy rule through policy-overrides.
type PolicyAction string

const (
	PolicyAdvisory PolicyAction = "advisory"
	PolicyDisabled PolicyAction = "disabled"
)

// Inputs are the validated inputs of one run.
type Inputs struct {
	Command         Command
	Environment     string
	AWSRegion       string
	ProjectName     string
	StackName       string
	BackendURL      string
	SecretsProvider string
	GitHubToken     string
	CommentOnPR     bool
	// Config holds the `config` overrides, keyed by their (camelCase) key.
	// The stack package decides which keys exist and what they mean.
	Config          map[string]string
	RollbackTo      string
	PolicyOverrides map[string]PolicyAction
	FailOnDrift     bool
	Output          string
	// LockTimeout bounds the wait for another update's lock.
	LockTimeout time.Duration
	// DeployBranches are the glob patterns (path.Match) of the branches a
	// push may deploy from; empty means the repository's default branch.
	DeployBranches []string
	// CommitOrder says what a deploy does when it cannot prove its commit
	// is not older than the deployed one.
	CommitOrder CommitOrder
	// ReviewedPlan says what a merge deploy does when its plan is not the
	// one its pull request's preview showed.
	ReviewedPlan ReviewedPlan
	// Deployments records every up and rollback as a GitHub deployment.
	Deployments bool
	// DriftIssue keeps one issue per stack open while drift is found.
	DriftIssue bool
	// ReviewStack says which pull requests get a review stack.
	ReviewStack ReviewStack
	// ReviewStackTTL is how long a review stack lives without an update
	// before a sweep destroys it.
	ReviewStackTTL time.Duration
	// ReviewStackBackendURL is where review stacks keep their state, apart
	// from the environment's (see reviewBackendURL).
	ReviewStackBackendURL string
	// ReviewBackendToken is the Pulumi Cloud token previews and review
	// stacks use instead of PULUMI_ACCESS_TOKEN (a secret).
	ReviewBackendToken string
	// DeploymentPreference is how a deploy shifts traffic to a new version
	// through CodeDeploy (a rollback and a review stack: all at once).
	DeploymentPreference shift.Preference
	// PromoteFrom is the stack, in the same backend, whose latest update a
	// deploy must repeat: same commit, same tap-deploy, its traffic shift
	// done. Empty: no promotion.
	PromoteFrom string
	// PromoteFromBackendURL and PromoteFromRoleARN are where the source
	// stack lives when it is in another AWS account, and the role that
	// reads it there; both or neither, empty: the source is in this run's
	// backend, read with the run's own credentials.
	PromoteFromBackendURL string
	PromoteFromRoleARN    string
	// ConfigFile is the configuration file as the input names it, relative
	// to the workspace; "" means Pulumi.<stack>.yaml there, if it exists.
	ConfigFile string
	// DestroyProtected is what destroy does while the stack holds
	// protected resources.
	DestroyProtected DestroyProtected
	// Warnings are what the inputs take but the run must report: each
	// names its input, as a problem does, and nothing is refused for it.
	Warnings []string
}

// DestroyProtected is what a teardown does with the resources that guard
// data: the items table (deletion protection), the buckets and the Lambda
// packages kept for rollbacks.
type DestroyProtected string

const (
	// DestroyRefuse refuses the teardown while any is there.
	DestroyRefuse DestroyProtected = "refuse"
	// DestroyKeep removes everything else and leaves them in the account,
	// out of the stack.
	DestroyKeep DestroyProtected = "keep"
	// DestroyDelete deletes them too, with their data.
	DestroyDelete DestroyProtected = "delete"
)

// ReviewStack is which pull requests get a live copy of the stack.
type ReviewStack struct {
	// On means every same-repository pull request (or, with Label, those
	// that carry it).
	On    bool
	Label string
}

// ReviewedPlan is how a merge deploy treats the plan its PR reviewed.
type ReviewedPlan string

const (
	// ReviewedPlanRequire deploys only the reviewed plan, of the PR's
	// final head commit; anything else fails before up.
	ReviewedPlanRequire ReviewedPlan = "require"
	// ReviewedPlanWarn deploys and reports any difference.
	ReviewedPlanWarn ReviewedPlan = "warn"
	// ReviewedPlanOff does not compare.
	ReviewedPlanOff ReviewedPlan = "off"
)

// CommitOrder is how strictly a deploy refuses older commits.
type CommitOrder string

const (
	// CommitOrderStrict refuses an older commit and also a deploy whose
	// order cannot be checked (no token, GitHub or the history failing).
	CommitOrderStrict CommitOrder = "strict"
	// CommitOrderWarn refuses an older commit but deploys with a warning
	// when the order cannot be checked.
	CommitOrderWarn CommitOrder = "warn"
)

// Env says where the run happens; it decides defaults that differ between a
// runner and a laptop.
type Env struct {
	// Getenv reads the process environment (AWS_REGION, PULUMI_BACKEND_URL...).
	Getenv func(string) string
	// InActions is true inside GitHub Actions.
	InActions bool
	// WorkDir is where a local run keeps its default file backend.
	WorkDir string
}

// Spell is how a problem names an input to the user: the input's name in
// GitHub Actions (aws-region), the flag on a command line (--aws-region).
func (e Env) Spell(name string) string {
	if e.InActions {
		return name
	}
	return "--" + name
}

var (
	environmentPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,19}$`)
	// reviewSuffixPattern ends the names of review stacks (<stack>-pr-<N>).
	reviewSuffixPattern = regexp.MustCompile(`-pr-[0-9]+$`)
	regionPattern       = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$`)
	projectPattern      = regexp.MustCompile(`^[a-z][a-z0-9-]{0,29}$`)
	stackPattern        = regexp.MustCompile(`^([A-Za-z0-9_.-]+/){0,2}[A-Za-z0-9_.-]{1,100}$`)
	configKeyPattern    = regexp.MustCompile(`^[a-z][A-Za-z0-9]*$`)
	rollbackPattern     = regexp.MustCompile(`^(previous|[1-9][0-9]{0,8})$`)
	ruleIDPattern       = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)
	labelPattern        = regexp.MustCompile(`^[^\s,][^,]{0,49}$`)
)

// KnownRegions are the AWS regions this release knows of, in every
// partition. A name of AWS's form that is not here is taken with a warning
// (RegionWarning): AWS opens regions more often than tap-deploy is
// released, and a typo like "eu-west-9" is then still said before a deploy.
var KnownRegions = map[string]bool{
	"us-east-1": true, "us-east-2": true, "us-west-1": true, "us-west-2": true,
	"af-south-1": true, "ap-east-1": true, "ap-east-2": true, "ap-south-1": true, "ap-south-2": true,
	"ap-southeast-1": true, "ap-southeast-2": true, "ap-southeast-3": true, "ap-southeast-4": true,
	"ap-southeast-5": true, "ap-southeast-6": true, "ap-southeast-7": true, "ap-northeast-1": true, "ap-northeast-2": true,
	"ap-northeast-3": true, "ca-central-1": true, "ca-west-1": true, "eu-central-1": true,
	"eu-central-2": true, "eu-west-1": true, "eu-west-2": true, "eu-west-3": true, "eu-south-1": true,
	"eu-south-2": true, "eu-north-1": true, "il-central-1": true, "mx-central-1": true,
	"me-south-1": true, "me-central-1": true, "sa-east-1": true,
	"us-gov-east-1": true, "us-gov-west-1": true,
	"cn-north-1": true, "cn-northwest-1": true,
}

// DefaultProject is the project name when none is given.
const DefaultProject = "tap"

// EnvironmentProblem says what is wrong with an environment name, or "".
// input is how the problem names what holds it (--environment,
// environment). The bootstrap command checks its environments with it,
// so an account is never prepared for a name the action would refuse.
func EnvironmentProblem(input, name string) string {
	switch {
	case name == "":
		return fmt.Sprintf("%s: required (for example dev, staging, prod)", input)
	case !environmentPattern.MatchString(name):
		return fmt.Sprintf("%s: %q must start with a lowercase letter and hold only lowercase letters, digits and '-' (at most 20 characters)", input, name)
	case reviewSuffixPattern.MatchString(name):
		return fmt.Sprintf("%s: %q ends in -pr-<number>, which names a pull request's review stack; choose another name", input, name)
	}
	return ""
}

// RegionProblem says what is wrong with a (given) AWS region name, or "":
// only a name that is not of AWS's form (like eu-west-1, us-gov-west-1,
// cn-north-1) is refused. An unknown name of that form is RegionWarning's.
func RegionProblem(input, region string) string {
	if !regionPattern.MatchString(region) {
		return fmt.Sprintf("%s: %q is not an AWS region name (like eu-west-1)", input, region)
	}
	return ""
}

// RegionWarning says, for a region name of AWS's form, when this release
// does not know it (a region AWS opened since, or a typo), or "".
func RegionWarning(input, region string) string {
	if !regionPattern.MatchString(region) || KnownRegions[region] {
		return ""
	}
	return fmt.Sprintf("%s: %q is not a region this release of tap-deploy knows; it is used as given (partition %s): if it is a typo, the first call to AWS fails", input, region, Partition(region))
}

// Partition is the AWS partition a region's ARNs name, which follows from
// the region's name: cn-* is aws-cn, *-gov-* aws-us-gov, the isolated
// regions their own, and every other region aws.
func Partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.Contains(region, "-gov-"):
		return "aws-us-gov"
	case strings.Contains(region, "-isob-"):
		return "aws-iso-b"
	case strings.Contains(region, "-isoe-"):
		return "aws-iso-e"
	case strings.Contains(region, "-isof-"):
		return "aws-iso-f"
	case strings.Contains(region, "-iso-"):
		return "aws-iso"
	}
	return "aws"
}

// ProjectProblem says what is wrong with a project name, or "".
func ProjectProblem(input, project string) string {
	if !projectPattern.MatchString(project) {
		return fmt.Sprintf("%s: %q must start with a lowercase letter and hold only lowercase letters, digits and '-' (at most 30 characters)", input, project)
	}
	return ""
}

// Parse reads every input through get, applies defaults, and validates all of
// them. Each problem starts with the input as the user gave it (env.Spell). It returns a problems.List of everything wrong at once, and with it
// the inputs as far as they could be read, so that callers can add their
// own checks (the configuration keys) to the same report.
func Parse(get func(name string) string, env Env) (Inputs, error) {
	value := func(name string) string { return strings.TrimSpace(get(name)) }
	var found problems.List
	in := Inputs{}

	in.Command = Command(strings.ToLower(value(NameCommand)))
	if in.Command == "" {
		in.Command = Auto
	}
	switch {
	case in.Command == Bootstrap:
		found = append(found, fmt.Sprintf("%s: bootstrap prints the CloudFormation template that prepares an AWS account; run `tap-deploy bootstrap` on your machine, not as the action's command (use one of %s)", env.Spell(NameCommand), commandList()))
	case !isCommand(in.Command):
		found = append(found, fmt.Sprintf("%s: %q is not a command; use one of %s", env.Spell(NameCommand), in.Command, commandList()))
	}

	in.Environment = value(NameEnvironment)
	if msg := EnvironmentProblem(env.Spell(NameEnvironment), in.Environment); msg != "" {
		found = append(found, msg)
	}

	// The region is always explicit: a stack in a default region is how
	// the seed's first attempt deployed to the wrong place.
	in.AWSRegion = cmp.Or(value(NameAWSRegion), env.Getenv("AWS_REGION"), env.Getenv("AWS_DEFAULT_REGION"))
	if in.AWSRegion == "" {
		found = append(found, fmt.Sprintf("%s: required: set it, or AWS_REGION or AWS_DEFAULT_REGION (aws-actions/configure-aws-credentials sets both)", env.Spell(NameAWSRegion)))
	} else if msg := RegionProblem(env.Spell(NameAWSRegion), in.AWSRegion); msg != "" {
		found = append(found, msg)
	} else if msg := RegionWarning(env.Spell(NameAWSRegion), in.AWSRegion); msg != "" {
		in.Warnings = append(in.Warnings, msg)
	}

	in.ProjectName = cmp.Or(value(NameProjectName), DefaultProject)
	if msg := ProjectProblem(env.Spell(NameProjectName), in.ProjectName); msg != "" {
		found = append(found, msg)
	}

	in.StackName = cmp.Or(value(NameStackName), in.Environment)
	if in.StackName != "" && !stackPattern.MatchString(in.StackName) {
		found = append(found, fmt.Sprintf("%s: %q may hold letters, digits, '-', '_' and '.', optionally as org/project/stack", env.Spell(NameStackName), in.StackName))
	}

	in.BackendURL, found = backendURL(value(NameBackendURL), env, found)

	in.SecretsProvider = cmp.Or(value(NameSecretsProvider), "passphrase")
	if in.SecretsProvider != "passphrase" && !strings.HasPrefix(in.SecretsProvider, "awskms://") {
		found = append(found, fmt.Sprintf("%s: %q is not supported; use passphrase or awskms://<key-id-or-alias>?region=<region>", env.Spell(NameSecretsProvider), in.SecretsProvider))
	}

	in.GitHubToken = value(NameGitHubToken)

	var err error
	if in.CommentOnPR, err = parseBool(value(NameCommentOnPR), true); err != nil {
		found = append(found, fmt.Sprintf("%s: %v", env.Spell(NameCommentOnPR), err))
	}
	if in.FailOnDrift, err = parseBool(value(NameFailOnDrift), false); err != nil {
		found = append(found, fmt.Sprintf("%s: %v", env.Spell(NameFailOnDrift), err))
	}
	if in.Deployments, err = parseBool(value(NameDeployments), true); err != nil {
		found = append(found, fmt.Sprintf("%s: %v", env.Spell(NameDeployments), err))
	}
	if in.DriftIssue, err = parseBool(value(NameDriftIssue), false); err != nil {
		found = append(found, fmt.Sprintf("%s: %v", env.Spell(NameDriftIssue), err))
	}

	var configProblems []string
	in.Config, configProblems = parseConfig(get(NameConfig), env)
	found = append(found, configProblems...)

	in.RollbackTo = strings.ToLower(value(NameRollbackTo))
	if in.RollbackTo != "" && !rollbackPattern.MatchString(in.RollbackTo) {
		found = append(found, fmt.Sprintf("%s: %q must be an update version number (like 12) or 'previous'", env.Spell(NameRollbackTo), in.RollbackTo))
	}
	if in.Command == Rollback && in.RollbackTo == "" {
		found = append(found, fmt.Sprintf("%s: required with command rollback (a version number from the stack history, or 'previous')", env.Spell(NameRollbackTo)))
	}

	in.PromoteFrom = value(NamePromoteFrom)
	switch {
	case in.PromoteFrom == "":
	case !stackPattern.MatchString(in.PromoteFrom):
		found = append(found, fmt.Sprintf("%s: %q may hold letters, digits, '-', '_' and '.', optionally as org/project/stack", env.Spell(NamePromoteFrom), in.PromoteFrom))
	case in.PromoteFrom == in.StackName:
		found = append(found, fmt.Sprintf("%s: %q is this run's own stack; name the stack this deploy must repeat (staging for prod)", env.Spell(NamePromoteFrom), in.PromoteFrom))
	case in.Command != Auto && in.Command != Up:
		found = append(found, fmt.Sprintf("%s: applies to deploys (command up), not to command %s", env.Spell(NamePromoteFrom), in.Command))
	}

	in.PromoteFromBackendURL, in.PromoteFromRoleARN = value(NamePromoteFromBackendURL), value(NamePromoteFromRoleARN)
	found = append(found, acrossAccounts(in, env)...)

	in.ConfigFile = value(NameConfigFile)
	if in.ConfigFile != "" && env.InActions && !filepath.IsLocal(in.ConfigFile) {
		found = append(found, fmt.Sprintf("%s: %q must be a path inside the workspace (the checkout), like deploy/Pulumi.dev.yaml", env.Spell(NameConfigFile), in.ConfigFile))
	}

	confirm := value(NameConfirmDestroy)
	switch {
	case in.Command == Destroy && confirm == "":
		found = append(found, fmt.Sprintf("%s: required with command destroy: type the environment's name (%s) to confirm its teardown", env.Spell(NameConfirmDestroy), in.Environment))
	case in.Command == Destroy && confirm != in.Environment:
		found = append(found, fmt.Sprintf("%s: %q is not the environment's name (%s); nothing was destroyed", env.Spell(NameConfirmDestroy), confirm, in.Environment))
	case in.Command != Destroy && confirm != "" && in.Command != Auto:
		found = append(found, fmt.Sprintf("%s: applies to command destroy, not to command %s", env.Spell(NameConfirmDestroy), in.Command))
	}
	in.DestroyProtected = DestroyProtected(strings.ToLower(cmp.Or(value(NameDestroyProtected), string(DestroyRefuse))))
	switch in.DestroyProtected {
	case DestroyRefuse, DestroyKeep, DestroyDelete:
	default:
		found = append(found, fmt.Sprintf("%s: %q must be refuse, keep or delete", env.Spell(NameDestroyProtected), in.DestroyProtected))
	}

	var policyProblems []string
	in.PolicyOverrides, policyProblems = parsePolicyOverrides(get(NamePolicyOverrides), env)
	found = append(found, policyProblems...)

	in.Output = strings.ToLower(cmp.Or(value(NameOutput), "text"))
	if in.Output != "text" && in.Output != "json" {
		found = append(found, fmt.Sprintf("%s: %q must be text or json", env.Spell(NameOutput), in.Output))
	}

	in.LockTimeout = 3 * time.Minute
	if v := value(NameLockTimeout); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > 30*time.Minute {
			found = append(found, fmt.Sprintf("%s: %q must be a duration from 0s to 30m (like 90s or 5m)", env.Spell(NameLockTimeout), v))
		} else {
			in.LockTimeout = d
		}
	}

	in.DeployBranches, found = deployBranches(get(NameDeployBranches), env, found)

	switch rs := value(NameReviewStack); {
	case rs == "" || strings.EqualFold(rs, "off"):
	case strings.EqualFold(rs, "on"):
		in.ReviewStack.On = true
	case strings.HasPrefix(strings.ToLower(rs), "label:") && labelPattern.MatchString(strings.TrimSpace(rs[len("label:"):])):
		in.ReviewStack = ReviewStack{On: true, Label: strings.TrimSpace(rs[len("label:"):])}
	default:
		found = append(found, fmt.Sprintf("%s: must be off, on, or label:<name> (like label:review-stack)", env.Spell(NameReviewStack)))
	}
	in.ReviewStackTTL = 72 * time.Hour
	if v := value(NameReviewStackTTL); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Minute || d > 90*24*time.Hour {
			found = append(found, fmt.Sprintf("%s: %q must be a duration from 1m to 2160h (like 72h)", env.Spell(NameReviewStackTTL), v))
		} else {
			in.ReviewStackTTL = d
		}
	}

	in.ReviewStackBackendURL = reviewBackendURL(in.BackendURL)
	if v := value(NameReviewStackBackendURL); v != "" {
		if msg := checkBackendURL(env.Spell(NameReviewStackBackendURL), v); msg != "" {
			found = append(found, msg)
		} else {
			in.ReviewStackBackendURL = v
		}
	}
	in.ReviewBackendToken = strings.TrimSpace(value(NameReviewBackendToken))
	if in.ReviewBackendToken != "" && in.ReviewBackendToken == strings.TrimSpace(env.Getenv("PULUMI_ACCESS_TOKEN")) {
		// Where both are in one job, they can be told apart; a PR job that
		// gets only the review token cannot see the deploy token.
		found = append(found, fmt.Sprintf("%s: is PULUMI_ACCESS_TOKEN, the deploy's token: previews and review stacks run what any branch holds, "+
			"and on Pulumi Cloud the token decides what they can write; give them a token that can only read the environment's stacks and write the review project", env.Spell(NameReviewBackendToken)))
	}
	if in.ReviewStackBackendURL != "" && in.ReviewStackBackendURL == in.BackendURL && !strings.HasPrefix(in.BackendURL, "https://") {
		found = append(found, fmt.Sprintf("%s: must not be the environment's backend-url: review stacks run what any branch holds, and must not reach the environment's state", env.Spell(NameReviewStackBackendURL)))
	}

	in.DeploymentPreference = shift.AllAtOnce
	if v := value(NameDeploymentPreference); v != "" {
		p, err := shift.ParsePreference(v)
		if err != nil {
			found = append(found, fmt.Sprintf("%s: %v", env.Spell(NameDeploymentPreference), err))
		} else {
			in.DeploymentPreference = p
		}
	}

	in.CommitOrder = CommitOrder(strings.ToLower(cmp.Or(value(NameCommitOrder), string(CommitOrderStrict))))
	if in.CommitOrder != CommitOrderStrict && in.CommitOrder != CommitOrderWarn {
		found = append(found, fmt.Sprintf("%s: %q must be strict or warn", env.Spell(NameCommitOrder), in.CommitOrder))
	}

	in.ReviewedPlan = ReviewedPlan(strings.ToLower(cmp.Or(value(NameReviewedPlan), string(ReviewedPlanWarn))))
	switch in.ReviewedPlan {
	case ReviewedPlanRequire, ReviewedPlanWarn, ReviewedPlanOff:
	default:
		found = append(found, fmt.Sprintf("%s: %q must be require, warn or off", env.Spell(NameReviewedPlan), in.ReviewedPlan))
	}

	if len(found) > 0 {
		return in, found
	}
	return in, nil
}

// Check reports what command needs that the inputs and the environment do
// not give. It runs once the event has decided the command: validation
// needs no backend and no secrets, so a fork PR (which GitHub gives neither
// secrets nor variables) still validates.
func (in Inputs) Check(command Command, env Env) problems.List {
	var found problems.List
	if !command.OpensStack() {
		return nil
	}
	if command.ReviewStacksOnly() {
		if in.ReviewStackBackendURL == "" {
			found = append(found, fmt.Sprintf("%s (or %s): required for %s in GitHub Actions", env.Spell(NameReviewStackBackendURL), env.Spell(NameBackendURL), command))
		}
	} else if in.BackendURL == "" {
		found = append(found, fmt.Sprintf("%s: required for %s in GitHub Actions (s3://bucket/prefix, file://path, or set PULUMI_ACCESS_TOKEN for Pulumi Cloud); a runner's local directory would lose the state", env.Spell(NameBackendURL), command))
	}
	if env.InActions && in.SecretsProvider == "passphrase" && env.Getenv("PULUMI_CONFIG_PASSPHRASE") == "" && env.Getenv("PULUMI_CONFIG_PASSPHRASE_FILE") == "" {
		found = append(found, fmt.Sprintf("PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) must be set for %s with the passphrase secrets provider; pass it from a repository secret", command))
	}
	return found
}

// ReviewStacksOnly reports whether a command touches review stacks only,
// never the environment's stack (and so needs only their backend).
func (c Command) ReviewStacksOnly() bool {
	return c == Sweep || c == DestroyReviewStack || c == DeployReviewStack
}

// OpensStack reports whether a command reads or changes the Pulumi stack
// (and so needs a backend and its secrets); validate runs offline.
func (c Command) OpensStack() bool { return c != Validate && c != Auto && c != "" }

// deployBranches reads the branch patterns, one per line or comma-separated.
func deployBranches(text string, env Env, found problems.List) ([]string, problems.List) {
	var out []string
	for _, p := range strings.FieldsFunc(text, func(r rune) bool { return r == '\n' || r == ',' }) {
		p = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(p), "refs/heads/"))
		if p == "" || strings.HasPrefix(p, "#") {
			continue
		}
		if _, err := path.Match(p, "probe"); err != nil {
			found = append(found, fmt.Sprintf("%s: %q is not a branch pattern (use names and globs like main or release/*)", env.Spell(NameDeployBranches), p))
			continue
		}
		out = append(out, p)
	}
	return out, found
}

// backendURL picks the state backend. In Actions there is no default: a
// throw-away runner directory would silently lose the state of a deploy.
func backendURL(given string, env Env, found problems.List) (string, problems.List) {
	u := cmp.Or(given, env.Getenv("PULUMI_BACKEND_URL"))
	if u == "" {
		switch {
		case env.Getenv("PULUMI_ACCESS_TOKEN") != "":
			return "https://api.pulumi.com", found
		case env.InActions:
			// Required only by the commands that open the stack (Check):
			// a fork PR gets no variables and only validates.
			return "", found
		default:
			return "file://" + strings.TrimSuffix(env.WorkDir, "/") + "/.tap/state", found
		}
	}
	if msg := checkBackendURL(env.Spell(NameBackendURL), u); msg != "" {
		return "", append(found, msg)
	}
	return u, found
}

// roleARNPattern is an IAM role's ARN: partition, account, path and name
// (IAM's characters).
var roleARNPattern = regexp.MustCompile(`^arn:([a-z-]+):iam::([0-9]{12}):role/([\w+=,.@-]+/)*[\w+=,.@-]{1,64}$`)

// acrossAccounts checks the inputs of a promotion whose source lives in
// another account: both or neither, only with promote-from, a role of
// the run's partition, a backend that is not this run's.
func acrossAccounts(in Inputs, env Env) []string {
	backend, role := in.PromoteFromBackendURL, in.PromoteFromRoleARN
	if backend == "" && role == "" {
		return nil
	}
	var found []string
	if in.PromoteFrom == "" {
		for _, set := range []struct{ name, value string }{{NamePromoteFromBackendURL, backend}, {NamePromoteFromRoleARN, role}} {
			if set.value != "" {
				found = append(found, fmt.Sprintf("%s: applies to a promotion whose source is in another account; set %s to the source stack, or remove %s", env.Spell(set.name), env.Spell(NamePromoteFrom), env.Spell(set.name)))
			}
		}
		return found
	}
	switch {
	case backend == "":
		found = append(found, fmt.Sprintf("%s: required with %s: the source account's state backend (its TAP_BACKEND_URL, s3://bucket/prefix?region=<region>)", env.Spell(NamePromoteFromBackendURL), env.Spell(NamePromoteFromRoleARN)))
	case role == "":
		found = append(found, fmt.Sprintf("%s: required with %s: the source environment's drift role, which reads that backend (TAP_PROMOTE_FROM_ROLE_ARN, from bootstrap --promotion in the source account)", env.Spell(NamePromoteFromRoleARN), env.Spell(NamePromoteFromBackendURL)))
	}
	if backend != "" {
		u, _ := url.Parse(backend)
		switch msg := checkBackendURL(env.Spell(NamePromoteFromBackendURL), backend); {
		case msg != "":
			found = append(found, msg)
		case u.Scheme == "https":
			found = append(found, fmt.Sprintf("%s: Pulumi Cloud keeps the stacks of every account in one backend: leave %s and %s unset, and %s reads the source there", env.Spell(NamePromoteFromBackendURL), env.Spell(NamePromoteFromBackendURL), env.Spell(NamePromoteFromRoleARN), env.Spell(NamePromoteFrom)))
		case u.Scheme == "file" && env.InActions:
			found = append(found, fmt.Sprintf("%s: a file:// backend is the runner's own disk, in no account; use the source account's s3:// backend", env.Spell(NamePromoteFromBackendURL)))
		case backend == in.BackendURL:
			found = append(found, fmt.Sprintf("%s: is this run's own backend-url; it is for a source in another account (a source in this backend needs neither %s nor %s)", env.Spell(NamePromoteFromBackendURL), env.Spell(NamePromoteFromBackendURL), env.Spell(NamePromoteFromRoleARN)))
		}
	}
	if role != "" {
		m := roleARNPattern.FindStringSubmatch(role)
		switch {
		case m == nil:
			found = append(found, fmt.Sprintf("%s: %q is not an IAM role's ARN (arn:%s:iam::<account-id>:role/<name>, the source account's DriftRoleArn output)", env.Spell(NamePromoteFromRoleARN), role, Partition(in.AWSRegion)))
		case in.AWSRegion != "" && m[1] != Partition(in.AWSRegion):
			found = append(found, fmt.Sprintf("%s: the role is in partition %s, but %s %s is in %s; a role is assumed within its partition", env.Spell(NamePromoteFromRoleARN), m[1], env.Spell(NameAWSRegion), in.AWSRegion, Partition(in.AWSRegion)))
		}
	}
	return found
}

// checkBackendURL says what is wrong with a state backend URL, or "".
func checkBackendURL(input, u string) string {
	parsed, err := url.Parse(u)
	if err != nil {
		return fmt.Sprintf("%s: not a URL (%v)", input, err)
	}
	switch parsed.Scheme {
	case "file", "s3", "https":
	default:
		return fmt.Sprintf("%s: scheme %q is not supported; use file://, s3:// or https:// (Pulumi Cloud)", input, parsed.Scheme)
	}
	if parsed.Scheme == "s3" && parsed.Host == "" {
		return fmt.Sprintf("%s: the s3:// URL names no bucket (s3://bucket/prefix)", input)
	}
	if parsed.Scheme == "file" && parsed.Host == "" && parsed.Path == "" {
		return fmt.Sprintf("%s: the file:// URL names no directory (file:///abs/path or file://~/path)", input)
	}
	return ""
}

// ReviewPath is the path the review stacks' state gets, by default, under
// the environment's S3 or file backend: a prefix an S3 policy can confine
// the review role to.
const ReviewPath = "review"

// reviewBackendURL is where review stacks keep their state: their own
// place, so that whatever a pull request's branch runs with the review
// role cannot reach the environment's checkpoint, history or locks. For S3
// and file backends it is the environment's URL with a /review path; Pulumi
// Cloud keeps them in a project of their own (ReviewProject) instead.
func reviewBackendURL(env string) string {
	parsed, err := url.Parse(env)
	if err != nil || env == "" || parsed.Scheme == "https" {
		return env
	}
	parsed.Path = strings.TrimSuffix(parsed.Path, "/") + "/" + ReviewPath
	return parsed.String()
}

// parseConfig reads `key=value` lines. Blank lines and lines starting with #
// are skipped so users can comment their overrides in YAML block scalars.
func parseConfig(text string, env Env) (map[string]string, []string) {
	config := map[string]string{}
	var found []string
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, val, ok := strings.Cut(line, "=")
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		switch {
		// Values are never echoed: a secret pasted by mistake would reach
		// an annotation, the job summary and the PR comment.
		case !ok:
			found = append(found, fmt.Sprintf("%s line %d: not key=value (write one key=value per line)", env.Spell(NameConfig), i+1))
		case !configKeyPattern.MatchString(key):
			found = append(found, fmt.Sprintf("%s line %d: the key must be camelCase letters and digits (like logRetentionDays)", env.Spell(NameConfig), i+1))
		default:
			if _, dup := config[key]; dup {
				found = append(found, fmt.Sprintf("%s line %d: key %q is set twice", env.Spell(NameConfig), i+1, key))
			}
			config[key] = val
		}
	}
	return config, found
}

// parsePolicyOverrides reads `RULE_ID=advisory|disabled` lines.
func parsePolicyOverrides(text string, env Env) (map[string]PolicyAction, []string) {
	overrides := map[string]PolicyAction{}
	var found []string
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, rawAction, ok := strings.Cut(line, "=")
		id = strings.TrimSpace(id)
		action := PolicyAction(strings.ToLower(strings.TrimSpace(rawAction)))
		switch {
		case !ok || !ruleIDPattern.MatchString(id):
			found = append(found, fmt.Sprintf("%s line %d: not RULE_ID=advisory|disabled (rule IDs are like CKV_AWS_59)", env.Spell(NamePolicyOverrides), i+1))
		case action != PolicyAdvisory && action != PolicyDisabled:
			found = append(found, fmt.Sprintf("%s line %d: %s must be set to advisory or disabled", env.Spell(NamePolicyOverrides), i+1, id))
		default:
			overrides[id] = action
		}
	}
	return overrides, found
}

func parseBool(s string, def bool) (bool, error) {
	if s == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(strings.ToLower(s))
	if err != nil {
		return def, fmt.Errorf("%q must be true or false", s)
	}
	return b, nil
}

func isCommand(c Command) bool {
	for _, known := range Commands {
		if c == known {
			return true
		}
	}
	return false
}

func commandList() string {
	names := make([]string, len(Commands))
	for i, c := range Commands {
		names[i] = string(c)
	}
	return strings.Join(names, ", ")
}
