package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/org/tap-deploy/internal/awsaccount"
	"github.com/org/tap-deploy/internal/engine"
	"github.com/org/tap-deploy/internal/inputs"
	"github.com/org/tap-deploy/internal/outcome"
	"github.com/org/tap-deploy/internal/render"
	"github.com/org/tap-deploy/internal/reviewed"
	"github.com/org/tap-deploy/internal/shift"
	"github.com/org/tap-deploy/stack"
)

// update is one `pulumi up` a run makes: a deploy, a rollback, or a pull
// request's review stack.
type update struct {
	// kind says whose update it is.
	kind updateKind
	// stack is the stack the update changes.
	stack string
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
	// start is the state digest (engine.State) read before the preview:
	// the update must start from it.
	start string
	// stateVersion is the newest update's version then.
	stateVersion int
	// history is the stack's history read then, newest first: the pull
	// request's configuration section is rendered again from it.
	history []engine.Update
	// reviewedPlan is the plan a merge deploy's pull request reviewed; nil
	// when there is no such check.
	reviewedPlan *reviewedPlanCheck
	// ordered means the update must not deploy a commit older than the
	// deployed one (a deploy; a rollback goes back on purpose).
	ordered bool
	// notes are what the report says first about the update (the keys a
	// rollback restores, old → new).
	notes []string
	// recheck runs under the update's lock, right before the engine
	// changes anything (a promotion's source checked again: the lock wait
	// can take lock-timeout); its error stops the update.
	recheck func(context.Context) error
	// preference is how CodeDeploy shifts traffic to the new versions: a
	// deploy's deployment-preference; all at once for a rollback (the
	// versions it returns to ran before) and a review stack.
	preference shift.Preference
}

// updateKind is whose update it is.
type updateKind int

const (
	// environmentUpdate changes the environment's stack: its result is
	// the run's (step outputs) and its GitHub deployment the environment's.
	environmentUpdate updateKind = iota
	// reviewStackUpdate changes a pull request's review stack: no step
	// outputs but the review stack's URL, and a transient GitHub
	// deployment named for the stack.
	reviewStackUpdate
)

// previewThenUp runs one update in its steps: the wait for an earlier
// traffic shift, the account check, the gated preview (its plan saved),
// the verdict on what may be applied, the planned update, the traffic
// shift to the new versions, and the report. The GitHub deployment spans
// the update and the shift. It returns the update's result.
func (r *run) previewThenUp(ctx context.Context, st Stack, u update) (outcome.Result, error) {
	if u.preference == "" {
		u.preference = shift.AllAtOnce
	}
	if err := r.traffic.waitForShifts(ctx, u.cfg); err != nil {
		return outcome.Result{}, err
	}
	if err := r.checkAccount(ctx, u.cfg); err != nil {
		return outcome.Result{}, err
	}
	dir, err := os.MkdirTemp("", "tap-deploy-plan-")
	if err != nil {
		return outcome.Result{}, r.fail("Could not prepare the update plan", err)
	}
	defer os.RemoveAll(dir)
	planFile := filepath.Join(dir, "plan.json")

	pre, err := r.gatedPreview(ctx, st, u, planFile)
	if err != nil {
		return pre, err
	}
	verdict, err := r.updateVerdict(ctx, st, u, pre)
	if err != nil {
		return pre, err
	}
	dep := r.startDeployment(ctx, u)
	res, verdict, err := r.applyPlanned(ctx, st, u, planFile, verdict)
	var moved render.Traffic
	if err == nil {
		err = r.Runtime.Group("Traffic shift to the new versions ("+string(u.preference)+")", func() error {
			var err error
			moved, err = r.traffic.rollOut(ctx, u.preference, u.cfg.Region, u.message, res)
			return err
		})
	}
	r.finishDeployment(ctx, dep, err == nil, res)
	r.reportUpdate(ctx, u, res, verdict, moved)
	if u.kind == environmentUpdate {
		if oerr := r.resultOutputs(res); oerr != nil && err == nil {
			err = r.fail("Could not write the step outputs", oerr)
		}
	}
	return res, err
}

