package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/org/tap-deploy/internal/engine"
	"github.com/org/tap-deploy/internal/inputs"
	"github.com/org/tap-deploy/internal/outcome"
	"github.com/org/tap-deploy/internal/render"
	"github.com/org/tap-deploy/stack"
)

// destroy tears the environment's stack down (the route let only a
// workflow_dispatch or a laptop get here, and the inputs checked that
// confirm-destroy names the environment). While the stack holds resources
// that keep data it refuses, unless destroy-protected says keep (an update
// retains them first: the destroy leaves them in the account) or delete
// (an update lifts their guards first: the destroy deletes them). The
// stack and its history stay in the backend, empty.
func (r *run) destroy(ctx context.Context) error {
	code, err := r.packages.get(packagesForGraph)
	if err != nil {
		return r.fail("Could not load the Lambda packages", err)
	}
	ref := envStack(r.in)
	st, err := r.openNamed(ctx, ref, mustExist, r.cfg, code, stack.Provenance{})
	if errors.Is(err, engine.ErrNoStack) {
		r.Runtime.Noticef("stack %s does not exist in the backend: nothing to destroy", r.in.StackName)
		r.reportTeardown(ctx, render.Teardown{})
		return nil
	}
	if err != nil {
		return r.fail("Could not open stack "+r.in.StackName, err)
	}
	defer st.Close()
	state, err := st.State(ctx)
	if err != nil {
		return r.fail("Could not read the state of stack "+r.in.StackName, err)
	}
	if err := pendingOperations(r.in.StackName, state); err != nil {
		return r.fail("An earlier update was interrupted", err)
	}
	guards := guarded(state.Resources)
	mode := r.in.DestroyProtected
	if blocking := blockingGuards(guards); len(blocking) > 0 && mode == inputs.DestroyRefuse {
		why := fmt.Sprintf("stack %s holds %d protected resource(s) that keep data. Nothing was changed. To tear it down anyway set %s: keep "+
			"(everything else is destroyed; these stay in the account, out of the stack) or %s: delete (deleted with their data)",
			r.in.StackName, len(blocking), r.inputsEnv().Spell(inputs.NameDestroyProtected), r.inputsEnv().Spell(inputs.NameDestroyProtected))
		r.reportTeardown(ctx, render.Teardown{Refused: why, Kept: describeGuards(blocking)})
		return r.fail(fmt.Sprintf("Refusing to destroy stack %s", r.in.StackName), fmt.Errorf("%s: %s", why, strings.Join(describeGuards(blocking), "; ")))
	}
	if mode != inputs.DestroyRefuse && len(state.Resources) > 0 {
		if state, err = r.prepareTeardown(ctx, st, ref, code, state, mode); err != nil {
			return err
		}
		guards = guarded(state.Resources)
	}
	kept := keptBy(guards, state.Resources)
	var res outcome.Result
	err = r.Runtime.Group("Pulumi destroy", func() error {
		var err error
		res, err = r.withLockRetry(ctx, "destroying", func() (outcome.Result, error) { return st.Destroy(ctx) })
		return err
	})
	report := render.Teardown{Removed: removedBy(res, kept), Kept: describeKept(kept, state.Resources)}
	if err != nil {
		report.Failed = err.Error()
		r.reportTeardown(ctx, report)
		return r.engineFailed(ctx, r.in.StackName, "The destroy failed", err)
	}
	r.Runtime.Noticef("destroyed stack %s: %d resource(s) removed, %d kept in the account; the stack and its history stay in the backend (pulumi stack rm removes them)",
		r.in.StackName, len(report.Removed), len(report.Kept))
	r.reportTeardown(ctx, report)
	return r.resultOutputs(res)
}

// prepareTeardown applies the newest update's configuration and code again,
// with the teardown's treatment of the data resources: retained (keep) or
// unguarded (delete). Nothing else changes, from the state the check read.
func (r *run) prepareTeardown(ctx context.Context, st Stack, ref stackRef, code stack.Packages, state engine.State, mode inputs.DestroyProtected) (engine.State, error) {
	hist, err := st.History(ctx)
	if err != nil {
		return state, r.fail("Could not read the stack history", err)
	}
	if len(hist) == 0 {
		return state, r.fail("Cannot prepare the teardown", fmt.Errorf("stack %s has resources but no update in its history to take the configuration from", r.in.StackName))
	}
	rec, err := stack.FromRecord(r.cfg.Base, hist[0].Config)
	if err != nil {
		return state, r.fail(fmt.Sprintf("Cannot prepare the teardown from version %d", hist[0].Version), err)
	}
	cfg := rec.Config
	cfg.Teardown = stack.TeardownKeep
	what := "retaining the data resources, so that the destroy leaves them in the account"
	if mode == inputs.DestroyDelete {
		cfg.Teardown, what = stack.TeardownDelete, "lifting the deletion protection of the data resources, so that the destroy deletes them with their data"
	}
	prep, err := r.openNamed(ctx, ref, mustExist, cfg, rec.PackagesFor(code), stack.Provenance{Commit: rec.Commit})
	if err != nil {
		return state, r.fail("Could not open stack "+ref.name, err)
	}
	defer prep.Close()
	r.Runtime.Noticef("teardown of %s: an update of version %d's configuration and code first, %s", ref.name, hist[0].Version, what)
	err = r.Runtime.Group("Pulumi update before the destroy ("+string(mode)+")", func() error {
		_, err := r.withLockRetry(ctx, "updating", func() (outcome.Result, error) {
			return prep.Up(ctx, fmt.Sprintf("teardown (%s) · %s", mode, r.updateMessage(rec.Commit)), engine.UpOptions{ExpectState: state.Digest})
		})
		return err
	})
	if err != nil {
		return state, r.engineFailed(ctx, ref.name, "The update before the destroy failed; nothing was destroyed", err)
	}
	now, err := st.State(ctx)
	if err != nil {
		return state, r.fail("Could not read the state of stack "+ref.name, err)
	}
	return now, nil
}

