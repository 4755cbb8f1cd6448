package app

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/org/tap-deploy/internal/engine"
	"github.com/org/tap-deploy/internal/outcome"
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
	meta := r.shownMeta("Preview", r.decision.SHA, r.cfg, res.Kind, pinned, strings.TrimSpace(r.decision.Reason+" "+previewNote(r.in.StackName, firstDeploy)))
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

func took(kind outcome.Kind, d time.Duration) string {
	if d <= 0 {
		return ""
	}
	return fmt.Sprintf(" · %s took %.1f s", kind, d.Seconds())
}
