// Package e2e runs the built action binary as a workflow would: real GitHub
// payloads, INPUT_* variables, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files,
// a fake GitHub API, the real Pulumi CLI and engine, and the sandbox cloud.
package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/org/tap-deploy/internal/outcome"
	"github.com/org/tap-deploy/test/actionstest"
	"github.com/org/tap-deploy/test/awsfake"
	"github.com/org/tap-deploy/test/enginetest"
	"github.com/org/tap-deploy/test/fixtures"
	"github.com/org/tap-deploy/test/githubtest"
	"github.com/org/tap-deploy/test/requires"
	"github.com/org/tap-deploy/test/sandbox"
)

var (
	binary string
	// missingZips is why the binary was not built: the Lambda packages it
	// embeds are not there. A TestMain cannot skip, so each test does
	// (newEnv), or fails when CI is set.
	missingZips error
)

func TestMain(m *testing.M) {
	os.Exit(func() int {
		flag.Parse() // for testing.Short
		if missingZips = requires.FindZips(); missingZips != nil || testing.Short() {
			return m.Run()
		}
		dir, err := os.MkdirTemp("", "tap-e2e-bin-")
		if err != nil {
			panic(err)
		}
		defer os.RemoveAll(dir)
		root := enginetest.RepoRoot()
		binary = filepath.Join(dir, "tap-deploy")
		cmd := exec.Command("go", "build", "-o", binary, ".")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "building the action: %v\n%s", err, out)
			return 1
		}
		return m.Run()
	}())
}

// env is one workflow's world: state, sandbox cloud, fake GitHub.
type env struct {
	t          *testing.T
	dir        string
	pulumiHome string
	cloud      string
	state      string
	GitHub     *githubtest.Server
	// AWS serves the AWS APIs the action calls itself (not the provider's).
	AWS *awsfake.Server
	// Vars are extra environment variables for every run.
	Vars map[string]string

	// read holds the texts already checked by readable.
	mu   sync.Mutex
	read map[string]bool
}

// needBinary stops a test that runs the action when TestMain did not build
// it.
func needBinary(t *testing.T) {
	t.Helper()
	requires.Need(t, "the action binary, built with the Lambda zips", missingZips)
}

func newEnv(t *testing.T) *env {
	t.Helper()
	needBinary(t)
	enginetest.UseRepoCLI(t)
	dir := t.TempDir()
	e := &env{t: t, dir: dir, pulumiHome: filepath.Join(dir, "pulumi-home"), cloud: filepath.Join(dir, "cloud.json"),
		state: filepath.Join(dir, "state"), GitHub: githubtest.New(), Vars: map[string]string{}, read: map[string]bool{}}
	t.Cleanup(e.GitHub.Close)
	// A dispatched run (a rollback) is on the default branch's head, which
	// comes after the pushed commit: a rollback's own commit is checked.
	e.GitHub.SetCompare(headSHA, dispatchSHA, "ahead")
	// Every run reads GitHub when it ends; this also catches what a run
	// that was never waited for wrote.
	t.Cleanup(e.readableGitHub)
	if err := sandbox.Install(context.Background(), e.pulumiHome); err != nil {
		t.Fatal(err)
	}
	// The AWS APIs the action calls itself, over the same cloud.
	aws := awsfake.New(e.cloud)
	t.Cleanup(aws.Close)
	e.AWS = aws
	for k, v := range aws.Env() {
		e.Vars[k] = v
	}
	// The account is set up as the README's quick start leaves it.
	if err := (sandbox.Store{Path: e.cloud}).Bootstrap("eu-west-1", "us-east-1"); err != nil {
		t.Fatal(err)
	}
	return e
}

// result is what one run of the action left.
type result struct {
	Exit    int
	Stdout  string
	Stderr  string
	Outputs map[string]string
	Summary string
}

const passphrase = "e2e-passphrase-do-not-print"

// dispatchSHA is GITHUB_SHA: the commit a workflow_dispatch or schedule run
// is on (their payloads carry none).
const dispatchSHA = "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c"

