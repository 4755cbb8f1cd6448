// Package app runs one invocation of the action: inputs, routing, offline
// validation, then preview, deploy, rollback or drift. It reaches GitHub,
// Pulumi and the runner only through the interfaces declared here.
package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/org/tap-deploy/internal/actions"
	"github.com/org/tap-deploy/internal/comment"
	"github.com/org/tap-deploy/internal/engine"
	"github.com/org/tap-deploy/internal/inputs"
	"github.com/org/tap-deploy/internal/plan"
	"github.com/org/tap-deploy/internal/render"
	"github.com/org/tap-deploy/internal/route"
	"github.com/org/tap-deploy/stack"
)

// Stack is what a run needs from an opened Pulumi stack.
type Stack interface {
	Preview(ctx context.Context) (plan.Result, error)
	Up(ctx context.Context, message string) (plan.Result, error)
	PreviewRefresh(ctx context.Context) (plan.Result, error)
	History(ctx context.Context) ([]engine.Update, error)
	PendingOperations(ctx context.Context) ([]engine.PendingOperation, error)
	Close() error
}

var _ Stack = (*engine.Stack)(nil)

// OpenStack opens a stack with an inline program.
type OpenStack func(ctx context.Context, s engine.Settings, program pulumi.RunFunc) (Stack, error)

// GitHub is what a run needs from the GitHub API.
type GitHub interface {
	comment.Issues
	PullRequestsForCommit(ctx context.Context, owner, repo, sha string) ([]int, error)
	CompareCommits(ctx context.Context, owner, repo, base, head string) (string, error)
}

// Deps are the run's edges.
type Deps struct {
	Runtime   actions.Runtime
	Input     func(name string) string
	Getenv    func(string) string
	InActions bool
	WorkDir   string
	Now       func() time.Time
	OpenStack OpenStack
	NewGitHub func(apiURL, token string) (GitHub, error)
	Artifacts func() (stack.Artifacts, error)
	Version   string
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
)

// Outputs lists every output the action sets.
var Outputs = []string{OutCommand, OutHasChanges, OutChangeSummary, OutCommentID, OutStackOutputs, OutDrift, OutPolicyViolations, OutVersion}

// ErrReported is returned (wrapped) when the failure was already reported to
// the user; main only needs to exit non-zero.
var ErrReported = errors.New("failed")

type reportedError struct{ err error }

func (e reportedError) Error() string { return e.err.Error() }
func (e reportedError) Unwrap() []error {
	return []error{e.err, ErrReported}
}

// secretEnv are the environment variables whose values must never be shown.
var secretEnv = []string{
	"PULUMI_CONFIG_PASSPHRASE", "PULUMI_ACCESS_TOKEN", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
	"GITHUB_TOKEN", "GH_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "ACTIONS_RUNTIME_TOKEN",
}

// run is one invocation's state.
type run struct {
	Deps
	in       inputs.Inputs
	decision route.Decision
	cfg      stack.Config
	// The Lambda packages, loaded once (see code).
	codeCache  stack.Artifacts
	codeErr    error
	codeLoaded bool
}

// Run carries out one invocation.
func Run(ctx context.Context, d Deps) error {
	r := &run{Deps: d}
	// Secrets are masked before anything else is printed.
	for _, k := range secretEnv {
		r.Runtime.Mask(d.Getenv(k))
	}
	r.Runtime.Mask(d.Input(inputs.NameGitHubToken))
	if f := d.Getenv("PULUMI_CONFIG_PASSPHRASE_FILE"); f != "" {
		if b, err := os.ReadFile(f); err == nil {
			r.Runtime.Mask(string(b))
		}
	}

	in, err := inputs.Parse(d.Input, inputs.Env{Getenv: d.Getenv, InActions: d.InActions, WorkDir: d.WorkDir})
	if err != nil {
		// Report the config overrides' problems in the same message.
		var problems inputs.Problems
		if errors.As(err, &problems) {
			base := stack.Base{Project: "tap", Environment: "check", Region: "us-east-1"}
			if _, cerr := stack.NewConfig(base, in.Config); cerr != nil {
				var sp stack.Problems
				if errors.As(cerr, &sp) {
					err = append(problems, sp...)
				}
			}
		}
		return r.fail("The inputs are not valid", err)
	}
	r.in = in
	r.Runtime.Mask(in.GitHubToken)

	eventName, body, err := r.event()
	if err != nil {
		return r.fail("Could not read the GitHub event", err)
	}
	r.decision, err = route.Decide(eventName, body, in.Command)
	if err != nil {
		return r.fail("Could not decide what to run", err)
	}
	if r.decision.Skip {
		r.Runtime.Noticef("%s", r.decision.Reason)
		return r.setOutputs(map[string]string{OutCommand: "none"})
	}
	if r.decision.Reason != "" {
		r.Runtime.Noticef("%s", r.decision.Reason)
	}

	r.cfg, err = stack.NewConfig(stack.Base{Project: in.ProjectName, Environment: in.Environment, Region: in.AWSRegion}, in.Config)
	if err != nil {
		return r.failBeforeEngine("The stack configuration is not valid", err)
	}
	if err := r.setOutputs(map[string]string{OutCommand: string(r.decision.Command)}); err != nil {
		return r.fail("Could not write the step outputs", err)
	}

	// Offline validation runs first, whatever the command.
	report, err := r.validate()
	if err != nil {
		return err
	}
	switch r.decision.Command {
	case inputs.Validate:
		return nil
	case inputs.Preview:
		return r.preview(ctx, report)
	case inputs.Up:
		return r.deploy(ctx, report)
	case inputs.Rollback:
		return r.rollback(ctx, report)
	case inputs.Drift:
		return r.drift(ctx)
	}
	return r.fail("Unknown command", fmt.Errorf("command %q has no handler", r.decision.Command))
}

