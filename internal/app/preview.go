package app

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/org/tap-deploy/internal/plan"
	"github.com/org/tap-deploy/internal/policy"
	"github.com/org/tap-deploy/internal/render"
	"github.com/org/tap-deploy/stack"
)

// preview runs a Pulumi preview, gates it on the policy rules with the
// engine's real values, and reports it on the pull request.
func (r *run) preview(ctx context.Context) error {
	res, runErr := r.onStack(ctx, "Pulumi preview", false, func(st Stack) (plan.Result, error) { return st.Preview(ctx) })
	if runErr != nil && res.Error == "" {
		res.Error = runErr.Error()
	}
	var blocked []policy.Violation
	if runErr == nil {
		blocked = r.gate(&res, r.cfg)
	}
	// A preview's outputs are partly unknown: they go to the step output,
	// not into the comment.
	shown := res
	shown.Outputs = nil
	publishErr := r.publish.report(ctx, r.pullRequest(), resultDoc(r.resultMeta("Preview", r.decision.SHA, r.cfg, res), shown))
	if err := r.resultOutputs(res); err != nil {
		return r.fail("Could not write the step outputs", err)
	}
	switch {
	case runErr != nil:
		return r.engineFailed(ctx, "The preview failed", runErr)
	case len(blocked) > 0:
		for _, v := range blocked {
			r.Runtime.Errorf("%s", v.String())
		}
		return r.fail("The preview breaks mandatory policy rules", fmt.Errorf("%d mandatory violation(s)", len(blocked)))
	case publishErr != nil:
		return r.fail("Could not update the pull request comment (the preview is in the job summary)", publishErr)
	}
	return nil
}

// resultMeta is the meta of an engine result of applying cfg, with its
// duration in the footer.
func (r *run) resultMeta(title, sha string, cfg stack.Config, res plan.Result) render.Meta {
	m := r.metaFor(title, sha, cfg)
	if res.Duration > 0 {
		m.Footer += fmt.Sprintf(" · %s took %.1f s", res.Kind, res.Duration.Seconds())
	}
	return m
}

// resultOutputs sets the outputs every engine command shares. Stack outputs
// come from the engine's events, where Pulumi has already hidden secret
// values: no --show-secrets call is ever made.
func (r *run) resultOutputs(res plan.Result) error {
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
	if res.Outputs != nil {
		b, err := json.Marshal(res.Outputs)
		if err != nil {
			return err
		}
		values[OutStackOutputs] = string(b)
	}
	return r.setOutputs(values)
}
