package bootstrap

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// The reference command of the issue and the README:
// tap-deploy bootstrap --environment dev,staging,prod --aws-region eu-west-1 --repository owner/repo
var referenceOptions = Options{
	Project: "tap", Environments: []string{"dev", "staging", "prod"}, Region: "eu-west-1", Repository: "owner/repo",
	CreateOIDCProvider: true, APIGatewayAccount: OwnerTemplate, ReviewEnvironment: "dev",
}

// reference is the reference template, made once for all tests.
var reference = sync.OnceValues(func() ([]byte, error) { return Template(referenceOptions) })

func referenceTemplate(t *testing.T) []byte {
	t.Helper()
	out, err := reference()
	require.NoError(t, err)
	return out
}

// parsed is a template read back as plain YAML.
type parsed map[string]any

func parse(t *testing.T, template []byte) parsed {
	t.Helper()
	var doc map[string]any
	require.NoError(t, yaml.Unmarshal(template, &doc), "the template is plain YAML")
	return doc
}

func (p parsed) resources(t *testing.T) map[string]any {
	t.Helper()
	r, ok := p["Resources"].(map[string]any)
	require.True(t, ok, "the template has Resources")
	return r
}

func (p parsed) resource(t *testing.T, logical string) map[string]any {
	t.Helper()
	r, ok := p.resources(t)[logical].(map[string]any)
	require.True(t, ok, "the template has %s", logical)
	return r
}

func props(t *testing.T, resource map[string]any) map[string]any {
	t.Helper()
	p, ok := resource["Properties"].(map[string]any)
	require.True(t, ok)
	return p
}

// The values CloudFormation substitutes, as the tests resolve them: the
// offline model's account and partition, the default bucket's name.
const testBucket = "tap-pulumi-state-123456789012-eu-west-1"

// resolve replaces every Fn::Sub by its value.
func resolve(v any, partition string) any {
	switch v := v.(type) {
	case map[string]any:
		if s, ok := v["Fn::Sub"].(string); ok && len(v) == 1 {
			return strings.NewReplacer("${AWS::Partition}", partition, "${AWS::AccountId}", modelAccount,
				"${StateBucket}", testBucket, "${AWS::Region}", "eu-west-1").Replace(s)
		}
		out := map[string]any{}
		for k, e := range v {
			out[k] = resolve(e, partition)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = resolve(e, partition)
		}
		return out
	}
	return v
}

// stmt is one statement of a role's policies, resolved.
type stmt struct {
	sid        string
	effect     string
	actions    []string
	resources  []string
	conditions map[string]map[string][]string
}

func strings1(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, len(v))
		for i, e := range v {
			out[i] = fmt.Sprint(e)
		}
		return out
	}
	return nil
}

func statementsOf(doc map[string]any) []stmt {
	var out []stmt
	for _, s := range doc["Statement"].([]any) {
		m := s.(map[string]any)
		st := stmt{effect: fmt.Sprint(m["Effect"]), actions: strings1(m["Action"]), resources: strings1(m["Resource"]),
			conditions: map[string]map[string][]string{}}
		if sid, ok := m["Sid"].(string); ok {
			st.sid = sid
		}
		if c, ok := m["Condition"].(map[string]any); ok {
			for op, keys := range c {
				st.conditions[op] = map[string][]string{}
				for k, v := range keys.(map[string]any) {
					st.conditions[op][k] = strings1(v)
				}
			}
		}
		out = append(out, st)
	}
	return out
}

// policies are the managed policy documents attached to a role, resolved.
func (p parsed) policies(t *testing.T, role, partition string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for name, r := range p.resources(t) {
		res := r.(map[string]any)
		if res["Type"] != "AWS::IAM::ManagedPolicy" {
			continue
		}
		pr := props(t, res)
		for _, ref := range pr["Roles"].([]any) {
			if ref.(map[string]any)["Ref"] == role {
				doc, ok := resolve(pr["PolicyDocument"], partition).(map[string]any)
				require.True(t, ok, name)
				out = append(out, doc)
			}
		}
	}
	require.NotEmpty(t, out, "%s has policies", role)
	return out
}

// roleStatements are every statement a role's policies hold.
func (p parsed) roleStatements(t *testing.T, role string) []stmt {
	t.Helper()
	var out []stmt
	for _, doc := range p.policies(t, role, "aws") {
		out = append(out, statementsOf(doc)...)
	}
	return out
}

// request is one call as IAM authorizes it: an action on a resource, with
// the request's context keys (tags, iam:PassedToService, s3:prefix).
type request struct {
	action   string
	resource string
	context  map[string]string
}

func (r request) String() string {
	return fmt.Sprintf("%s on %s %v", r.action, r.resource, r.context)
}

// allows evaluates a role's (Allow-only) statements for a request the way
// IAM does for the condition operators the template uses; it returns the
// Sid of the statement that allows it, or "".
func allows(statements []stmt, r request) string {
	for _, s := range statements {
		if s.effect != "Allow" || !anyMatch(s.actions, r.action, true) || !anyMatch(s.resources, r.resource, false) {
			continue
		}
		if conditionsHold(s.conditions, r.context) {
			return s.sid + " "
		}
	}
	return ""
}

func anyMatch(patterns []string, s string, fold bool) bool {
	for _, p := range patterns {
		if fold {
			if matches(strings.ToLower(p), strings.ToLower(s)) {
				return true
			}
		} else if matches(p, s) {
			return true
		}
	}
	return false
}

func conditionsHold(conds map[string]map[string][]string, ctx map[string]string) bool {
	for op, keys := range conds {
		for key, values := range keys {
			got, present := ctx[key]
			ok := false
			switch op {
			case "Null":
				ok = (values[0] == "true") == !present
			case "StringEquals", "ArnEquals", "Bool":
				for _, v := range values {
					ok = ok || (present && got == v)
				}
			case "StringLike", "ArnLike":
				for _, v := range values {
					ok = ok || (present && matches(v, got))
				}
			default:
				panic("the test's evaluator does not know the condition operator " + op)
			}
			if !ok {
				return false
			}
		}
	}
	return true
}
