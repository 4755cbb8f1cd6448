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
	"slices"
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
// checks both): the names of table.
var Names = func() []string {
	out := make([]string, len(table))
	for i, in := range table {
		out[i] = in.name
	}
	return out
}()

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
// them. Each problem starts with the input as the user gave it (env.Spell). It
// returns a problems.List of everything wrong at once, in action.yml's order,
// and with it the inputs as far as they could be read, so that callers can
// add their own checks (the configuration keys) to the same report.
func Parse(get func(name string) string, env Env) (Inputs, error) {
	r := reader{env: env}
	for _, i := range table {
		v := get(i.name)
		if !i.asGiven {
			v = strings.TrimSpace(v)
		}
		r.spell = env.Spell(i.name)
		i.read(&r, v)
	}
	if len(r.found) > 0 {
		return r.in, r.found
	}
	return r.in, nil
}

// input is one of the action's inputs: its name and how its value becomes
// part of Inputs. Adding an input is one entry in table.
type input struct {
	name string
	// read sets the input's part of r.in from its value and adds what is
	// wrong with it to r.found. The inputs above it in table are read.
	read func(r *reader, v string)
	// asGiven passes the value untrimmed: the multi-line inputs number
	// their lines in what they report.
	asGiven bool
}

// reader is the state of one Parse: the inputs read so far and the
// problems found.
type reader struct {
	in    Inputs
	env   Env
	spell string // the input being read, as the user names it
	found problems.List
}

// add adds a problem already named (msg says which input), unless it is "".
func (r *reader) add(msg ...string) {
	for _, m := range msg {
		if m != "" {
			r.found = append(r.found, m)
		}
	}
}

// addf adds a problem of the input being read.
func (r *reader) addf(format string, args ...any) {
	r.found = append(r.found, r.spell+": "+fmt.Sprintf(format, args...))
}

// table is every input, in action.yml's order (Names); Parse reads them
// in this order, so an input may depend on the ones above it (stack-name
// defaults to the environment, promote-from is refused for other commands).
var table = []input{
	{name: NameCommand, read: readCommand},
	{name: NameEnvironment, read: func(r *reader, v string) { r.in.Environment = v; r.add(EnvironmentProblem(r.spell, v)) }},
	{name: NameAWSRegion, read: readRegion},
	{name: NameProjectName, read: readProjectName},
	{name: NameStackName, read: readStackName},
	{name: NameBackendURL, read: func(r *reader, v string) { r.in.BackendURL, r.found = backendURL(v, r.env, r.found) }},
	{name: NameSecretsProvider, read: readSecretsProvider},
	{name: NameGitHubToken, read: func(r *reader, v string) { r.in.GitHubToken = v }},
	{name: NameCommentOnPR, read: boolean(true, func(in *Inputs) *bool { return &in.CommentOnPR })},
	{name: NameConfig, asGiven: true, read: readConfig},
	{name: NameRollbackTo, read: readRollbackTo},
	{name: NamePolicyOverrides, asGiven: true, read: readPolicyOverrides},
	{name: NameFailOnDrift, read: boolean(false, func(in *Inputs) *bool { return &in.FailOnDrift })},
	{name: NameOutput, read: oneOf("text", func(in *Inputs) *string { return &in.Output }, "text", "json")},
	{name: NameLockTimeout, read: duration(3*time.Minute, 0, 30*time.Minute, "like 90s or 5m", func(in *Inputs) *time.Duration { return &in.LockTimeout })},
	{name: NameDeployBranches, asGiven: true, read: func(r *reader, v string) { r.in.DeployBranches, r.found = deployBranches(v, r.env, r.found) }},
	{name: NameReviewedPlan, read: oneOf(ReviewedPlanWarn, func(in *Inputs) *ReviewedPlan { return &in.ReviewedPlan }, ReviewedPlanRequire, ReviewedPlanWarn, ReviewedPlanOff)},
	{name: NameDeployments, read: boolean(true, func(in *Inputs) *bool { return &in.Deployments })},
	{name: NameDriftIssue, read: boolean(false, func(in *Inputs) *bool { return &in.DriftIssue })},
	{name: NameReviewStack, read: readReviewStack},
	{name: NameReviewStackTTL, read: duration(72*time.Hour, time.Minute, 90*24*time.Hour, "like 72h", func(in *Inputs) *time.Duration { return &in.ReviewStackTTL })},
	{name: NameReviewStackBackendURL, read: readReviewStackBackendURL},
	{name: NameReviewBackendToken, read: readReviewBackendToken},
	{name: NameCommitOrder, read: oneOf(CommitOrderStrict, func(in *Inputs) *CommitOrder { return &in.CommitOrder }, CommitOrderStrict, CommitOrderWarn)},
	{name: NameDeploymentPreference, read: readDeploymentPreference},
	{name: NamePromoteFrom, read: readPromoteFrom},
	{name: NamePromoteFromBackendURL, read: func(r *reader, v string) { r.in.PromoteFromBackendURL = v }},
	// Checked with the role, the pair's second: both or neither.
	{name: NamePromoteFromRoleARN, read: func(r *reader, v string) { r.in.PromoteFromRoleARN = v; r.add(acrossAccounts(r.in, r.env)...) }},
	{name: NameConfigFile, read: readConfigFile},
	{name: NameConfirmDestroy, read: readConfirmDestroy},
	{name: NameDestroyProtected, read: oneOf(DestroyRefuse, func(in *Inputs) *DestroyProtected { return &in.DestroyProtected }, DestroyRefuse, DestroyKeep, DestroyDelete)},
}

