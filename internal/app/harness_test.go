package app

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/sethvargo/go-githubactions"

	"github.com/org/tap-deploy/internal/actions"
	"github.com/org/tap-deploy/internal/engine"
	"github.com/org/tap-deploy/internal/github"
	"github.com/org/tap-deploy/internal/graph"
	"github.com/org/tap-deploy/internal/outcome"
	"github.com/org/tap-deploy/internal/redact"
	"github.com/org/tap-deploy/stack"
	"github.com/org/tap-deploy/test/actionstest"
	"github.com/org/tap-deploy/test/fixtures"
	"github.com/org/tap-deploy/test/stacktest"
)

// fakeStack is an opened stack whose operations the test decides. A nil
// function answers with an empty result.
type fakeStack struct {
	preview func(ctx context.Context) (outcome.Result, error)
	up      func(ctx context.Context, message string) (outcome.Result, error)
	refresh func(ctx context.Context) (outcome.Result, error)
	history func(ctx context.Context) ([]engine.Update, error)
	state   func(ctx context.Context) (engine.State, error)
	destroy func(ctx context.Context) (outcome.Result, error)
	// destroyed and removed count the destroys and removals.
	destroyed, removed int
	messages           []string
	// previews and ups record the options each operation got.
	previews []engine.PreviewOptions
	ups      []engine.UpOptions
	closed   int
}

func (f *fakeStack) Preview(ctx context.Context, o engine.PreviewOptions) (outcome.Result, error) {
	f.previews = append(f.previews, o)
	if f.preview == nil {
		return outcome.Result{Kind: outcome.KindPreview, Counts: map[outcome.Op]int{}}, nil
	}
	return f.preview(ctx)
}

func (f *fakeStack) Up(ctx context.Context, message string, o engine.UpOptions) (outcome.Result, error) {
	f.messages = append(f.messages, message)
	check := o.Check
	o.Check = nil
	f.ups = append(f.ups, o)
	var res outcome.Result
	var err error
	if f.up == nil {
		res = outcome.Result{Kind: outcome.KindUpdate, Counts: map[outcome.Op]int{}}
	} else {
		res, err = f.up(ctx, message)
	}
	// What the engine runs under the lock, before anything changes: an
	// update refused for the lock never gets there.
	if check != nil && !engine.IsLocked(err) {
		if cerr := check(ctx); cerr != nil {
			res := outcome.Result{Kind: outcome.KindUpdate, Error: cerr.Error()}
			return res, &engine.RunError{Kind: outcome.KindUpdate, Result: res, Err: cerr}
		}
	}
	return withTraffic(res, "1"), err
}

// withTraffic gives an update's result the program's `traffic` output,
// every function's new version being version, unless it has one.
func withTraffic(res outcome.Result, version string) outcome.Result {
	if _, ok := res.Outputs["traffic"]; ok {
		return res
	}
	outputs := map[string]any{}
	for k, v := range res.Outputs {
		outputs[k] = v
	}
	app, fns := stack.TrafficNames(stack.Config{Base: stack.Base{Project: "tap", Region: "eu-west-1"}, EnvironmentSuffix: "dev"})
	byKey := map[string]any{}
	for i, spec := range stack.Functions {
		byKey[spec.Key] = map[string]any{"function": fns[i].Name, "alias": fns[i].Alias, "deploymentGroup": fns[i].DeploymentGroup,
			"version": version, "alarms": []any{fns[i].Name + "-live-errors"}}
	}
	outputs["traffic"] = map[string]any{"application": app, "region": "eu-west-1", "functions": byKey}
	res.Outputs = outputs
	return res
}

func (f *fakeStack) PreviewRefresh(ctx context.Context) (outcome.Result, error) {
	if f.refresh == nil {
		return outcome.Result{Kind: outcome.KindRefresh, Counts: map[outcome.Op]int{}}, nil
	}
	return f.refresh(ctx)
}

func (f *fakeStack) History(ctx context.Context) ([]engine.Update, error) {
	if f.history == nil {
		return nil, nil
	}
	return f.history(ctx)
}