// event reads the triggering event: GITHUB_EVENT_NAME and the payload at
// GITHUB_EVENT_PATH (also honoured locally, to replay a payload).
func (r *run) event() (string, []byte, error) {
	name := r.Getenv("GITHUB_EVENT_NAME")
	if name == "" {
		return "", nil, nil
	}
	path := r.Getenv("GITHUB_EVENT_PATH")
	if path == "" {
		return "", nil, fmt.Errorf("GITHUB_EVENT_NAME is %q but GITHUB_EVENT_PATH is not set", name)
	}
	body, err := os.ReadFile(path)
	if err != nil {
		return "", nil, fmt.Errorf("reading the %s payload: %w", name, err)
	}
	return name, body, nil
}

// failBeforeEngine reports a failure that happens before any preview, and
// says so in the PR comment too: a PR whose check failed must not keep an
// older, green comment.
func (r *run) failBeforeEngine(title string, err error) error {
	if r.decision.Command != inputs.Validate {
		meta := r.meta("Validation")
		r.commentValidation(meta, render.Validation{Problems: problemLines(err)})
	}
	return r.fail(title, err)
}

// problemLines splits an error into the problems it lists.
func problemLines(err error) []string {
	var problems inputs.Problems
	var stackProblems stack.Problems
	switch {
	case errors.As(err, &problems):
		return problems
	case errors.As(err, &stackProblems):
		return stackProblems
	}
	return []string{err.Error()}
}

// fail reports an error once, as an annotation and in the job summary.
func (r *run) fail(title string, err error) error {
	lines := problemLines(err)
	r.Runtime.Errorf("%s: %s", title, strings.Join(lines, "; "))
	if serr := r.Runtime.AddSummary(render.Failure(title, lines)); serr != nil {
		r.Runtime.Warningf("%v", serr)
	}
	return reportedError{err}
}

func (r *run) setOutputs(values map[string]string) error {
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := r.Runtime.SetOutput(k, values[k]); err != nil {
			return err
		}
	}
	return nil
}

// runURL links the workflow run, when there is one.
func (r *run) runURL() string {
	server, repo, id := r.Getenv("GITHUB_SERVER_URL"), r.Getenv("GITHUB_REPOSITORY"), r.Getenv("GITHUB_RUN_ID")
	if server == "" || repo == "" || id == "" {
		return ""
	}
	return fmt.Sprintf("%s/%s/actions/runs/%s", strings.TrimSuffix(server, "/"), repo, id)
}

// settings are the engine settings of this run's stack.
func (r *run) settings() (engine.Settings, error) {
	env := map[string]string{}
	if r.in.SecretsProvider == "passphrase" && r.Getenv("PULUMI_CONFIG_PASSPHRASE") == "" && r.Getenv("PULUMI_CONFIG_PASSPHRASE_FILE") == "" {
		if r.InActions {
			return engine.Settings{}, errors.New("PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) must be set for the passphrase secrets provider; pass it from a repository secret")
		}
		r.Runtime.Warningf("PULUMI_CONFIG_PASSPHRASE is not set: using an empty passphrase for this local state")
		env["PULUMI_CONFIG_PASSPHRASE"] = ""
	}
	if dir, ok := strings.CutPrefix(r.in.BackendURL, "file://"); ok && !strings.HasPrefix(dir, "~") {
		if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return engine.Settings{}, fmt.Errorf("creating the state folder %s: %w", dir, err)
			}
			r.Runtime.Noticef("created the state folder %s", dir)
		}
	}
	return engine.Settings{
		Project:         r.in.ProjectName,
		Stack:           r.in.StackName,
		BackendURL:      r.in.BackendURL,
		SecretsProvider: r.in.SecretsProvider,
		PulumiHome:      r.Getenv("PULUMI_HOME"),
		Env:             env,
	}, nil
}
