// Command bench measures a pull-request run and a merge deploy against
// their floors and the compile-per-run baseline, in one run, and prints the
// table (make bench):
//
//  1. the action's PR run for the full stack: binary start → comment printed,
//     sandbox cloud on a file backend;
//  2. the engine floor: a bare Automation-API preview of the same inline
//     program (UpsertStackInlineSource + Preview), nothing else, run
//     interleaved with (1): PR run, preview, PR run, preview, …;
//  3. the compile-per-run baseline: a cold-cache `go build` of a program
//     running the same stack, plus its preview;
//  4. validate for the full stack, rendering a 5,000-resource preview, the
//     PR run's peak memory, the reviewed plan's round trip, and the action's
//     side of a traffic shift;
//  5. the action's merge deploy (a push to the default branch: preview,
//     policy, up of the saved plan, the traffic check), interleaved with
//  6. the deploy floor: a bare Automation-API up of the same program and
//     configuration; both from the same deployed stack, reset every round,
//     applying the same one-resource change (deploy.go).
//
// It also runs the PR run and a merge deploy under `unshare -rn` to show
// they need no network. Times are reported, never asserted: only that the
// two sides of a comparison did the same work.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"

	"github.com/org/tap-deploy/internal/artifacts"
	"github.com/org/tap-deploy/internal/awstraffic"
	"github.com/org/tap-deploy/internal/engine"
	"github.com/org/tap-deploy/internal/offline"
	"github.com/org/tap-deploy/internal/outcome"
	"github.com/org/tap-deploy/internal/policy"
	"github.com/org/tap-deploy/internal/render"
	"github.com/org/tap-deploy/internal/reviewed"
	"github.com/org/tap-deploy/internal/shift"
	"github.com/org/tap-deploy/stack"
	"github.com/org/tap-deploy/test/awsfake"
	"github.com/org/tap-deploy/test/sandbox"
)

// runs is how many rounds each comparison times, after a warm-up.
var runs = 5