func (f *fakeStack) State(ctx context.Context) (engine.State, error) {
	if f.state == nil {
		return engine.State{Digest: "state-1"}, nil
	}
	return f.state(ctx)
}

func (f *fakeStack) Destroy(ctx context.Context) (outcome.Result, error) {
	f.destroyed++
	if f.destroy == nil {
		return outcome.Result{Kind: outcome.KindDestroy, Counts: map[outcome.Op]int{}}, nil
	}
	return f.destroy(ctx)
}

func (f *fakeStack) Remove(context.Context) error { f.removed++; return nil }

func (f *fakeStack) Close() error { f.closed++; return nil }

// fakeGitHub keeps comments in memory, acting as github-actions[bot].
type fakeGitHub struct {
	mu sync.Mutex
	// comments are each pull request's, by its number, oldest first.
	comments    map[int][]github.Comment
	nextID      int64
	prsOfCommit func(sha string) ([]github.PullRequest, error)
	compare     func(base, head string) (string, error)
	calls       map[string]int
	deployments []github.Deployment
	statuses    []string
	deployErr   error
	transient   []bool
	issues      []github.Issue
	// pulls answers PullRequest; a missing number is a 404.
	pulls map[int]github.PullRequest
	// edits are comments' edit histories, newest first, by node id.
	edits map[string][]github.CommentEdit
	// sent are the deployments and deployment statuses created, as text.
	sent []string
}

func newFakeGitHub() *fakeGitHub {
	return &fakeGitHub{nextID: 100, calls: map[string]int{}, comments: map[int][]github.Comment{}}
}

// fixturePR is the pull request of the pull_request payloads in
// test/fixtures.
const fixturePR = 2

func (f *fakeGitHub) count(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[name]++
}

func (f *fakeGitHub) Viewer(context.Context) (string, error) {
	f.count("viewer")
	return "github-actions[bot]", nil
}

func (f *fakeGitHub) ListComments(_ context.Context, _, _ string, number int) ([]github.Comment, error) {
	f.count("list")
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]github.Comment(nil), f.comments[number]...), nil
}

func (f *fakeGitHub) CreateComment(_ context.Context, _, _ string, number int, body string) (github.Comment, error) {
	f.count("create")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	c := github.Comment{ID: f.nextID, Body: body, Author: "github-actions[bot]", NodeID: fmt.Sprintf("IC_%d", f.nextID)}
	f.comments[number] = append(f.comments[number], c)
	return c, nil
}

func (f *fakeGitHub) Edits(_ context.Context, nodeID string) ([]github.CommentEdit, error) {
	f.count("edits")
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.edits[nodeID], nil
}

func (f *fakeGitHub) DeleteComment(_ context.Context, _, _ string, id int64) error {
	f.count("delete")
	f.mu.Lock()
	defer f.mu.Unlock()
	for n, comments := range f.comments {
		for i := range comments {
			if comments[i].ID == id {
				f.comments[n] = append(comments[:i], comments[i+1:]...)
				return nil
			}
		}
	}
	return &github.StatusError{Status: 404, Operation: "delete", Message: "Not Found"}
}

func (f *fakeGitHub) EditComment(_ context.Context, _, _ string, id int64, body string) (github.Comment, error) {
	f.count("edit")
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, comments := range f.comments {
		for i := range comments {
			if comments[i].ID == id {
				comments[i].Body = body
				return comments[i], nil
			}
		}
	}
	return github.Comment{}, &github.StatusError{Status: 404, Operation: "edit", Message: "Not Found"}
}

func (f *fakeGitHub) PullRequestsForCommit(_ context.Context, _, _, sha string) ([]github.PullRequest, error) {
	f.count("prs-of-commit")
	if f.prsOfCommit == nil {
		return nil, nil
	}
	return f.prsOfCommit(sha)
}

