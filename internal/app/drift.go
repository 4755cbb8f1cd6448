package app

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/org/tap-deploy/internal/outcome"
	"github.com/org/tap-deploy/stack"
)

// drift compares the state with the cloud without changing either: a
// refresh preview. Where CodeDeploy left the live aliases is not drift.
func (r *run) drift(ctx context.Context) error {
	missing := false
	res, runErr := r.onStack(ctx, "Pulumi refresh (preview only)", codeForGraph, func(st Stack, firstDeploy bool) (outcome.Result, error) {
		if firstDeploy {
			missing = true
			return outcome.Result{Kind: outcome.KindRefresh, Counts: map[outcome.Op]int{}}, nil
		}
		res, err := r.withLockRetry(ctx, "checking drift", func() (outcome.Result, error) { return st.PreviewRefresh(ctx) })
		return res.WithoutChangesOf(stack.ManagedByCodeDeploy), err
	})
	if missing && runErr == nil {
		r.Runtime.Noticef("stack %s does not exist in the backend: nothing is deployed, so nothing can drift", r.in.StackName)
		return r.setOutputs(map[string]string{OutDrift: "false"})
	}
	r.publish.report(ctx, 0, resultDoc(r.resultMeta("Drift check", r.decision.SHA, r.cfg, res), res))
	drifted := res.HasChanges()
	if err := r.setOutputs(map[string]string{OutDrift: strconv.FormatBool(drifted)}); err != nil {
		return r.fail("Could not write the step outputs", err)
	}
	if err := r.resultOutputs(res); err != nil {
		return r.fail("Could not write the step outputs", err)
	}
	if runErr != nil {
		return r.engineFailed(ctx, r.in.StackName, "The drift check failed", runErr)
	}
	if r.in.DriftIssue {
		r.syncDriftIssue(ctx, res, drifted)
	}
	for _, op := range outcome.ChangingOps {
		for _, s := range res.ByOp(op) {
			r.Runtime.Warningf("drift: %s %q (%s) %s", s.Type, s.Name, op, strings.Join(s.Changed, ", "))
		}
	}
	if drifted && r.in.FailOnDrift {
		return r.fail("Drift found", fmt.Errorf("%d resource(s) differ from the state", len(res.Steps)-res.Counts[outcome.OpSame]))
	}
	return nil
}