func main() {
	// Inside the no-network namespace (deploy.go's noNetwork).
	if len(os.Args) > 3 && os.Args[1] == withAWSFlag {
		os.Exit(withAWS(os.Args[2], os.Args[3:]))
	}
	flag.IntVar(&runs, "rounds", runs, "rounds of each timed comparison, after a warm-up (make bench ROUNDS=3)")
	flag.Parse()
	if runs < 1 {
		fmt.Fprintln(os.Stderr, "bench: -rounds must be at least 1")
		os.Exit(2)
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

type world struct {
	dir, home, binary, event string
	env                      []string
}

func run() error {
	ctx := context.Background()
	root := repoRoot()
	dir, err := os.MkdirTemp("", "tap-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	w := world{dir: dir, home: filepath.Join(dir, "pulumi-home"), binary: filepath.Join(root, "bin", "tap-deploy"),
		event: filepath.Join(root, "test", "fixtures", "github-events", "pull_request.opened.json")}
	if _, err := os.Stat(w.binary); err != nil {
		return fmt.Errorf("bin/tap-deploy is missing: run `make build` (make bench does)")
	}
	if err := sandbox.Install(ctx, w.home); err != nil {
		return err
	}
	os.Setenv("PATH", filepath.Join(root, "bin")+string(os.PathListSeparator)+os.Getenv("PATH"))
	w.env = append(os.Environ(),
		"PULUMI_HOME="+w.home, sandbox.EnvState+"="+filepath.Join(dir, "cloud.json"),
		"PULUMI_CONFIG_PASSPHRASE=bench", "PULUMI_SKIP_UPDATE_CHECK=true",
		"GITHUB_EVENT_NAME=pull_request", "GITHUB_EVENT_PATH="+w.event)

	// (1) the action's PR run and (2) the engine floor, interleaved: a
	// machine that slows down slows both.
	actionArgs := []string{"preview", "--environment", "dev", "--aws-region", "eu-west-1", "--backend-url", "file://" + filepath.Join(dir, "state-action")}
	if err := os.MkdirAll(filepath.Join(dir, "state-action"), 0o755); err != nil {
		return err
	}
	code, err := artifacts.Load(dir)
	if err != nil {
		return err
	}
	cfg, err := stack.NewConfig(stack.Base{Project: "tap", Environment: "dev", Region: "eu-west-1"}, nil)
	if err != nil {
		return err
	}
	floorState := filepath.Join(dir, "state-floor")
	if err := os.MkdirAll(floorState, 0o755); err != nil {
		return err
	}
	var actionTimes, floorTimes []time.Duration
	var peakKB int64
	resources := 0
	for i := 0; i <= runs; i++ { // the first round creates the stacks and is not counted
		d, rss, out, err := timeCommand(ctx, w.env, w.binary, actionArgs...)
		if err != nil {
			return fmt.Errorf("action PR run: %w\n%s", err, out)
		}
		f, n, err := floorPreview(ctx, w, floorState, cfg, code)
		if err != nil {
			return err
		}
		resources = n
		if i > 0 {
			actionTimes, floorTimes = append(actionTimes, d), append(floorTimes, f)
			peakKB = max(peakKB, rss)
		}
	}
	floor := median(floorTimes)

	// (3) the compile-per-run baseline.
	build, err := coldBuild(ctx, root, dir)
	if err != nil {
		return err
	}

	// (4) validate, render, no network.
	validate := medianOf(20, func() {
		g, err := offline.Collect(stack.Program(cfg, code), "tap", "dev", cfg.Region)
		if err != nil {
			panic(err)
		}
		policy.Evaluate(g, policy.Settings{RequiredTags: []string{"project", "environment", "managed-by"}})
	})
	big := bigResult(5000)
	renderTime := medianOf(20, func() {
		render.Markdown(render.Meta{Title: "Preview", Project: "tap", Stack: "dev"}, big, render.CommentLimit)
	})
	offline := noNetwork(ctx, w, actionArgs)

	// (5) and (6): the merge deploy against the engine's up.
	deploy, err := mergeDeploy(ctx, w, code, runs)
	if err != nil {
		return fmt.Errorf("merge deploy: %w", err)
	}

	// (4d) the reviewed plan on a real full-stack preview: fingerprint it,
	// encode it into a comment line, read it back and compare.
	pre, err := fullStackPreview(ctx, w, cfg, code)
	if err != nil {
		return err
	}
	fingerprint := medianOf(20, func() {
		p := reviewed.Of(pre, 1, cfg.Values(), "bench", "6113728f27ae82c7b1a177c8d03f9e96e0adf246")
		back, err := reviewed.Decode(p.Encode())
		if err != nil {
			panic(err)
		}
		if !reviewed.Compare(back, p).Same() {
			panic("a plan differs from itself")
		}
	})

	// (4e) the action's side of a traffic shift: three AllAtOnce shifts
	// through the AWS SDK against the loopback CodeDeploy (AWS's own time
	// to move an alias is not in it).
	shiftTime, err := shiftBookkeeping(ctx, dir)
	if err != nil {
		return err
	}

	action := median(actionTimes)
	fmt.Printf("\ntap-deploy benchmark (%s, %d cores, medians of %d rounds after a warm-up)\n\n", runtime.Version(), runtime.NumCPU(), runs)
	fmt.Printf("| %-68s | %10s |\n|%s|%s|\n", "measure", "figure", strings.Repeat("-", 70), strings.Repeat("-", 12))
	row := func(name, figure string) { fmt.Printf("| %-68s | %10s |\n", name, figure) }
	row("(1) action PR run, full stack (binary start → comment)", secs(action))
	row(fmt.Sprintf("(2) engine floor: bare Automation-API preview, %d resources", resources), secs(floor))
	row("(3a) cold `go build` of the same program (fresh GOCACHE)", secs(build))
	row("(3) compile-per-run baseline = (3a) + preview (2)", secs(build+floor))
	row("(4a) validate, full stack (mocks + every rule)", ms(validate))
	row("(4b) render a 5,000-resource preview", ms(renderTime))
	row("(4c) peak RSS of the action process in (1)", fmt.Sprintf("%d MB", peakKB/1024))
	row(fmt.Sprintf("(4d) reviewed plan of %d changes: fingerprint+encode+decode+compare", len(pre.Steps)), ms(fingerprint))
	row("(4e) traffic shift of 3 functions, action side (SDK, loopback)", ms(shiftTime))
	row("(5) action merge deploy, one-resource change (binary start → exit)", secs(median(deploy.action)))
	row("(6) deploy floor: bare Automation-API up of the same change", secs(median(deploy.floor)))
	fmt.Printf("\nratios of the medians: (1)/(2) = %.2f (target ≤ 1.2)   (5)/(6) = %.2f (target ≤ 1.2)   (3)/(1) = %.0f×\n",
		float64(action)/float64(floor), float64(median(deploy.action))/float64(median(deploy.floor)), float64(build+floor)/float64(action))
	fmt.Printf("\nthe ratios' spread over %d interleaved rounds (each round: the action's run, then the engine's):\n\n", runs)
	fmt.Printf("| %-68s | %8s | %8s | %8s |\n|%s|%s|%s|%s|\n", "compared", "min", "median", "max",
		strings.Repeat("-", 70), strings.Repeat("-", 10), strings.Repeat("-", 10), strings.Repeat("-", 10))
	spreadRow := func(name string, v []float64, unit string) {
		s := slices.Sorted(slices.Values(v))
		fmt.Printf("| %-68s | %6.2f%-2s | %6.2f%-2s | %6.2f%-2s |\n", name, s[0], unit, s[len(s)/2], unit, s[len(s)-1], unit)
	}
	spreadRow("(1) action PR run, full stack", seconds(actionTimes), " s")
	spreadRow("(2) bare engine preview of the same stack", seconds(floorTimes), " s")
	spreadRow("(1)/(2) PR run ÷ engine preview, per round", ratios(actionTimes, floorTimes), "")
	spreadRow("(5) action merge deploy: push to the default branch", seconds(deploy.action), " s")
	spreadRow("(6) bare engine up of the same change", seconds(deploy.floor), " s")
	spreadRow("(5)/(6) merge deploy ÷ engine up, per round", ratios(deploy.action, deploy.floor), "")
	fmt.Printf("\n(5) and (6) start from the same deployed stack (%d resources in the cloud), reset every round, and apply\n", deploy.resources)
	fmt.Printf("the same change (%s): each did %s in every round (checked).\n", describe(change), describeWork(deploy.work))
	fmt.Printf("\ntargets: validate < 1 s: %v   render < 50 ms: %v   reviewed plan < 50 ms: %v\n", validate < time.Second, renderTime < 50*time.Millisecond, fingerprint < 50*time.Millisecond)
	fmt.Printf("no network at run time: %s\n", offline)
	fmt.Printf("no network at run time: %s\n", deploy.offline)
	fmt.Println("\n(3) adds the floor's preview to the measured build: a compiled Go program previews through")
	fmt.Println("pulumi-language-go, which cannot be installed here, so its preview is taken as the floor's.")
	return nil
}

// floorPreview times a bare Automation-API preview of the stack on state,
// and counts the resources it plans.
func floorPreview(ctx context.Context, w world, state string, cfg stack.Config, code stack.Packages) (time.Duration, int, error) {
	start := time.Now()
	st, err := auto.UpsertStackInlineSource(ctx, "dev", "tap", stack.Program(cfg, code),
		auto.Project(workspace.Project{Name: tokens.PackageName("tap"), Runtime: workspace.NewProjectRuntimeInfo("go", nil),
			Backend: &workspace.ProjectBackend{URL: "file://" + state}}),
		auto.PulumiHome(w.home),
		auto.EnvVars(map[string]string{"PULUMI_CONFIG_PASSPHRASE": "bench", sandbox.EnvState: filepath.Join(w.dir, "cloud-floor.json")}))
	if err != nil {
		return 0, 0, fmt.Errorf("engine floor: %w", err)
	}
	defer os.RemoveAll(st.Workspace().WorkDir())
	pre, err := st.Preview(ctx, optpreview.SuppressProgress())
	if err != nil {
		return 0, 0, fmt.Errorf("engine floor preview: %w", err)
	}
	d := time.Since(start)
	n := 0
	for _, c := range pre.ChangeSummary {
		n += c
	}
	return d, n, nil
}

func seconds(ds []time.Duration) []float64 {
	var v []float64
	for _, d := range ds {
		v = append(v, d.Seconds())
	}
	return v
}

// ratios are a[i]/b[i]: each round's two runs, compared.
func ratios(a, b []time.Duration) []float64 {
	var v []float64
	for i := range a {
		v = append(v, float64(a[i])/float64(b[i]))
	}
	return v
}

func describe(overrides map[string]string) string {
	var kv []string
	for _, k := range slices.Sorted(maps.Keys(overrides)) {
		kv = append(kv, k+"="+overrides[k])
	}
	return strings.Join(kv, ", ")
}

func describeWork(work map[string]int) string {
	var parts []string
	for _, op := range slices.Sorted(maps.Keys(work)) {
		parts = append(parts, fmt.Sprintf("%d %s", work[op], op))
	}
	return strings.Join(parts, ", ")
}

// fullStackPreview previews the whole stack through the action's engine
// adapter, for a outcome.Result as a PR run has it.
func fullStackPreview(ctx context.Context, w world, cfg stack.Config, code stack.Packages) (outcome.Result, error) {
	state := filepath.Join(w.dir, "state-reviewed")
	if err := os.MkdirAll(state, 0o755); err != nil {
		return outcome.Result{}, err
	}
	st, err := engine.Open(ctx, engine.Settings{Project: "tap", Stack: "dev", BackendURL: "file://" + state, SecretsProvider: "passphrase",
		PulumiHome: w.home, Env: map[string]string{"PULUMI_CONFIG_PASSPHRASE": "bench", sandbox.EnvState: filepath.Join(w.dir, "cloud-reviewed.json")}},
		stack.Program(cfg, code))
	if err != nil {
		return outcome.Result{}, err
	}
	defer st.Close()
	return st.Preview(ctx, engine.PreviewOptions{})
}

// timeCommand runs a command and returns its wall time and peak RSS (KB).
func timeCommand(ctx context.Context, env []string, name string, args ...string) (time.Duration, int64, string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	var rss int64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = ru.Maxrss
	}
	return d, rss, out.String(), err
}

// coldBuild builds a Pulumi Go program running the same stack with an
// empty build cache, as a fresh runner does on every run.
func coldBuild(ctx context.Context, root, dir string) (time.Duration, error) {
	prog := filepath.Join(dir, "program")
	if err := os.MkdirAll(prog, 0o755); err != nil {
		return 0, err
	}
	mainGo := `package main

import (
	"os"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/org/tap-deploy/internal/artifacts"
	"github.com/org/tap-deploy/stack"
)

func main() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		cfg, err := stack.NewConfig(stack.Base{Project: "tap", Environment: "dev", Region: "eu-west-1"}, nil)
		if err != nil {
			return err
		}
		code, err := artifacts.Load(os.TempDir())
		if err != nil {
			return err
		}
		return stack.Program(cfg, code)(ctx)
	})
}
`
	goMod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		return 0, err
	}
	// A module path under the project's may import its internal packages.
	mod := strings.Replace(string(goMod), "module github.com/org/tap-deploy", "module github.com/org/tap-deploy/benchprogram", 1)
	mod += "\nrequire github.com/org/tap-deploy v0.0.0\nreplace github.com/org/tap-deploy => " + root + "\n"
	for name, body := range map[string]string{"main.go": mainGo, "go.mod": mod} {
		if err := os.WriteFile(filepath.Join(prog, name), []byte(body), 0o644); err != nil {
			return 0, err
		}
	}
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		return 0, err
	}
	if err := os.WriteFile(filepath.Join(prog, "go.sum"), sum, 0o644); err != nil {
		return 0, err
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(prog, "program"), ".")
	cmd.Dir = prog
	cmd.Env = append(os.Environ(), "GOCACHE="+filepath.Join(dir, "gocache"), "GOFLAGS=-mod=mod")
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("cold build: %w\n%s", err, out)
	}
	return time.Since(start), nil
}