func (f *fakeGitHub) PullRequest(_ context.Context, _, _ string, number int) (github.PullRequest, error) {
	f.count("pull")
	if pr, ok := f.pulls[number]; ok {
		return pr, nil
	}
	return github.PullRequest{}, &github.StatusError{Status: 404, Operation: "read pull request", Message: "Not Found"}
}

func (f *fakeGitHub) CompareCommits(_ context.Context, _, _, base, head string) (string, error) {
	f.count("compare")
	if f.compare == nil {
		return "", &github.StatusError{Status: 404, Operation: "compare", Message: "Not Found"}
	}
	return f.compare(base, head)
}

// bodies are the comments on pull request number, oldest first.
func (f *fakeGitHub) bodies(number int) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.comments[number] {
		out = append(out, c.Body)
	}
	return out
}

// fakeClock advances only when the run sleeps.
type fakeClock struct {
	now   time.Time
	slept []time.Duration
	// cancelAfter cancels the run at that sleep (0: never).
	cancelAfter int
}

func (c *fakeClock) Now() time.Time { return c.now }

func (c *fakeClock) Sleep(_ context.Context, d time.Duration) error {
	if c.cancelAfter > 0 && len(c.slept)+1 >= c.cancelAfter {
		return context.Canceled
	}
	c.slept = append(c.slept, d)
	c.now = c.now.Add(d)
	return nil
}

// harness runs the orchestrator with fakes at every edge: no Pulumi CLI,
// no GitHub, no network.
type harness struct {
	t       *testing.T
	dir     string
	inputs  map[string]string
	env     map[string]string
	actions bool
	stack   *fakeStack
	// others are the stacks besides stack, by name (review stacks); a
	// stack opened with MustExist that is in neither does not exist.
	others map[string]*fakeStack
	// listed is what ListStacks answers.
	listed []engine.StackSummary
	gh     *fakeGitHub
	// account is the AWS account; nil means no AWS call is expected.
	account *fakeAccount
	// traffic is CodeDeploy and the functions' aliases.
	traffic *fakeTraffic
	// locks answers each look at the stack's locks in turn (then none).
	locks [][]string
	clock *fakeClock
	// noCLI makes the Pulumi CLI missing.
	noCLI bool
	// firstDeploy means the environment's stack does not exist in the
	// backend yet.
	firstDeploy bool
	// noLayout means the backend has no .pulumi/meta.yaml yet; openErr
	// is what opening a stack that may be created fails with.
	noLayout bool
	openErr  error
	// opened records the settings of every stack the run opened, and
	// programs the configurations they ran with.
	opened     []engine.Settings
	clients    int
	stdout     strings.Builder
	stderr     strings.Builder
	outputPath string
	summary    string
	// version is the action's ("v1.0.0-test", a development build, if unset).
	version string
	// source is a promotion's source account, apart from the run's; nil:
	// the run reaches no other account (sourceaccount_test.go).
	source *fakeSourceAccount
}

// newHarness is a GitHub Actions run of the given event with a valid
// configuration, a token and a passphrase.
func newHarness(t *testing.T) *harness {
	t.Helper()
	dir := t.TempDir()
	h := &harness{
		t: t, dir: dir, actions: true, stack: &fakeStack{}, gh: newFakeGitHub(), traffic: newFakeTraffic(),
		clock: &fakeClock{now: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)},
		inputs: map[string]string{
			"environment": "dev", "aws-region": "eu-west-1", "backend-url": "file://" + filepath.Join(dir, "state"),
			"github-token": "ghs_token_for_unit_tests",
		},
		env: map[string]string{
			"GITHUB_ACTIONS": "true", "PULUMI_CONFIG_PASSPHRASE": "unit-test-passphrase",
			"GITHUB_OUTPUT": filepath.Join(dir, "output"), "GITHUB_STEP_SUMMARY": filepath.Join(dir, "summary"),
			"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "Codertocat/Hello-World", "GITHUB_RUN_ID": "7",
		},
	}
	h.outputPath = h.env["GITHUB_OUTPUT"]
	h.summary = h.env["GITHUB_STEP_SUMMARY"]
	h.traffic.clock = h.clock
	return h
}

