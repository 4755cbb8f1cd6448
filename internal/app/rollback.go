package app

import (
	"cmp"
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/org/tap-deploy/internal/engine"
	"github.com/org/tap-deploy/stack"
)

// rollback redeploys the configuration and code of an earlier update.
func (r *run) rollback(ctx context.Context) error {
	code, err := r.packages.get(packagesForGraph)
	if err != nil {
		return r.fail("Could not load the Lambda packages", err)
	}
	// Open with the current configuration to read the history.
	probe, missing, err := r.openToRead(ctx, r.cfg, code)
	if err != nil {
		return r.fail("Could not open the stack", err)
	}
	var hist []engine.Update
	if !missing {
		hist, err = probe.History(ctx)
	}
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
	if err := r.order.checkRollbackOrder(ctx, hist); err != nil {
		return err
	}
	// A configuration restored from history counts as unreviewed: nothing
	// it loosens from what is deployed now is applied unless this
	// workflow's config asks for the same value.
	if err := refuseRelaxations(target.Version, deployedNow(hist, r.cfg), rec.Config, r.cfg); err != nil {
		return r.fail(fmt.Sprintf("Refusing to roll back to version %d; nothing was changed", target.Version), err)
	}
	notes := restoredConfig(hist, r.cfg.Base, rec.Config)
	for _, n := range notes {
		r.Runtime.Infof("%s", n)
	}
	r.Runtime.Noticef("rolling back stack %s to version %d (commit %s)", r.in.StackName, target.Version, cmp.Or(short(rec.Commit), "not recorded"))
	st, state, err := r.openForUpdate(ctx, envStack(r.in), rec.Config, rec.PackagesFor(code), stack.Provenance{Commit: rec.Commit})
	if err != nil {
		return err
	}
	defer st.Close()
	_, err = r.previewThenUp(ctx, st, update{
		stack:   r.in.StackName,
		title:   fmt.Sprintf("Rollback to version %d", target.Version),
		message: fmt.Sprintf("rollback to version %d · %s", target.Version, r.updateMessage(rec.Commit)),
		cfg:     rec.Config,
		sha:     rec.Commit,
		start:   state.Digest,
		notes:   notes,
	})
	return err
}

// deployedNow is the configuration the newest update recorded (what is
// deployed now); asked, the workflow's, when it cannot be read.
func deployedNow(hist []engine.Update, asked stack.Config) stack.Config {
	if len(hist) == 0 {
		return asked
	}
	now, err := stack.FromRecord(asked.Base, hist[0].Config)
	if err != nil {
		return asked
	}
	return now.Config
}

// refuseRelaxations refuses a restored configuration that loosens what is
// deployed now (a public API, alarms to another address...) unless the
// workflow's config asks for the same value: the history holds whatever an
// update once recorded, reviewed or not, and a re-run of an old workflow
// run brings back that run's config, so the baseline is never the run's.
func refuseRelaxations(version int, now, restored, asked stack.Config) error {
	want := asked.Values()
	var relaxed []string
	for _, c := range stack.ConfigChanges(now, restored) {
		if c.Relaxes && want[c.Key] != c.To {
			relaxed = append(relaxed, c.String())
		}
	}
	if len(relaxed) == 0 {
		return nil
	}
	return fmt.Errorf("version %d's configuration loosens what is deployed now (%s); a configuration restored from the history counts as unreviewed, "+
		"so to roll back to it on purpose set the same values in the configuration file (Pulumi.<stack>.yaml, reviewed in a pull request) or, for this run, the config input", version, strings.Join(relaxed, "; "))
}

// restoredConfig lists what the rollback changes in the configuration,
// from the newest update's (what is deployed now) to the restored one.
func restoredConfig(hist []engine.Update, base stack.Base, restored stack.Config) []string {
	if len(hist) == 0 {
		return nil
	}
	now, err := stack.FromRecord(base, hist[0].Config)
	if err != nil {
		return []string{"the configuration deployed now cannot be read to compare (" + firstLine(err.Error()) + ")"}
	}
	changes := stack.ConfigChanges(now.Config, restored)
	if len(changes) == 0 {
		return []string{"configuration restored: the same as deployed now"}
	}
	out := make([]string, len(changes))
	for i, c := range changes {
		out[i] = "configuration restored: " + c.String()
	}
	return out
}

// pickTarget finds the update to roll back to: a version number, or
// "previous": the last successful update before the current state. The
// newest entry made the current state, whatever its result, so previous is
// the first successful update after it (after a failed update, that is the
// last good one; after a rollback, the update the rollback replaced).
func pickTarget(hist []engine.Update, to string) (engine.Update, error) {
	if to == "previous" {
		if len(hist) == 0 {
			return engine.Update{}, fmt.Errorf("the stack has no updates to roll back to")
		}
		for _, u := range hist[1:] {
			if u.Succeeded() {
				return u, nil
			}
		}
		return engine.Update{}, fmt.Errorf("there is no successful update before the current state (version %d) to roll back to", hist[0].Version)
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
			return engine.Update{}, fmt.Errorf("version %d was a %s that %s; roll back only to a successful update", n, u.Kind, cmp.Or(u.Result, "did not finish"))
		}
		return u, nil
	}
	return engine.Update{}, fmt.Errorf("version %d is not in the stack history (versions 1 to %d exist)", n, len(hist))
}
