package app

// The order checks: a deploy never goes over a newer update (a later
// commit, or a newer tap-deploy), which deploy, rollback and every update
// ask before they change anything.

import (
	"cmp"
	"context"
	"fmt"

	"golang.org/x/mod/semver"

	"github.com/org/tap-deploy/internal/engine"
	"github.com/org/tap-deploy/internal/inputs"
	"github.com/org/tap-deploy/internal/route"
	"github.com/org/tap-deploy/stack"
)

// orderCheck is what the order checks reach of a run: GitHub's commit
// comparison, the repository and commit the run is about, this build's
// version, the commit-order input, the log, and fail.
type orderCheck struct {
	// compare asks GitHub how head compares with base
	// (GitHub.CompareCommits); nil when the run has no GitHub client.
	compare func(ctx context.Context, owner, repo, base, head string) (string, error)
	repo    route.Repository
	// sha is the commit this run deploys ("" locally); version is this
	// build of tap-deploy.
	sha, version string
	mode         inputs.CommitOrder
	log          interface {
		Warningf(format string, args ...any)
	}
	// fail reports a failure once and returns the error the run ends
	// with ((*run).fail).
	fail func(title string, err error) error
}

// checkNotOlder refuses to deploy over a newer update: a commit behind the
// deployed one, or an older tap-deploy than the one that made the last
// update. When the order cannot be checked (no token, GitHub or the history
// failing) it refuses too, unless commit-order is warn. It returns the
// history it read, newest first (nil when it could not be read and
// commit-order is warn).
func (o orderCheck) checkNotOlder(ctx context.Context, st Stack) ([]engine.Update, error) {
	hist, err := st.History(ctx)
	if err != nil {
		return nil, o.unverifiedOrder(fmt.Sprintf("could not read the stack history to compare the deployed commit: %v", err))
	}
	return hist, o.checkOrder(ctx, hist)
}

// checkOrder checks this deploy against the last successful update.
func (o orderCheck) checkOrder(ctx context.Context, hist []engine.Update) error {
	last := lastSucceeded(hist)
	if last == nil {
		return nil // nothing deployed yet
	}
	if err := o.checkActionVersion(*last, "deploy"); err != nil {
		return err
	}
	prov := stack.ProvenanceOf(last.Config)
	sha, deployed := o.sha, prov.Commit
	if sha == "" || deployed == "" || deployed == sha {
		return nil // a local run has no commit; an unrecorded one cannot be compared
	}
	status, err := o.commitOrder(ctx, deployed, sha)
	if err != nil {
		return err
	}
	switch status {
	case "behind":
		return o.fail("Refusing to deploy an older commit", fmt.Errorf("%s is behind the deployed %s; use command rollback to go back on purpose", short(sha), short(deployed)))
	case "diverged":
		o.log.Warningf("%s and the deployed %s have diverged (a force-push?); deploying", short(sha), short(deployed))
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
func (o orderCheck) checkActionVersion(last engine.Update, what string) error {
	prov := stack.ProvenanceOf(last.Config)
	switch order := compareVersions(o.version, prov.ActionVersion); order {
	case versionOlder:
		return o.fail("Refusing to "+what+" with an older tap-deploy", fmt.Errorf(
			"version %d was deployed by tap-deploy %s and this is %s: an older action could undo what the newer one deployed. Nothing was changed; use tap-deploy %s or newer in the workflow",
			last.Version, prov.ActionVersion, o.version, prov.ActionVersion))
	case versionUnknown:
		return o.unverifiedOrder(fmt.Sprintf("version %d was deployed by tap-deploy %s and this build (%s) is not a release, so their order is unknown", last.Version, prov.ActionVersion, o.version))
	}
	return nil
}

// commitOrder asks GitHub how head compares with base ("ahead", "behind",
// "identical", "diverged"); when it cannot be told, it returns "" and what
// unverifiedOrder says (nil under commit-order: warn).
func (o orderCheck) commitOrder(ctx context.Context, base, head string) (string, error) {
	if o.compare == nil {
		return "", o.unverifiedOrder(fmt.Sprintf("there is no github-token to ask GitHub whether %s is newer than the deployed %s", short(head), short(base)))
	}
	status, err := o.compare(ctx, o.repo.Owner, o.repo.Name, base, head)
	if err != nil {
		return "", o.unverifiedOrder(fmt.Sprintf("cannot tell whether %s is newer than the deployed %s: %v", short(head), short(base), err))
	}
	return status, nil
}

// unverifiedOrder handles a deploy whose order cannot be checked: strict
// refuses it, warn lets it through with a warning.
func (o orderCheck) unverifiedOrder(why string) error {
	if o.mode == inputs.CommitOrderWarn {
		o.log.Warningf("%s; deploying anyway (commit-order: warn)", why)
		return nil
	}
	return o.fail("Refusing to deploy: the commit order cannot be checked", fmt.Errorf(
		"%s. Nothing was changed. Give the job a github-token with `contents: read`, or set commit-order: warn to deploy without the check", why))
}

// checkRollbackOrder refuses a rollback run that is older than what made
// the stack's last successful update: an older tap-deploy (as for a
// deploy), or a run whose own commit (GITHUB_SHA: a re-run of an old
// rollback run keeps its old one, with that run's workflow, action pin and
// config) is behind the newest commit that update came from. A rollback
// goes back in what it deploys on purpose, never in what runs it.
func (o orderCheck) checkRollbackOrder(ctx context.Context, hist []engine.Update) error {
	last := lastSucceeded(hist)
	if last == nil {
		return nil
	}
	if err := o.checkActionVersion(*last, "roll back"); err != nil {
		return err
	}
	sha, newest := o.sha, stack.ProvenanceOf(last.Config).Newest()
	if sha == "" || newest == "" || sha == newest {
		return nil
	}
	status, err := o.commitOrder(ctx, newest, sha)
	if err != nil {
		return err
	}
	switch status {
	case "behind":
		return o.fail("Refusing to roll back from an older commit", fmt.Errorf(
			"this run is of %s, behind %s, which made version %d: a re-run of an old rollback run replays that run's workflow, action and config. Nothing was changed; run the rollback workflow again from %s",
			short(sha), short(newest), last.Version, cmp.Or(o.repo.DefaultBranch, "the default branch")))
	case "diverged":
		o.log.Warningf("this run's %s and %s, which made version %d, have diverged (a force-push?); rolling back", short(sha), short(newest), last.Version)
	}
	return nil
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
