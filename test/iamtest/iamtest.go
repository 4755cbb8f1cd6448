// Package iamtest evaluates the roles of a CloudFormation template (the one
// tap-deploy bootstrap prints) the way IAM does, for the condition operators
// that template uses: tests ask whether a role may make a call, from the
// cloud's own ARNs and the calls a run really made.
package iamtest

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/org/tap-deploy/internal/iampattern"
)

// Vars are what CloudFormation substitutes in the template.
type Vars struct {
	Partition string // aws
	Account   string // 123456789012
	Region    string
	// Bucket is the state bucket's name (${StateBucket}).
	Bucket string
}

// Template is a parsed template.
type Template struct {
	Doc  map[string]any
	vars Vars
}

// Parse reads a template as plain YAML.
func Parse(template []byte, vars Vars) (*Template, error) {
	var doc map[string]any
	if err := yaml.Unmarshal(template, &doc); err != nil {
		return nil, fmt.Errorf("the template is not plain YAML: %w", err)
	}
	if _, ok := doc["Resources"].(map[string]any); !ok {
		return nil, fmt.Errorf("the template has no Resources")
	}
	return &Template{Doc: doc, vars: vars}, nil
}

// WithVars is the template with other substitutions.
func (t *Template) WithVars(v Vars) *Template { return &Template{Doc: t.Doc, vars: v} }

