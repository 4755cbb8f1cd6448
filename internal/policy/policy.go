// Package policy is the policy gate: the rules of docs/POLICY-RULES.md over a
// resource graph. The same rules run offline (graph from mocks) and during
// a real preview or update (graph from the engine's resource events).
package policy

import (
	"fmt"
	"sort"
	"strings"

	"github.com/org/tap-deploy/internal/graph"
)

// Level is a rule's enforcement level.
type Level string

const (
	Mandatory Level = "mandatory"
	Advisory  Level = "advisory"
)

// Settings are the facts rules need beyond the graph.
type Settings struct {
	// AllowPublicAPI means the configuration asked for methods without
	// authorization (CKV_AWS_59 then passes).
	AllowPublicAPI bool
	// RequiredTags are the common tags every taggable resource carries.
	RequiredTags []string
	// Overrides lowers rules to advisory or disables them, by rule ID.
	Overrides map[string]string
}

// Rule is one policy rule.
type Rule struct {
	ID    string
	Level Level
	Title string
	// Types limits the rule to these resource types; empty means every
	// resource.
	Types []string
	// Check returns what to change, one message per problem.
	Check func(c *checkContext, r graph.Resource) []string
}

// Violation is one rule broken by one resource.
type Violation struct {
	RuleID  string `json:"ruleId"`
	Level   Level  `json:"level"`
	URN     string `json:"urn"`
	Type    string `json:"type"`
	Name    string `json:"name"`
	Message string `json:"message"`
	// Lowered is set when a mandatory rule was lowered to advisory by
	// policy-overrides.
	Lowered bool `json:"lowered,omitempty"`
}

func (v Violation) String() string {
	return fmt.Sprintf("%s [%s] %s %q: %s", v.RuleID, v.Level, v.Type, v.Name, v.Message)
}

// Report is the outcome of evaluating every rule.
type Report struct {
	Resources  int         `json:"resources"`
	Rules      int         `json:"rules"`
	Violations []Violation `json:"violations"`
	// Disabled and Lowered list rule IDs changed by policy-overrides, so
	// the report says so.
	Disabled []string `json:"disabled,omitempty"`
	Lowered  []string `json:"lowered,omitempty"`
	// Unknown lists overrides naming no rule.
	Unknown []string `json:"unknownOverrides,omitempty"`
}

// Mandatory returns the violations that fail the run.
func (r Report) Mandatory() []Violation { return r.filter(Mandatory) }

// Advisory returns the violations shown as warnings.
func (r Report) Advisory() []Violation { return r.filter(Advisory) }

func (r Report) filter(l Level) []Violation {
	var out []Violation
	for _, v := range r.Violations {
		if v.Level == l {
			out = append(out, v)
		}
	}
	return out
}

// Evaluate checks every rule against every resource it applies to.
func Evaluate(g *graph.Graph, s Settings) Report {
	c := newCheckContext(g, s)
	rep := Report{Rules: len(Rules)}
	known := map[string]bool{}
	for _, rule := range Rules {
		known[rule.ID] = true
		level := rule.Level
		switch s.Overrides[rule.ID] {
		case "disabled":
			rep.Disabled = append(rep.Disabled, rule.ID)
			continue
		case "advisory":
			if level == Mandatory {
				rep.Lowered = append(rep.Lowered, rule.ID)
				level = Advisory
			}
		}
		for _, r := range g.Resources {
			if !applies(rule, r) {
				continue
			}
			for _, msg := range rule.Check(c, r) {
				rep.Violations = append(rep.Violations, Violation{
					RuleID: rule.ID, Level: level, URN: r.URN, Type: r.Type, Name: r.Name,
					Message: msg, Lowered: level != rule.Level,
				})
			}
		}
	}
	for id := range s.Overrides {
		if !known[id] {
			rep.Unknown = append(rep.Unknown, id)
		}
	}
	sort.Strings(rep.Unknown)
	for _, r := range g.Resources {
		if r.Custom {
			rep.Resources++
		}
	}
	sort.SliceStable(rep.Violations, func(i, j int) bool {
		a, b := rep.Violations[i], rep.Violations[j]
		if a.Level != b.Level {
			return a.Level == Mandatory
		}
		if a.RuleID != b.RuleID {
			return a.RuleID < b.RuleID
		}
		return a.URN < b.URN
	})
	return rep
}

func applies(rule Rule, r graph.Resource) bool {
	if !r.Custom {
		return false
	}
	if len(rule.Types) == 0 {
		return true
	}
	for _, t := range rule.Types {
		if t == r.Type {
			return true
		}
	}
	return false
}

// Exceptions lists what the settings switch off: the rules disabled and
// the mandatory rules lowered to advisory by policy-overrides, and whether
// the configuration asks for a public API. Every report shows them, so a
// reviewer sees what was switched off even when everything passes.
func Exceptions(s Settings) (disabled, lowered []string, publicAPI bool) {
	for _, rule := range Rules {
		switch s.Overrides[rule.ID] {
		case "disabled":
			disabled = append(disabled, rule.ID)
		case "advisory":
			if rule.Level == Mandatory {
				lowered = append(lowered, rule.ID)
			}
		}
	}
	return disabled, lowered, s.AllowPublicAPI
}

// RuleIDs lists every rule ID, for validating policy-overrides.
func RuleIDs() []string {
	ids := make([]string, len(Rules))
	for i, r := range Rules {
		ids[i] = r.ID
	}
	return ids
}

func joinQuoted(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}
