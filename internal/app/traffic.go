package app

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/org/tap-deploy/internal/awstraffic"
	"github.com/org/tap-deploy/internal/outcome"
	"github.com/org/tap-deploy/internal/render"
	"github.com/org/tap-deploy/internal/shift"
	"github.com/org/tap-deploy/stack"
)

// Traffic is what a run asks AWS to move a function's live alias to a new
// version: CodeDeploy shifts it, Lambda says where it points.
type Traffic interface {
	Active(ctx context.Context, app, group string) ([]shift.Deployment, error)
	Get(ctx context.Context, id string) (shift.Deployment, error)
	Start(ctx context.Context, app string, f shift.Function, configName, description string) (string, error)
	Stop(ctx context.Context, id string) error
	Alias(ctx context.Context, function, alias string) (shift.Alias, error)
}

var _ Traffic = (*awstraffic.Client)(nil)

// traffic moves a deploy's functions to their new versions through
// CodeDeploy, and waits for the shifts an earlier run left running. It
// reaches only what that takes: the traffic client, the clock, the lock
// timeout, the run's log and a way to fail; traffic_unit_test.go tests it
// without a run.
type traffic struct {
	// client opens the traffic client of a region (Deps.Traffic).
	client func(ctx context.Context, region string) (Traffic, error)
	now    func() time.Time
	sleep  func(ctx context.Context, d time.Duration) error
	// lockTimeout bounds the wait for an earlier shift, as for another
	// update's lock (the lock-timeout input).
	lockTimeout time.Duration
	log         trafficLog
	// fail reports a failure once and returns the error the run ends
	// with ((*run).fail).
	fail func(title string, err error) error
}

// trafficLog is what traffic says while it shifts (actions.Runtime).
type trafficLog interface {
	Infof(format string, args ...any)
	Warningf(format string, args ...any)
	Errorf(format string, args ...any)
}

// shiftGrace is how long past its configuration's own duration a shift
// this run started may take before the run stops waiting for it
// (CodeDeploy's steps are not to the second, and a rollback takes a
// moment).
const shiftGrace = 5 * time.Minute

// stopTimeout bounds the stops of a rollout that cannot go on, which run
// even when the run is cancelled (the runner kills a cancelled step about
// 7.5 seconds after it asks it to stop).
const stopTimeout = 5 * time.Second

// The poll of a running shift starts fast (an all-at-once shift ends in
// seconds) and slows down to this.
const (
	firstPoll = time.Second
	maxPoll   = 15 * time.Second
)

// waitForShifts waits, before an update, for the traffic shifts still
// running on the stack's functions (an earlier run that was cancelled or
// killed leaves its shift to CodeDeploy, which finishes or rolls it back
// on its own): updating under a running shift would publish versions
// CodeDeploy is not moving to, and CodeDeploy refuses a second deployment
// per group. It waits up to lock-timeout, as for another update's lock,
// and says how each shift it waited for ended; a failure is reported.
func (tr traffic) waitForShifts(ctx context.Context, cfg stack.Config) error {
	app, fns := stack.TrafficNames(cfg)
	t, err := tr.client(ctx, cfg.Region)
	if err != nil {
		return tr.fail("Could not check for a traffic shift in progress; nothing was changed", err)
	}
	deadline := tr.now().Add(tr.lockTimeout)
	for _, f := range fns {
		wait := firstPoll
		var waited *shift.Deployment
		for {
			running, err := t.Active(ctx, app, f.DeploymentGroup)
			if err != nil {
				return tr.fail("Could not check for a traffic shift in progress; nothing was changed", err)
			}
			if len(running) == 0 {
				break
			}
			d := running[0]
			waited = &d
			if tr.now().Add(wait).After(deadline) {
				return tr.fail("A traffic shift of an earlier deploy is still running; nothing was changed", fmt.Errorf(
					"CodeDeploy deployment %s (%s, group %s) started %s ago and had not ended after %s (lock-timeout). "+
						"CodeDeploy ends it on its own, and returns its traffic if an alarm fires: run this workflow again once it has ended, or stop it in the CodeDeploy console",
					d.ID, d.Config, f.DeploymentGroup, tr.now().Sub(d.Start).Round(time.Second), tr.lockTimeout))
			}
			tr.log.Infof("waiting for the traffic shift of an earlier deploy to end: CodeDeploy deployment %s (%s, group %s) is %s, started %s ago",
				d.ID, d.Config, f.DeploymentGroup, d.Status, tr.now().Sub(d.Start).Round(time.Second))
			if err := tr.sleep(ctx, wait); err != nil {
				return tr.fail("Cancelled while waiting for an earlier traffic shift; nothing was changed", err)
			}
			wait = min(2*wait, maxPoll)
		}
		if waited != nil {
			tr.reportEarlierShift(ctx, t, f, *waited)
		}
	}
	return nil
}