// run runs the action for an event payload file with the given inputs.
func (e *env) run(event, payload string, inputs map[string]string) result {
	e.t.Helper()
	// Generous: CI runs the suite with the race detector beside other
	// packages on two cores.
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	p := e.start(ctx, event, payload, inputs)
	return p.wait()
}

// process is a started run of the action.
type process struct {
	e              *env
	cmd            *exec.Cmd
	stdout, stderr *lockedBuffer
	outputFile     string
	summaryFile    string
}

// lockedBuffer is what a running action has written so far: the test
// reads it while exec's goroutine writes it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// start starts the action without waiting for it.
func (e *env) start(ctx context.Context, event, payload string, inputs map[string]string) *process {
	e.t.Helper()
	runDir := e.t.TempDir()
	outputFile := filepath.Join(runDir, "output")
	summaryFile := filepath.Join(runDir, "summary")
	vars := map[string]string{
		"PATH":                     os.Getenv("PATH"),
		"HOME":                     e.dir,
		"TMPDIR":                   os.TempDir(),
		"GOCACHE":                  os.Getenv("GOCACHE"),
		"GITHUB_ACTIONS":           "true",
		"GITHUB_EVENT_NAME":        event,
		"GITHUB_EVENT_PATH":        payload,
		"GITHUB_OUTPUT":            outputFile,
		"GITHUB_STEP_SUMMARY":      summaryFile,
		"GITHUB_API_URL":           e.GitHub.APIURL(),
		"GITHUB_SERVER_URL":        "https://github.com",
		"GITHUB_REPOSITORY":        "Codertocat/Hello-World",
		"GITHUB_RUN_ID":            "4242",
		"GITHUB_SHA":               dispatchSHA,
		"GITHUB_REF":               "refs/heads/master",
		"GITHUB_ACTOR":             "Codertocat",
		"GITHUB_WORKSPACE":         runDir,
		"PULUMI_HOME":              e.pulumiHome,
		"PULUMI_CONFIG_PASSPHRASE": passphrase,
		sandbox.EnvState:           e.cloud,
		"INPUT_ENVIRONMENT":        "dev",
		"INPUT_AWS-REGION":         "eu-west-1",
		"INPUT_BACKEND-URL":        "file://" + e.state,
		"INPUT_GITHUB-TOKEN":       githubtest.Token,
	}
	for k, v := range e.Vars {
		vars[k] = v
	}
	for k, v := range inputs {
		vars["INPUT_"+strings.ToUpper(k)] = v
	}
	var envList []string
	for k, v := range vars {
		envList = append(envList, k+"="+v)
	}
	cmd := exec.CommandContext(ctx, binary)
	cmd.Env = envList
	cmd.Dir = runDir
	p := &process{e: e, cmd: cmd, stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, outputFile: outputFile, summaryFile: summaryFile}
	cmd.Stdout, cmd.Stderr = p.stdout, p.stderr
	if err := cmd.Start(); err != nil {
		e.t.Fatalf("starting the action: %v", err)
	}
	return p
}

// local runs the action as a developer would on a laptop: flags, no
// GITHUB_ACTIONS, the same state, cloud and plugins as the workflow runs.
func (e *env) local(command string, flags map[string]string, vars map[string]string) result {
	e.t.Helper()
	args := []string{command, "--environment", "dev", "--aws-region", "eu-west-1", "--backend-url", "file://" + e.state}
	for k, v := range flags {
		args = append(args, "--"+k, v)
	}
	cmd := exec.Command(binary, args...)
	cmd.Dir = e.t.TempDir()
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + e.dir, "TMPDIR=" + os.TempDir(), "PULUMI_HOME=" + e.pulumiHome,
		"PULUMI_CONFIG_PASSPHRASE=" + passphrase, sandbox.EnvState + "=" + e.cloud}
	for k, v := range e.Vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	res := result{}
	if err := cmd.Run(); err != nil {
		exit, ok := err.(*exec.ExitError)
		if !ok {
			e.t.Fatalf("running the action locally: %v", err)
		}
		res.Exit = exit.ExitCode()
	}
	res.Stdout, res.Stderr = stdout.String(), stderr.String()
	e.readable("the terminal's stdout", res.Stdout)
	e.readable("the terminal's stderr", res.Stderr)
	return res
}

