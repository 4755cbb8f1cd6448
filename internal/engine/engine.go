// Package engine is the adapter over the Pulumi Automation API. It runs the
// compiled-in program inline (no Go toolchain, no program download) and
// returns the project's own types from internal/outcome.
package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optrefresh"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/config"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/org/tap-deploy/internal/outcome"
)

// Settings locate a stack and its state.
type Settings struct {
	Project         string
	Stack           string
	BackendURL      string
	SecretsProvider string
	// PulumiHome is where plugins live; empty means the CLI's default
	// (PULUMI_HOME or ~/.pulumi).
	PulumiHome string
	// Env is passed to the Pulumi CLI and the plugins it starts, on top of
	// the process environment.
	Env map[string]string
	// Config is the stack configuration (full keys, "tap:logRetentionDays").
	// It is written into the workspace's stack settings, which costs no
	// CLI call, and recorded with the update in the stack history.
	Config map[string]string
	// MustExist opens only a stack that exists (a destroy or a sweep must
	// not create an empty one); ErrNoStack otherwise.
	MustExist bool
	// CancelGrace bounds the wait for a cancelled operation to stop before
	// the CLI is killed; 0 means CancelGrace.
	CancelGrace time.Duration
	// Progress opens a writer for one operation's human-readable progress,
	// closed when the operation ends; nil drops the progress. Opening it
	// per operation keeps the runner's workflow commands fenced off for
	// the engine's output only.
	Progress func() io.WriteCloser
	// Events, when set, is handed each operation's engine events as they
	// came, before they are folded into its result: the outcome package's
	// recorder keeps them as the streams its tests replay.
	Events func(outcome.Kind, []apitype.EngineEvent)
}

// Stack is an opened stack with its inline program.
type Stack struct {
	stack    auto.Stack
	workDir  string
	progress func() io.WriteCloser
	events   func(outcome.Kind, []apitype.EngineEvent)
	cli      cli
	// guard runs in the program before it registers anything during an
	// update (the CLI holds the stack's lock by then); its error stops
	// the update before any change.
	guard atomic.Pointer[func() error]
	// guardErr keeps the guard's refusal, which reaches the CLI only as
	// text.
	guardErr atomic.Pointer[error]
}

// PreviewOptions shape a preview.
type PreviewOptions struct {
	// SaveUpdatePlan writes the update plan to this path (Pulumi's update plans:
	// the operations the preview proposes, for UpOptions.Plan).
	SaveUpdatePlan string
}

// UpOptions shape an update.
type UpOptions struct {
	// UpdatePlan constrains the update to a plan saved by a preview: it performs
	// no operation the preview did not propose.
	UpdatePlan string
	// ExpectState is the state digest (State.Digest) the update must
	// start from. The program checks it under the update's lock before it
	// registers anything; another update in between stops this one.
	ExpectState string
	// Check runs in the program under the update's lock, after the state
	// check and before anything is registered; its error stops the update
	// before any change (a promotion checks its source stack again there).
	Check func(context.Context) error
}

// ErrStateChanged means the stack changed between the preview an update
// was planned from and the update.
var ErrStateChanged = errors.New("the stack changed since the preview this update was planned from")

// ErrNoCLI means the pulumi binary is not on PATH.
var ErrNoCLI = errors.New("the Pulumi CLI was not found on PATH: install it with Pulumi's installer, `curl -fsSL https://get.pulumi.com | sh` (in a clone of tap-deploy, `make tools` builds the pinned one into ./bin: put it first on PATH); the action's image ships it")

// ErrNoAWSPlugin means the aws resource plugin the stack asks for is not
// installed where the CLI looks for it.
var ErrNoAWSPlugin = errors.New("the Pulumi aws plugin v" + AWSPluginVersion + " is not installed")

// AWSPluginVersion is the aws resource plugin the stack program asks for:
// pulumi-aws's SDK in go.mod (test/packaging keeps the two equal).
const AWSPluginVersion = "6.83.4"

// quietEnv keeps the CLI from reaching the network on its own: no update
// check, no plugin download (the plugins are baked into the image).
var quietEnv = map[string]string{
	"PULUMI_SKIP_UPDATE_CHECK":                    "true",
	"PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
	"PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK":    "true",
	// Only the plugins installed in PULUMI_HOME (the pinned ones in the
	// image) are used, never a stray binary found on PATH.
	"PULUMI_IGNORE_AMBIENT_PLUGINS": "true",
}

