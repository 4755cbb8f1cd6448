package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/org/tap-deploy/internal/inputs"
	"github.com/org/tap-deploy/internal/policy"
	"github.com/org/tap-deploy/internal/problems"
	"github.com/org/tap-deploy/internal/render"
	"github.com/org/tap-deploy/internal/route"
	"github.com/org/tap-deploy/stack"
)

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

// run is one invocation. Its fields are set once by start and only read
// afterwards: what differs within a run (the configuration a rollback
// restores, the PR a deploy reports to) is passed as values.
type run struct {
	Deps
	in       inputs.Inputs
	decision route.Decision
	cfg      stack.Config
	// config is where cfg's values came from: the configuration file and
	// the config input's overrides.
	config stack.Layered
	// facts are what the run's environment says about it, read once.
	facts runFacts
	// github is the run's one GitHub client; nil when the run has no token
	// or runs locally.
	github   GitHub
	publish  publisher
	packages *packageLoader
	// traffic shifts the functions' aliases; it reaches only the traffic
	// client, the clock and the lock timeout, and fails through fail.
	traffic traffic
}

// secretEnv are the environment variables whose values must never be shown:
// every credential a run can see. The access key id is not secret on its
// own, but configure-aws-credentials masks it and so does this.
var secretEnv = []string{
	"PULUMI_CONFIG_PASSPHRASE", "PULUMI_ACCESS_TOKEN",
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
	"GITHUB_TOKEN", "GH_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "ACTIONS_RUNTIME_TOKEN",
}

// start sets a run up: secrets masked first, then the inputs, the event,
// the command and the configuration. It returns a nil run when there is
// nothing to do.
func start(ctx context.Context, d Deps) (*run, error) {
	r := &run{Deps: d, publish: earlyPublisher(d.Runtime),
		packages: &packageLoader{embedded: d.Packages, getenv: d.Getenv, inActions: d.InActions, warn: d.Runtime.Warningf}}
	// Secrets are masked before anything else is printed.
	for _, k := range secretEnv {
		r.mask(d.Getenv(k))
	}
	r.mask(d.Input(inputs.NameGitHubToken))
	r.mask(d.Input(inputs.NameReviewBackendToken))
	if f := d.Getenv("PULUMI_CONFIG_PASSPHRASE_FILE"); f != "" {
		if b, err := os.ReadFile(f); err == nil {
			r.mask(string(b))
		}
	}
	in, err := inputs.Parse(d.Input, r.inputsEnv())
	if err != nil {
		// The configuration keys' problems belong in the same report.
		found := append(problems.List(problems.Of(err)), r.configProblems(in.Config)...)
		return nil, r.fail("The inputs are not valid", found)
	}
	r.in = in
	r.traffic = traffic{client: d.Traffic, now: d.Now, sleep: d.Sleep, lockTimeout: in.LockTimeout, log: d.Runtime, fail: r.fail}
	// The file and the overrides are read once; their problems are
	// reported below, with the PR comment, once the event is known.
	var configFound problems.List
	r.config, configFound = r.readConfig(in)
	for _, w := range in.Warnings {
		r.Runtime.Warningf("%s", w)
	}

	ev, err := r.event()
	if err != nil {
		return nil, r.fail("Could not read the GitHub event", err)
	}
	r.decision, err = route.Decide(ev, in.Command, route.Options{DeployBranches: in.DeployBranches, ReviewStack: in.ReviewStack,
		ReviewStacksOnly: in.BackendURL == "" && in.ReviewStackBackendURL != ""})
	var refusal *route.Refusal
	switch {
	case errors.As(err, &refusal):
		return nil, r.fail(fmt.Sprintf("Refusing to run %s; nothing was touched", in.Command), err)
	case err != nil:
		return nil, r.fail("Could not decide what to run", err)
	}
	r.facts = r.readFacts()
	// On a laptop the CLI or the aws plugin may be missing (the image
	// ships both): say so before anything else, not after the validation's
	// report.
	if !d.InActions && r.decision.Command.OpensStack() {
		if err := d.Backend.FindTools(d.Getenv("PULUMI_HOME")); err != nil {
			return nil, r.fail(fmt.Sprintf("Cannot run %s", r.decision.Command), err)
		}
	}
	if r.decision.Skip {
		r.Runtime.Noticef("%s", r.decision.Reason)
		return nil, r.setOutputs(map[string]string{OutCommand: "none"})
	}
	if r.decision.Reason != "" {
		r.Runtime.Noticef("%s", r.decision.Reason)
	}
	// Only now is it known what the run needs: validation needs neither a
	// backend nor secrets, which a fork PR does not get.
	if found := in.Check(r.decision.Command, r.inputsEnv()); len(found) > 0 {
		return nil, r.fail(fmt.Sprintf("The inputs are not enough to run %s", r.decision.Command), found)
	}
	if err := r.connect(); err != nil {
		return nil, r.fail("Could not set up the GitHub client", err)
	}

	// The keys first, in the words the user gave them (--config locally,
	// the file and its lines); then what only a whole configuration shows
	// (the resource names).
	if len(configFound) > 0 {
		return nil, r.failBeforeEngine(ctx, "The stack configuration is not valid", configFound)
	}
	r.cfg, err = stack.NewConfig(stack.Base{Project: in.ProjectName, Environment: in.Environment, Region: in.AWSRegion}, r.config.Values)
	if err != nil {
		return nil, r.failBeforeEngine(ctx, "The stack configuration is not valid", err)
	}
	if err := r.setOutputs(map[string]string{OutCommand: string(r.decision.Command)}); err != nil {
		return nil, r.fail("Could not write the step outputs", err)
	}
	return r, nil
}

