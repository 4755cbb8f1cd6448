package app

import (
	"context"
	"fmt"
	"strconv"

	"github.com/org/tap-deploy/internal/engine"
	"github.com/org/tap-deploy/stack"
)

// rollback redeploys the configuration and code of an earlier update.
func (r *run) rollback(ctx context.Context) error {
	code, err := r.code.get(true)
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
	r.Runtime.Noticef("rolling back stack %s to version %d (commit %s)", r.in.StackName, target.Version, short(rec.Commit))
	st, err := r.open(ctx, rec.Config, rec.CodeFor(code), rec.Commit)
	if err != nil {
		return r.fail("Could not open the stack", err)
	}
	defer st.Close()
	if err := r.checkPending(ctx, st); err != nil {
		return err
	}
	return r.previewThenUp(ctx, st, update{
		title:   fmt.Sprintf("Rollback to version %d", target.Version),
		message: fmt.Sprintf("rollback to version %d · %s", target.Version, r.updateMessage(rec.Commit)),
		cfg:     rec.Config,
		sha:     rec.Commit,
	})
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
