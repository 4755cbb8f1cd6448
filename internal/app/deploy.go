package app

import (
	"context"
	"fmt"
	"strings"

	"golang.org/x/mod/semver"

	"github.com/org/tap-deploy/internal/engine"
	"github.com/org/tap-deploy/internal/github"
	"github.com/org/tap-deploy/internal/inputs"
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
	st, state, err := r.openForUpdate(ctx, r.envStack(), r.cfg, code, prov)
	if err != nil {
		return err
	}
	defer st.Close()
	version, err := r.checkNotOlder(ctx, st)
	if err != nil {
		return err
	}
	pr := r.mergedPR(ctx)
	u := update{stack: r.in.StackName, title: "Deploy", message: r.updateMessage(sha), cfg: r.cfg, sha: sha, start: state.Digest, stateVersion: version, reviewedPlan: r.findReviewedPlan(ctx, pr), ordered: true,
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

// checkNotOlder refuses to deploy over a newer update: a commit behind the
// deployed one, or an older tap-deploy than the one that made the last
// update. When the order cannot be checked (no token, GitHub or the history
// failing) it refuses too, unless commit-order is warn. It returns the
// newest update's version.
func (r *run) checkNotOlder(ctx context.Context, st Stack) (int, error) {
	hist, err := st.History(ctx)
	if err != nil {
		return 0, r.unverifiedOrder(fmt.Sprintf("could not read the stack history to compare the deployed commit: %v", err))
	}
	latest := 0
	if len(hist) > 0 {
		latest = hist[0].Version
	}
	return latest, r.checkOrder(ctx, hist)
}

// checkOrder checks this deploy against the last successful update.
func (r *run) checkOrder(ctx context.Context, hist []engine.Update) error {
	last := lastSucceeded(hist)
	if last == nil {
		return nil // nothing deployed yet
	}
	if err := r.checkActionVersion(*last, "deploy"); err != nil {
		return err
	}
	prov := stack.ProvenanceOf(last.Config)
	sha, deployed := r.decision.SHA, prov.Commit
	if sha == "" || deployed == "" || deployed == sha {
		return nil // a local run has no commit; an unrecorded one cannot be compared
	}
	status, err := r.commitOrder(ctx, deployed, sha)
	if err != nil {
		return err
	}
	switch status {
	case "behind":
		return r.fail("Refusing to deploy an older commit", fmt.Errorf("%s is behind the deployed %s; use command rollback to go back on purpose", short(sha), short(deployed)))
	case "diverged":
		r.Runtime.Warningf("%s and the deployed %s have diverged (a force-push?); deploying", short(sha), short(deployed))
	}
	return nil
}

// lastSucceeded is the newest successful update, or nil.
func lastSucceeded(hist []engine.Update) *engine.Update {
	for i := range hist {
		if hist[i].Succeeded() {
			return &hist[i]
		}
	}
	return nil
}

// checkActionVersion refuses an older tap-deploy than the one that made
// last: an older action could undo what the newer one deployed (a
// rollback too: it would record the older version, and disarm the check
// for every later update). what is "deploy" or "roll back".
func (r *run) checkActionVersion(last engine.Update, what string) error {
	prov := stack.ProvenanceOf(last.Config)
	switch order := compareVersions(r.Version, prov.ActionVersion); order {
	case versionOlder:
		return r.fail("Refusing to "+what+" with an older tap-deploy", fmt.Errorf(
			"version %d was deployed by tap-deploy %s and this is %s: an older action could undo what the newer one deployed. Nothing was changed; use tap-deploy %s or newer in the workflow",
			last.Version, prov.ActionVersion, r.Version, prov.ActionVersion))
	case versionUnknown:
		return r.unverifiedOrder(fmt.Sprintf("version %d was deployed by tap-deploy %s and this build (%s) is not a release, so their order is unknown", last.Version, prov.ActionVersion, r.Version))
	}
	return nil
}

// commitOrder asks GitHub how head compares with base ("ahead", "behind",
// "identical", "diverged"); when it cannot be told, it returns "" and what
// unverifiedOrder says (nil under commit-order: warn).
func (r *run) commitOrder(ctx context.Context, base, head string) (string, error) {
	if r.github == nil {
		return "", r.unverifiedOrder(fmt.Sprintf("there is no github-token to ask GitHub whether %s is newer than the deployed %s", short(head), short(base)))
	}
	repo := r.decision.Repository
	status, err := r.github.CompareCommits(ctx, repo.Owner, repo.Name, base, head)
	if err != nil {
		return "", r.unverifiedOrder(fmt.Sprintf("cannot tell whether %s is newer than the deployed %s: %v", short(head), short(base), err))
	}
	return status, nil
}

// unverifiedOrder handles a deploy whose order cannot be checked: strict
// refuses it, warn lets it through with a warning.
func (r *run) unverifiedOrder(why string) error {
	if r.in.CommitOrder == inputs.CommitOrderWarn {
		r.Runtime.Warningf("%s; deploying anyway (commit-order: warn)", why)
		return nil
	}
	return r.fail("Refusing to deploy: the commit order cannot be checked", fmt.Errorf(
		"%s. Nothing was changed. Give the job a github-token with `contents: read`, or set commit-order: warn to deploy without the check", why))
}

type versionOrder int

const (
	versionSameOrNewer versionOrder = iota
	versionOlder
	versionUnknown
)

// compareVersions orders this action's version against the one that made
// the deployed update. Only releases (vX.Y.Z) compare: a development build
// ("dev", "v1.2.3-4-gabc") over a release is unknown, and anything over an
// unrecorded or development version is fine.
func compareVersions(ours, deployed string) versionOrder {
	release := func(v string) bool { return semver.IsValid(v) && semver.Prerelease(v) == "" && semver.Build(v) == "" }
	switch {
	case !release(deployed):
		return versionSameOrNewer
	case !release(ours):
		return versionUnknown
	case semver.Compare(ours, deployed) < 0:
		return versionOlder
	}
	return versionSameOrNewer
}