// mask registers a secret in the forms a report may show it (maskForms).
func (r *run) mask(secret string) {
	for _, f := range maskForms(secret) {
		r.Runtime.Mask(f)
	}
}

// maskForms are a secret and its markdown-escaped form: text is redacted
// raw, before it is escaped, and the rendered document once more, where
// only the escaped form of a secret that slipped through can be found.
// (The redactor adds the encoded forms of each: base64, URL, JSON.)
func maskForms(secret string) []string {
	secret = strings.TrimSpace(secret)
	if escaped := render.EscapeMarkdown(secret); escaped != secret {
		return []string{secret, escaped}
	}
	return []string{secret}
}

// configProblems are the config input's unknown keys and bad values.
func (r *run) configProblems(overrides map[string]string) problems.List {
	return stack.CheckOverrides(overrides, r.inputsEnv().Spell(inputs.NameConfig))
}

// inputsEnv is where the run happens, as the inputs see it.
func (r *run) inputsEnv() inputs.Env {
	return inputs.Env{Getenv: r.Getenv, InActions: r.InActions, WorkDir: r.WorkDir}
}

// event reads the triggering event: GITHUB_EVENT_NAME and the payload at
// GITHUB_EVENT_PATH (also honoured locally, to replay a payload), with
// GITHUB_SHA and GITHUB_REF.
func (r *run) event() (route.Event, error) {
	name := r.Getenv("GITHUB_EVENT_NAME")
	if name == "" {
		return route.Event{}, nil
	}
	path := r.Getenv("GITHUB_EVENT_PATH")
	if path == "" {
		return route.Event{}, fmt.Errorf("GITHUB_EVENT_NAME is %q but GITHUB_EVENT_PATH is not set", name)
	}
	body, err := os.ReadFile(path)
	if err != nil {
		return route.Event{}, fmt.Errorf("reading the %s payload: %w", name, err)
	}
	return route.Event{Name: name, Payload: body, SHA: r.Getenv("GITHUB_SHA"), Ref: r.Getenv("GITHUB_REF")}, nil
}

// failBeforeEngine reports a failure that happens before any preview, and
// says so in the PR comment too: a PR whose check failed must not keep an
// older, green comment.
func (r *run) failBeforeEngine(ctx context.Context, title string, err error) error {
	if r.decision.Command != inputs.Validate {
		doc := validationDoc(r.meta("Validation", r.decision.SHA), render.Validation{Problems: problems.Of(err)})
		r.reportResult(ctx, doc)
	}
	return r.fail(title, err)
}

