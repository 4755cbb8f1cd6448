package app

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/org/tap-deploy/internal/engine"
	"github.com/org/tap-deploy/internal/plan"
	"github.com/org/tap-deploy/internal/policy"
	"github.com/org/tap-deploy/internal/render"
	"github.com/org/tap-deploy/internal/route"
	"github.com/org/tap-deploy/stack"
)

// withLockRetry runs op, waiting with backoff while another update holds
// the stack's lock; it never removes that lock.
func (r *run) withLockRetry(ctx context.Context, what string, op func() (plan.Result, error)) (plan.Result, error) {
	deadline := r.Now().Add(r.in.LockTimeout)
	wait := min(5*time.Second, r.in.LockTimeout/4+time.Millisecond)
	for {
		res, err := op()
		if err == nil || !engine.IsLocked(err) {
			return res, err
		}
		if r.Now().Add(wait).After(deadline) {
			return res, fmt.Errorf("the stack is locked by another update; gave up after %s (lock-timeout). The lock stays: it belongs to that update (cancel it with `pulumi cancel` only if it is dead): %w", r.in.LockTimeout, err)
		}
		r.Runtime.Warningf("the stack is locked by another update; %s again in %s", what, wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return res, ctx.Err()
		case <-t.C:
		}
		wait *= 2
	}
}

// deployMessage records who deployed what, from where.
func (r *run) deployMessage() string {
	parts := []string{"tap-deploy"}
	if r.decision.SHA != "" {
		parts = append(parts, "commit "+r.decision.SHA)
	}
	if actor := firstNonEmpty(r.decision.Actor, r.Getenv("GITHUB_ACTOR")); actor != "" {
		parts = append(parts, "by "+actor)
	}
	if u := r.runURL(); u != "" {
		parts = append(parts, u)
	}
	return strings.Join(parts, " · ")
}

func (r *run) deploy(ctx context.Context, _ policy.Report) error {
	code, err := r.code(false)
	if err != nil {
		return r.fail("Could not load the Lambda packages", err)
	}
	st, err := r.open(ctx, r.cfg, code, r.decision.SHA)
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
	return r.previewThenUp(ctx, st, "Deploy", r.deployMessage())
}

// previewThenUp gates the update on the rules evaluated with real values,
// then runs it and reports it.
func (r *run) previewThenUp(ctx context.Context, st Stack, title, message string) error {
	var pre plan.Result
	err := r.Runtime.Group("Pulumi preview", func() error {
		var err error
		pre, err = r.withLockRetry(ctx, "previewing", func() (plan.Result, error) { return st.Preview(ctx) })
		return err
	})
	if err != nil {
		r.publishDeploy(ctx, title, pre)
		return r.fail("The preview before the update failed", err)
	}
	if blocked := r.gate(&pre); len(blocked) > 0 {
		for _, v := range blocked {
			r.Runtime.Errorf("%s", v.String())
		}
		r.publishDeploy(ctx, title, pre)
		return r.fail("The update breaks mandatory policy rules; nothing was changed", fmt.Errorf("%d mandatory violation(s)", len(blocked)))
	}
	// What is about to change goes to the job summary before it changes.
	if err := r.Runtime.AddSummary(render.Markdown(r.meta("Preview before "+strings.ToLower(title[:1])+title[1:]), pre, render.SummaryLimit)); err != nil {
		r.Runtime.Warningf("%v", err)
	}

	var res plan.Result
	upErr := r.Runtime.Group("Pulumi update", func() error {
		var err error
		res, err = r.withLockRetry(ctx, "updating", func() (plan.Result, error) { return st.Up(ctx, message) })
		return err
	})
	for _, f := range res.Failed() {
		r.Runtime.Errorf("%s %q: %s", f.Type, f.Name, f.Error)
	}
	if upErr == nil {
		if hist, err := st.History(ctx); err == nil && len(hist) > 0 {
			r.setOutputs(map[string]string{OutVersion: strconv.Itoa(hist[0].Version)}) //nolint:errcheck // best effort
		}
	}
	r.publishDeploy(ctx, title, res)
	if err := r.resultOutputs(res); err != nil {
		return r.fail("Could not write the step outputs", err)
	}
	if upErr != nil {
		if errors.Is(upErr, context.Canceled) || ctx.Err() != nil {
			return r.fail("The update was cancelled; the engine stopped it cleanly and saved the state", upErr)
		}
		return r.fail("The update failed", upErr)
	}
	return nil
}

