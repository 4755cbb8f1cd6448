// Package app runs one invocation of the action: it reads the inputs and the
// event, decides the command, validates offline, then previews, deploys,
// rolls back, checks drift, lists the history, or deploys and destroys
// review stacks. It reaches GitHub, Pulumi, the clock and the runner only
// through Deps and the interfaces declared here, so every path is testable
// with small fakes.
//
// A reader finds a command by its file: validate.go, preview.go, deploy.go,
// rollback.go, drift.go, history.go, sweep.go, destroy.go; app.go maps each
// command to its file. start.go sets a run up; run.go holds what every
// command reports with (fail, meta, outputs); publish.go decides, once,
// where its results go; stackops.go opens stacks and waits for locks;
// gate.go is the policy gate; update.go is the preview → gate → up sequence
// that deploy, rollback and review stacks share, order.go its checks that
// no update goes over a newer one, and traffic.go the rollout that follows
// it; result.go is what a result says beyond its changes; reviewstack.go
// deploys and destroys a pull request's review stack, and sweep.go
// destroys those left behind. A file calls only into files below it: no
// two files call each other.
package app

import (
	"context"
	"errors"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/org/tap-deploy/internal/actions"
	"github.com/org/tap-deploy/internal/awsaccount"
	"github.com/org/tap-deploy/internal/comment"
	"github.com/org/tap-deploy/internal/deployment"
	"github.com/org/tap-deploy/internal/engine"
	"github.com/org/tap-deploy/internal/github"
	"github.com/org/tap-deploy/internal/inputs"
	"github.com/org/tap-deploy/internal/issue"
	"github.com/org/tap-deploy/internal/oidcrole"
	"github.com/org/tap-deploy/internal/outcome"
	"github.com/org/tap-deploy/stack"
)

// Stack is what a run needs from an opened Pulumi stack.
type Stack interface {
	Preview(ctx context.Context, o engine.PreviewOptions) (outcome.Result, error)
	Up(ctx context.Context, message string, o engine.UpOptions) (outcome.Result, error)
	PreviewRefresh(ctx context.Context) (outcome.Result, error)
	History(ctx context.Context) ([]engine.Update, error)
	State(ctx context.Context) (engine.State, error)
	Destroy(ctx context.Context) (outcome.Result, error)
	Remove(ctx context.Context) error
	Close() error
}

var _ Stack = (*engine.Stack)(nil)

// Account is what an update reads of the AWS account before it changes it.
type Account interface {
	Concurrency(ctx context.Context) (awsaccount.Concurrency, error)
	Reserved(ctx context.Context, functions []string) (map[string]int, error)
}

var _ Account = (*awsaccount.Reader)(nil)

// Backend is what a run reads of a backend itself, without the Pulumi CLI
// (which only a stack's engine runs), and its check of the tools OpenStack
// needs. Each reader answers from the backend's files (file:// and s3://);
// where only the backend's service can tell, it says so with
// engine.ErrExistsUnknown or engine.ErrLocksUnknown.
type Backend interface {
	// FindTools says what is missing of what OpenStack runs (the Pulumi
	// CLI, engine.ErrNoCLI; the aws plugin in pulumiHome), each with the
	// command that installs it; a local run checks it first.
	FindTools(pulumiHome string) error
	// StackExists says whether the backend holds a stack.
	StackExists(ctx context.Context, s engine.Settings) (bool, error)
	// LayoutWritten says whether the backend holds the layout Pulumi
	// writes on a backend's first use (.pulumi/meta.yaml).
	LayoutWritten(ctx context.Context, s engine.Settings) (bool, error)
	// Locks lists the locks updates hold on a stack.
	Locks(ctx context.Context, s engine.Settings) ([]string, error)
	// ListStacks lists the project's stacks in the backend.
	ListStacks(ctx context.Context, s engine.Settings) ([]engine.StackSummary, error)
}

var _ Backend = engine.Backend{}

// OpenStack opens a stack with an inline program.
type OpenStack func(ctx context.Context, s engine.Settings, program pulumi.RunFunc) (Stack, error)

// GitHub is what a run needs from the GitHub API.
type GitHub interface {
	comment.Issues
	deployment.API
	issue.API
	PullRequestsForCommit(ctx context.Context, owner, repo, sha string) ([]github.PullRequest, error)
	PullRequest(ctx context.Context, owner, repo string, number int) (github.PullRequest, error)
	CompareCommits(ctx context.Context, owner, repo, base, head string) (string, error)
}