// unreadable is what must never stand where a person expects a value:
// what Go's fmt prints for a nil, a map, a verb without its argument or of
// the wrong type, and the engine's sentinel for a value not known yet.
var unreadable = []string{"<nil>", "map[", "%!", outcome.Unknown}

// readable fails the test when a text a person reads (a comment, an issue,
// a job summary, the log or terminal) shows a value as Go's fmt prints it,
// or the engine's sentinel. Each text is read once, however many runs
// leave it in place.
func (e *env) readable(what, text string) {
	e.t.Helper()
	e.mu.Lock()
	seen := e.read[text]
	e.read[text] = true
	e.mu.Unlock()
	if seen {
		return
	}
	for _, s := range unreadable {
		if i := strings.Index(text, s); i >= 0 {
			start := strings.LastIndexByte(text[:i], '\n') + 1
			line, _, _ := strings.Cut(text[start:], "\n")
			e.t.Errorf("%s shows %q in the line: %s", what, s, line)
		}
	}
}

// readableGitHub reads every comment, issue and deployment the action left
// on the fake GitHub.
func (e *env) readableGitHub() {
	e.t.Helper()
	for _, c := range e.GitHub.AllComments() {
		e.readable(fmt.Sprintf("comment %d on #%d", c.ID, c.Issue), c.Body)
	}
	for _, i := range e.GitHub.Issues() {
		e.readable(fmt.Sprintf("issue #%d", i.Number), i.Title+"\n"+i.Body)
	}
	for _, d := range e.GitHub.Deployments() {
		e.readable(fmt.Sprintf("deployment %d", d.ID), d.Description)
	}
}

// honoured lists the workflow commands in stdout that the runner acts on:
// those outside every ::stop-commands:: block.
func honoured(stdout string) []string {
	var out []string
	resume := ""
	for _, line := range strings.Split(stdout, "\n") {
		switch {
		case resume != "":
			if line == "::"+resume+"::" {
				resume = ""
			}
		case strings.HasPrefix(line, "::stop-commands::"):
			resume = strings.TrimPrefix(line, "::stop-commands::")
		case strings.HasPrefix(line, "::"):
			out = append(out, line)
		}
	}
	return out
}

// wait waits for the run to end and collects what it left.
func (p *process) wait() result {
	p.e.t.Helper()
	err := p.cmd.Wait()
	res := result{Stdout: p.stdout.String(), Stderr: p.stderr.String(), Outputs: actionstest.ReadOutputs(p.outputFile)}
	if b, err := os.ReadFile(p.summaryFile); err == nil {
		res.Summary = string(b)
	}
	if exit, ok := err.(*exec.ExitError); ok {
		res.Exit = exit.ExitCode()
	} else if err != nil {
		p.e.t.Fatalf("running the action: %v", err)
	}
	p.e.readable("the log (stdout)", res.Stdout)
	p.e.readable("the log (stderr)", res.Stderr)
	p.e.readable("the job summary", res.Summary)
	p.e.readableGitHub()
	return res
}

// cloudState reads the sandbox cloud.
func (e *env) cloudState() sandbox.State {
	e.t.Helper()
	st, err := sandbox.Store{Path: e.cloud}.Load()
	if err != nil {
		e.t.Fatal(err)
	}
	return st
}

// fixture is the path of a real payload.
func fixture(t *testing.T, name string) string { return fixtures.Path(t, name) }

// modified writes a changed copy of a real payload.
func modified(t *testing.T, name string, change func(map[string]any)) string {
	t.Helper()
	var p map[string]any
	if err := json.Unmarshal(fixtures.Read(t, name), &p); err != nil {
		t.Fatal(err)
	}
	change(p)
	b, _ := json.Marshal(p)
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\n--- stdout\n%s\n--- stderr\n%s\n--- outputs\n%v", r.Exit, r.Stdout, r.Stderr, r.Outputs)
}
