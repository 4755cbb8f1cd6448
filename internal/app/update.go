package app

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/org/tap-deploy/internal/engine"
	"github.com/org/tap-deploy/internal/plan"
	"github.com/org/tap-deploy/stack"
)

// update is one `pulumi up` a run makes: a deploy or a rollback.
type update struct {
	// title heads the report: "Deploy", "Rollback to version 3".
	title string
	// message is recorded in the stack history.
	message string
	// cfg is the configuration the update applies.
	cfg stack.Config
	// sha is the commit the update deploys.
	sha string
	// pr is the pull request to report to; 0 for none.
	pr int
}

// previewThenUp gates the update on the rules evaluated with the engine's
// real values, then runs it and reports it.
func (r *run) previewThenUp(ctx context.Context, st Stack, u update) error {
	var pre plan.Result
	err := r.Runtime.Group("Pulumi preview", func() error {
		var err error
		pre, err = r.withLockRetry(ctx, "previewing", func() (plan.Result, error) { return st.Preview(ctx) })
		return err
	})
	if err != nil {
		r.reportUpdate(ctx, u, pre)
		return r.engineFailed(ctx, "The preview before the update failed", err)
	}
	if blocked := r.gate(&pre, u.cfg); len(blocked) > 0 {
		for _, v := range blocked {
			r.Runtime.Errorf("%s", v.String())
		}
		r.reportUpdate(ctx, u, pre)
		return r.fail("The update breaks mandatory policy rules; nothing was changed", fmt.Errorf("%d mandatory violation(s)", len(blocked)))
	}
	// What is about to change goes to the job summary before it changes.
	r.publish.note(resultDoc(r.resultMeta("Preview before "+strings.ToLower(u.title[:1])+u.title[1:], u.sha, u.cfg, pre), pre))

	var res plan.Result
	upErr := r.Runtime.Group("Pulumi update", func() error {
		var err error
		res, err = r.withLockRetry(ctx, "updating", func() (plan.Result, error) { return st.Up(ctx, u.message) })
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
	r.reportUpdate(ctx, u, res)
	if err := r.resultOutputs(res); err != nil {
		return r.fail("Could not write the step outputs", err)
	}
	if upErr != nil {
		return r.engineFailed(ctx, "The update failed", upErr)
	}
	return nil
}

// engineFailed reports a failed engine operation, saying what a
// cancellation left behind: a clean stop, or a killed engine whose lock
// and unfinished operations need recovering.
func (r *run) engineFailed(ctx context.Context, title string, err error) error {
	switch {
	case engine.WasKilled(err):
		return r.fail("Cancelled, and the engine had to be killed", fmt.Errorf(
			"the engine did not stop within %s of the cancellation (an AWS call in flight can take longer), so it was killed: "+
				"the stack may still be locked and its state may record unfinished operations. Before the next run: "+
				"make sure no update of stack %s is running, then run `pulumi cancel` on it (removes the lock) and "+
				"`pulumi refresh --clear-pending-creates --yes` (reconciles the state with AWS); a deploy stops before up "+
				"while unfinished operations remain. Cause: %w", engine.CancelGrace, r.in.StackName, err))
	case errors.Is(err, context.Canceled) || ctx.Err() != nil:
		return r.fail("Cancelled; the engine stopped cleanly and saved the state", err)
	}
	return r.fail(title, err)
}

// reportUpdate publishes an update's result; a comment that cannot be
// written does not fail an update that happened.
func (r *run) reportUpdate(ctx context.Context, u update, res plan.Result) {
	if err := r.publish.report(ctx, u.pr, resultDoc(r.resultMeta(u.title, u.sha, u.cfg, res), res)); err != nil {
		r.Runtime.Warningf("could not update the pull request comment: %v", err)
	}
}

// updateMessage records who deployed what, from where.
func (r *run) updateMessage(sha string) string {
	parts := []string{"tap-deploy"}
	if sha != "" {
		parts = append(parts, "commit "+sha)
	}
	if actor := firstNonEmpty(r.decision.Actor, r.Getenv("GITHUB_ACTOR")); actor != "" {
		parts = append(parts, "by "+actor)
	}
	if u := r.runURL(); u != "" {
		parts = append(parts, u)
	}
	return strings.Join(parts, " · ")
}