// reportEarlierShift says how a shift the run waited for ended, and where
// the function's traffic is now.
func (tr traffic) reportEarlierShift(ctx context.Context, t Traffic, f shift.Function, earlier shift.Deployment) {
	d, err := t.Get(ctx, earlier.ID)
	if err != nil {
		tr.log.Warningf("%s: the earlier traffic shift %s ended, but how could not be read: %v", f.Name, earlier.ID, err)
		return
	}
	live := ""
	if alias, err := t.Alias(ctx, f.Name, f.Alias); err == nil {
		live = fmt.Sprintf("; version %s is live", alias.Version)
	}
	if d.Status == shift.Succeeded {
		tr.log.Infof("%s: the earlier traffic shift %s succeeded%s", f.Name, d.ID, live)
		return
	}
	why := strings.ToLower(string(d.Status))
	if a := d.Alarms(); len(a) > 0 {
		why = "was stopped by alarm " + strings.Join(a, ", ")
	}
	tr.log.Warningf("%s: the earlier traffic shift %s %s, and CodeDeploy returned its traffic%s", f.Name, d.ID, why, live)
}

// shifting is one function's shift while it runs.
type shifting struct {
	f    shift.Function
	id   string
	d    shift.Deployment
	done bool
	// share is the traffic share the new version had at the last look.
	share int
}

// rollout is one deploy's shifts, of every function, which go on or stop
// together: the client and CodeDeploy application they run in, the
// preference they follow, and what the report says of them.
type rollout struct {
	traffic
	client Traffic
	app    string
	pref   shift.Preference
	shifts []*shifting
	notice render.Traffic
}

// rollOut moves each function's live alias to the version the update
// published (res's outputs say which) in region, through CodeDeploy with
// the preference, and waits for every shift to end. When an alarm stops
// one shift, the others are stopped too, so that every function serves
// the same code: the old one. A stopped or failed shift is an error,
// reported; what each function serves at the end is in the returned
// notice.
func (tr traffic) rollOut(ctx context.Context, pref shift.Preference, region, message string, res outcome.Result) (render.Traffic, error) {
	notice := render.Traffic{Summary: fmt.Sprintf("Traffic moved to the new versions (%s, through CodeDeploy)", pref)}
	targets, err := stack.TrafficTargets(res.KnownOutputs())
	if err != nil {
		notice = render.Traffic{Summary: "The new versions take no traffic: the update did not say where it goes", Stopped: true}
		return notice, tr.fail("Could not shift traffic to the new versions", err)
	}
	t, err := tr.client(ctx, region)
	if err != nil {
		notice = render.Traffic{Summary: "The new versions take no traffic: AWS could not be asked", Stopped: true}
		return notice, tr.fail("Could not shift traffic to the new versions", err)
	}
	ro := &rollout{traffic: tr, client: t, app: targets.Application, pref: pref, notice: notice}
	for _, f := range targets.Functions {
		alias, err := t.Alias(ctx, f.Name, f.Alias)
		if err != nil {
			return ro.stop(ctx, fmt.Errorf("before shifting %s: %w", f.Name, err))
		}
		f.Current = alias.Version
		if !f.Pending() {
			ro.notice.Lines = append(ro.notice.Lines, fmt.Sprintf("%s: version %s was already live", f.Name, f.Target))
			continue
		}
		id, err := t.Start(ctx, ro.app, f, pref.ConfigName(), clipDescription(message))
		if err != nil {
			return ro.stop(ctx, err)
		}
		tr.log.Infof("%s: shifting its %s alias from version %s to %s (%s), CodeDeploy deployment %s; alarms that stop it: %s",
			f.Name, f.Alias, f.Current, f.Target, pref, id, strings.Join(f.Alarms, ", "))
		ro.shifts = append(ro.shifts, &shifting{f: f, id: id})
	}
	if len(ro.shifts) == 0 {
		return ro.notice, nil
	}
	deadline := tr.now().Add(pref.Schedule().Duration() + shiftGrace)
	wait := firstPoll
	for {
		if err := ro.look(ctx); err != nil {
			if ctx.Err() != nil {
				// Cancelled during a look: every shift started, so the
				// rollout is whole whichever way CodeDeploy ends it.
				return ro.leave(err)
			}
			return ro.stop(ctx, err)
		}
		if failed := failedShifts(ro.shifts); len(failed) > 0 {
			return ro.stop(ctx, nil)
		}
		if allDone(ro.shifts) {
			break
		}
		if tr.now().After(deadline) {
			return ro.stop(ctx, fmt.Errorf("the shift did not end within %s (%s takes %s)", pref.Schedule().Duration()+shiftGrace, pref, pref.Schedule().Duration()))
		}
		if err := tr.sleep(ctx, wait); err != nil {
			return ro.leave(err)
		}
		wait = min(2*wait, maxPoll)
	}
	for _, s := range ro.shifts {
		ro.notice.Lines = append(ro.notice.Lines, fmt.Sprintf("%s: version %s → %s, %s in %s", s.f.Name, s.f.Current, s.f.Target, strings.ToLower(string(s.d.Status)),
			tr.now().Sub(s.d.Start).Round(time.Second)))
	}
	return ro.notice, nil
}