// publishDeploy reports a deploy in the job summary and, for a merged PR,
// in that PR's comment.
func (r *run) publishDeploy(ctx context.Context, title string, res plan.Result) {
	if r.decision.PullRequest == nil && r.decision.Event == "push" && r.in.GitHubToken != "" && !r.Runtime.Local() && r.in.CommentOnPR {
		if gh, err := r.NewGitHub(r.Getenv("GITHUB_API_URL"), r.in.GitHubToken); err == nil {
			repo := r.decision.Repository
			if prs, err := gh.PullRequestsForCommit(ctx, repo.Owner, repo.Name, r.decision.SHA); err == nil && len(prs) > 0 {
				r.decision.PullRequest = &route.PullRequest{Number: prs[0]}
			} else if err != nil {
				r.Runtime.Warningf("could not find the pull request of %s: %v", r.decision.SHA, err)
			}
		}
	}
	if err := r.publish(ctx, title, res); err != nil {
		r.Runtime.Warningf("could not update the pull request comment: %v", err)
	}
}

// checkPending stops before an update when an interrupted one left
// operations unfinished: running over them could duplicate resources.
func (r *run) checkPending(ctx context.Context, st Stack) error {
	pending, err := st.PendingOperations(ctx)
	if err != nil {
		return r.fail("Could not read the stack state", err)
	}
	if len(pending) == 0 {
		return nil
	}
	var lines []string
	for _, p := range pending {
		lines = append(lines, fmt.Sprintf("%s of %s", p.Type, p.URN))
	}
	return r.fail("An earlier update was interrupted", fmt.Errorf(
		"the state records %d unfinished operation(s): %s. Recover before deploying: check in AWS whether each resource exists; "+
			"then run `pulumi refresh --clear-pending-creates --yes` on stack %s (or import the resources that exist), and run this workflow again",
		len(pending), strings.Join(lines, "; "), r.in.StackName))
}

