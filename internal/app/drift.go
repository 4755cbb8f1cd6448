package app

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/org/tap-deploy/internal/engine"
	"github.com/org/tap-deploy/internal/outcome"
	"github.com/org/tap-deploy/stack"
)

// drift compares the state with the cloud without changing either: a
// refresh preview. Where CodeDeploy left the live aliases is not drift.
func (r *run) drift(ctx context.Context) error {
	free, err := r.waitForUpdate(ctx)
	if err != nil {
		return err
	}
	if !free {
		r.Runtime.Warningf("stack %s is still locked by an update after %s (lock-timeout): drift was not checked, since what an update is changing would read as drift; the next check will look again", r.in.StackName, r.in.LockTimeout)
		return r.setOutputs(map[string]string{OutDrift: "unknown"})
	}
	missing := false
	res, runErr := r.onStack(ctx, "Pulumi refresh (preview only)", packagesForGraph, func(st Stack, firstDeploy bool) (outcome.Result, error) {
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

// waitForUpdate waits, up to lock-timeout, while an update holds the
// stack's lock: a refresh preview takes no lock, and what an update in
// progress has half changed would read as drift. It returns false when the
// stack is still locked then. A backend whose locks cannot be read
// (Pulumi Cloud) is not waited for.
func (r *run) waitForUpdate(ctx context.Context) (bool, error) {
	s, err := r.settings(envStack(r.in))
	if err != nil {
		return false, r.fail("Could not read the stack's locks", err)
	}
	deadline := r.Now().Add(r.in.LockTimeout)
	wait := 2 * time.Second
	for {
		locks, err := r.Backend.Locks(ctx, s)
		switch {
		case errors.Is(err, engine.ErrLocksUnknown):
			return true, nil
		case err != nil:
			return false, r.fail("Could not read the stack's locks", err)
		case len(locks) == 0:
			return true, nil
		}
		if r.Now().Add(wait).After(deadline) {
			return false, nil
		}
		r.Runtime.Infof("stack %s is locked by an update (%s); checking drift after it, again in %s", r.in.StackName, strings.Join(locks, ", "), wait)
		if err := r.Sleep(ctx, wait); err != nil {
			return false, r.fail("Cancelled while waiting for an update to end", err)
		}
		wait = min(2*wait, 15*time.Second)
	}
}