// Resolve replaces every Fn::Sub in v by its value.
func (t *Template) Resolve(v any) any {
	switch v := v.(type) {
	case map[string]any:
		if s, ok := v["Fn::Sub"].(string); ok && len(v) == 1 {
			return strings.NewReplacer("${AWS::Partition}", t.vars.Partition, "${AWS::AccountId}", t.vars.Account,
				"${AWS::Region}", t.vars.Region, "${StateBucket}", t.vars.Bucket, "${!", "${").Replace(s)
		}
		out := map[string]any{}
		for k, e := range v {
			out[k] = t.Resolve(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = t.Resolve(e)
		}
		return out
	}
	return v
}

// Statement is one statement of a policy, resolved.
type Statement struct {
	Sid        string
	Effect     string
	Actions    []string
	Resources  []string
	Conditions map[string]map[string][]string
}

// Strings reads a policy value that is a string or a list of them.
func Strings(v any) []string {
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

// Statements reads a (resolved) policy document.
func Statements(doc map[string]any) []Statement {
	var out []Statement
	list, _ := doc["Statement"].([]any)
	for _, s := range list {
		m, _ := s.(map[string]any)
		st := Statement{Effect: fmt.Sprint(m["Effect"]), Actions: Strings(m["Action"]), Resources: Strings(m["Resource"]),
			Conditions: map[string]map[string][]string{}}
		st.Sid, _ = m["Sid"].(string)
		if c, ok := m["Condition"].(map[string]any); ok {
			for op, keys := range c {
				st.Conditions[op] = map[string][]string{}
				k, _ := keys.(map[string]any)
				for key, v := range k {
					st.Conditions[op][key] = Strings(v)
				}
			}
		}
		out = append(out, st)
	}
	return out
}

// Role is every statement of the managed policies attached to a role, with
// the role's tags in place of IAM's ${aws:PrincipalTag/…} variables (a
// statement naming a tag the role lacks matches nothing, so it is left
// out, as IAM does).
func (t *Template) Role(logical string) ([]Statement, error) {
	resources := t.Doc["Resources"].(map[string]any)
	r, ok := resources[logical].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the template has no %s", logical)
	}
	var vars []string
	if props, ok := r["Properties"].(map[string]any); ok {
		tags, _ := props["Tags"].([]any)
		for _, tag := range tags {
			m, _ := tag.(map[string]any)
			vars = append(vars, fmt.Sprintf("${aws:PrincipalTag/%v}", m["Key"]), fmt.Sprint(m["Value"]))
		}
	}
	principal := strings.NewReplacer(vars...)
	var out []Statement
	for _, r := range resources {
		res, _ := r.(map[string]any)
		if res["Type"] != "AWS::IAM::ManagedPolicy" {
			continue
		}
		props, _ := res["Properties"].(map[string]any)
		roles, _ := props["Roles"].([]any)
		for _, ref := range roles {
			if m, _ := ref.(map[string]any); m["Ref"] == logical {
				doc, _ := t.Resolve(props["PolicyDocument"]).(map[string]any)
				for _, s := range Statements(doc) {
					if s, ok := s.withPrincipal(principal); ok {
						out = append(out, s)
					}
				}
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s has no policies", logical)
	}
	return out, nil
}

// Policy is every statement of a managed policy of the template that no
// role holds as a policy of its own: a permissions boundary, which limits
// what the roles that carry it may do (Allows of its statements) and
// grants nothing.
func (t *Template) Policy(logical string) ([]Statement, error) {
	resources := t.Doc["Resources"].(map[string]any)
	r, ok := resources[logical].(map[string]any)
	if !ok || r["Type"] != "AWS::IAM::ManagedPolicy" {
		return nil, fmt.Errorf("the template has no managed policy %s", logical)
	}
	props, _ := r["Properties"].(map[string]any)
	doc, _ := t.Resolve(props["PolicyDocument"]).(map[string]any)
	out := Statements(doc)
	if len(out) == 0 {
		return nil, fmt.Errorf("%s has no statements", logical)
	}
	return out, nil
}

// withPrincipal is s with the principal's tags substituted; false when it
// names a tag the principal lacks.
func (s Statement) withPrincipal(r *strings.Replacer) (Statement, bool) {
	ok := true
	sub := func(values []string) []string {
		out := make([]string, len(values))
		for i, v := range values {
			out[i] = r.Replace(v)
			ok = ok && !strings.Contains(out[i], "${aws:")
		}
		return out
	}
	c := s
	c.Resources = sub(s.Resources)
	c.Conditions = map[string]map[string][]string{}
	for op, keys := range s.Conditions {
		c.Conditions[op] = map[string][]string{}
		for k, v := range keys {
			c.Conditions[op][k] = sub(v)
		}
	}
	return c, ok
}

// Request is one call as IAM authorizes it: an action on a resource, with
// the request's context keys (aws:RequestTag/…, aws:ResourceTag/…,
// iam:PassedToService, s3:prefix).
type Request struct {
	Action   string
	Resource string
	Context  map[string]string
}

// PermissionsBoundaryKey is IAM's context key for a role's permissions
// boundary.
const PermissionsBoundaryKey = "iam:PermissionsBoundary"

// RoleCall is a call on an IAM role as IAM authorizes it: the request's
// context holds iam:PermissionsBoundary for the calls AWS lists the key
// for, and no other. For CreateRole and PutRolePermissionsBoundary it is
// the boundary the request sets (requested); for the calls that change
// the role's policies, trust, description or settings, its deletion and
// DeleteRolePermissionsBoundary, it is the boundary the role carries now
// (current). An empty boundary leaves the
// key out, as IAM does for a role without one: a StringEquals on it then
// fails. (Service Authorization Reference, IAM: the condition keys of
// each action; IAM User Guide, permissions boundaries.)
func RoleCall(action, role, requested, current string) Request {
	boundary := ""
	switch action {
	case "iam:CreateRole", "iam:PutRolePermissionsBoundary":
		boundary = requested
	case "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:AttachRolePolicy", "iam:DetachRolePolicy", "iam:DeleteRolePermissionsBoundary",
		"iam:UpdateRole", "iam:UpdateRoleDescription", "iam:UpdateAssumeRolePolicy", "iam:DeleteRole":
		boundary = current
	}
	r := Request{Action: action, Resource: role, Context: map[string]string{}}
	if boundary != "" {
		r.Context[PermissionsBoundaryKey] = boundary
	}
	return r
}

func (r Request) String() string { return fmt.Sprintf("%s on %s %v", r.Action, r.Resource, r.Context) }

// Allows evaluates a role's statements for a request and returns the Sid
// of an Allow statement that allows it, or "": with no Allow, or with a
// Deny that matches (an explicit Deny wins), IAM denies.
func Allows(statements []Statement, r Request) string {
	allowed := ""
	for _, s := range statements {
		if !anyMatch(s.Actions, r.Action, true) || !anyMatch(s.Resources, r.Resource, false) || !conditionsHold(s.Conditions, r.Context) {
			continue
		}
		switch s.Effect {
		case "Deny":
			return ""
		case "Allow":
			if allowed == "" {
				allowed = s.Sid + " "
			}
		}
	}
	return allowed
}

func anyMatch(patterns []string, s string, fold bool) bool {
	for _, p := range patterns {
		if fold {
			p, s = strings.ToLower(p), strings.ToLower(s)
		}
		if iampattern.Match(p, s) {
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
			case "StringLike", "ArnLike",
				// A request's multivalued keys (kms:ResourceAliases) hold one
				// value in these tests; a key the request lacks fails.
				"ForAnyValue:StringLike":
				for _, v := range values {
					ok = ok || (present && iampattern.Match(v, got))
				}
			default:
				panic("iamtest does not know the condition operator " + op)
			}
			if !ok {
				return false
			}
		}
	}
	return true
}

// Set is the templates of one bootstrap (the account's and one per
// environment), by file name: a role of one template may hold managed
// policies of another by name (ManagedPolicyArns), as IAM attaches them.
type Set map[string]*Template

// ParseSet reads every template of a bootstrap.
func ParseSet(files map[string][]byte, vars Vars) (Set, error) {
	out := Set{}
	for name, body := range files {
		t, err := Parse(body, vars)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}

// Role is every statement a role holds: the managed policies of its own
// template that name it, and those of any template of the set it holds by
// ARN.
func (s Set) Role(file, logical string) ([]Statement, error) {
	t, ok := s[file]
	if !ok {
		return nil, fmt.Errorf("no template %s", file)
	}
	out, err := t.Role(logical)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	r := t.Doc["Resources"].(map[string]any)[logical].(map[string]any)
	props, _ := r["Properties"].(map[string]any)
	attached, _ := props["ManagedPolicyArns"].([]any)
	for _, a := range attached {
		arn, _ := t.Resolve(a).(string)
		_, name, ok := strings.Cut(arn, ":policy/")
		if !ok {
			return nil, fmt.Errorf("%s %s holds %v, which is no managed policy's ARN", file, logical, a)
		}
		statements, err := s.named(name)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", file, logical, err)
		}
		out = append(out, statements...)
	}
	return out, nil
}

// named is the statements of the managed policy called name, in any
// template of the set.
func (s Set) named(name string) ([]Statement, error) {
	for _, t := range s {
		for _, r := range t.Doc["Resources"].(map[string]any) {
			res, _ := r.(map[string]any)
			props, _ := res["Properties"].(map[string]any)
			if res["Type"] == "AWS::IAM::ManagedPolicy" && props["ManagedPolicyName"] == name {
				doc, _ := t.Resolve(props["PolicyDocument"]).(map[string]any)
				return Statements(doc), nil
			}
		}
	}
	return nil, fmt.Errorf("no template holds the managed policy %s", name)
}

// Documents are the policy documents a role holds, resolved: its own
// template's managed policies that name it, and those it holds by ARN.
func (s Set) Documents(file, logical string) ([]any, error) {
	t, ok := s[file]
	if !ok {
		return nil, fmt.Errorf("no template %s", file)
	}
	resources := t.Doc["Resources"].(map[string]any)
	r, ok := resources[logical].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s has no %s", file, logical)
	}
	var out []any
	for _, res := range resources {
		m, _ := res.(map[string]any)
		props, _ := m["Properties"].(map[string]any)
		if m["Type"] != "AWS::IAM::ManagedPolicy" {
			continue
		}
		roles, _ := props["Roles"].([]any)
		for _, ref := range roles {
			if rm, _ := ref.(map[string]any); rm["Ref"] == logical {
				out = append(out, t.Resolve(props["PolicyDocument"]))
			}
		}
	}
	props, _ := r["Properties"].(map[string]any)
	attached, _ := props["ManagedPolicyArns"].([]any)
	for _, a := range attached {
		arn, _ := t.Resolve(a).(string)
		_, name, _ := strings.Cut(arn, ":policy/")
		doc, err := s.document(name)
		if err != nil {
			return nil, err
		}
		out = append(out, doc)
	}
	return out, nil
}

// Document is the resolved document of the managed policy called name.
func (s Set) document(name string) (any, error) {
	for _, t := range s {
		for _, r := range t.Doc["Resources"].(map[string]any) {
			res, _ := r.(map[string]any)
			props, _ := res["Properties"].(map[string]any)
			if res["Type"] == "AWS::IAM::ManagedPolicy" && props["ManagedPolicyName"] == name {
				return t.Resolve(props["PolicyDocument"]), nil
			}
		}
	}
	return nil, fmt.Errorf("no template holds the managed policy %s", name)
}

// Document is the resolved document of a managed policy of a template, by
// logical id (a boundary).
func (s Set) Document(file, logical string) (any, error) {
	t, ok := s[file]
	if !ok {
		return nil, fmt.Errorf("no template %s", file)
	}
	r, ok := t.Doc["Resources"].(map[string]any)[logical].(map[string]any)
	if !ok || r["Type"] != "AWS::IAM::ManagedPolicy" {
		return nil, fmt.Errorf("%s has no managed policy %s", file, logical)
	}
	props, _ := r["Properties"].(map[string]any)
	return t.Resolve(props["PolicyDocument"]), nil
}
