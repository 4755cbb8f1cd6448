package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/org/tap-deploy/internal/comment"
	"github.com/org/tap-deploy/internal/engine"
	"github.com/org/tap-deploy/internal/inputs"
	"github.com/org/tap-deploy/internal/outcome"
	"github.com/org/tap-deploy/internal/render"
	"github.com/org/tap-deploy/internal/reviewed"
	"github.com/org/tap-deploy/internal/route"
	"github.com/org/tap-deploy/stack"
)

// mergeQueueSection names the merge queue check's section of the pull
// request's comment: the preview of the commit that will land.
const mergeQueueSection = "merge-queue"

// mergeQueueTitle heads that section; a merge deploy renders its own
// preview under the same title to compare it with what the section shows.
const mergeQueueTitle = "Merge queue preview"

// errBaseNotDeployed is a merge group whose base the stack has not
// deployed within lock-timeout.
var errBaseNotDeployed = errors.New("the merge group's base is not deployed")

// queuePreview checks a merge queue's entry (merge_group): it waits until
// the stack runs the group's base commit (or a later one), so that the
// preview is of the state the merge will meet, then previews the group's
// head, gates it on the policy rules, compares it with the plan reviewed
// on the pull request, and writes it with its fingerprint into the pull
// request's comment, where the deploy after the merge finds it. Any
// failure fails the check, and the queue drops the entry.
func (r *run) queuePreview(ctx context.Context) error {
	g := r.decision.MergeGroup
	if r.github == nil {
		return r.fail("A merge queue check needs a github-token", errors.New(
			"it asks GitHub whether the stack runs the merge group's base, and writes the result into the pull request's comment: pass github-token (the default, github.token, works) with `contents: read` and `pull-requests: write`"))
	}
	version, firstDeploy := 0, false
	var hist []engine.Update
	res, runErr := r.onStack(ctx, "Pulumi preview of the merge group "+short(g.Head), packagesToDeploy, func(st Stack, first bool) (outcome.Result, error) {
		firstDeploy = first
		if !first {
			if err := r.waitForBase(ctx, st, g); err != nil {
				return outcome.Result{}, err
			}
		}
		// Unread, the history is empty: the version is 0 and the
		// configuration section compared with the defaults, which the
		// comparison then reports.
		if h, err := st.History(ctx); err == nil && len(h) > 0 {
			hist, version = h, h[0].Version
		}
		return st.Preview(ctx, engine.PreviewOptions{})
	})
	if errors.Is(runErr, errBaseNotDeployed) {
		return r.fail("The merge group's base is not deployed yet; the check failed and the queue drops the entry", runErr)
	}
	res, shown, blocked := gatePreview(res, runErr, r.cfg, r.in.PolicyOverrides)
	pinned := shownNow(r.facts.runID, r.Now(), res, firstDeploy)
	meta := r.shownMeta(mergeQueueTitle, g.Head, r.cfg, res.Kind, pinned, queueNote(r.in.StackName, strings.TrimPrefix(g.BaseRef, "refs/heads/"), g.PR, firstDeploy))
	var reviewErr error
	if runErr == nil && len(blocked) == 0 {
		plan := reviewed.Of(res, version, configFingerprint(r.cfg), r.Version, g.Head).
			Bound(reviewed.Binding{Repo: r.facts.repo.FullName(), PR: g.PR, Stack: r.in.StackName})
		plan.Shown = pinned
		meta.Verdict = render.Verdict{Metadata: plan.Encode(), PlanID: plan.ID}
		meta.Verdict.Says, meta.Verdict.Lines, meta.Verdict.Warn, reviewErr = r.queueAgainstReview(ctx, g, plan, shown, hist)
	}
	doc := resultDoc(meta, shown)
	if g.PR == 0 {
		r.Runtime.Warningf("the merge group's branch %s names no pull request: the result is in the job summary only, and the deploy after the merge will not find this plan", r.decision.Ref)
	}
	r.reportResult(ctx, doc)
	if err := r.resultOutputs(res); err != nil {
		return r.fail("Could not write the step outputs", err)
	}
	switch {
	case runErr != nil:
		return r.engineFailed(ctx, r.in.StackName, "The merge group's preview failed", runErr)
	case len(blocked) > 0:
		for _, v := range blocked {
			r.Runtime.Errorf("%s", v.String())
		}
		return r.fail("The merge group breaks mandatory policy rules; the queue drops the entry", fmt.Errorf("%d mandatory violation(s)", len(blocked)))
	case reviewErr != nil:
		return r.fail("The merge group differs from the reviewed plan; the queue drops the entry", reviewErr)
	}
	return nil
}

