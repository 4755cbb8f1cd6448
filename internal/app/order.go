package app

// The order checks: a deploy never goes over a newer update (a later
// commit, or a newer tap-deploy), which deploy, rollback and every update
// ask before they change anything.

import (
	"context"
	"fmt"

	"golang.org/x/mod/semver"

	"github.com/org/tap-deploy/internal/engine"
	"github.com/org/tap-deploy/internal/inputs"
	"github.com/org/tap-deploy/stack"
)

// checkNotOlder refuses to deploy over a newer update: a commit behind the
// deployed one, or an older tap-deploy than the one that made the last
// update. When the order cannot be checked (no token, GitHub or the history
// failing) it refuses too, unless commit-order is warn. It returns the
// history it read, newest first (nil when it could not be read and
// commit-order is warn).
func (r *run) checkNotOlder(ctx context.Context, st Stack) ([]engine.Update, error) {
	hist, err := st.History(ctx)
	if err != nil {
		return nil, r.unverifiedOrder(fmt.Sprintf("could not read the stack history to compare the deployed commit: %v", err))
	}
	return hist, r.checkOrder(ctx, hist)
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