// event makes the run one of a real payload, changed by change if given.
func (h *harness) event(name, fixture string, change func(map[string]any)) {
	h.t.Helper()
	body := fixtures.Read(h.t, fixture)
	if change != nil {
		var p map[string]any
		if err := json.Unmarshal(body, &p); err != nil {
			h.t.Fatal(err)
		}
		change(p)
		body, _ = json.Marshal(p)
	}
	path := filepath.Join(h.dir, "event.json")
	if err := os.WriteFile(path, body, 0o644); err != nil {
		h.t.Fatal(err)
	}
	h.env["GITHUB_EVENT_NAME"] = name
	h.env["GITHUB_EVENT_PATH"] = path
}

func (h *harness) run() error {
	h.t.Helper()
	getenv := func(k string) string { return h.env[k] }
	var rt actions.Runtime
	if h.actions {
		rt = actions.NewGitHub(githubactions.New(githubactions.WithGetenv(getenv), githubactions.WithWriter(&h.stdout)), redact.New())
	} else {
		rt = actions.NewTerminal(&h.stdout, &h.stderr, redact.New())
	}
	d := Deps{
		Runtime:   rt,
		Input:     func(name string) string { return h.inputs[name] },
		Getenv:    getenv,
		InActions: h.actions,
		WorkDir:   h.dir,
		Now:       h.clock.Now,
		Sleep:     h.clock.Sleep,
		OpenStack: func(_ context.Context, s engine.Settings, _ pulumi.RunFunc) (Stack, error) {
			h.opened = append(h.opened, s)
			if st, ok := h.others[s.Stack]; ok {
				return st, nil
			}
			if s.MustExist && s.Stack != h.inputs["environment"] && s.Stack != h.inputs["stack-name"] {
				return nil, fmt.Errorf("stack %s: %w", s.Stack, engine.ErrNoStack)
			}
			if !s.MustExist && h.openErr != nil {
				return nil, h.openErr
			}
			return h.stack, nil
		},
		Backend: harnessBackend{h},
		NewGitHub: func(string, string) (GitHub, error) {
			h.clients++
			return h.gh, nil
		},
		AWSAccount: func(context.Context, string) (Account, error) {
			if h.account == nil {
				return nil, errors.New("this test expects no call to AWS")
			}
			return h.account, nil
		},
		Traffic: func(context.Context, string) (Traffic, error) {
			if h.traffic.unreachable != nil {
				return nil, h.traffic.unreachable
			}
			return h.traffic, nil
		},
		Packages: func(string) (stack.Packages, error) { return stacktest.Packages(h.t, "a"), nil },
		Version:  cmp.Or(h.version, "v1.0.0-test"),
	}
	h.source.wire(h, &d)
	return Run(context.Background(), d)
}

func (h *harness) outputs() map[string]string { return actionstest.ReadOutputs(h.outputPath) }

func (h *harness) summaryText() string {
	b, _ := os.ReadFile(h.summary)
	return string(b)
}

// log is everything the run printed.
func (h *harness) log() string { return h.stdout.String() + h.stderr.String() }

// lockedErr is the engine refusing to run while another update holds the
// stack's lock.
func lockedErr() error {
	return &engine.RunError{Kind: outcome.KindUpdate, Locked: true, Err: os.ErrExist,
		Result: outcome.Result{Error: "the stack is currently locked by 1 lock(s): deployer@runner-7"}}
}

// breaksPolicy is a preview in which the engine sees the table without
// point-in-time recovery: a mandatory rule (CKV_AWS_28) the offline
// validation could not see.
func breaksPolicy(context.Context) (outcome.Result, error) {
	table := graph.Resource{
		URN: "urn:pulumi:dev::tap::tap:data:Data$aws:dynamodb/table:Table::items", Type: "aws:dynamodb/table:Table", Name: "items",
		Custom: true, Provider: "urn:pulumi:dev::tap::pulumi:providers:aws::aws::id",
		Inputs: map[string]any{"name": "tap-dev-items", "pointInTimeRecovery": map[string]any{"enabled": false}, "serverSideEncryption": map[string]any{"enabled": true}},
	}
	res := changes(outcome.KindPreview, outcome.Step{URN: table.URN, Type: table.Type, Name: "items", Op: outcome.OpUpdate})
	res.Resources = []graph.Resource{table}
	return res, nil
}