// gatedPreview previews the update, saving its plan, and gates it on the
// policy rules with the engine's real values. A failure is reported (the
// report says how far it got) and returned.
func (r *run) gatedPreview(ctx context.Context, st Stack, u update, planFile string) (outcome.Result, error) {
	var pre outcome.Result
	err := r.Runtime.Group("Pulumi preview", func() error {
		var err error
		pre, err = r.withLockRetry(ctx, "previewing", func() (outcome.Result, error) {
			return st.Preview(ctx, engine.PreviewOptions{SaveUpdatePlan: planFile})
		})
		return err
	})
	if err != nil {
		r.reportUpdate(ctx, u, pre, render.Verdict{}, render.Traffic{})
		return pre, r.engineFailed(ctx, u.stack, "The preview before the update failed", err)
	}
	pre, blocked := gate(pre, u.cfg, r.in.PolicyOverrides)
	if len(blocked) > 0 {
		for _, v := range blocked {
			r.Runtime.Errorf("%s", v.String())
		}
		r.reportUpdate(ctx, u, pre, render.Verdict{}, render.Traffic{})
		return pre, r.fail("The update breaks mandatory policy rules; nothing was changed", fmt.Errorf("%d mandatory violation(s)", len(blocked)))
	}
	return pre, nil
}

// updateVerdict says what may be applied: a merge deploy's comparison with
// its reviewed plan (an error stops the update, reported), with the
// update's own notes first. What is about to change then goes to the job
// summary, before it changes.
func (r *run) updateVerdict(ctx context.Context, st Stack, u update, pre outcome.Result) (render.Verdict, error) {
	verdict, err := r.reviewedPlanVerdict(ctx, st, u, pre)
	if err != nil {
		r.reportUpdate(ctx, u, pre, verdict, render.Traffic{})
		return verdict, r.fail("Refusing to deploy what was not reviewed", err)
	}
	verdict.Lines = append(append([]string(nil), u.notes...), verdict.Lines...)
	meta := r.resultMeta("Preview before "+strings.ToLower(u.title[:1])+u.title[1:], u.sha, u.cfg, pre)
	meta.Stack = u.stack
	meta.Verdict = verdict
	r.publish.note(resultDoc(meta, pre))
	return verdict, nil
}

// applyPlanned runs the update constrained to the preview's plan and returns its result with the verdict saying
// how it was constrained. A failure is reported and returned.
func (r *run) applyPlanned(ctx context.Context, st Stack, u update, planFile string, verdict render.Verdict) (outcome.Result, render.Verdict, error) {
	var res outcome.Result
	var unconstrained string
	upErr := r.Runtime.Group("Pulumi update", func() error {
		var err error
		res, unconstrained, err = r.upPlanned(ctx, st, u, planFile)
		return err
	})
	for _, f := range res.Failed() {
		r.Runtime.Errorf("%s %q: %s", f.Type, f.Name, f.Error)
	}
	switch {
	case unconstrained != "":
		verdict.Warn = true
		verdict.Lines = append(verdict.Lines, unconstrained)
		if verdict.Says == "" {
			verdict.Says = "Not constrained to the plan of its preview."
		}
	case upErr == nil:
		if u.reviewedPlan != nil && u.reviewedPlan.plan != nil && !verdict.Warn {
			verdict.Says = fmt.Sprintf("Applied the reviewed plan %s of pull request #%d.", u.reviewedPlan.plan.ID, u.reviewedPlan.pr.Number)
		}
		if verdict.Says == "" {
			verdict.Says = "Applied exactly the plan of its gated preview."
		}
		verdict.Lines = append(verdict.Lines, "the update was constrained to the plan of its gated preview, from the state that preview saw")
	}
	if upErr == nil && u.kind == environmentUpdate {
		if hist, err := st.History(ctx); err == nil && len(hist) > 0 {
			r.setOutputs(map[string]string{OutVersion: strconv.Itoa(hist[0].Version)}) //nolint:errcheck // best effort
		}
	}
	switch {
	case errors.Is(upErr, ErrReported):
		return res, verdict, upErr
	case upErr != nil:
		return res, verdict, r.engineFailed(ctx, u.stack, "The update failed", upErr)
	}
	return res, verdict, nil
}