// boolean reads true or false (any case), def when empty.
func boolean(def bool, at func(*Inputs) *bool) func(*reader, string) {
	return func(r *reader, v string) {
		b, err := parseBool(v, def)
		if err != nil {
			r.addf("%v", err)
		}
		*at(&r.in) = b
	}
}

// duration reads a Go duration within [low, high], def when empty; example
// ends the problem (like 90s or 5m).
func duration(def, low, high time.Duration, example string, at func(*Inputs) *time.Duration) func(*reader, string) {
	return func(r *reader, v string) {
		*at(&r.in) = def
		if v == "" {
			return
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < low || d > high {
			r.addf("%q must be a duration from %s to %s (%s)", v, shortDuration(low), shortDuration(high), example)
			return
		}
		*at(&r.in) = d
	}
}

// shortDuration writes a whole number of hours, minutes or seconds as a
// user writes it: 30m, not 30m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	s = strings.TrimSuffix(s, "m0s")
	if s != d.String() {
		s += "m"
	}
	if t := strings.TrimSuffix(s, "h0m"); t != s {
		s = t + "h"
	}
	return s
}

// oneOf reads one of choices (any case), def when empty.
func oneOf[T ~string](def T, at func(*Inputs) *T, choices ...T) func(*reader, string) {
	return func(r *reader, v string) {
		got := T(strings.ToLower(cmp.Or(v, string(def))))
		*at(&r.in) = got
		if !slices.Contains(choices, got) {
			r.addf("%q must be %s", got, orList(choices))
		}
	}
}