// waitForBase waits, up to lock-timeout, until the stack's latest
// successful update is of the merge group's base or of a commit after it.
// With several entries in the queue, an entry's base is the entry before
// it, which lands and deploys first.
func (r *run) waitForBase(ctx context.Context, st Stack, g *route.MergeGroup) error {
	repo := r.decision.Repository
	deadline := r.Now().Add(r.in.LockTimeout)
	wait := 2 * time.Second
	for {
		deployed, why := "", ""
		hist, err := st.History(ctx)
		if err != nil {
			return fmt.Errorf("reading the stack history to find the deployed commit: %w", err)
		}
		for _, u := range hist {
			if u.Succeeded() {
				deployed = stack.ProvenanceOf(u.Config).Commit
				break
			}
		}
		switch {
		case deployed == "":
			why = "the stack's latest update recorded no commit"
		case deployed == g.Base:
			r.Runtime.Infof("stack %s runs the merge group's base %s", r.in.StackName, short(g.Base))
			return nil
		default:
			status, err := r.github.CompareCommits(ctx, repo.Owner, repo.Name, g.Base, deployed)
			if err != nil {
				return fmt.Errorf("asking GitHub whether the deployed %s includes the base %s: %w", short(deployed), short(g.Base), err)
			}
			if status == "ahead" || status == "identical" {
				r.Runtime.Infof("stack %s runs %s, which includes the merge group's base %s", r.in.StackName, short(deployed), short(g.Base))
				return nil
			}
			why = fmt.Sprintf("it runs %s, which is %s the base", short(deployed), map[string]string{"behind": "behind", "diverged": "diverged from"}[status])
		}
		if r.Now().Add(wait).After(deadline) {
			return fmt.Errorf("%w: stack %s does not run %s or a later commit after %s (lock-timeout): %s. The deploy of the base may have failed or not run; the queue retries the entry once it is requeued",
				errBaseNotDeployed, r.in.StackName, short(g.Base), r.in.LockTimeout, why)
		}
		r.Runtime.Infof("waiting for stack %s to deploy the merge group's base %s (%s); again in %s", r.in.StackName, short(g.Base), why, wait)
		if err := r.Sleep(ctx, wait); err != nil {
			return err
		}
		wait = min(2*wait, 15*time.Second)
	}
}

