package policy

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"

	"github.com/org/tap-deploy/internal/graph"
)

// unknown reports whether a value is not known yet (a preview of a resource
// that depends on one not yet created). Rules skip what they cannot see,
// as Pulumi's own policy engine does; the offline gate sees everything.
func unknown(v any) bool {
	s, ok := v.(string)
	return ok && (s == plugin.UnknownStringValue || strings.HasPrefix(s, "output<"))
}

// valueText shows a value from a resource's inputs in a finding: as JSON,
// never as Go prints it (map[…], <nil>).
func valueText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "(a value that is not JSON)"
	}
	return string(b)
}

// get walks a path of keys through nested maps.
func get(m map[string]any, path ...string) any {
	var cur any = m
	for _, k := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[k]
	}
	return cur
}

func getString(m map[string]any, path ...string) string {
	s, _ := get(m, path...).(string)
	return s
}

func getBool(m map[string]any, path ...string) (value, set bool) {
	v := get(m, path...)
	b, ok := v.(bool)
	return b, ok
}

func getNumber(m map[string]any, path ...string) (float64, bool) {
	switch v := get(m, path...).(type) {
	case float64:
		return v, true
	case int:
		return float64(v), true
	case int64:
		return float64(v), true
	}
	return 0, false
}

// stringList turns a string or a list of strings (IAM allows both) into a list.
func stringList(v any) []string {
	switch t := v.(type) {
	case string:
		return []string{t}
	case []any:
		out := make([]string, 0, len(t))
		for _, e := range t {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	case []string:
		return t
	}
	return nil
}

// statement is an IAM statement as found in any policy document.
type statement struct {
	Effect    string
	Action    []string
	NotAction []string
	Resource  []string
	Principal any
	Condition map[string]any
}

// document parses a policy document given as a JSON string or an object.
// ok is false when the document is not known yet.
func document(v any) (stmts []statement, ok bool, err error) {
	var doc map[string]any
	switch t := v.(type) {
	case nil:
		return nil, true, nil
	case string:
		if unknown(t) {
			return nil, false, nil
		}
		if err := json.Unmarshal([]byte(t), &doc); err != nil {
			return nil, true, err
		}
	case map[string]any:
		doc = t
	default:
		return nil, true, nil
	}
	var raw []any
	switch s := doc["Statement"].(type) {
	case []any:
		raw = s
	case map[string]any:
		raw = []any{s}
	}
	for _, r := range raw {
		m, _ := r.(map[string]any)
		st := statement{
			Effect:    stringOr(m["Effect"]),
			Action:    stringList(m["Action"]),
			NotAction: stringList(m["NotAction"]),
			Resource:  stringList(m["Resource"]),
			Principal: m["Principal"],
		}
		st.Condition, _ = m["Condition"].(map[string]any)
		stmts = append(stmts, st)
	}
	return stmts, true, nil
}

func stringOr(v any) string {
	s, _ := v.(string)
	return s
}

// checkContext gives rules indexed access to the graph.
type checkContext struct {
	g        *graph.Graph
	settings Settings
}

func newCheckContext(g *graph.Graph, s Settings) *checkContext {
	return &checkContext{g: g, settings: s}
}

// configuring returns resources of a type that configure the given bucket:
// those whose `bucket` input names it, or, when that input is not known
// yet, those under the same parent component.
func (c *checkContext) configuring(typ string, bucket graph.Resource) []graph.Resource {
	name := getString(bucket.Inputs, "bucket")
	var out []graph.Resource
	for _, r := range c.g.OfType(typ) {
		ref := r.Inputs["bucket"]
		switch {
		case unknown(ref) && r.Parent == bucket.Parent:
			out = append(out, r)
		case !unknown(ref) && name != "" && ref == name:
			out = append(out, r)
		}
	}
	return out
}

// alarmTarget reports whether any alarm notifies the topic (its ARN, where
// known, or its name at the end of an action's ARN).
func (c *checkContext) alarmTarget(topic graph.Resource) bool {
	arn, _ := topic.Outputs["arn"].(string)
	name := getString(topic.Inputs, "name")
	for _, alarm := range c.g.OfType(tAlarm) {
		for _, field := range []string{"alarmActions", "okActions"} {
			for _, a := range stringList(alarm.Inputs[field]) {
				if (arn != "" && a == arn) || (name != "" && !unknown(a) && strings.HasSuffix(a, ":sns:"+regionAccountOf(a)+":"+name)) {
					return true
				}
			}
		}
	}
	return false
}

// regionAccountOf is the "region:account" part of an ARN.
func regionAccountOf(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return ""
	}
	return parts[3] + ":" + parts[4]
}

// key finds the stack's KMS key a reference names: its ARN or id, or an
// alias of it.
func (c *checkContext) key(ref string) (graph.Resource, bool) {
	for _, alias := range c.g.OfType(tKMSAlias) {
		if getString(alias.Inputs, "name") == ref || strings.HasSuffix(ref, ":"+getString(alias.Inputs, "name")) {
			ref = getString(alias.Inputs, "targetKeyId")
		}
	}
	for _, k := range c.g.OfType(tKMSKey) {
		if ref != "" && (k.Outputs["arn"] == ref || k.Outputs["keyId"] == ref) {
			return k, true
		}
	}
	return graph.Resource{}, false
}

// keyLetsCloudWatchEncrypt reports whether a key's policy lets CloudWatch
// encrypt alarm notifications with it.
func (c *checkContext) keyLetsCloudWatchEncrypt(key graph.Resource) bool {
	stmts, known, _ := document(key.Inputs["policy"])
	if !known {
		return true
	}
	var decrypt, generate bool
	for _, s := range stmts {
		if s.Effect != "Allow" || !strings.Contains(fmt.Sprint(s.Principal), "cloudwatch.amazonaws.com") {
			continue
		}
		for _, a := range s.Action {
			decrypt = decrypt || a == "kms:Decrypt" || a == "kms:*"
			generate = generate || strings.HasPrefix(a, "kms:GenerateDataKey") || a == "kms:*"
		}
	}
	return decrypt && generate
}