// Open selects the stack with program as its inline program, creating the
// stack on first use unless s.MustExist.
func Open(ctx context.Context, s Settings, program pulumi.RunFunc) (*Stack, error) {
	if !s.MustExist {
		return open(ctx, s, program, auto.UpsertStackInlineSource)
	}
	st, err := open(ctx, s, program, auto.SelectStackInlineSource)
	var notFound *notFoundError
	if errors.As(err, &notFound) {
		return nil, fmt.Errorf("stack %s/%s: %w", s.Project, s.Stack, ErrNoStack)
	}
	return st, err
}

// ErrNoStack means the stack does not exist in the backend.
var ErrNoStack = errors.New("the stack does not exist")

type notFoundError struct{ error }

type selectFunc func(ctx context.Context, stackName, projectName string, program pulumi.RunFunc, opts ...auto.LocalWorkspaceOption) (auto.Stack, error)

func open(ctx context.Context, s Settings, program pulumi.RunFunc, sel selectFunc) (*Stack, error) {
	cmd, err := newCLI(s.CancelGrace)
	if err != nil {
		return nil, err
	}
	workDir, opts, err := workspaceOptions(s, cmd)
	if err != nil {
		return nil, err
	}
	opened := &Stack{workDir: workDir, progress: s.Progress, events: s.Events, cli: cmd}
	guarded := func(ctx *pulumi.Context) error {
		if g := opened.guard.Load(); g != nil && !ctx.DryRun() {
			if err := (*g)(); err != nil {
				opened.guardErr.Store(&err)
				return err
			}
		}
		return program(ctx)
	}
	st, err := sel(ctx, s.Stack, s.Project, guarded, opts...)
	if err != nil {
		os.RemoveAll(workDir)
		if auto.IsSelectStack404Error(err) {
			return nil, &notFoundError{err}
		}
		return nil, fmt.Errorf("opening stack %s/%s on %s: %w", s.Project, s.Stack, redactURL(s.BackendURL), trimAutoError(err))
	}
	if s.SecretsProvider != "" && s.SecretsProvider != "passphrase" {
		if err := keepSecretsProvider(ctx, st, s.Stack); err != nil {
			os.RemoveAll(workDir)
			return nil, fmt.Errorf("opening stack %s/%s: %w", s.Project, s.Stack, err)
		}
	}
	opened.stack = st
	return opened, nil
}

// workspaceOptions builds a temporary workspace for the project: the
// backend, the secrets provider, the plugins' home, the environment and
// the stack's configuration (written to the workspace's stack settings,
// which costs no CLI call).
func workspaceOptions(s Settings, cmd cli) (string, []auto.LocalWorkspaceOption, error) {
	stackSettings := workspace.ProjectStack{Config: config.Map{}}
	for k, v := range s.Config {
		key, err := config.ParseKey(k)
		if err != nil {
			return "", nil, fmt.Errorf("configuration key %q: %w", k, err)
		}
		stackSettings.Config[key] = config.NewValue(v)
	}
	workDir, err := os.MkdirTemp("", "tap-deploy-workspace-")
	if err != nil {
		return "", nil, err
	}
	env := map[string]string{}
	for k, v := range quietEnv {
		env[k] = v
	}
	for k, v := range s.Env {
		env[k] = v
	}
	env["PULUMI_BACKEND_URL"] = s.BackendURL
	opts := []auto.LocalWorkspaceOption{
		auto.WorkDir(workDir),
		auto.Pulumi(cmd),
		auto.EnvVars(env),
		auto.Project(workspace.Project{
			Name:    tokens.PackageName(s.Project),
			Runtime: workspace.NewProjectRuntimeInfo("go", nil),
			Backend: &workspace.ProjectBackend{URL: s.BackendURL},
		}),
	}
	if s.Stack != "" {
		opts = append(opts, auto.Stacks(map[string]workspace.ProjectStack{s.Stack: stackSettings}))
	}
	if s.SecretsProvider != "" {
		opts = append(opts, auto.SecretsProvider(s.SecretsProvider))
	}
	if s.PulumiHome != "" {
		opts = append(opts, auto.PulumiHome(s.PulumiHome))
	}
	return workDir, opts, nil
}

// StackSummary is one stack of the project in the backend.
type StackSummary struct {
	Name string
	// LastUpdate is when the stack last changed; zero when never.
	LastUpdate       time.Time
	UpdateInProgress bool
}

