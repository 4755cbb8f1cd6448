package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/org/tap-deploy/internal/artifacts"
	"github.com/org/tap-deploy/internal/engine"
	"github.com/org/tap-deploy/internal/inputs"
	"github.com/org/tap-deploy/internal/oidcrole"
	"github.com/org/tap-deploy/internal/outcome"
	"github.com/org/tap-deploy/stack"
)

// packageLoader loads the Lambda packages once a run (loading hashes the 12 MB
// of embedded packages, about 40 ms) into a folder only this run can read,
// removed when the run ends.
type packageLoader struct {
	// embedded loads the packages compiled into the action.
	embedded  func(dir string) (stack.Packages, error)
	getenv    func(string) string
	inActions bool
	warn      func(format string, args ...any)

	dir    string
	done   bool
	code   stack.Packages
	loaded error
}

// packageUse is what a run needs the Lambda packages for.
type packageUse int

const (
	// packagesToDeploy needs the packages themselves.
	packagesToDeploy packageUse = iota
	// packagesForGraph needs only their digests (the resource graph, a
	// recorded configuration): a binary built without the packages (plain
	// `go build`) will do.
	packagesForGraph
)

// get returns the Lambda packages for a use.
func (c *packageLoader) get(use packageUse) (stack.Packages, error) {
	if !c.done {
		c.code, c.loaded = c.load()
		c.done = true
	}
	if errors.Is(c.loaded, artifacts.ErrMissing) && use == packagesForGraph {
		return artifacts.Placeholder(), nil
	}
	return c.code, c.loaded
}

func (c *packageLoader) load() (stack.Packages, error) {
	override := c.getenv(artifacts.EnvDir)
	if override != "" && c.inActions {
		return nil, fmt.Errorf("%s is set: it replaces the Lambda code this action deploys and is for local development only; unset it in the workflow", artifacts.EnvDir)
	}
	dir, err := os.MkdirTemp("", "tap-deploy-code-")
	if err != nil {
		return nil, err
	}
	c.dir = dir
	if override != "" {
		c.warn("deploying the Lambda packages in %s (%s), not the ones built into tap-deploy", override, artifacts.EnvDir)
		return artifacts.LoadDir(override, dir)
	}
	return c.embedded(dir)
}

// cleanup removes the packages written for the run.
func (c *packageLoader) cleanup() {
	if c.dir != "" {
		os.RemoveAll(c.dir)
	}
}

// stackRef locates a stack: its name, the backend that keeps its state,
// and its Pulumi project.
type stackRef struct {
	name, backendURL, project string
	// review means a review stack's (review-backend-token).
	review bool
	// creds are the credentials that read it when they are not the run's
	// own: a promotion's source in another account (sourceaccount.go).
	creds *oidcrole.Credentials
}

// envStack is the environment's stack.
func envStack(in inputs.Inputs) stackRef {
	return stackRef{name: in.StackName, backendURL: in.BackendURL, project: in.ProjectName}
}

// reviewStacks is where review stacks live, apart from the environment's
// state: a branch's workflow runs with the review role, which must not
// reach the environment's checkpoint, history or locks. On Pulumi Cloud
// (one backend) they are a project of their own.
func reviewStacks(in inputs.Inputs) stackRef {
	ref := stackRef{backendURL: in.ReviewStackBackendURL, project: in.ProjectName, review: true}
	if strings.HasPrefix(ref.backendURL, "https://") {
		ref.project += "-review"
	}
	return ref
}

// reviewStack is pull request pr's review stack.
func reviewStack(in inputs.Inputs, pr int) stackRef {
	ref := reviewStacks(in)
	ref.name = reviewStackName(in.StackName, pr)
	return ref
}

// settings are the engine settings of a stack.
func (r *run) settings(ref stackRef) (engine.Settings, error) {
	env := map[string]string{}
	// In Actions a missing passphrase stopped the run already (Check).
	if !r.InActions && r.in.SecretsProvider == "passphrase" && r.Getenv("PULUMI_CONFIG_PASSPHRASE") == "" && r.Getenv("PULUMI_CONFIG_PASSPHRASE_FILE") == "" {
		r.Runtime.Warningf("PULUMI_CONFIG_PASSPHRASE is not set: using an empty passphrase for this local state")
		env["PULUMI_CONFIG_PASSPHRASE"] = ""
	}
	if tok := backendToken(r.in, r.decision.Command, ref); tok != "" {
		env["PULUMI_ACCESS_TOKEN"] = tok
	}
	if ref.creds != nil {
		// The CLI reads the backend, and would start the plugins, with
		// these and no other AWS credentials.
		for k, v := range ref.creds.Env() {
			env[k] = v
		}
	}
	return engine.Settings{
		Project:         ref.project,
		Stack:           ref.name,
		BackendURL:      ref.backendURL,
		SecretsProvider: r.in.SecretsProvider,
		PulumiHome:      r.Getenv("PULUMI_HOME"),
		Env:             env,
	}, nil
}

