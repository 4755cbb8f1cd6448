package app

// The policy gate: the rules a preview's resources are checked against
// before any update, with the exceptions the inputs allow.

import (
	"sort"

	"github.com/org/tap-deploy/internal/graph"
	"github.com/org/tap-deploy/internal/inputs"
	"github.com/org/tap-deploy/internal/outcome"
	"github.com/org/tap-deploy/internal/policy"
	"github.com/org/tap-deploy/stack"
)

// gatePreview records a failed preview's error in its result and gates a
// successful one on the policy rules. It returns the gated result, what a
// report shows of it (a preview's outputs are partly unknown: they go to
// the step output, not into the comment), and the mandatory violations.
func gatePreview(res outcome.Result, runErr error, cfg stack.Config, overrides map[string]inputs.PolicyAction) (gated, shown outcome.Result, blocked []policy.Violation) {
	if runErr != nil && res.Error == "" {
		res.Error = runErr.Error()
	}
	if runErr == nil {
		res, blocked = gate(res, cfg, overrides)
	}
	shown = res
	shown.Outputs = nil
	return res, shown, blocked
}

// policySettings are the gate's settings for a configuration.
func policySettings(given map[string]inputs.PolicyAction, cfg stack.Config) policy.Settings {
	overrides := map[string]string{}
	for id, action := range given {
		overrides[id] = string(action)
	}
	var tags []string
	for k := range cfg.CommonTags() {
		tags = append(tags, k)
	}
	sort.Strings(tags)
	return policy.Settings{AllowPublicAPI: cfg.APIAuthorization == "NONE", RequiredTags: tags, Overrides: overrides}
}

// gate runs the policy rules on the graph the engine saw, with real values.
// It returns the result with the findings added, and the mandatory
// violations.
func gate(res outcome.Result, cfg stack.Config, overrides map[string]inputs.PolicyAction) (outcome.Result, []policy.Violation) {
	rep := policy.Evaluate(graph.New(res.Resources), policySettings(overrides, cfg))
	res.Findings = append(append([]outcome.Finding(nil), res.Findings...), findings(rep)...)
	return res, rep.Mandatory()
}