// look reads each running shift and its alias, logging what moved.
func (ro *rollout) look(ctx context.Context) error {
	t, pref := ro.client, ro.pref
	for _, s := range ro.shifts {
		if s.done {
			continue
		}
		d, err := t.Get(ctx, s.id)
		if err != nil {
			return err
		}
		s.d, s.done = d, d.Status.Done()
		alias, err := t.Alias(ctx, s.f.Name, s.f.Alias)
		if err != nil {
			return err
		}
		share := alias.Share(s.f.Target)
		if s.done && d.Status != shift.Succeeded {
			// Traffic is back on the old version: the share it reached is
			// what the report says.
			share = s.share
		}
		if share != s.share || s.done {
			left := max(0, pref.Schedule().Duration()-ro.now().Sub(d.Start))
			ro.log.Infof("%s: version %s takes %d%% of traffic (CodeDeploy: %s, about %s of %s left)", s.f.Name, s.f.Target, share, d.Status, left.Round(time.Second), pref)
		}
		s.share = share
	}
	return nil
}

// stop ends a rollout whose shift could not go on (cause, or a
// shift that failed or an alarm stopped): every shift still running is
// stopped with rollback, and the run fails saying what each function
// serves now. The stops get a context of their own: a run cancelled while
// it started the shifts must still stop the ones it started, or the
// rollout would be left mixed (some functions on the new version, the
// others never shifted). GitHub leaves a cancelled step about 7 seconds.
func (ro *rollout) stop(runCtx context.Context, cause error) (render.Traffic, error) {
	t, shifts, notice := ro.client, ro.shifts, ro.notice
	ctx, cancel := context.WithTimeout(context.WithoutCancel(runCtx), stopTimeout)
	defer cancel()
	goOn := 0
	var alarms []string
	var reasons []error
	if cause != nil {
		reasons = append(reasons, cause)
	}
	for _, s := range failedShifts(shifts) {
		alarms = append(alarms, s.d.Alarms()...)
		reasons = append(reasons, fmt.Errorf("%s: CodeDeploy deployment %s %s: %s", s.f.Name, s.id, strings.ToLower(string(s.d.Status)), s.d.ErrorMessage))
	}
	notice.Stopped = true
	notice.Lines = nil
	for _, s := range shifts {
		switch {
		case s.done && s.d.Status == shift.Succeeded:
			// The rollout's shifts end within moments of each other: one
			// that finished before the alarm fired goes back too, or the
			// rollout would be left mixed on code an alarm flagged.
			line, err := ro.returnShift(runCtx, ctx, s)
			if err != nil {
				goOn++
				reasons = append(reasons, err)
			}
			notice.Lines = append(notice.Lines, line)
		case s.done:
			why := strings.ToLower(string(s.d.Status))
			if a := s.d.Alarms(); len(a) > 0 {
				why = "stopped by alarm " + strings.Join(a, ", ")
			}
			notice.Lines = append(notice.Lines, fmt.Sprintf("%s: version %s → %s %s at %d%%; CodeDeploy returned all traffic to version %s", s.f.Name, s.f.Current, s.f.Target, why, s.share, s.f.Current))
		default:
			if err := t.Stop(ctx, s.id); err != nil {
				goOn++
				reasons = append(reasons, err)
				notice.Lines = append(notice.Lines, fmt.Sprintf("%s: version %s → %s could not be stopped; CodeDeploy deployment %s goes on and rolls back on its own if an alarm fires", s.f.Name, s.f.Current, s.f.Target, s.id))
				continue
			}
			notice.Lines = append(notice.Lines, fmt.Sprintf("%s: version %s → %s stopped with the release; CodeDeploy returns all traffic to version %s", s.f.Name, s.f.Current, s.f.Target, s.f.Current))
		}
	}
	sort.Strings(alarms)
	title := "The traffic shift stopped; the new versions take no traffic"
	notice.Summary = title
	switch {
	case goOn > 0:
		notice.GoesOn = true
		title = fmt.Sprintf("The traffic shift could not be stopped everywhere: %d shift(s) go on in CodeDeploy", goOn)
		notice.Summary = title + "; their alarms still roll them back"
	case len(alarms) > 0:
		title = "The traffic shift stopped: alarm " + strings.Join(alarms, ", ") + " fired"
		notice.Summary = title + "; CodeDeploy returned the traffic to the old versions"
	}
	for _, l := range notice.Lines {
		ro.log.Errorf("%s", l)
	}
	return notice, ro.fail(title, fmt.Errorf("%w. The update itself is applied: the new versions stay published without traffic, and the next deploy shifts to its own versions", errors.Join(reasons...)))
}

