package main

import (
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"

	"github.com/org/tap-deploy/stack"
	"github.com/org/tap-deploy/test/awsfake"
	"github.com/org/tap-deploy/test/sandbox"
)

// change is the one-resource change every deploy round applies to the
// deployed default stack: the API's burst limit (100 by default), a patch
// of the stage's method settings.
var change = map[string]string{"apiThrottleBurst": "200"}

// pushEvent is the merge: a push to the repository's default branch.
const pushEvent = "push.with-new-branch.json"

// deployFigures are the merge deploy's rounds against the engine's up.
type deployFigures struct {
	action, floor []time.Duration
	// work is what each run changed in the cloud (the same for both, or
	// the bench stops); resources is how many the cloud holds.
	work      map[string]int
	resources int
	offline   string
}

// deployRuns are the two sides' directories: each starts from its own
// deployed copy of the default stack (base), and every round works on a
// fresh copy of it.
type deployRuns struct {
	w                  world
	code               stack.Packages
	actionBase, engine string
}

// mergeDeploy measures the action handling a push to the default branch
// (binary start → exit: preview, policy, up of the saved plan, the
// traffic check through the AWS SDK against a loopback AWS) against a
// bare Automation-API up of the same program and configuration
// (UpsertStackInlineSource + Up), interleaved, rounds times. Both start
// from the same deployed stack, reset every round, and apply the same
// change; a round whose two runs did different work stops the bench.
func mergeDeploy(ctx context.Context, w world, code stack.Packages, rounds int) (deployFigures, error) {
	d := deployRuns{w: w, code: code, actionBase: filepath.Join(w.dir, "deploy-base-action"), engine: filepath.Join(w.dir, "deploy-base-engine")}
	for _, base := range []string{d.actionBase, d.engine} {
		if err := os.MkdirAll(filepath.Join(base, "state"), 0o755); err != nil {
			return deployFigures{}, err
		}
		// The account as the README's quick start leaves it: bootstrap's
		// boundaries and roles exist.
		if err := (sandbox.Store{Path: filepath.Join(base, "cloud.json")}).Bootstrap("eu-west-1", "us-east-1"); err != nil {
			return deployFigures{}, err
		}
	}
	// The deployed state both sides start from: the default stack, each
	// deployed the way that side deploys.
	if _, err := d.runAction(ctx, d.actionBase, nil); err != nil {
		return deployFigures{}, fmt.Errorf("the first deploy (not counted): %w", err)
	}
	if _, err := d.runEngine(ctx, d.engine, nil); err != nil {
		return deployFigures{}, fmt.Errorf("the engine's first up (not counted): %w", err)
	}
	var f deployFigures
	for i := range rounds {
		a, b := filepath.Join(w.dir, fmt.Sprintf("deploy-%d-action", i)), filepath.Join(w.dir, fmt.Sprintf("deploy-%d-engine", i))
		if err := reset(d.actionBase, a); err != nil {
			return f, err
		}
		if err := reset(d.engine, b); err != nil {
			return f, err
		}
		ta, err := d.runAction(ctx, a, change)
		if err != nil {
			return f, fmt.Errorf("round %d, action deploy: %w", i+1, err)
		}
		tb, err := d.runEngine(ctx, b, change)
		if err != nil {
			return f, fmt.Errorf("round %d, engine up: %w", i+1, err)
		}
		workA, nA, err := workDone(d.actionBase, a)
		if err != nil {
			return f, err
		}
		workB, nB, err := workDone(d.engine, b)
		if err != nil {
			return f, err
		}
		if !maps.Equal(workA, workB) || nA != nB || len(workA) == 0 {
			return f, fmt.Errorf("round %d: the two runs did different work, so their times do not compare: action %v (%d resources), engine %v (%d resources)",
				i+1, workA, nA, workB, nB)
		}
		f.action, f.floor = append(f.action, ta), append(f.floor, tb)
		f.work, f.resources = workA, nA
		os.RemoveAll(a)
		os.RemoveAll(b)
	}
	f.offline = d.noNetwork(ctx)
	return f, nil
}

// reset makes dir a fresh copy of base: its state and its cloud.
func reset(base, dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.CopyFS(filepath.Join(dir, "state"), os.DirFS(filepath.Join(base, "state"))); err != nil {
		return err
	}
	cloud, err := os.ReadFile(filepath.Join(base, "cloud.json"))
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "cloud.json"), cloud, 0o644)
}

// workDone is what the provider created, updated and deleted in dir's
// cloud since base, and how many resources dir's cloud holds.
func workDone(base, dir string) (map[string]int, int, error) {
	before, err := sandbox.Store{Path: filepath.Join(base, "cloud.json")}.Load()
	if err != nil {
		return nil, 0, err
	}
	after, err := sandbox.Store{Path: filepath.Join(dir, "cloud.json")}.Load()
	if err != nil {
		return nil, 0, err
	}
	work := map[string]int{}
	for _, op := range []string{"create", "update", "delete"} {
		if n := after.Calls[op] - before.Calls[op]; n != 0 {
			work[op] = n
		}
	}
	return work, len(after.Resources), nil
}