// queueAgainstReview compares the merge group's plan with the plan its
// pull request's reviewers read: the same resources changing the same
// way, with the same configuration and action (the starting state may
// differ: entries ahead in the queue deployed since), and the whole
// comment they read with its rendering from the merge group's preview
// (shown), as the pull request's preview rendered it: its plan line, run,
// time and unchanged count, which depend on a state the queue cannot see,
// are those the comment records; and its configuration section with its
// rendering from the history up to the reviewed plan's version (hist). It returns the report's verdict and
// lines, and an error when reviewed-plan is require and they differ.
func (r *run) queueAgainstReview(ctx context.Context, g *route.MergeGroup, plan reviewed.Plan, shown outcome.Result, hist []engine.Update) (verdict string, lines []string, warn bool, err error) {
	if r.in.ReviewedPlan == inputs.ReviewedPlanOff {
		return "", nil, false, nil
	}
	repo := r.facts.repo
	binding := reviewed.Binding{Repo: repo.FullName(), PR: g.PR, Stack: r.in.StackName}
	target := comment.Target{Owner: repo.Owner, Repo: repo.Name, Number: g.PR, Project: r.in.ProjectName, Stack: r.in.StackName}
	var reviewedPlan *reviewed.Plan
	switch c, ferr := comment.Find(ctx, r.github, target); {
	case g.PR == 0:
		lines = append(lines, "the merge group's branch names no pull request")
	case ferr != nil:
		lines = append(lines, fmt.Sprintf("pull request #%d's comments cannot be read: %v", g.PR, ferr))
	case c == nil:
		lines = append(lines, fmt.Sprintf("pull request #%d has no preview comment by this action: nobody reviewed a plan", g.PR))
	default:
		lines = append(lines, editDoubts(ctx, r.github, c)...)
		layout, unwritten := commentLayout(c.Body, reviewStackName(r.in.StackName, g.PR))
		lines = append(lines, unwritten...)
		prHead := ""
		if pr, perr := r.github.PullRequest(ctx, repo.Owner, repo.Name, g.PR); perr != nil {
			lines = append(lines, fmt.Sprintf("pull request #%d cannot be read: %v", g.PR, perr))
		} else {
			prHead = pr.HeadSHA
		}
		var differences []string
		reviewedPlan, differences = againstReview(c.Body, target.Marker(), binding, prHead, plan)
		lines = append(lines, differences...)
		if reviewedPlan != nil {
			v := bodyView(layout, target.Marker(), r.in.StackName, *reviewedPlan)
			v.earlierState = true
			if d := r.compareShown.viewDifference(v, shown, r.cfg, "the merge"); d != "" {
				lines = append(lines, d)
			}
			if d := r.compareShown.configurationDifference(*configurationShown(layout, *reviewedPlan), hist, r.cfg, "the merge"); d != "" {
				lines = append(lines, d)
			}
		}
	}
	if len(lines) == 0 {
		return queueVerdict(g.PR, reviewedPlan.ID, plan.ID), nil, false, nil
	}
	if r.in.ReviewedPlan == inputs.ReviewedPlanRequire {
		return fmt.Sprintf("Not merged: the merge would apply a plan that differs from the one reviewed on pull request #%d.", g.PR), lines, true,
			fmt.Errorf("%s. Re-run the pull request's preview (re-run its workflow), review it, and queue it again", strings.Join(lines, "; "))
	}
	return fmt.Sprintf("The merge applies a plan that differs from the one reviewed on pull request #%d.", g.PR), lines, true, nil
}

// queueVerdict is what the merge queue's section says when the merge
// applies the reviewed plan; a deploy renders that section again with it.
func queueVerdict(pr int, reviewedID, queuedID string) string {
	return fmt.Sprintf("The merge applies the plan reviewed on pull request #%d (%s), from the state the merge will meet; the deploy after the merge applies this plan, %s.", pr, reviewedID, queuedID)
}

// againstReview compares a merge queue's plan with the plan reviewers
// read on its pull request (the plan line after the comment's marker): the
// same resources changing the same way, with the same configuration and
// action; the starting state may differ (entries ahead in the queue
// deployed since). prHead is the pull request's head ("" when it could not
// be read, which is said elsewhere). It returns the reviewed plan, if the
// comment holds one, and every difference.
func againstReview(body, marker string, binding reviewed.Binding, prHead string, queued reviewed.Plan) (*reviewed.Plan, []string) {
	p, err := reviewed.DecodeComment(body, marker)
	if err == nil {
		err = p.Check(binding)
	}
	if err != nil {
		return nil, []string{fmt.Sprintf("pull request #%d's comment holds no reviewed plan of its own (%v)", binding.PR, err)}
	}
	var lines []string
	if prHead != "" && prHead != p.Head {
		lines = append(lines, fmt.Sprintf("the pull request's last preview was of %s, its head is %s: the last commits were never previewed", short(p.Head), short(prHead)))
	}
	d := reviewed.Compare(p, queued)
	d.State = false
	return &p, append(lines, d.Lines()...)
}