// orList writes choices as a sentence does: a, b or c.
func orList[T ~string](choices []T) string {
	words := make([]string, len(choices))
	for i, c := range choices {
		words[i] = string(c)
	}
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

func readCommand(r *reader, v string) {
	r.in.Command = Command(strings.ToLower(cmp.Or(v, string(Auto))))
	switch {
	case r.in.Command == Bootstrap:
		r.addf("bootstrap prints the CloudFormation template that prepares an AWS account; run `tap-deploy bootstrap` on your machine, not as the action's command (use one of %s)", commandList())
	case !slices.Contains(Commands, r.in.Command):
		r.addf("%q is not a command; use one of %s", r.in.Command, commandList())
	}
}

// readRegion: the region is always explicit, as the input or from the
// environment: a stack in a default region is how the seed's first attempt
// deployed to the wrong place.
func readRegion(r *reader, v string) {
	r.in.AWSRegion = cmp.Or(v, r.env.Getenv("AWS_REGION"), r.env.Getenv("AWS_DEFAULT_REGION"))
	if r.in.AWSRegion == "" {
		r.addf("required: set it, or AWS_REGION or AWS_DEFAULT_REGION (aws-actions/configure-aws-credentials sets both)")
	} else if msg := RegionProblem(r.spell, r.in.AWSRegion); msg != "" {
		r.add(msg)
	} else if msg := RegionWarning(r.spell, r.in.AWSRegion); msg != "" {
		r.in.Warnings = append(r.in.Warnings, msg)
	}
}

func readProjectName(r *reader, v string) {
	r.in.ProjectName = cmp.Or(v, DefaultProject)
	r.add(ProjectProblem(r.spell, r.in.ProjectName))
}

func readStackName(r *reader, v string) {
	r.in.StackName = cmp.Or(v, r.in.Environment)
	if r.in.StackName != "" && !stackPattern.MatchString(r.in.StackName) {
		r.addf("%q may hold letters, digits, '-', '_' and '.', optionally as org/project/stack", r.in.StackName)
	}
}

func readSecretsProvider(r *reader, v string) {
	r.in.SecretsProvider = cmp.Or(v, "passphrase")
	if r.in.SecretsProvider != "passphrase" && !strings.HasPrefix(r.in.SecretsProvider, "awskms://") {
		r.addf("%q is not supported; use passphrase or awskms://<key-id-or-alias>?region=<region>", r.in.SecretsProvider)
	}
}

func readConfig(r *reader, v string) {
	var found []string
	r.in.Config, found = parseConfig(v, r.env)
	r.add(found...)
}

func readPolicyOverrides(r *reader, v string) {
	var found []string
	r.in.PolicyOverrides, found = parsePolicyOverrides(v, r.env)
	r.add(found...)
}

func readRollbackTo(r *reader, v string) {
	r.in.RollbackTo = strings.ToLower(v)
	if r.in.RollbackTo != "" && !rollbackPattern.MatchString(r.in.RollbackTo) {
		r.addf("%q must be an update version number (like 12) or 'previous'", r.in.RollbackTo)
	}
	if r.in.Command == Rollback && r.in.RollbackTo == "" {
		r.addf("required with command rollback (a version number from the stack history, or 'previous')")
	}
}

func readReviewStack(r *reader, v string) {
	switch {
	case v == "" || strings.EqualFold(v, "off"):
	case strings.EqualFold(v, "on"):
		r.in.ReviewStack.On = true
	case strings.HasPrefix(strings.ToLower(v), "label:") && labelPattern.MatchString(strings.TrimSpace(v[len("label:"):])):
		r.in.ReviewStack = ReviewStack{On: true, Label: strings.TrimSpace(v[len("label:"):])}
	default:
		r.addf("must be off, on, or label:<name> (like label:review-stack)")
	}
}

// readReviewStackBackendURL defaults to a place of its own under the
// environment's backend (reviewBackendURL), read above it.
func readReviewStackBackendURL(r *reader, v string) {
	r.in.ReviewStackBackendURL = reviewBackendURL(r.in.BackendURL)
	if v != "" {
		if msg := checkBackendURL(r.spell, v); msg != "" {
			r.add(msg)
		} else {
			r.in.ReviewStackBackendURL = v
		}
	}
	if r.in.ReviewStackBackendURL != "" && r.in.ReviewStackBackendURL == r.in.BackendURL && !strings.HasPrefix(r.in.BackendURL, "https://") {
		r.addf("must not be the environment's backend-url: review stacks run what any branch holds, and must not reach the environment's state")
	}
}

func readReviewBackendToken(r *reader, v string) {
	r.in.ReviewBackendToken = v
	if v != "" && v == strings.TrimSpace(r.env.Getenv("PULUMI_ACCESS_TOKEN")) {
		// Where both are in one job, they can be told apart; a PR job that
		// gets only the review token cannot see the deploy token.
		r.addf("is PULUMI_ACCESS_TOKEN, the deploy's token: previews and review stacks run what any branch holds, " +
			"and on Pulumi Cloud the token decides what they can write; give them a token that can only read the environment's stacks and write the review project")
	}
}

func readDeploymentPreference(r *reader, v string) {
	r.in.DeploymentPreference = shift.AllAtOnce
	if v == "" {
		return
	}
	p, err := shift.ParsePreference(v)
	if err != nil {
		r.addf("%v", err)
		return
	}
	r.in.DeploymentPreference = p
}

func readPromoteFrom(r *reader, v string) {
	r.in.PromoteFrom = v
	switch {
	case v == "":
	case !stackPattern.MatchString(v):
		r.addf("%q may hold letters, digits, '-', '_' and '.', optionally as org/project/stack", v)
	case v == r.in.StackName:
		r.addf("%q is this run's own stack; name the stack this deploy must repeat (staging for prod)", v)
	case r.in.Command != Auto && r.in.Command != Up:
		r.addf("applies to deploys (command up), not to command %s", r.in.Command)
	}
}

func readConfigFile(r *reader, v string) {
	r.in.ConfigFile = v
	if v != "" && r.env.InActions && !filepath.IsLocal(v) {
		r.addf("%q must be a path inside the workspace (the checkout), like deploy/Pulumi.dev.yaml", v)
	}
}

// readConfirmDestroy checks the confirmation against the environment's
// name; it is not kept.
func readConfirmDestroy(r *reader, v string) {
	switch c := r.in.Command; {
	case c == Destroy && v == "":
		r.addf("required with command destroy: type the environment's name (%s) to confirm its teardown", r.in.Environment)
	case c == Destroy && v != r.in.Environment:
		r.addf("%q is not the environment's name (%s); nothing was destroyed", v, r.in.Environment)
	case c != Destroy && v != "" && c != Auto:
		r.addf("applies to command destroy, not to command %s", c)
	}
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

func commandList() string {
	names := make([]string, len(Commands))
	for i, c := range Commands {
		names[i] = string(c)
	}
	return strings.Join(names, ", ")
}