// ListStacks lists the project's stacks in the backend.
func ListStacks(ctx context.Context, s Settings) ([]StackSummary, error) {
	cmd, err := newCLI(s.CancelGrace)
	if err != nil {
		return nil, err
	}
	s.Stack = ""
	workDir, opts, err := workspaceOptions(s, cmd)
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(workDir)
	ws, err := auto.NewLocalWorkspace(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("opening project %s on %s: %w", s.Project, redactURL(s.BackendURL), trimAutoError(err))
	}
	list, err := ws.ListStacks(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing the stacks of %s: %w", s.Project, trimAutoError(err))
	}
	out := make([]StackSummary, 0, len(list))
	for _, l := range list {
		sum := StackSummary{Name: l.Name, UpdateInProgress: l.UpdateInProgress}
		if t, err := time.Parse(time.RFC3339, l.LastUpdate); err == nil {
			sum.LastUpdate = t
		}
		out = append(out, sum)
	}
	return out, nil
}

// Close removes the temporary workspace.
func (s *Stack) Close() error { return os.RemoveAll(s.workDir) }

// Preview runs a preview and returns the structured result. A failed
// preview returns a Result with Error set and a non-nil error.
func (s *Stack) Preview(ctx context.Context, o PreviewOptions) (outcome.Result, error) {
	return s.run(ctx, outcome.KindPreview, func(ch chan<- events.EngineEvent, out io.Writer) error {
		opts := []optpreview.Option{optpreview.EventStreams(ch), optpreview.ProgressStreams(out), optpreview.SuppressProgress(), optpreview.Color("never")}
		if o.SaveUpdatePlan != "" {
			opts = append(opts, optpreview.Plan(o.SaveUpdatePlan))
		}
		_, err := s.stack.Preview(ctx, opts...)
		return err
	})
}

// Up runs an update with the given message (recorded in the stack history).
func (s *Stack) Up(ctx context.Context, message string, o UpOptions) (outcome.Result, error) {
	if o.ExpectState != "" || o.Check != nil {
		guard := func() error {
			if o.ExpectState != "" {
				now, err := s.State(ctx)
				switch {
				case err != nil:
					return fmt.Errorf("checking the stack state before the update: %w", err)
				case now.Digest != o.ExpectState:
					return fmt.Errorf("%w (another update ran in between): the update stopped before changing anything; run this workflow again to preview and apply from the new state", ErrStateChanged)
				}
			}
			if o.Check != nil {
				return o.Check(ctx)
			}
			return nil
		}
		s.guard.Store(&guard)
		defer s.guard.Store(nil)
	}
	return s.run(ctx, outcome.KindUpdate, func(ch chan<- events.EngineEvent, out io.Writer) error {
		opts := []optup.Option{optup.Message(message), optup.EventStreams(ch), optup.ProgressStreams(out), optup.SuppressProgress(), optup.Color("never")}
		if o.UpdatePlan != "" {
			opts = append(opts, optup.Plan(o.UpdatePlan))
		}
		_, err := s.stack.Up(ctx, opts...)
		return err
	})
}

// Destroy deletes every resource of the stack.
func (s *Stack) Destroy(ctx context.Context) (outcome.Result, error) {
	return s.run(ctx, outcome.KindDestroy, func(ch chan<- events.EngineEvent, out io.Writer) error {
		_, err := s.stack.Destroy(ctx, optdestroy.EventStreams(ch), optdestroy.ProgressStreams(out), optdestroy.SuppressProgress(), optdestroy.Color("never"))
		return err
	})
}

// Remove deletes the stack itself, with its history, from the backend.
func (s *Stack) Remove(ctx context.Context) error {
	if err := s.stack.Workspace().RemoveStack(ctx, s.stack.Name()); err != nil {
		return fmt.Errorf("removing stack %s: %w", s.stack.Name(), trimAutoError(err))
	}
	return nil
}

// PreviewRefresh compares the state with the cloud without writing
// anything: the drift check.
func (s *Stack) PreviewRefresh(ctx context.Context) (outcome.Result, error) {
	return s.run(ctx, outcome.KindRefresh, func(ch chan<- events.EngineEvent, out io.Writer) error {
		_, err := s.stack.PreviewRefresh(ctx, optrefresh.EventStreams(ch), optrefresh.ProgressStreams(out), optrefresh.SuppressProgress(), optrefresh.Color("never"))
		return err
	})
}