// Deps are the run's edges.
type Deps struct {
	Runtime actions.Runtime
	// Input reads an action input by its action.yml name.
	Input  func(name string) string
	Getenv func(string) string
	// InActions is true inside GitHub Actions.
	InActions bool
	// WorkDir is the checkout (GITHUB_WORKSPACE) or the current directory.
	WorkDir string
	Now     func() time.Time
	// Sleep waits, or returns early with the context's error.
	Sleep     func(ctx context.Context, d time.Duration) error
	OpenStack OpenStack
	// Backend reads the backend directly and checks the tools OpenStack
	// runs.
	Backend   Backend
	NewGitHub func(apiURL, token string) (GitHub, error)
	// AWSAccount reads the AWS account of a region (its credentials come
	// from the environment, as the engine's do).
	AWSAccount func(ctx context.Context, region string) (Account, error)
	// Traffic moves the functions' live aliases of a region through
	// CodeDeploy (credentials from the environment).
	Traffic func(ctx context.Context, region string) (Traffic, error)
	// TrafficAs is Traffic calling with the given credentials, not the
	// environment's: a promotion reads its source in another account so.
	TrafficAs func(ctx context.Context, region string, creds oidcrole.Credentials) (Traffic, error)
	// IDToken gets the job's GitHub OIDC token for an audience from the
	// runner's token service (ACTIONS_ID_TOKEN_REQUEST_URL and _TOKEN).
	IDToken func(ctx context.Context, requestURL, requestToken, audience string) (string, error)
	// AssumeRole exchanges an OIDC token for a role's temporary
	// credentials (STS AssumeRoleWithWebIdentity in region).
	AssumeRole func(ctx context.Context, region, roleARN, session, token string) (oidcrole.Credentials, error)
	// Packages writes the Lambda packages compiled into the binary into
	// dir and returns them.
	Packages func(dir string) (stack.Packages, error)
	// Version is the action's own version.
	Version string
}

// Output names, as action.yml declares them.
const (
	OutCommand          = "command"
	OutHasChanges       = "has-changes"
	OutChangeSummary    = "change-summary"
	OutCommentID        = "comment-id"
	OutStackOutputs     = "stack-outputs"
	OutDrift            = "drift"
	OutPolicyViolations = "policy-violations"
	OutVersion          = "deployed-version"
	OutReviewStackURL   = "review-stack-url"
)

// Outputs lists every output the action sets.
var Outputs = []string{OutCommand, OutHasChanges, OutChangeSummary, OutCommentID, OutStackOutputs, OutDrift, OutPolicyViolations, OutVersion, OutReviewStackURL}

// ErrReported is returned (wrapped) when the failure was already reported to
// the user; main only needs to exit non-zero.
var ErrReported = errors.New("failed")

type reportedError struct{ err error }

func (e reportedError) Error() string { return e.err.Error() }
func (e reportedError) Unwrap() []error {
	return []error{e.err, ErrReported}
}

// commands maps each command to its file's entry point. Offline validation
// runs before any of them but the cleanups (see Run).
var commands = map[inputs.Command]func(*run, context.Context) error{
	inputs.Validate: func(*run, context.Context) error { return nil },
	inputs.Preview:  (*run).preview,
	inputs.Up:       (*run).deploy,
	inputs.Rollback: (*run).rollback,
	inputs.Drift:    (*run).drift,
	inputs.History:  (*run).history,
	inputs.Sweep:    (*run).sweep,
	inputs.Destroy:  (*run).destroy,
	// A pull request's closing: the event decides it (see route).
	inputs.DestroyReviewStack: (*run).closeReviewStack,
	inputs.DeployReviewStack:  (*run).deployReviewStackOnly,
}

// cleanups destroy what exists and deploy nothing: they skip the offline
// validation, so that a program or policy problem on one branch never keeps
// a review stack alive.
var cleanups = map[inputs.Command]bool{inputs.Sweep: true, inputs.DestroyReviewStack: true, inputs.Destroy: true}

// Run carries out one invocation.
func Run(ctx context.Context, d Deps) error {
	r, err := start(ctx, d)
	if err != nil || r == nil {
		return err
	}
	defer r.packages.cleanup()
	if !cleanups[r.decision.Command] {
		if err := r.validate(ctx); err != nil {
			return err
		}
	}
	command, ok := commands[r.decision.Command]
	if !ok {
		return r.fail("Unknown command", errors.New("command "+string(r.decision.Command)+" has no handler"))
	}
	return command(r, ctx)
}
