package app

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/org/tap-deploy/internal/graph"
	"github.com/org/tap-deploy/internal/inputs"
	"github.com/org/tap-deploy/internal/plan"
	"github.com/org/tap-deploy/internal/policy"
	"github.com/org/tap-deploy/internal/render"
	"github.com/org/tap-deploy/lambda/artifacts"
	"github.com/org/tap-deploy/stack"
)

// policySettings are the gate's settings for this run's configuration.
func (r *run) policySettings() policy.Settings {
	overrides := map[string]string{}
	for id, action := range r.in.PolicyOverrides {
		overrides[id] = string(action)
	}
	var tags []string
	for k := range r.cfg.CommonTags() {
		tags = append(tags, k)
	}
	sort.Strings(tags)
	return policy.Settings{AllowPublicAPI: r.cfg.APIAuthorization == "NONE", RequiredTags: tags, Overrides: overrides}
}

// code returns the deployment packages to put in the program. Validation
// only needs the graph, so a binary without the zips still validates.
func (r *run) code(forGraphOnly bool) (stack.Artifacts, error) {
	// Loading hashes the 12 MB of embedded zips (about 40 ms): once a run.
	if !r.codeLoaded {
		r.codeCache, r.codeErr = r.Artifacts()
		r.codeLoaded = true
	}
	code, err := r.codeCache, r.codeErr
	if err == artifacts.ErrMissing && forGraphOnly {
		return artifacts.Placeholder(), nil
	}
	return code, err
}

// validate runs the program under mocks and the policy gate over its graph:
// no CLI, no plugin, no credentials, no network.
func (r *run) validate() (policy.Report, error) {
	code, err := r.code(true)
	if err != nil {
		return policy.Report{}, r.fail("Could not load the Lambda packages", err)
	}
	g, err := graph.Collect(stack.Program(r.cfg, code), r.in.ProjectName, r.in.StackName, r.cfg.Region)
	if err != nil {
		return policy.Report{}, r.failBeforeEngine("The stack program failed offline", err)
	}
	rep := policy.Evaluate(g, r.policySettings())
	for _, id := range rep.Unknown {
		rep.Violations = append(rep.Violations, policy.Violation{RuleID: id, Level: policy.Mandatory, Name: inputs.NamePolicyOverrides,
			Message: fmt.Sprintf("policy-overrides names %s, which is not a rule; known rules: %v", id, policy.RuleIDs())})
	}

	view := render.Validation{Resources: rep.Resources, Rules: rep.Rules, Findings: findings(rep), Disabled: rep.Disabled, Lowered: rep.Lowered}
	meta := r.meta("Validation")
	if err := r.Runtime.AddSummary(render.ValidationMarkdown(meta, view, render.SummaryLimit)); err != nil {
		r.Runtime.Warningf("%v", err)
	}
	if r.in.Output == "json" {
		b, _ := json.MarshalIndent(map[string]any{"config": r.cfg.Values(), "resources": g.Resources, "report": rep}, "", "  ")
		r.Runtime.Print(string(b))
	}
	for _, v := range rep.Advisory() {
		r.Runtime.Warningf("%s", v.String())
	}
	mandatory := rep.Mandatory()
	r.setOutputs(map[string]string{OutPolicyViolations: fmt.Sprint(len(mandatory))}) //nolint:errcheck // reported with the next output write
	if len(mandatory) > 0 {
		for _, v := range mandatory {
			r.Runtime.Errorf("%s", v.String())
		}
		err := fmt.Errorf("%d mandatory policy violation(s); nothing was previewed or deployed", len(mandatory))
		if r.decision.Command != inputs.Validate {
			r.commentValidation(meta, view)
		}
		r.Runtime.Errorf("%v", err)
		return rep, reportedError{err}
	}
	r.Runtime.Infof("validation: %d resources pass %d rules (%d advisory findings)", rep.Resources, rep.Rules, len(rep.Advisory()))
	if r.decision.Command == inputs.Validate && r.decision.PullRequest != nil && r.Runtime.Local() {
		r.Runtime.Print(render.ValidationMarkdown(meta, view, render.CommentLimit))
	}
	return rep, nil
}

func findings(rep policy.Report) []plan.Finding {
	out := make([]plan.Finding, 0, len(rep.Violations))
	for _, v := range rep.Violations {
		out = append(out, plan.Finding{RuleID: v.RuleID, Level: string(v.Level), URN: v.URN, Resource: v.Name, Message: v.Message})
	}
	return out
}
