package app

import (
	"context"
	"fmt"
	"strings"

	"github.com/org/tap-deploy/internal/github"
	"github.com/org/tap-deploy/stack"
)

// deploy brings the stack to this run's configuration and code: validate
// (already done), refuse an interrupted state or an older commit, then
// preview, gate and update.
func (r *run) deploy(ctx context.Context) error {
	code, err := r.packages.get(packagesToDeploy)
	if err != nil {
		return r.fail("Could not load the Lambda packages", err)
	}
	sha := r.decision.SHA
	// A promotion is checked before the stack is opened for the update:
	// a refused one must not even create it.
	from, err := r.checkPromotion(ctx)
	if err != nil {
		return err
	}
	prov := stack.Provenance{Commit: sha}
	if from != nil {
		prov.PromotedFrom = from.String()
	}
	st, state, err := r.openForUpdate(ctx, envStack(r.in), r.cfg, code, prov)
	if err != nil {
		return err
	}
	defer st.Close()
	hist, err := r.order.checkNotOlder(ctx, st)
	if err != nil {
		return err
	}
	version := 0
	if len(hist) > 0 {
		version = hist[0].Version
	}
	pr := r.mergedPR(ctx)
	u := update{stack: r.in.StackName, title: "Deploy", message: r.updateMessage(sha), cfg: r.cfg, sha: sha, start: state.Digest, stateVersion: version, history: hist, reviewedPlan: r.findReviewedPlan(ctx, pr), ordered: true,
		preference: r.in.DeploymentPreference}
	if from != nil {
		u.recheck = r.recheckPromotion(*from)
		u.title = "Deploy (" + from.describe() + ")"
		u.message = from.describe() + " · " + u.message
		u.notes = append(u.notes, fmt.Sprintf("%s: the same commit, tap-deploy and Lambda packages, its traffic fully shifted there", from.describe()))
	}
	if pr != nil {
		u.pr = pr.Number
	}
	_, err = r.previewThenUp(ctx, st, u)
	return err
}

// mergedPR is the pull request the pushed commit merged, or nil: one that
// is merged, into the pushed branch, as the pushed commit. GitHub lists
// open pull requests whose head is the commit too; pushing an open pull
// request's previewed head straight to a deploy branch is a direct push,
// not its merge.
func (r *run) mergedPR(ctx context.Context) *github.PullRequest {
	if r.decision.Event != "push" || r.github == nil || r.decision.SHA == "" {
		return nil
	}
	repo := r.decision.Repository
	prs, err := r.github.PullRequestsForCommit(ctx, repo.Owner, repo.Name, r.decision.SHA)
	if err != nil {
		r.Runtime.Warningf("could not find the pull request of %s: %v", r.decision.SHA, err)
		return nil
	}
	branch := strings.TrimPrefix(r.decision.Ref, "refs/heads/")
	for i, pr := range prs {
		if pr.Merged && pr.BaseRef == branch && pr.MergeCommitSHA == r.decision.SHA {
			return &prs[i]
		}
		r.Runtime.Infof("pull request #%d lists %s but did not merge it into %s (merged: %t, into %s, as %s): not this push's pull request",
			pr.Number, short(r.decision.SHA), branch, pr.Merged, pr.BaseRef, short(pr.MergeCommitSHA))
	}
	return nil
}