// checkAccount refuses, before anything changes, a configuration the AWS
// account cannot take: a reserved concurrency beyond what the account's
// limit leaves. Without reservations AWS is not asked at all.
func (r *run) checkAccount(ctx context.Context, cfg stack.Config) error {
	if cfg.ReservedConcurrency == 0 {
		return nil
	}
	unread := "Could not check the reserved concurrency against the AWS account; nothing was changed"
	acct, err := r.AWSAccount(ctx, cfg.Region)
	if err != nil {
		return r.fail(unread, err)
	}
	c, err := acct.Concurrency(ctx)
	if err != nil {
		return r.fail(unread, err)
	}
	names := stack.FunctionNames(cfg)
	current, err := acct.Reserved(ctx, names)
	if err != nil {
		return r.fail(unread, err)
	}
	if err := awsaccount.CheckReservations(c, cfg.ReservedConcurrency, names, current); err != nil {
		return r.fail("The reserved concurrency does not fit the AWS account; nothing was changed", err)
	}
	r.Runtime.Infof("reserved concurrency %d × %d functions fits the account in %s (limit %d, %d unreserved)", cfg.ReservedConcurrency, len(names), c.Region, c.Limit, c.Unreserved)
	return nil
}

// reviewVerdict compares a merge deploy's preview with its reviewed plan
// (an error means the deploy must stop); other updates only say how they
// are constrained.
func (r *run) reviewedPlanVerdict(ctx context.Context, st Stack, u update, pre outcome.Result) (render.Verdict, error) {
	if u.reviewedPlan == nil {
		return render.Verdict{}, nil
	}
	var drift []string
	if u.reviewedPlan.plan != nil {
		r.Runtime.Group("Pulumi refresh (preview only): changes made outside Pulumi since the review", func() error { //nolint:errcheck // driftLines reports its own errors
			drift = driftLines(ctx, st)
			return nil
		})
	}
	verdict, err := u.reviewedPlan.verdict(reviewed.Of(pre, u.stateVersion, configFingerprint(u.cfg), r.Version, u.sha), r.shownDifferences(u, pre), drift)
	if err == nil && verdict.Warn {
		r.Runtime.Warningf("%s %s", verdict.Says, strings.Join(verdict.Lines, "; "))
	}
	return verdict, err
}

// shownDifferences compares each text reviewers read that shows the plan
// (the pull request's comment, the merge queue's section) with its
// rendering from the deploy's own preview: whole, from the marker to the
// footer, as the preview that wrote it rendered it (same title, commit,
// plan line, run, time and room). It returns each difference.
func (r *run) shownDifferences(u update, pre outcome.Result) []string {
	if u.reviewedPlan == nil {
		return nil
	}
	var out []string
	for _, v := range u.reviewedPlan.views {
		if d := r.compareShown.viewDifference(v, pre, u.cfg, "this deploy"); d != "" {
			out = append(out, d)
		}
	}
	if c := u.reviewedPlan.configuration; c != nil {
		if d := r.compareShown.configurationDifference(*c, u.history, u.cfg, "this deploy"); d != "" {
			out = append(out, d)
		}
	}
	return out
}