// actionCommand is the action's merge deploy on dir's state and cloud:
// the push event replayed (auto decides up), with overrides as the config
// input.
func (d deployRuns) actionCommand(dir string, overrides map[string]string) (args, env []string) {
	args = []string{"auto", "--environment", "dev", "--aws-region", "eu-west-1", "--backend-url", "file://" + filepath.Join(dir, "state")}
	if len(overrides) > 0 {
		var kv []string
		for _, k := range slices.Sorted(maps.Keys(overrides)) {
			kv = append(kv, k+"="+overrides[k])
		}
		args = append(args, "--config", strings.Join(kv, ";"))
	}
	env = append(slices.Clone(d.w.env), sandbox.EnvState+"="+filepath.Join(dir, "cloud.json"),
		"GITHUB_EVENT_NAME=push", "GITHUB_EVENT_PATH="+filepath.Join(repoRoot(), "test", "fixtures", "github-events", pushEvent))
	return args, env
}

// runAction times the action's merge deploy, with the loopback AWS it
// asks about the functions' traffic serving dir's cloud.
func (d deployRuns) runAction(ctx context.Context, dir string, overrides map[string]string) (time.Duration, error) {
	fake := awsfake.New(filepath.Join(dir, "cloud.json"))
	defer fake.Close()
	args, env := d.actionCommand(dir, overrides)
	for k, v := range fake.Env() {
		env = append(env, k+"="+v)
	}
	t, _, out, err := timeCommand(ctx, env, d.w.binary, args...)
	if err != nil {
		return 0, fmt.Errorf("%w\n%s", err, out)
	}
	if st, err := (sandbox.Store{Path: filepath.Join(dir, "cloud.json")}).Load(); err != nil || len(st.ByType("aws:lambda/function:Function")) == 0 {
		return 0, fmt.Errorf("the run deployed no stack (was the push routed to up?): %v\n%s", err, out)
	}
	return t, nil
}

// runEngine times a bare Automation-API up of the stack's program with
// the default configuration and overrides, on dir's state and cloud.
func (d deployRuns) runEngine(ctx context.Context, dir string, overrides map[string]string) (time.Duration, error) {
	cfg, err := stack.NewConfig(stack.Base{Project: "tap", Environment: "dev", Region: "eu-west-1"}, overrides)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	st, err := auto.UpsertStackInlineSource(ctx, "dev", "tap", stack.Program(cfg, d.code),
		auto.Project(workspace.Project{Name: tokens.PackageName("tap"), Runtime: workspace.NewProjectRuntimeInfo("go", nil),
			Backend: &workspace.ProjectBackend{URL: "file://" + filepath.Join(dir, "state")}}),
		auto.PulumiHome(d.w.home),
		auto.EnvVars(map[string]string{"PULUMI_CONFIG_PASSPHRASE": "bench", sandbox.EnvState: filepath.Join(dir, "cloud.json")}))
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(st.Workspace().WorkDir())
	if _, err := st.Up(ctx, optup.SuppressProgress()); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// noNetwork runs one merge deploy (the same change, on a fresh copy) in a
// network namespace where only loopback is up, as the PR run's check
// does. The loopback AWS must be inside the namespace too, so the bench
// runs itself there as withAWS, which serves it and starts the action.
func (d deployRuns) noNetwork(ctx context.Context) string {
	if why := namespaceMissing(); why != "" {
		return why
	}
	self, err := os.Executable()
	if err != nil {
		return "not checked: " + err.Error()
	}
	dir := filepath.Join(d.w.dir, "deploy-offline")
	if err := reset(d.actionBase, dir); err != nil {
		return "not checked: " + err.Error()
	}
	args, env := d.actionCommand(dir, change)
	shell := []string{"-rn", "sh", "-c", `ip link set lo up && exec "$0" "$@"`, self, withAWSFlag, filepath.Join(dir, "cloud.json"), d.w.binary}
	_, _, out, err := timeCommand(ctx, env, "unshare", append(shell, args...)...)
	if err != nil {
		return "FAILED with only loopback: " + err.Error() + "\n" + out
	}
	if work, _, err := workDone(d.actionBase, dir); err != nil || len(work) == 0 {
		return fmt.Sprintf("FAILED with only loopback: the deploy changed nothing (%v, %v)\n%s", work, err, out)
	}
	return "ok: the merge deploy succeeded in a network namespace with only loopback (unshare -rn)"
}

// withAWSFlag makes the bench serve the loopback AWS over a cloud and run
// a command with it (withAWS), inside the no-network namespace.
const withAWSFlag = "-with-loopback-aws"

// withAWS serves the AWS APIs the action calls over cloud, runs argv with
// them, and returns its exit code.
func withAWS(cloud string, argv []string) int {
	fake := awsfake.New(cloud)
	defer fake.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = os.Environ()
	for k, v := range fake.Env() {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		if exit, ok := err.(*exec.ExitError); ok {
			return exit.ExitCode()
		}
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	return 0
}

// namespaceMissing says why a no-network namespace cannot be made here,
// or "".
func namespaceMissing() string {
	unshare, err := exec.LookPath("unshare")
	if err != nil || exec.Command(unshare, "-rn", "true").Run() != nil {
		return "not checked: `unshare -rn` is not available on this machine"
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return "not checked: `ip` (iproute2) is needed to bring up loopback in the namespace"
	}
	return ""
}
