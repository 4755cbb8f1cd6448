package app

import (
	"cmp"
	"context"
	"regexp"

	"github.com/org/tap-deploy/internal/engine"
	"github.com/org/tap-deploy/internal/render"
	"github.com/org/tap-deploy/stack"
)

// history lists the stack's numbered updates, what rollback-to names: on
// S3 and file backends `pulumi stack history` prints version 0 for every
// entry, so this is where the numbers are read.
func (r *run) history(ctx context.Context) error {
	code, err := r.packages.get(packagesForGraph)
	if err != nil {
		return r.fail("Could not load the Lambda packages", err)
	}
	st, missing, err := r.openToRead(ctx, r.cfg, code)
	if err != nil {
		return r.fail("Could not open the stack", err)
	}
	defer st.Close()
	var hist []engine.Update
	if missing {
		r.Runtime.Noticef("stack %s does not exist in the backend: it has no updates", r.in.StackName)
	} else if hist, err = st.History(ctx); err != nil {
		return r.fail("Could not read the stack history", err)
	}
	entries := historyEntries(hist)
	for _, e := range entries {
		from := ""
		if e.PromotedFrom != "" {
			from = " · promoted from " + e.PromotedFrom
		}
		r.Runtime.Infof("version %d · %s · %s %s · commit %s · by %s%s · %s", e.Version, e.Time, e.Kind, e.Result, short(e.Commit), cmp.Or(e.Actor, "?"), from, e.Message)
	}
	doc := func(_ string, limit int, redact func(string) string) string {
		redacted := make([]render.HistoryEntry, len(entries))
		for i, e := range entries {
			e.Message, e.Actor, e.PromotedFrom = redact(e.Message), redact(e.Actor), redact(e.PromotedFrom)
			redacted[i] = e
		}
		return render.History(r.meta("History", r.decision.SHA).Redacted(redact), redacted, limit)
	}
	r.publish.report(ctx, 0, doc)
	return nil
}

// messageActor reads "by <actor>" from the messages of updates made before
// the actor was recorded in the configuration.
var messageActor = regexp.MustCompile(`· by ([^ ·]+)`)

func historyEntries(hist []engine.Update) []render.HistoryEntry {
	out := make([]render.HistoryEntry, 0, len(hist))
	for _, u := range hist {
		prov := stack.ProvenanceOf(u.Config)
		actor := prov.Actor
		if m := messageActor.FindStringSubmatch(u.Message); actor == "" && m != nil {
			actor = m[1]
		}
		out = append(out, render.HistoryEntry{
			Version: u.Version, Kind: u.Kind, Result: u.Result, Time: u.StartTime,
			Commit: prov.Commit, Actor: actor, ActionVersion: prov.ActionVersion, PromotedFrom: prov.PromotedFrom, Message: u.Message,
		})
	}
	return out
}