// noNetwork runs the PR path in a new network namespace where only the
// loopback interface is up: the Automation API talks to the engine over
// 127.0.0.1, and nothing may need any other address.
func noNetwork(ctx context.Context, w world, args []string) string {
	if why := namespaceMissing(); why != "" {
		return why
	}
	state := filepath.Join(w.dir, "state-offline")
	if err := os.MkdirAll(state, 0o755); err != nil {
		return "not checked: " + err.Error()
	}
	args = append([]string(nil), args...)
	args[len(args)-1] = "file://" + state
	shell := []string{"-rn", "sh", "-c", `ip link set lo up && exec "$0" "$@"`, w.binary}
	_, _, out, err := timeCommand(ctx, w.env, "unshare", append(shell, args...)...)
	if err != nil {
		return "FAILED with only loopback: " + err.Error() + "\n" + out
	}
	return "ok: the PR run succeeded in a network namespace with only loopback (unshare -rn)"
}

func bigResult(n int) outcome.Result {
	r := outcome.Result{Kind: outcome.KindPreview, Counts: map[outcome.Op]int{}}
	for i := 0; i < n; i++ {
		op := []outcome.Op{outcome.OpCreate, outcome.OpUpdate, outcome.OpDelete, outcome.OpReplace}[i%4]
		// Cloud resources whose inputs change, as a real preview reports
		// them: every row renders its values, old → new.
		name := fmt.Sprintf("object-%05d", i)
		r.Steps = append(r.Steps, outcome.Step{
			URN: "urn:pulumi:dev::tap::aws:s3/bucketObjectv2:BucketObjectv2::" + name, Type: "aws:s3/bucketObjectv2:BucketObjectv2",
			Name: name, Op: op, Custom: true, Changed: []string{"source", "etag"},
			Old: map[string]any{"key": name, "source": "lambda/v1.zip", "etag": fmt.Sprintf("%032x", i)},
			New: map[string]any{"key": name, "source": "lambda/v2.zip", "etag": fmt.Sprintf("%032x", i+1)},
		})
		r.Counts[op]++
	}
	return r
}

