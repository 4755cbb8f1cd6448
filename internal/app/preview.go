package app

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/org/tap-deploy/internal/engine"
	"github.com/org/tap-deploy/internal/outcome"
	"github.com/org/tap-deploy/internal/policy"
	"github.com/org/tap-deploy/internal/render"
	"github.com/org/tap-deploy/internal/reviewed"
	"github.com/org/tap-deploy/stack"
)

// preview runs a Pulumi preview, gates it on the policy rules with the
// engine's real values, and reports it on the pull request.
func (r *run) preview(ctx context.Context) error {
	if r.decision.MergeGroup != nil {
		return r.queuePreview(ctx)
	}
	version := 0
	firstDeploy := false
	res, runErr := r.onStack(ctx, "Pulumi preview", packagesToDeploy, func(st Stack, first bool) (outcome.Result, error) {
		firstDeploy = first
		// The history is read beside the preview (another CLI process, so
		// no time is added): the plan names the version it was computed
		// against.
		latest := make(chan int, 1)
		go func() { latest <- latestVersion(ctx, st) }()
		res, err := st.Preview(ctx, engine.PreviewOptions{})
		version = <-latest
		return res, err
	})
	res, shown, blocked := r.gatePreview(res, runErr)
	pinned := r.shownNow(res, firstDeploy)
	// A pull request's preview has no reason of its own (route gives one
	// to a fork's, which only validates): its note is what Shown pins.
	meta := r.shownMeta("Preview", r.decision.SHA, r.cfg, res.Kind, pinned, strings.TrimSpace(r.decision.Reason+" "+r.previewNote(firstDeploy)))
	previewOK := runErr == nil && len(blocked) == 0
	if previewOK {
		// What this preview shows is the reviewed plan a merge deploy of
		// this head compares itself with.
		rp := reviewed.Of(res, version, configFingerprint(r.cfg), r.Version, r.decision.SHA).
			Bound(reviewed.Binding{Repo: r.facts.repo.FullName(), PR: r.pullRequest(), Stack: r.in.StackName})
		rp.Shown = pinned
		meta.Verdict = render.Verdict{Metadata: rp.Encode(), PlanID: rp.ID}
	}
	doc := resultDoc(meta, shown)
	if r.decision.DeployReviewStack {
		// Reviewers see the preview at once; the section says what the
		// review stack is doing until its update ends.
		view := render.ReviewStack{Stack: r.reviewStackName(r.pullRequest()), State: render.ReviewStackDeploying, Commit: r.decision.SHA}
		if !previewOK {
			view.State = render.ReviewStackNotUpdated
		}
		doc = withSection(doc, reviewStackSection, reviewStackDoc(view))
	}
	r.publish.report(ctx, r.pullRequest(), doc)
	if err := r.resultOutputs(res); err != nil {
		return r.fail("Could not write the step outputs", err)
	}
	var reviewErr error
	if r.decision.DeployReviewStack && previewOK {
		reviewErr = r.reviewStackAfterPreview(ctx)
	}
	switch {
	case runErr != nil:
		return r.engineFailed(ctx, r.in.StackName, "The preview failed", runErr)
	case len(blocked) > 0:
		for _, v := range blocked {
			r.Runtime.Errorf("%s", v.String())
		}
		return r.fail("The preview breaks mandatory policy rules", fmt.Errorf("%d mandatory violation(s)", len(blocked)))
	}
	return reviewErr
}

// reviewStackAfterPreview deploys the pull request's review stack once its
// preview passed, and says how that went in the comment's section.
func (r *run) reviewStackAfterPreview(ctx context.Context) error {
	pr := r.pullRequest()
	view, err := r.deployReviewStack(ctx, pr)
	r.publish.section(ctx, pr, reviewStackSection, reviewStackDoc(view))
	return err
}

// latestVersion is the newest update's version, 0 when there is none or
// the history cannot be read.
func latestVersion(ctx context.Context, st Stack) int {
	hist, err := st.History(ctx)
	if err != nil || len(hist) == 0 {
		return 0
	}
	return hist[0].Version
}