// fail reports an error once, as annotations and in the job summary: one
// problem a line on a terminal, one annotation a problem in Actions (each
// stands alone in the run's list of annotations).
func (r *run) fail(title string, err error) error {
	lines := problems.Of(err)
	switch {
	case len(lines) == 1:
		r.Runtime.Errorf("%s: %s", title, lines[0])
	case r.Runtime.Local():
		r.Runtime.Errorf("%s (%d problems):\n  %s", title, len(lines), strings.Join(lines, "\n  "))
	default:
		for _, line := range lines {
			r.Runtime.Errorf("%s: %s", title, line)
		}
	}
	r.publish.note(failureDoc(title, lines))
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

// reportResult publishes the run's result where its event's pull request
// reads it: the comment's body, or for a merge queue's check the
// comment's merge-queue section (the pull request's own preview stays).
func (r *run) reportResult(ctx context.Context, doc document) {
	if g := r.decision.MergeGroup; g != nil {
		r.publish.section(ctx, g.PR, mergeQueueSection, doc)
		return
	}
	r.publish.report(ctx, r.pullRequest(), doc)
}

// pullRequest is the number of the PR the event is about, or 0.
func (r *run) pullRequest() int {
	if pr := r.decision.PullRequest; pr != nil {
		return pr.Number
	}
	return 0
}

// runFacts are what a run's environment and event say about it, read once
// when the run is set up.
type runFacts struct {
	// repo is the event's repository, or GITHUB_REPOSITORY for events
	// whose payload names none (schedule).
	repo route.Repository
	// actor is who started the run.
	actor string
	// runURL links the workflow run, when there is one: runs, the
	// repository's runs (a run's id follows), and runID.
	runURL string
	runs   string
	runID  int64
}

// readFacts resolves the run's facts from the event and the environment.
func (r *run) readFacts() runFacts {
	f := runFacts{repo: r.decision.Repository, actor: cmp.Or(r.decision.Actor, r.Getenv("GITHUB_ACTOR"))}
	if f.repo.Owner == "" {
		owner, name, _ := strings.Cut(r.Getenv("GITHUB_REPOSITORY"), "/")
		f.repo = route.Repository{Owner: owner, Name: name}
	}
	server, repo, id := r.Getenv("GITHUB_SERVER_URL"), r.Getenv("GITHUB_REPOSITORY"), r.Getenv("GITHUB_RUN_ID")
	if server != "" && repo != "" {
		f.runs = fmt.Sprintf("%s/%s/actions/runs/", strings.TrimSuffix(server, "/"), repo)
	}
	if n, err := strconv.ParseInt(id, 10, 64); err == nil && n > 0 && f.runs != "" {
		f.runURL, f.runID = f.runs+id, n
	}
	return f
}

// meta describes this run for the renderer; sha is the commit the result
// is about.
func (r *run) meta(title, sha string) render.Meta { return r.metaFor(title, sha, r.cfg) }

// metaFor describes a result of applying cfg (a rollback applies a
// recorded configuration, with its own exceptions, at its own commit).
func (r *run) metaFor(title, sha string, cfg stack.Config) render.Meta {
	disabled, lowered, public := policy.Exceptions(r.policySettings(cfg))
	return render.Meta{
		Title: title, Project: r.in.ProjectName, Stack: r.in.StackName, Environment: r.in.Environment,
		Region: r.in.AWSRegion, SHA: sha, RunURL: r.facts.runURL,
		Note:       strings.TrimSpace(r.decision.Reason + " " + r.config.Describe(inputs.NameConfig)),
		Footer:     r.footer(r.Now()),
		Exceptions: render.Exceptions{Disabled: disabled, Lowered: lowered, PublicAPI: public},
	}
}

// footer is a report's last line: the action's version and the time.
func (r *run) footer(at time.Time) string {
	return fmt.Sprintf("tap-deploy %s · %s UTC", r.Version, at.UTC().Format("2006-01-02 15:04:05"))
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}
