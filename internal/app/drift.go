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
	s, err := r.settings(envStack(r.in))
	if err != nil {
		return r.fail("Could not read the stack's locks", err)
	}
	w := updateWait{locks: func(ctx context.Context) ([]string, error) { return r.Backend.Locks(ctx, s) },
		now: r.Now, sleep: r.Sleep, timeout: r.in.LockTimeout, stackName: r.in.StackName, log: r.Runtime, fail: r.fail}
	free, err := w.wait(ctx)
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

// updateWait is what waiting for an update's lock reaches: the stack's
// locks, the clock, lock-timeout, the stack's name, the log and fail.
type updateWait struct {
	// locks lists the stack's locks (Backend.Locks of the environment's
	// stack).
	locks     func(ctx context.Context) ([]string, error)
	now       func() time.Time
	sleep     func(ctx context.Context, d time.Duration) error
	timeout   time.Duration
	stackName string
	log       interface {
		Infof(format string, args ...any)
	}
	// fail reports a failure once and returns the error the run ends
	// with ((*run).fail).
	fail func(title string, err error) error
}

// wait waits, up to lock-timeout, while an update holds the
// stack's lock: a refresh preview takes no lock, and what an update in
// progress has half changed would read as drift. It returns false when the
// stack is still locked then. A backend whose locks cannot be read
// (Pulumi Cloud) is not waited for.
func (w updateWait) wait(ctx context.Context) (bool, error) {
	deadline := w.now().Add(w.timeout)
	wait := 2 * time.Second
	for {
		locks, err := w.locks(ctx)
		switch {
		case errors.Is(err, engine.ErrLocksUnknown):
			return true, nil
		case err != nil:
			return false, w.fail("Could not read the stack's locks", err)
		case len(locks) == 0:
			return true, nil
		}
		if w.now().Add(wait).After(deadline) {
			return false, nil
		}
		w.log.Infof("stack %s is locked by an update (%s); checking drift after it, again in %s", w.stackName, strings.Join(locks, ", "), wait)
		if err := w.sleep(ctx, wait); err != nil {
			return false, w.fail("Cancelled while waiting for an update to end", err)
		}
		wait = min(2*wait, 15*time.Second)
	}
}