// run runs one engine operation with its progress writer and folds its
// events into a result.
func (s *Stack) run(ctx context.Context, kind outcome.Kind, op func(chan<- events.EngineEvent, io.Writer) error) (outcome.Result, error) {
	start := time.Now()
	var out io.Writer = io.Discard
	if s.progress != nil {
		w := s.progress()
		defer w.Close()
		out = w
	}
	ch := make(chan events.EngineEvent)
	done := make(chan []apitype.EngineEvent)
	go func() {
		var evs []apitype.EngineEvent
		for e := range ch {
			evs = append(evs, e.EngineEvent)
		}
		done <- evs
	}()
	err := op(ch, out)
	var evs []apitype.EngineEvent
	select {
	case evs = <-done:
	case <-time.After(5 * time.Second):
		// The Automation API closes the stream when the CLI exits; if it
		// did not, report what arrived rather than hang the job.
	}
	if s.events != nil {
		s.events(kind, evs)
	}
	res := outcome.FromEvents(kind, evs)
	res.Duration = time.Since(start)
	if err != nil {
		res.Error = failureMessage(res, err)
		re := &RunError{Kind: kind, Result: res, Err: err, Locked: auto.IsConcurrentUpdateError(err), Killed: s.cli.killed.Swap(false),
			UpdatePlanRejected: strings.Contains(res.Error, "violates plan") || strings.Contains(err.Error(), "violates plan")}
		if g := s.guardErr.Swap(nil); g != nil {
			re.Err = *g
		}
		return res, re
	}
	return res, nil
}

// RunError is a failed engine run; Result says how far it got.
type RunError struct {
	Kind   outcome.Kind
	Result outcome.Result
	Err    error
	// Locked means the engine refused to start because another update
	// holds the stack's lock; nothing was done.
	Locked bool
	// Killed means the operation was cancelled and the CLI, still busy
	// when the grace ran out, was killed: the lock and unfinished
	// operations may be left in the state.
	Killed bool
	// UpdatePlanRejected means the engine refused to perform an operation its
	// own saved plan did not propose (Pulumi's update plans have corner
	// cases, values unknown at preview time among them).
	UpdatePlanRejected bool
}

// IsUpdatePlanRejected reports whether err is an update refused by its plan.
func IsUpdatePlanRejected(err error) bool {
	var re *RunError
	return errors.As(err, &re) && re.UpdatePlanRejected
}

func (e *RunError) Error() string { return fmt.Sprintf("%s failed: %s", e.Kind, e.Result.Error) }
func (e *RunError) Unwrap() error { return e.Err }

// WasKilled reports whether err is an operation whose CLI had to be killed.
func WasKilled(err error) bool {
	var re *RunError
	return errors.As(err, &re) && re.Killed
}

// IsLocked reports whether err is the engine refusing to run because
// another update holds the stack's lock.
func IsLocked(err error) bool {
	var re *RunError
	return errors.As(err, &re) && re.Locked
}

// failureMessage prefers the engine's own error diagnostics (what a user
// needs) over the Automation API's error, which embeds all of stdout.
func failureMessage(res outcome.Result, err error) string {
	var msgs []string
	for _, d := range res.Diagnostics {
		if d.Severity == "error" {
			msgs = append(msgs, d.Message)
		}
	}
	if len(msgs) > 0 {
		return strings.Join(msgs, "\n")
	}
	return trimAutoError(err).Error()
}

// trimAutoError shortens an Automation API error to its first lines: the
// full CLI output goes to the log group, not into comments.
func trimAutoError(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if i := strings.Index(msg, "\nstdout:"); i >= 0 {
		stderr := ""
		if j := strings.Index(msg, "\nstderr:"); j >= 0 {
			stderr = strings.TrimSpace(msg[j+len("\nstderr:"):])
		}
		msg = strings.TrimSpace(msg[:i])
		if stderr != "" {
			msg += ": " + lastLines(stderr, 5)
		}
	}
	return errors.New(msg)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// redactURL drops credentials a backend URL may carry before it is shown.
func redactURL(u string) string {
	if i := strings.Index(u, "@"); i > 0 {
		if j := strings.Index(u, "://"); j >= 0 && j < i {
			return u[:j+3] + "***" + u[i:]
		}
	}
	return u
}