func medianOf(n int, fn func()) time.Duration {
	var ds []time.Duration
	for i := 0; i < n; i++ {
		start := time.Now()
		fn()
		ds = append(ds, time.Since(start))
	}
	return median(ds)
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }
func ms(d time.Duration) string   { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

// shiftBookkeeping times the action's calls for one release's traffic
// shift: per function, read the alias, start an AllAtOnce deployment,
// read it until it ends, read the alias again.
func shiftBookkeeping(ctx context.Context, dir string) (time.Duration, error) {
	cloud := filepath.Join(dir, "cloud-shift.json")
	names := stack.FunctionNames(stack.Config{Base: stack.Base{Project: "tap", Environment: "dev", Region: "eu-west-1"}, EnvironmentSuffix: "dev"})
	const roleArn = "arn:aws:iam::123456789012:role/tap-dev-codedeploy-eu-west-1"
	err := sandbox.Store{Path: cloud}.Update(func(st *sandbox.State) error {
		add := func(key string, r sandbox.Resource) { r.Region = "eu-west-1"; st.Resources[key] = r }
		add("app", sandbox.Resource{ID: "u:tap-dev-traffic", Type: "aws:codedeploy/application:Application", Inputs: map[string]any{"name": "tap-dev-traffic"}})
		add("role", sandbox.Resource{ID: "tap-dev-codedeploy-eu-west-1", Type: "aws:iam/role:Role", Outputs: map[string]any{"arn": roleArn}})
		add("attachment", sandbox.Resource{ID: "a", Type: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
			Inputs: map[string]any{"role": "tap-dev-codedeploy-eu-west-1", "policyArn": "arn:aws:iam::aws:policy/service-role/AWSCodeDeployRoleForLambda"}})
		for _, n := range names {
			add("fn-"+n, sandbox.Resource{ID: n, Type: "aws:lambda/function:Function", Outputs: map[string]any{"version": "2"}})
			add("alias-"+n, sandbox.Resource{ID: "alias-" + n, Type: "aws:lambda/alias:Alias",
				Inputs: map[string]any{"name": "live", "functionName": n, "functionVersion": "1"}, Outputs: map[string]any{"functionVersion": "1"}})
			add("group-"+n, sandbox.Resource{ID: "g-" + n, Type: "aws:codedeploy/deploymentGroup:DeploymentGroup",
				Inputs: map[string]any{"appName": "tap-dev-traffic", "deploymentGroupName": n, "serviceRoleArn": roleArn}})
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	fake := awsfake.New(cloud)
	defer fake.Close()
	fake.MinuteIs(time.Millisecond)
	for k, v := range fake.Env() {
		os.Setenv(k, v)
	}
	c, err := awstraffic.New(ctx, "eu-west-1")
	if err != nil {
		return 0, err
	}
	var failed error
	d := medianOf(10, func() {
		for _, n := range names {
			a, err := c.Alias(ctx, n, "live")
			if err != nil {
				failed = err
				return
			}
			f := shift.Function{Name: n, Alias: "live", DeploymentGroup: n, Current: a.Version, Target: map[string]string{"1": "2", "2": "1"}[a.Version]}
			id, err := c.Start(ctx, "tap-dev-traffic", f, shift.AllAtOnce.ConfigName(), "bench")
			if err != nil {
				failed = err
				return
			}
			for {
				dep, err := c.Get(ctx, id)
				if err != nil || dep.Status.Done() {
					failed = errors.Join(failed, err)
					break
				}
			}
			if _, err := c.Alias(ctx, n, "live"); err != nil {
				failed = err
			}
		}
	})
	return d, failed
}
