package app

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/org/tap-deploy/internal/inputs"
	"github.com/org/tap-deploy/internal/policy"
	"github.com/org/tap-deploy/internal/problems"
	"github.com/org/tap-deploy/internal/render"
	"github.com/org/tap-deploy/internal/route"
	"github.com/org/tap-deploy/stack"
)

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
	// order checks a deploy against the updates before it (order.go).
	order orderCheck
	// compareShown compares what reviewers read with its rendering
	// again (reviewedplan.go).
	compareShown shownComparison
}

// inputsEnv is where the run happens, as the inputs see it.
func (r *run) inputsEnv() inputs.Env {
	return inputs.Env{Getenv: r.Getenv, InActions: r.InActions, WorkDir: r.WorkDir}
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
	r.publish.report(ctx, pullRequestNumber(r.decision), doc)
}

// pullRequestNumber is the number of the PR the event is about, or 0.
func pullRequestNumber(d route.Decision) int {
	if pr := d.PullRequest; pr != nil {
		return pr.Number
	}
	return 0
}

// meta describes this run for the renderer; sha is the commit the result
// is about.
func (r *run) meta(title, sha string) render.Meta { return r.metaFor(title, sha, r.cfg) }

// metaFor describes a result of applying cfg (a rollback applies a
// recorded configuration, with its own exceptions, at its own commit).
func (r *run) metaFor(title, sha string, cfg stack.Config) render.Meta {
	disabled, lowered, public := policy.Exceptions(policySettings(r.in.PolicyOverrides, cfg))
	return render.Meta{
		Title: title, Project: r.in.ProjectName, Stack: r.in.StackName, Environment: r.in.Environment,
		Region: r.in.AWSRegion, SHA: sha, RunURL: r.facts.runURL,
		Note:       strings.TrimSpace(r.decision.Reason + " " + r.config.Describe(inputs.NameConfig)),
		Footer:     footer(r.Version, r.Now()),
		Exceptions: render.Exceptions{Disabled: disabled, Lowered: lowered, PublicAPI: public},
	}
}

// footer is a report's last line: the action's version and the time.
func footer(version string, at time.Time) string {
	return fmt.Sprintf("tap-deploy %s · %s UTC", version, at.UTC().Format("2006-01-02 15:04:05"))
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}
