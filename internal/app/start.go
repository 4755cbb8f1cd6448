package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/org/tap-deploy/internal/actions"
	"github.com/org/tap-deploy/internal/inputs"
	"github.com/org/tap-deploy/internal/problems"
	"github.com/org/tap-deploy/internal/render"
	"github.com/org/tap-deploy/internal/route"
	"github.com/org/tap-deploy/stack"
)

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
		mask(d.Runtime, d.Getenv(k))
	}
	mask(d.Runtime, d.Input(inputs.NameGitHubToken))
	mask(d.Runtime, d.Input(inputs.NameReviewBackendToken))
	if f := d.Getenv("PULUMI_CONFIG_PASSPHRASE_FILE"); f != "" {
		if b, err := os.ReadFile(f); err == nil {
			mask(d.Runtime, string(b))
		}
	}
	in, err := inputs.Parse(d.Input, r.inputsEnv())
	if err != nil {
		// The configuration keys' problems belong in the same report.
		found := append(problems.List(problems.Of(err)), configProblems(r.inputsEnv(), in.Config)...)
		return nil, r.fail("The inputs are not valid", found)
	}
	r.in = in
	r.traffic = traffic{client: d.Traffic, now: d.Now, sleep: d.Sleep, lockTimeout: in.LockTimeout, log: d.Runtime, fail: r.fail}
	// The file and the overrides are read once; their problems are
	// reported below, with the PR comment, once the event is known.
	var configFound problems.List
	r.config, configFound = readConfig(in, r.inputsEnv(), d.Runtime.Warningf)
	r.compareShown = shownComparison{redact: d.Runtime.Redact, config: r.config, configInput: r.inputsEnv().Spell(inputs.NameConfig), meta: r.shownMeta}
	for _, w := range in.Warnings {
		r.Runtime.Warningf("%s", w)
	}

	ev, err := readEvent(d.Getenv)
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
	r.facts = readFacts(r.decision, d.Getenv)
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
	gh, err := gitHubClient(d.Runtime, d.NewGitHub, d.Getenv("GITHUB_API_URL"), in.GitHubToken)
	if err != nil {
		return nil, r.fail("Could not set up the GitHub client", err)
	}
	r.github = gh
	r.publish = choosePublisher(r.Runtime, r.github, r.in, r.decision, r.facts.repo, r.setOutputs)
	r.order = orderCheck{repo: r.decision.Repository, sha: r.decision.SHA, version: d.Version, mode: in.CommitOrder, log: d.Runtime, fail: r.fail}
	if r.github != nil {
		r.order.compare = r.github.CompareCommits
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

// mask registers a secret with rt in the forms a report may show it
// (maskForms).
func mask(rt actions.Runtime, secret string) {
	for _, f := range maskForms(secret) {
		rt.Mask(f)
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

// configProblems are the config input's unknown keys and bad values, named
// as env spells the input.
func configProblems(env inputs.Env, overrides map[string]string) problems.List {
	return stack.CheckOverrides(overrides, env.Spell(inputs.NameConfig))
}

// readEvent reads the triggering event: GITHUB_EVENT_NAME and the payload at
// GITHUB_EVENT_PATH (also honoured locally, to replay a payload), with
// GITHUB_SHA and GITHUB_REF.
func readEvent(getenv func(string) string) (route.Event, error) {
	name := getenv("GITHUB_EVENT_NAME")
	if name == "" {
		return route.Event{}, nil
	}
	path := getenv("GITHUB_EVENT_PATH")
	if path == "" {
		return route.Event{}, fmt.Errorf("GITHUB_EVENT_NAME is %q but GITHUB_EVENT_PATH is not set", name)
	}
	body, err := os.ReadFile(path)
	if err != nil {
		return route.Event{}, fmt.Errorf("reading the %s payload: %w", name, err)
	}
	return route.Event{Name: name, Payload: body, SHA: getenv("GITHUB_SHA"), Ref: getenv("GITHUB_REF")}, nil
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

// readFacts resolves the run's facts from the decided event and the
// environment.
func readFacts(decision route.Decision, getenv func(string) string) runFacts {
	f := runFacts{repo: decision.Repository, actor: cmp.Or(decision.Actor, getenv("GITHUB_ACTOR"))}
	if f.repo.Owner == "" {
		owner, name, _ := strings.Cut(getenv("GITHUB_REPOSITORY"), "/")
		f.repo = route.Repository{Owner: owner, Name: name}
	}
	server, repo, id := getenv("GITHUB_SERVER_URL"), getenv("GITHUB_REPOSITORY"), getenv("GITHUB_RUN_ID")
	if server != "" && repo != "" {
		f.runs = fmt.Sprintf("%s/%s/actions/runs/", strings.TrimSuffix(server, "/"), repo)
	}
	if n, err := strconv.ParseInt(id, 10, 64); err == nil && n > 0 && f.runs != "" {
		f.runURL, f.runID = f.runs+id, n
	}
	return f
}