// backendToken is the Pulumi Cloud token of a stack's use when it is not
// PULUMI_ACCESS_TOKEN ("" for that): previews and review stacks run what
// any branch holds, and on Pulumi Cloud the token, not a role, decides
// what they may write, so they use review-backend-token when it is given.
func backendToken(in inputs.Inputs, command inputs.Command, ref stackRef) string {
	if in.ReviewBackendToken == "" || !strings.HasPrefix(ref.backendURL, "https://") {
		return ""
	}
	if ref.review || command == inputs.Preview {
		return in.ReviewBackendToken
	}
	return ""
}

// prepareLocalBackend creates a file:// backend's folder for a run that
// may create the stack, and says so through notice.
func prepareLocalBackend(ref stackRef, notice func(format string, args ...any)) error {
	dir, ok := strings.CutPrefix(ref.backendURL, "file://")
	if !ok || strings.HasPrefix(dir, "~") {
		return nil
	}
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("creating the state folder %s: %w", dir, err)
		}
		notice("created the state folder %s", dir)
	}
	return nil
}

// openToRead opens the environment's stack for a run that must never
// write the backend (a preview, a drift check, the history), so that it
// works with a role that may only read the state. An existing stack is
// selected, never created. A stack that does not exist yet is opened in a
// scratch backend of the run's own, empty, so a preview shows its first
// deploy and nothing is written where the state lives; firstDeploy says
// so.
func (r *run) openToRead(ctx context.Context, cfg stack.Config, code stack.Packages) (st Stack, firstDeploy bool, err error) {
	ref := envStack(r.in)
	s, err := r.settings(ref)
	if err != nil {
		return nil, false, err
	}
	exists, err := r.Backend.StackExists(ctx, s)
	switch {
	case errors.Is(err, engine.ErrExistsUnknown):
		st, err := r.openNamed(ctx, ref, mustExist, cfg, code, stack.Provenance{})
		if !errors.Is(err, engine.ErrNoStack) {
			return st, false, err
		}
	case err != nil:
		return nil, false, err
	case exists:
		st, err := r.openNamed(ctx, ref, mustExist, cfg, code, stack.Provenance{})
		return st, false, err
	}
	dir, err := os.MkdirTemp("", "tap-deploy-first-deploy-")
	if err != nil {
		return nil, false, err
	}
	scratch := ref
	scratch.backendURL = "file://" + dir
	st, err = r.openScratch(ctx, scratch, cfg, code)
	if err != nil {
		os.RemoveAll(dir)
		return nil, false, err
	}
	return scratchStack{Stack: st, dir: dir}, true, nil
}

// openScratch opens a stack in a throw-away backend: its own passphrase
// (the configuration holds no secrets), whatever the run's secrets
// provider, so nothing reaches a KMS key either.
func (r *run) openScratch(ctx context.Context, ref stackRef, cfg stack.Config, code stack.Packages) (Stack, error) {
	s, err := r.settings(ref)
	if err != nil {
		return nil, err
	}
	s.SecretsProvider = "passphrase"
	s.Env["PULUMI_CONFIG_PASSPHRASE"] = "scratch-" + randomHex()
	s.Env["PULUMI_CONFIG_PASSPHRASE_FILE"] = ""
	s.Config = stack.Record(cfg, code, stack.Provenance{})
	s.Progress = r.Runtime.UntrustedWriter
	return r.OpenStack(ctx, s, stack.Program(cfg, code))
}

// scratchStack is a stack in a scratch backend, removed with it.
type scratchStack struct {
	Stack
	dir string
}

func (s scratchStack) Close() error {
	err := s.Stack.Close()
	os.RemoveAll(s.dir)
	return err
}

func randomHex() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// existence says whether opening a stack may create it.
type existence int

const (
	// mayCreate creates the stack (and a file:// backend's folder) on
	// first use: a run about to update it.
	mayCreate existence = iota
	// mustExist never creates one: engine.ErrNoStack when it is missing.
	mustExist
)

// openNamed opens a stack.
func (r *run) openNamed(ctx context.Context, ref stackRef, e existence, cfg stack.Config, code stack.Packages, prov stack.Provenance) (Stack, error) {
	s, err := r.settings(ref)
	if err != nil {
		return nil, err
	}
	s.MustExist = e == mustExist
	if e == mayCreate {
		if err := prepareLocalBackend(ref, r.Runtime.Noticef); err != nil {
			return nil, err
		}
	}
	if cfg.Disposable() {
		// The file and S3 backends copy every checkpoint into
		// .pulumi/backups/ and never prune it: a stack made to go away
		// must not leave a trail of them behind.
		s.Env["PULUMI_DISABLE_CHECKPOINT_BACKUPS"] = "true"
	}
	prov.Actor, prov.ActionVersion, prov.RunCommit = r.facts.actor, r.Version, r.decision.SHA
	s.Config = stack.Record(cfg, code, prov)
	s.Progress = r.Runtime.UntrustedWriter
	st, err := r.OpenStack(ctx, s, stack.Program(cfg, code))
	if err != nil && e == mayCreate {
		return nil, r.withoutLayout(ctx, s, err)
	}
	return st, err
}