// guard is a resource of the state that a destroy does not simply delete.
type guard struct {
	res engine.StateResource
	why string
	// blocking means it keeps data: a destroy without destroy-protected
	// refuses while it is there. Others (the region's API Gateway logging
	// role, kept by design) are only reported.
	blocking bool
}

// dataTypes are the resources that keep data.
var dataTypes = map[string]string{
	"aws:dynamodb/table:Table":             "the items table",
	"aws:s3/bucketV2:BucketV2":             "a bucket (with its objects)",
	"aws:s3/bucketObjectv2:BucketObjectv2": "a Lambda package kept for rollbacks",
}

// guarded lists what guards each resource of the state against deletion.
func guarded(resources []engine.StateResource) []guard {
	var out []guard
	for _, res := range resources {
		data, isData := dataTypes[res.Type]
		var why []string
		switch {
		case res.Protect:
			why = append(why, "protected (Pulumi's protect)")
		case res.Type == "aws:dynamodb/table:Table" && res.Inputs["deletionProtectionEnabled"] == true:
			why = append(why, "deletion protection on")
		case res.Type == "aws:s3/bucketV2:BucketV2" && res.Inputs["forceDestroy"] != true:
			why = append(why, "AWS refuses to delete it while it holds objects")
		}
		if res.RetainOnDelete {
			why = append(why, "retained on delete")
		}
		if len(why) == 0 {
			continue
		}
		if isData {
			why = append([]string{data}, why...)
		}
		out = append(out, guard{res: res, why: strings.Join(why, ", "), blocking: isData || res.Protect})
	}
	return out
}

func blockingGuards(gs []guard) []guard {
	var out []guard
	for _, g := range gs {
		if g.blocking {
			out = append(out, g)
		}
	}
	return out
}

func describeGuards(gs []guard) []string {
	out := make([]string, len(gs))
	for i, g := range gs {
		out[i] = fmt.Sprintf("%s %s: %s", g.res.Type, cmp.Or(g.res.ID, urnName(g.res.URN)), g.why)
	}
	return out
}

// keptBy are the URNs a destroy leaves in the account: those retained on
// delete.
func keptBy(gs []guard, _ []engine.StateResource) map[string]bool {
	kept := map[string]bool{}
	for _, g := range gs {
		if g.res.RetainOnDelete {
			kept[g.res.URN] = true
		}
	}
	return kept
}

func describeKept(kept map[string]bool, resources []engine.StateResource) []string {
	var out []string
	for _, res := range resources {
		if !kept[res.URN] {
			continue
		}
		why := "retained on delete"
		switch data, ok := dataTypes[res.Type]; {
		case ok:
			why = data
		case strings.HasPrefix(res.Type, "aws:s3/"):
			why = "kept with its bucket (its access block, encryption, policy, versioning)"
		case strings.Contains(res.URN, "apigw-account") || res.Type == "aws:apigateway/account:Account":
			why = "retained by design: the region's API Gateway logging setting, which every API of the account and region uses"
		}
		out = append(out, fmt.Sprintf("%s %s: %s", res.Type, cmp.Or(res.ID, urnName(res.URN)), why))
	}
	return out
}

// removedBy are the cloud resources the destroy deleted.
func removedBy(res outcome.Result, kept map[string]bool) []string {
	var out []string
	for _, s := range res.ByOp(outcome.OpDelete) {
		if kept[s.URN] || s.Error != "" {
			continue
		}
		out = append(out, s.Type+" "+s.Name)
	}
	return out
}

func urnName(urn string) string {
	if i := strings.LastIndex(urn, "::"); i >= 0 {
		return urn[i+2:]
	}
	return urn
}

// reportTeardown publishes the teardown's report to the job summary.
func (r *run) reportTeardown(ctx context.Context, t render.Teardown) {
	meta := r.meta("Teardown", r.decision.SHA)
	doc := func(_ string, limit int, redact func(string) string) string {
		return render.TeardownMarkdown(meta.Redacted(redact), t, limit)
	}
	r.publish.report(ctx, 0, doc)
}