// upPlanned runs the update constrained to the saved plan and guarded by
// the starting state. If the engine rejects its own plan (Pulumi's update
// plans have corner cases, values unknown at preview time among them),
// reviewed-plan: require stops; otherwise the update is previewed again
// from the state as it is now, and that preview passes every check the
// first one passed (the policy gate, the reviewed-plan comparison, the
// commit order) before the update runs without the plan; unconstrained
// says why. An error already reported wraps ErrReported.
func (r *run) upPlanned(ctx context.Context, st Stack, u update, planFile string) (res outcome.Result, unconstrained string, err error) {
	up := func(o engine.UpOptions) (outcome.Result, error) {
		return r.withLockRetry(ctx, "updating", func() (outcome.Result, error) { return st.Up(ctx, u.message, o) })
	}
	res, err = up(engine.UpOptions{UpdatePlan: planFile, ExpectState: u.start, Check: u.recheck})
	if !engine.IsUpdatePlanRejected(err) {
		return res, "", err
	}
	rejected := fmt.Sprintf("the engine rejected the plan of its own gated preview (%s)", firstLine(res.Error))
	if r.in.ReviewedPlan == inputs.ReviewedPlanRequire {
		return res, rejected + "; reviewed-plan is require, so the update stopped",
			fmt.Errorf("%s; with reviewed-plan: require the update stops here (what it had already changed is in the report): %w", rejected, err)
	}
	r.Runtime.Warningf("%s; previewing again to apply the update without the plan constraint", rejected)
	now, serr := st.State(ctx)
	if serr != nil {
		return res, rejected, errors.Join(err, serr)
	}
	again, err := r.withLockRetry(ctx, "previewing", func() (outcome.Result, error) { return st.Preview(ctx, engine.PreviewOptions{}) })
	if err != nil {
		return again, rejected, err
	}
	again, blocked := gate(again, u.cfg, r.in.PolicyOverrides)
	if len(blocked) > 0 {
		for _, v := range blocked {
			r.Runtime.Errorf("%s", v.String())
		}
		return again, rejected, r.fail("The update's second preview breaks mandatory policy rules; it stopped there", fmt.Errorf("%d mandatory violation(s)", len(blocked)))
	}
	if u.reviewedPlan != nil {
		if verdict, err := r.reviewedPlanVerdict(ctx, st, u, again); err != nil {
			return again, rejected, r.fail("Refusing to deploy what was not reviewed", err)
		} else if verdict.Warn {
			rejected += "; its second preview differs from the reviewed plan: " + strings.Join(verdict.Lines, "; ")
		}
	}
	if u.ordered {
		if _, err := r.order.checkNotOlder(ctx, st); err != nil {
			return again, rejected, err
		}
	}
	res, err = up(engine.UpOptions{ExpectState: now.Digest, Check: u.recheck})
	return res, rejected + "; the update was previewed again, passed the policy gate, the reviewed-plan comparison and the commit order again, and ran without the plan constraint", err
}

// deploySection names the merge deploy's section of the pull request's
// comment.
const deploySection = "deploy"

// reportUpdate publishes an update's result; a comment that cannot be
// written does not fail an update that happened.
func (r *run) reportUpdate(ctx context.Context, u update, res outcome.Result, verdict render.Verdict, moved render.Traffic) {
	m := r.resultMeta(u.title, u.sha, u.cfg, res)
	m.Stack = u.stack
	m.Verdict = verdict
	m.Traffic = moved
	doc := resultDoc(m, res)
	if u.pr != 0 {
		// The merged pull request's comment keeps the preview its
		// reviewers read (a retried deploy compares with it again); the
		// deploy's result goes into a section of its own.
		r.publish.section(ctx, u.pr, deploySection, doc)
		return
	}
	r.publish.report(ctx, 0, doc)
}

// updateMessage records who deployed what, from where.
func (r *run) updateMessage(sha string) string {
	parts := []string{"tap-deploy"}
	if sha != "" {
		parts = append(parts, "commit "+sha)
	}
	if actor := r.facts.actor; actor != "" {
		parts = append(parts, "by "+actor)
	}
	if u := r.facts.runURL; u != "" {
		parts = append(parts, u)
	}
	return strings.Join(parts, " · ")
}