// returnBudget bounds how long a stopped rollout waits for a function
// whose shift had already succeeded to be back on its old version (an
// all-at-once deployment takes seconds).
const returnBudget = 2 * time.Minute

// returnShift moves a function whose shift already succeeded back to its
// old version, all at once through CodeDeploy (which owns the alias), and
// waits for it unless the run was cancelled. It says what the function
// serves; an error when it could not be moved back.
func (ro *rollout) returnShift(runCtx, stopCtx context.Context, s *shifting) (string, error) {
	t := ro.client
	back := s.f
	back.Current, back.Target = s.f.Target, s.f.Current
	id, err := t.Start(stopCtx, ro.app, back, shift.AllAtOnce.ConfigName(), "tap-deploy: the release's traffic shift was stopped")
	if err != nil {
		return fmt.Sprintf("%s: version %s → %s had already succeeded and could not be moved back: version %s stays live", s.f.Name, s.f.Current, s.f.Target, s.f.Target),
			fmt.Errorf("%s: moving back to version %s: %w", s.f.Name, s.f.Current, err)
	}
	ro.log.Infof("%s: its shift had already succeeded; moving it back to version %s (CodeDeploy deployment %s)", s.f.Name, s.f.Current, id)
	returning := fmt.Sprintf("%s: version %s → %s had already succeeded; CodeDeploy deployment %s returns all traffic to version %s", s.f.Name, s.f.Current, s.f.Target, id, s.f.Current)
	if runCtx.Err() != nil {
		return returning, nil
	}
	deadline := ro.now().Add(returnBudget)
	for wait := firstPoll; ; wait = min(2*wait, maxPoll) {
		d, err := t.Get(runCtx, id)
		switch {
		case err != nil:
			return returning, nil
		case d.Status == shift.Succeeded:
			return fmt.Sprintf("%s: version %s → %s had already succeeded; moved back to version %s (CodeDeploy deployment %s)", s.f.Name, s.f.Current, s.f.Target, s.f.Current, id), nil
		case d.Status.Done():
			return fmt.Sprintf("%s: version %s → %s had already succeeded and could not be moved back (CodeDeploy deployment %s %s): version %s stays live", s.f.Name, s.f.Current, s.f.Target, id, strings.ToLower(string(d.Status)), s.f.Target),
				fmt.Errorf("%s: moving back to version %s: CodeDeploy deployment %s %s: %s", s.f.Name, s.f.Current, id, strings.ToLower(string(d.Status)), d.ErrorMessage)
		case ro.now().After(deadline) || ro.sleep(runCtx, wait) != nil:
			return returning, nil
		}
	}
}

// leave reports a run cancelled while CodeDeploy shifts: the shifts
// go on without it, watched by their alarms, and the next run waits for
// them.
func (ro *rollout) leave(cause error) (render.Traffic, error) {
	notice := ro.notice
	notice.Summary = "Cancelled while CodeDeploy shifts traffic; the shifts go on without this run"
	notice.Lines = nil
	for _, s := range ro.shifts {
		notice.Lines = append(notice.Lines, fmt.Sprintf("%s: version %s → %s, CodeDeploy deployment %s, %d%% at the last look", s.f.Name, s.f.Current, s.f.Target, s.id, s.share))
	}
	return notice, ro.fail("Cancelled while CodeDeploy shifts traffic", fmt.Errorf(
		"CodeDeploy goes on shifting and rolls back on its own if an alarm fires; the next deploy waits for it to end: %w", cause))
}

func failedShifts(shifts []*shifting) []*shifting {
	var out []*shifting
	for _, s := range shifts {
		if s.done && s.d.Status != shift.Succeeded {
			out = append(out, s)
		}
	}
	return out
}

func allDone(shifts []*shifting) bool {
	for _, s := range shifts {
		if !s.done {
			return false
		}
	}
	return true
}

// clipDescription keeps a deployment's description within what CodeDeploy
// shows in its list (the update message can carry a long run URL).
func clipDescription(s string) string {
	const most = 256
	if len(s) <= most {
		return s
	}
	n := most - len("…")
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
