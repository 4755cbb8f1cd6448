package app

import (
	"context"
	"fmt"

	"github.com/org/tap-deploy/stack"
)

// deploy brings the stack to this run's configuration and code: validate
// (already done), refuse an interrupted state or an older commit, then
// preview, gate and update.
func (r *run) deploy(ctx context.Context) error {
	code, err := r.code.get(false)
	if err != nil {
		return r.fail("Could not load the Lambda packages", err)
	}
	sha := r.decision.SHA
	st, err := r.open(ctx, r.cfg, code, sha)
	if err != nil {
		return r.fail("Could not open the stack", err)
	}
	defer st.Close()
	if err := r.checkPending(ctx, st); err != nil {
		return err
	}
	if err := r.checkNotOlder(ctx, st); err != nil {
		return err
	}
	return r.previewThenUp(ctx, st, update{title: "Deploy", message: r.updateMessage(sha), cfg: r.cfg, sha: sha, pr: r.mergedPR(ctx)})
}

// mergedPR is the pull request a pushed commit came from (for a merge
// commit, the merged PR), or 0.
func (r *run) mergedPR(ctx context.Context) int {
	if r.decision.Event != "push" || r.github == nil || r.decision.SHA == "" {
		return 0
	}
	repo := r.decision.Repository
	prs, err := r.github.PullRequestsForCommit(ctx, repo.Owner, repo.Name, r.decision.SHA)
	if err != nil {
		r.Runtime.Warningf("could not find the pull request of %s: %v", r.decision.SHA, err)
		return 0
	}
	if len(prs) == 0 {
		return 0
	}
	return prs[0]
}

// checkNotOlder refuses to deploy a commit that is behind the deployed one.
func (r *run) checkNotOlder(ctx context.Context, st Stack) error {
	sha := r.decision.SHA
	if sha == "" || r.github == nil {
		return nil
	}
	hist, err := st.History(ctx)
	if err != nil {
		r.Runtime.Warningf("could not read the stack history to compare commits: %v; deploying", err)
		return nil
	}
	deployed := ""
	for _, u := range hist {
		if u.Succeeded() {
			deployed = u.Config[stack.CommitKey]
			break
		}
	}
	if deployed == "" || deployed == sha {
		return nil
	}
	repo := r.decision.Repository
	status, err := r.github.CompareCommits(ctx, repo.Owner, repo.Name, deployed, sha)
	if err != nil {
		r.Runtime.Warningf("cannot tell whether %s is newer than the deployed %s: %v; deploying", short(sha), short(deployed), err)
		return nil
	}
	switch status {
	case "behind":
		return r.fail("Refusing to deploy an older commit", fmt.Errorf("%s is behind the deployed %s; use command rollback to go back on purpose", short(sha), short(deployed)))
	case "diverged":
		r.Runtime.Warningf("%s and the deployed %s have diverged (a force-push?); deploying", short(sha), short(deployed))
	}
	return nil
}