// checkNotOlder refuses to deploy a commit that is behind the deployed one.
func (r *run) checkNotOlder(ctx context.Context, st Stack) error {
	if r.decision.SHA == "" || r.in.GitHubToken == "" || r.Runtime.Local() {
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
	if deployed == "" || deployed == r.decision.SHA {
		return nil
	}
	gh, err := r.NewGitHub(r.Getenv("GITHUB_API_URL"), r.in.GitHubToken)
	if err != nil {
		r.Runtime.Warningf("cannot ask GitHub how %s relates to the deployed %s: %v; deploying", r.decision.SHA, deployed, err)
		return nil
	}
	repo := r.decision.Repository
	status, err := gh.CompareCommits(ctx, repo.Owner, repo.Name, deployed, r.decision.SHA)
	if err != nil {
		r.Runtime.Warningf("cannot tell whether %s is newer than the deployed %s: %v; deploying", short(r.decision.SHA), short(deployed), err)
		return nil
	}
	switch status {
	case "behind":
		return r.fail("Refusing to deploy an older commit", fmt.Errorf("%s is behind the deployed %s; use command rollback to go back on purpose", short(r.decision.SHA), short(deployed)))
	case "diverged":
		r.Runtime.Warningf("%s and the deployed %s have diverged (a force-push?); deploying", short(r.decision.SHA), short(deployed))
	}
	return nil
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// rollback redeploys the configuration and code of an earlier update.
func (r *run) rollback(ctx context.Context, _ policy.Report) error {
	code, err := r.code(true)
	if err != nil {
		return r.fail("Could not load the Lambda packages", err)
	}
	// Open with the current configuration to read the history.
	probe, err := r.open(ctx, r.cfg, code, "")
	if err != nil {
		return r.fail("Could not open the stack", err)
	}
	hist, err := probe.History(ctx)
	probe.Close()
	if err != nil {
		return r.fail("Could not read the stack history", err)
	}
	target, err := pickTarget(hist, r.in.RollbackTo)
	if err != nil {
		return r.fail("Cannot roll back", err)
	}
	rec, err := stack.FromRecord(r.cfg.Base, target.Config)
	if err != nil {
		return r.fail(fmt.Sprintf("Cannot roll back to version %d", target.Version), err)
	}
	r.cfg = rec.Config
	r.decision.SHA = rec.Commit
	r.Runtime.Noticef("rolling back stack %s to version %d (commit %s)", r.in.StackName, target.Version, short(rec.Commit))
	st, err := r.open(ctx, rec.Config, rec.CodeFor(code), rec.Commit)
	if err != nil {
		return r.fail("Could not open the stack", err)
	}
	defer st.Close()
	if err := r.checkPending(ctx, st); err != nil {
		return err
	}
	return r.previewThenUp(ctx, st, fmt.Sprintf("Rollback to version %d", target.Version), fmt.Sprintf("rollback to version %d · %s", target.Version, r.deployMessage()))
}

// pickTarget finds the update to roll back to: a version number, or
// "previous" (the successful update before the latest successful one).
func pickTarget(hist []engine.Update, to string) (engine.Update, error) {
	if to == "previous" {
		seen := 0
		for _, u := range hist {
			if u.Succeeded() {
				seen++
				if seen == 2 {
					return u, nil
				}
			}
		}
		return engine.Update{}, fmt.Errorf("there is no earlier successful update to roll back to (%d successful update(s) in the history)", seen)
	}
	n, err := strconv.Atoi(to)
	if err != nil {
		return engine.Update{}, fmt.Errorf("rollback-to %q is not a version", to)
	}
	for _, u := range hist {
		if u.Version != n {
			continue
		}
		if !u.Succeeded() {
			return engine.Update{}, fmt.Errorf("version %d was a %s that %s; roll back only to a successful update", n, u.Kind, firstNonEmpty(u.Result, "did not finish"))
		}
		return u, nil
	}
	return engine.Update{}, fmt.Errorf("version %d is not in the stack history (versions 1 to %d exist)", n, len(hist))
}

// drift compares the state with the cloud without changing either.
func (r *run) drift(ctx context.Context) error {
	res, runErr := r.onStack(ctx, "Pulumi refresh (preview only)", true, func(st Stack) (plan.Result, error) {
		return r.withLockRetry(ctx, "checking drift", func() (plan.Result, error) { return st.PreviewRefresh(ctx) })
	})
	r.publishDeploy(ctx, "Drift check", res)
	drifted := res.HasChanges()
	if err := r.setOutputs(map[string]string{OutDrift: strconv.FormatBool(drifted)}); err != nil {
		return r.fail("Could not write the step outputs", err)
	}
	if err := r.resultOutputs(res); err != nil {
		return r.fail("Could not write the step outputs", err)
	}
	if runErr != nil {
		return r.fail("The drift check failed", runErr)
	}
	for _, op := range plan.ChangingOps {
		for _, s := range res.ByOp(op) {
			r.Runtime.Warningf("drift: %s %q (%s) %s", s.Type, s.Name, op, strings.Join(s.Changed, ", "))
		}
	}
	if drifted && r.in.FailOnDrift {
		return r.fail("Drift found", fmt.Errorf("%d resource(s) differ from the state", len(res.Steps)-res.Counts[plan.OpSame]))
	}
	return nil
}