// withoutLayout adds to err, from a stack that could not be opened for
// an update, what the backend lacks when it has no layout yet: Pulumi
// writes .pulumi/meta.yaml on a backend's first use, which a role that
// may not write it (no role of the bootstrap template may: one
// environment's role would decide how every environment's stack is found)
// cannot do. The administrator creates it once.
func (r *run) withoutLayout(ctx context.Context, s engine.Settings, err error) error {
	if !strings.HasPrefix(s.BackendURL, "s3://") {
		return err
	}
	written, lerr := r.Backend.LayoutWritten(ctx, s)
	if lerr != nil || written {
		return err
	}
	login := s.BackendURL
	if !strings.Contains(login, "region=") {
		// The administrator's default region may not be the bucket's.
		sep := "?"
		if strings.Contains(login, "?") {
			sep = "&"
		}
		login += sep + "region=" + r.in.AWSRegion
	}
	return fmt.Errorf("%w\n\nThe backend %s has no %s yet, the layout Pulumi writes on a backend's first use, and this run's role may not be allowed to write it "+
		"(no role of the tap-deploy bootstrap template is). Create it once, with the account administrator's credentials, then run this workflow again:\n\n"+
		"    pulumi login '%s'", err, s.BackendURL, engine.LayoutKey, login)
}

// openForUpdate opens a stack an update is about to change and reads the
// state it starts from, stopping (reported) when an interrupted update left
// operations unfinished. The caller closes the stack.
func (r *run) openForUpdate(ctx context.Context, ref stackRef, cfg stack.Config, code stack.Packages, prov stack.Provenance) (Stack, engine.State, error) {
	name := ref.name
	st, err := r.openNamed(ctx, ref, mayCreate, cfg, code, prov)
	if err != nil {
		return nil, engine.State{}, r.fail("Could not open stack "+name, err)
	}
	state, err := st.State(ctx)
	if err == nil {
		if err = pendingOperations(name, state); err != nil {
			err = r.fail("An earlier update was interrupted", err)
		}
	} else {
		err = r.fail("Could not read the state of stack "+name, err)
	}
	if err != nil {
		st.Close()
		return nil, engine.State{}, err
	}
	return st, state, nil
}

// onStack loads the code, opens the stack to read it (openToRead) with
// this run's configuration and runs one engine operation, its output
// folded under group; firstDeploy says the stack does not exist yet.
func (r *run) onStack(ctx context.Context, group string, use packageUse, op func(st Stack, firstDeploy bool) (outcome.Result, error)) (outcome.Result, error) {
	code, err := r.packages.get(use)
	if err != nil {
		return outcome.Result{}, err
	}
	var res outcome.Result
	err = r.Runtime.Group(group, func() error {
		st, first, err := r.openToRead(ctx, r.cfg, code)
		if err != nil {
			return err
		}
		defer st.Close()
		res, err = op(st, first)
		return err
	})
	return res, err
}

// withLockRetry runs op, waiting with doubling backoff while another update
// holds the stack's lock, until lock-timeout; it never removes that lock.
func (r *run) withLockRetry(ctx context.Context, what string, op func() (outcome.Result, error)) (outcome.Result, error) {
	deadline := r.Now().Add(r.in.LockTimeout)
	wait := min(5*time.Second, r.in.LockTimeout/4+time.Millisecond)
	for {
		res, err := op()
		if err == nil || !engine.IsLocked(err) {
			return res, err
		}
		if r.Now().Add(wait).After(deadline) {
			return res, fmt.Errorf("the stack is locked by another update; gave up after %s (lock-timeout). The lock stays: it belongs to that update (cancel it with `pulumi cancel` only if it is dead): %w", r.in.LockTimeout, err)
		}
		r.Runtime.Warningf("the stack is locked by another update; %s again in %s", what, wait)
		if err := r.Sleep(ctx, wait); err != nil {
			return res, err
		}
		wait *= 2
	}
}

// pendingOperations says why an update must not start when an interrupted
// one left operations unfinished (running over them could duplicate
// resources), or nil; the run reports it as "An earlier update was
// interrupted".
func pendingOperations(stackName string, state engine.State) error {
	if len(state.Pending) == 0 {
		return nil
	}
	var lines []string
	for _, p := range state.Pending {
		lines = append(lines, fmt.Sprintf("%s of %s", p.Type, p.URN))
	}
	return fmt.Errorf(
		"the state records %d unfinished operation(s): %s. Recover before deploying: check in AWS whether each resource exists; "+
			"then run `pulumi refresh --clear-pending-creates --yes` on stack %s (or import the resources that exist), and run this workflow again",
		len(state.Pending), strings.Join(lines, "; "), stackName)
}

// reviewStackName is pull request pr's review stack: the environment's
// stack name with -pr-<pr>.
func reviewStackName(stackName string, pr int) string { return fmt.Sprintf("%s-pr-%d", stackName, pr) }
