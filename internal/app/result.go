package app

// What a result says beyond its changes: the report's description of
// it, the step outputs it sets, and how an engine failure is reported.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/org/tap-deploy/internal/engine"
	"github.com/org/tap-deploy/internal/outcome"
	"github.com/org/tap-deploy/internal/render"
	"github.com/org/tap-deploy/internal/reviewed"
	"github.com/org/tap-deploy/stack"
)

// resultMeta is the meta of an engine result of applying cfg, with its
// duration in the footer.
func (r *run) resultMeta(title, sha string, cfg stack.Config, res outcome.Result) render.Meta {
	m := r.metaFor(title, sha, cfg)
	m.Footer += took(res.Kind, res.Duration)
	return m
}

// resultOutputs sets the outputs every engine command shares. Stack outputs
// come from the engine's events, where Pulumi has already hidden secret
// values: no --show-secrets call is ever made. A value not known before
// the update is null.
func (r *run) resultOutputs(res outcome.Result) error {
	counts := map[string]int{}
	for op, n := range res.Counts {
		counts[string(op)] = n
	}
	summary, _ := json.Marshal(counts)
	values := map[string]string{
		OutHasChanges:    fmt.Sprint(res.HasChanges()),
		OutChangeSummary: string(summary),
	}
	if len(res.SecretOutputs) > 0 {
		r.Runtime.Infof("secret outputs left out: %s", strings.Join(res.SecretOutputs, ", "))
	}
	if outputs := res.KnownOutputs(); outputs != nil {
		b, err := json.Marshal(outputs)
		if err != nil {
			return err
		}
		values[OutStackOutputs] = string(b)
	}
	return r.setOutputs(values)
}

// shownMeta is the meta of a preview's report with what s pins: the run
// link, the footer's time and duration, and the note. A preview renders
// its comment with its own Shown, and a deploy renders that comment again
// with the Shown its plan line records: one function, so that the two
// agree byte for byte.
func (r *run) shownMeta(title, sha string, cfg stack.Config, kind outcome.Kind, s reviewed.Shown, note string) render.Meta {
	m := r.metaFor(title, sha, cfg)
	m.RunURL = ""
	if s.Run > 0 && r.facts.runs != "" {
		m.RunURL = r.facts.runs + strconv.FormatInt(s.Run, 10)
	}
	m.Footer = footer(r.Version, time.Unix(s.At, 0)) + took(kind, s.Took)
	m.Note = note
	return m
}

// shownNow is what this run's rendering of a preview depends on besides
// the result and the inputs.
func shownNow(runID int64, at time.Time, res outcome.Result, firstDeploy bool) reviewed.Shown {
	return reviewed.Shown{Run: runID, At: at.Unix(), Took: res.Duration, FirstDeploy: firstDeploy, Unchanged: res.Counts[outcome.OpSame]}
}

// engineFailed reports a failed engine operation, saying what a
// cancellation left behind: a clean stop, or a killed engine whose lock
// and unfinished operations need recovering.
func (r *run) engineFailed(ctx context.Context, stackName, title string, err error) error {
	switch {
	case errors.Is(err, errSourceChanged):
		return r.fail("The promotion's source no longer runs what this deploy repeats; nothing was changed", err)
	case errors.Is(err, errSourceUnread):
		return r.fail("The promotion's source could not be read again under the lock; nothing was changed", err)
	case errors.Is(err, engine.ErrStateChanged):
		return r.fail("The stack changed between the preview and the update; nothing was changed", err)
	case engine.WasKilled(err):
		return r.fail("Cancelled, and the engine had to be killed", fmt.Errorf(
			"the engine did not stop within %s of the cancellation (an AWS call in flight can take longer), so it was killed: "+
				"the stack may still be locked and its state may record unfinished operations. Before the next run: "+
				"make sure no update of stack %s is running, then run `pulumi cancel` on it (removes the lock) and "+
				"`pulumi refresh --clear-pending-creates --yes` (reconciles the state with AWS); a deploy stops before up "+
				"while unfinished operations remain. Cause: %w", engine.CancelGrace, stackName, err))
	case errors.Is(err, context.Canceled) || ctx.Err() != nil:
		return r.fail("Cancelled; the engine stopped cleanly and saved the state", err)
	}
	return r.fail(title, err)
}

// previewNote is what a pull request's preview says under its heading.
func previewNote(stackName string, firstDeploy bool) string {
	if !firstDeploy {
		return ""
	}
	return fmt.Sprintf("Stack %s does not exist yet: this is its first deploy, previewed against an empty state (nothing was written to the backend).", stackName)
}