func changes(kind outcome.Kind, steps ...outcome.Step) outcome.Result {
	r := outcome.Result{Kind: kind, Steps: steps, Counts: map[outcome.Op]int{}}
	for _, s := range steps {
		r.Counts[s.Op]++
	}
	return r
}

func (f *fakeGitHub) CreateDeployment(_ context.Context, _, _ string, d github.NewDeployment) (github.Deployment, error) {
	f.count("create deployment")
	if f.deployErr != nil {
		return github.Deployment{}, f.deployErr
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	f.deployments = append(f.deployments, github.Deployment{ID: f.nextID, Ref: d.Ref, Environment: d.Environment, Key: d.Key})
	f.sent = append(f.sent, fmt.Sprintf("%+v", d))
	f.transient = append(f.transient, d.Transient)
	return f.deployments[len(f.deployments)-1], nil
}

func (f *fakeGitHub) ListDeployments(_ context.Context, _, _, _, environment string) ([]github.Deployment, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []github.Deployment
	for _, d := range f.deployments {
		if environment == "" || d.Environment == environment {
			out = append(out, d)
		}
	}
	return out, nil
}

func (f *fakeGitHub) CreateDeploymentStatus(_ context.Context, _, _ string, id int64, s github.DeploymentStatus) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.statuses = append(f.statuses, fmt.Sprintf("%d:%s:%s", id, s.State, s.EnvironmentURL))
	f.sent = append(f.sent, fmt.Sprintf("%+v", s))
	return nil
}

func (f *fakeGitHub) ListOpenIssues(context.Context, string, string, []string) ([]github.Issue, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []github.Issue
	for _, i := range f.issues {
		if i.State == "open" {
			out = append(out, i)
		}
	}
	return out, nil
}

func (f *fakeGitHub) CreateIssue(_ context.Context, _, _, title, body string, _ []string) (github.Issue, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	i := github.Issue{Number: 900 + len(f.issues), Title: title, Body: body, State: "open", Author: "github-actions[bot]"}
	f.issues = append(f.issues, i)
	return i, nil
}

func (f *fakeGitHub) UpdateIssue(_ context.Context, _, _ string, number int, title, body string) (github.Issue, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for k := range f.issues {
		if f.issues[k].Number == number {
			f.issues[k].Title, f.issues[k].Body = title, body
			return f.issues[k], nil
		}
	}
	return github.Issue{}, errors.New("no such issue")
}

func (f *fakeGitHub) CloseIssue(_ context.Context, _, _ string, number int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for k := range f.issues {
		if f.issues[k].Number == number {
			f.issues[k].State = "closed"
		}
	}
	return nil
}

// harnessBackend is the backend as the harness's fields describe it.
type harnessBackend struct{ h *harness }

func (b harnessBackend) FindTools(string) error {
	if b.h.noCLI {
		return engine.ErrNoCLI
	}
	return nil
}

func (b harnessBackend) ListStacks(context.Context, engine.Settings) ([]engine.StackSummary, error) {
	return b.h.listed, nil
}

// Locks answers h.locks in turn, then no lock.
func (b harnessBackend) Locks(context.Context, engine.Settings) ([]string, error) {
	if len(b.h.locks) == 0 {
		return nil, nil
	}
	held := b.h.locks[0]
	b.h.locks = b.h.locks[1:]
	return held, nil
}

func (b harnessBackend) StackExists(_ context.Context, s engine.Settings) (bool, error) {
	_, other := b.h.others[s.Stack]
	return other || !b.h.firstDeploy, nil
}

func (b harnessBackend) LayoutWritten(context.Context, engine.Settings) (bool, error) {
	return !b.h.noLayout, nil
}
