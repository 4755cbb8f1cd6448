package app

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/org/tap-deploy/internal/inputs"
	"github.com/org/tap-deploy/internal/offline"
	"github.com/org/tap-deploy/internal/outcome"
	"github.com/org/tap-deploy/internal/policy"
	"github.com/org/tap-deploy/internal/render"
	"github.com/org/tap-deploy/stack"
)

// validate runs the program under mocks and the policy gate over its graph:
// no CLI, no plugin, no credentials, no network. It runs first, whatever the
// command, and is all a validate run (and a fork PR) does.
func (r *run) validate(ctx context.Context) error {
	code, err := r.packages.get(packagesForGraph)
	if err != nil {
		return r.fail("Could not load the Lambda packages", err)
	}
	g, err := offline.Collect(stack.Program(r.cfg, code), r.in.ProjectName, r.in.StackName, r.cfg.Region)
	if err != nil {
		return r.failBeforeEngine(ctx, "The stack program failed offline", err)
	}
	rep := policy.Evaluate(g, policySettings(r.in.PolicyOverrides, r.cfg))
	for _, id := range rep.Unknown {
		rep.Violations = append(rep.Violations, policy.Violation{RuleID: id, Level: policy.Mandatory, Name: inputs.NamePolicyOverrides,
			Message: fmt.Sprintf("policy-overrides names %s, which is not a rule; known rules: %s", id, strings.Join(policy.RuleIDs(), ", "))})
	}

	view := render.Validation{Resources: rep.Resources, Rules: rep.Rules, Findings: findings(rep)}
	doc := validationDoc(r.meta("Validation", r.decision.SHA), view)
	if r.in.Output == "json" {
		b, _ := json.MarshalIndent(map[string]any{"config": r.cfg.Values(), "resources": g.Resources, "report": rep}, "", "  ")
		r.publish.data(string(b))
	}
	for _, v := range rep.Advisory() {
		r.Runtime.Warningf("%s", v.String())
	}
	mandatory := rep.Mandatory()
	r.setOutputs(map[string]string{OutPolicyViolations: fmt.Sprint(len(mandatory))}) //nolint:errcheck // reported with the next output write

	validateOnly := r.decision.Command == inputs.Validate
	if len(mandatory) > 0 {
		for _, v := range mandatory {
			r.Runtime.Errorf("%s", v.String())
		}
		err := fmt.Errorf("%d mandatory policy violation(s); nothing was previewed or deployed", len(mandatory))
		r.publishValidation(ctx, doc, validateOnly)
		r.Runtime.Errorf("%v", err)
		return reportedError{err}
	}
	r.Runtime.Infof("validation: %d resources pass %d rules (%d advisory findings)", rep.Resources, rep.Rules, len(rep.Advisory()))
	if validateOnly {
		r.publishValidation(ctx, doc, true)
	} else {
		// The preview or update that follows is the result; this report
		// stays in the job summary.
		r.publish.note(doc)
	}
	return nil
}

// publishValidation reports the validation as the run's result. Only a
// validation that stops another command takes the PR comment: a validate
// run beside a preview job must not overwrite the preview's comment.
func (r *run) publishValidation(ctx context.Context, doc document, validateOnly bool) {
	if validateOnly && r.in.Output == "json" {
		// stdout holds the JSON report; the markdown goes to the summary.
		r.publish.note(doc)
		return
	}
	if validateOnly {
		r.publish.report(ctx, 0, doc)
		return
	}
	r.reportResult(ctx, doc)
}

func findings(rep policy.Report) []outcome.Finding {
	out := make([]outcome.Finding, 0, len(rep.Violations))
	for _, v := range rep.Violations {
		out = append(out, outcome.Finding{RuleID: v.RuleID, Level: string(v.Level), URN: v.URN, Resource: v.Name, Message: v.Message})
	}
	return out
}