// configFingerprint is what the stack is built from: the configuration
// values and the project, environment and region.
func configFingerprint(cfg stack.Config) map[string]string {
	out := cfg.Values()
	out["project"], out["environment"], out["region"] = cfg.Project, cfg.Environment, cfg.Region
	return out
}

// resultMeta is the meta of an engine result of applying cfg, with its
// duration in the footer.
func (r *run) resultMeta(title, sha string, cfg stack.Config, res outcome.Result) render.Meta {
	m := r.metaFor(title, sha, cfg)
	m.Footer += took(res.Kind, res.Duration)
	return m
}

func took(kind outcome.Kind, d time.Duration) string {
	if d <= 0 {
		return ""
	}
	return fmt.Sprintf(" · %s took %.1f s", kind, d.Seconds())
}

// shownNow is what this run's rendering of a preview depends on besides
// the result and the inputs.
func (r *run) shownNow(res outcome.Result, firstDeploy bool) reviewed.Shown {
	return reviewed.Shown{Run: r.facts.runID, At: r.Now().Unix(), Took: res.Duration, FirstDeploy: firstDeploy, Unchanged: res.Counts[outcome.OpSame]}
}

// shownMeta is the meta of a preview's report with what s pins: the run
// link, the footer's time and duration, and the note. A preview renders
// its comment with its own Shown, and a deploy renders that comment again
// with the Shown its plan line records: one function, so that the two
// agree byte for byte.
func (r *run) shownMeta(title, sha string, cfg stack.Config, kind outcome.Kind, s reviewed.Shown, note string) render.Meta {
	m := r.metaFor(title, sha, cfg)
	m.RunURL = ""
	if s.Run > 0 && r.facts.runs != "" {
		m.RunURL = r.facts.runs + strconv.FormatInt(s.Run, 10)
	}
	m.Footer = r.footer(time.Unix(s.At, 0)) + took(kind, s.Took)
	m.Note = note
	return m
}

// previewNote is what a pull request's preview says under its heading.
func (r *run) previewNote(firstDeploy bool) string {
	if !firstDeploy {
		return ""
	}
	return fmt.Sprintf("Stack %s does not exist yet: this is its first deploy, previewed against an empty state (nothing was written to the backend).", r.in.StackName)
}

// resultOutputs sets the outputs every engine command shares. Stack outputs
// come from the engine's events, where Pulumi has already hidden secret
// values: no --show-secrets call is ever made. A value not known before
// the update is null.
func (r *run) resultOutputs(res outcome.Result) error {
	counts := map[string]int{}
	for op, n := range res.Counts {
		counts[string(op)] = n
	}
	summary, _ := json.Marshal(counts)
	values := map[string]string{
		OutHasChanges:    fmt.Sprint(res.HasChanges()),
		OutChangeSummary: string(summary),
	}
	if len(res.SecretOutputs) > 0 {
		r.Runtime.Infof("secret outputs left out: %s", strings.Join(res.SecretOutputs, ", "))
	}
	if outputs := res.KnownOutputs(); outputs != nil {
		b, err := json.Marshal(outputs)
		if err != nil {
			return err
		}
		values[OutStackOutputs] = string(b)
	}
	return r.setOutputs(values)
}

// gatePreview records a failed preview's error in its result and gates a
// successful one on the policy rules. It returns the gated result, what a
// report shows of it (a preview's outputs are partly unknown: they go to
// the step output, not into the comment), and the mandatory violations.
func (r *run) gatePreview(res outcome.Result, runErr error) (gated, shown outcome.Result, blocked []policy.Violation) {
	if runErr != nil && res.Error == "" {
		res.Error = runErr.Error()
	}
	if runErr == nil {
		res, blocked = r.gate(res, r.cfg)
	}
	shown = res
	shown.Outputs = nil
	return res, shown, blocked
}
