package bootstrap

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/org/tap-deploy/internal/iampattern"
	"github.com/org/tap-deploy/internal/inputs"
)

// GitHub's OIDC issuer and the audience configure-aws-credentials asks for.
const (
	oidcHost     = "token.actions.githubusercontent.com"
	oidcAudience = "sts.amazonaws.com"
)

// ManagedPolicyLimit is the most characters (whitespace aside) IAM accepts
// in one managed policy; the templates fill one to at most
// ManagedPolicyFill, a tenth under it, and spread a role's statements over
// as many policies as they need.
const (
	ManagedPolicyLimit = 6144
	ManagedPolicyFill  = ManagedPolicyLimit * 9 / 10
)

// TrustPolicyLimit is IAM's default limit on a role's trust policy
// (characters, whitespace aside); TrustPolicyFill keeps a tenth under it.
const (
	TrustPolicyLimit = 2048
	TrustPolicyFill  = TrustPolicyLimit * 9 / 10
)

// How long a role's sessions may last (IAM's MaxSessionDuration): as long
// as the longest job of the examples that assumes it. A deploy waits up to
// lock-timeout (30 minutes at most) for another update's lock, as long for
// a traffic shift left running, then updates and shifts (the slowest
// preference takes 30 minutes): three hours leave room. A drift check or a
// merge-queue check waits for a lock or a base at most lock-timeout.
const (
	DeploySession = 3 * 3600
	ReadSession   = 2 * 3600
)

// role is one IAM role of a template.
type role struct {
	logical     string
	name        string
	description string
	// subjects are the OIDC subjects it trusts exactly; like, by pattern.
	subjects []string
	like     []string
	// env is the environment the role belongs to ("" for the account's).
	env string
	// maxSession is IAM's MaxSessionDuration, in seconds.
	maxSession int
	// attached are the managed policies of the account's template it
	// holds, by name (an environment's roles hold the read policies).
	attached []string
	// The output that gives its ARN, and where the workflows read it.
	output      string
	variable    string
	environment string
}

// policy is what one or more roles are allowed, spread over as many
// managed policies as it needs.
type policy struct {
	logical     string
	description string
	// named, when set, names the managed policies (part 1, 2, …): other
	// templates attach them by name, or they are a boundary.
	named func(part int) string
	roles []string
	// grants are its Allow statements, denied its Deny statements (in its
	// first managed policy).
	grants []*grant
	denied []*grant
	tags   tagContext
	// collapse, when set, folds the names after it into patterns (see
	// collapse).
	collapse string
}

// tagContext fills in a policy's tag conditions.
type tagContext struct {
	project string
	// envs are the environments whose resources the grants reach; none for
	// a reader, which reads the project's in every environment.
	envs []string
	// review: the resources of review stacks only (review-stack=pr-*);
	// notReview: never theirs.
	review, notReview bool
}

// writer is one template as it is written: its resources and outputs,
// and the reasons its statements' comments already gave (each is written
// once, above the first statement it explains).
type writer struct {
	o         Options
	partition string
	// bucket is how the state bucket's ARN names it: ${StateBucket} where
	// the template holds the bucket, its name elsewhere.
	bucket    string
	resources obj
	outputs   obj
	explained map[string]bool
}

func newWriter(o Options, bucket string) *writer {
	return &writer{o: o, partition: inputs.Partition(o.Region), bucket: bucket, explained: map[string]bool{}}
}

// fold makes a policy's grants fewer statements: names collapsed into
// patterns, alike statements folded. refused says which patterns may not
// be made (see collapse).
func fold(pol policy, refused func(string) bool) []*grant {
	grants := pol.grants
	if pol.collapse != "" {
		grants = collapseAll(grants, pol.collapse, refused)
	}
	grants = alike(grants)
	if pol.collapse != "" {
		// Folding may have brought names together that fold further.
		grants = alike(collapseAll(grants, pol.collapse, refused))
	}
	return grants
}

func collapseAll(grants []*grant, marker string, refused func(string) bool) []*grant {
	out := make([]*grant, len(grants))
	for i, g := range grants {
		c := *g
		c.resources = collapse(g.resources, marker, refused)
		out[i] = &c
	}
	return out
}

// header is a template's leading comment.
func header(lines ...string) string { return strings.Join(lines, "\n") }

// commandLine is the bootstrap command that made a template, with the
// options that shaped it: env's for an environment's template, none for
// the account's (which holds no environment's role), so that adding an
// environment changes no other template.
func commandLine(o Options, env string) string {
	args := []string{"tap-deploy bootstrap"}
	if env != "" {
		args = append(args, "--environment "+env)
	}
	args = append(args, "--aws-region "+o.Region, "--repository "+o.Repository)
	if o.RepositoryID != "" {
		args = append(args, "--repository-id "+o.RepositoryID)
	}
	args = append(args, "--project-name "+o.Project)
	if o.StateBucket != "" {
		args = append(args, "--state-bucket "+o.StateBucket)
	}
	switch {
	case env == "":
		args = append(args, fmt.Sprintf("--create-oidc-provider=%t", o.CreateOIDCProvider), "--review-environment "+o.ReviewEnvironment)
		if o.APIGatewayLogging == OwnerAccount {
			args = append(args, "--api-gateway-logging "+OwnerAccount)
		}
		if o.MergeQueue {
			args = append(args, "--merge-queue")
		}
	case o.APIGatewayLogging == env:
		args = append(args, "--api-gateway-logging "+env)
	}
	for _, p := range o.Promotions {
		if p.From == env {
			args = append(args, "--promotion "+p.String())
		}
	}
	return strings.Join(args, " ")
}

// trust is a role's trust policy: GitHub's OIDC tokens for this audience
// and these subjects (and, with --repository-id, this repository) only.
func (w *writer) trust(r role, provider any) obj {
	statement := func(op string, subjects []string) obj {
		var subject any = subjects[0]
		if len(subjects) > 1 {
			subject = subjects
		}
		equals := obj{}.set(oidcHost+":aud", oidcAudience)
		if w.o.RepositoryID != "" {
			equals = equals.set(oidcHost+":repository_id", w.o.RepositoryID)
		}
		if op == "StringEquals" {
			equals = equals.set(oidcHost+":sub", subject)
		}
		cond := obj{}.set("StringEquals", equals)
		if op != "StringEquals" {
			cond = cond.set(op, obj{}.set(oidcHost+":sub", subject))
		}
		return obj{}.
			set("Effect", "Allow").
			set("Principal", oneLine{obj{}.set("Federated", provider)}).
			set("Action", "sts:AssumeRoleWithWebIdentity").
			set("Condition", oneLine{cond})
	}
	list := []any{statement("StringEquals", r.subjects)}
	if len(r.like) > 0 {
		// A merge-queue check is not a pull_request event: it presents
		// the queue's branch.
		list = append(list, statement("StringLike", r.like))
	}
	return obj{}.set("Version", "2012-10-17").set("Statement", list)
}

// role adds a role.
func (w *writer) role(r role, provider any) {
	t := []any{obj{}.set("Key", "project").set("Value", w.o.Project)}
	if r.env != "" {
		t = append(t, obj{}.set("Key", "environment").set("Value", r.env))
	}
	props := obj{}.
		set("RoleName", r.name).
		set("Description", r.description).
		set("MaxSessionDuration", r.maxSession).
		set("AssumeRolePolicyDocument", w.trust(r, provider))
	if len(r.attached) > 0 {
		arns := make([]any, len(r.attached))
		for i, name := range r.attached {
			arns[i] = sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/" + name)
		}
		props = props.set("ManagedPolicyArns", arns)
	}
	w.resources = w.resources.set(r.logical, obj{}.
		set("Type", "AWS::IAM::Role").
		set("Properties", props.set("Tags", oneLine{t})))
	where := "Repository variable " + r.variable
	if r.environment != "" {
		where = fmt.Sprintf("Variable %s of the GitHub environment %s", r.variable, r.environment)
	}
	subjects := strings.Join(append(slices.Clone(r.subjects), r.like...), ", ")
	w.outputs = w.outputs.set(r.output, obj{}.
		set("Description", fmt.Sprintf("%s (OIDC subject %s)", where, subjects)).
		set("Value", obj{}.set("Fn::GetAtt", []string{r.logical, "Arn"})))
}

// parts renders a policy's statements and spreads them over managed
// policies of at most ManagedPolicyFill characters.
func (w *writer) parts(pol policy) ([][]statement, error) {
	var statements []statement
	for _, g := range ordered(pol.grants) {
		s, err := w.statement(pol.tags, g, "Allow")
		if err != nil {
			return nil, err
		}
		statements = append(statements, s)
	}
	parts := pack(statements)
	// The Deny statements get a managed policy of their own: every
	// managed policy of a role counts, and theirs stays whole.
	var denied []statement
	for _, g := range pol.denied {
		s, err := w.statement(pol.tags, g, "Deny")
		if err != nil {
			return nil, err
		}
		denied = append(denied, s)
	}
	if len(denied) > 0 {
		if size(denied) > ManagedPolicyFill {
			return nil, fmt.Errorf("%s's Deny statements would be %d characters; IAM allows %d in a managed policy (the templates keep to %d)", pol.logical, size(denied), ManagedPolicyLimit, ManagedPolicyFill)
		}
		parts = append(parts, denied)
	}
	return parts, nil
}

// policy adds a policy's managed policies, and returns their names when
// they are named.
func (w *writer) policy(pol policy) ([]string, error) {
	parts, err := w.parts(pol)
	if err != nil {
		return nil, err
	}
	roles := make([]any, len(pol.roles))
	for i, r := range pol.roles {
		roles[i] = ref(r)
	}
	var names []string
	for i, part := range parts {
		description := pol.description
		if len(parts) > 1 {
			description += fmt.Sprintf(" (%d/%d)", i+1, len(parts))
		}
		list := make([]any, len(part))
		for j, s := range part {
			list[j] = s.yaml
		}
		props := obj{}
		if pol.named != nil {
			names = append(names, pol.named(i+1))
			props = props.set("ManagedPolicyName", pol.named(i+1))
		}
		props = props.set("Description", description)
		if len(roles) > 0 {
			props = props.set("Roles", roles)
		}
		w.resources = w.resources.set(fmt.Sprintf("%s%d", pol.logical, i+1), obj{}.
			set("Type", "AWS::IAM::ManagedPolicy").
			set("Properties", props.set("PolicyDocument", obj{}.
				set("Version", "2012-10-17").
				set("Statement", list))))
	}
	return names, nil
}

// boundary adds a permissions boundary: one managed policy (a role has one
// boundary), attached to no role: the stack's roles carry it.
func (w *writer) boundary(pol policy, comment string) error {
	parts, err := w.parts(pol)
	if err != nil {
		return err
	}
	if len(parts) != 1 {
		return fmt.Errorf("the boundary %s needs %d managed policies; a role has one boundary", pol.named(1), len(parts))
	}
	list := make([]any, len(parts[0]))
	for i, s := range parts[0] {
		list[i] = s.yaml
	}
	w.resources = w.resources.note(comment, pol.logical, obj{}.
		set("Type", "AWS::IAM::ManagedPolicy").
		set("Properties", obj{}.
			set("ManagedPolicyName", pol.named(1)).
			set("Description", pol.description).
			set("PolicyDocument", obj{}.
				set("Version", "2012-10-17").
				set("Statement", list))))
	return nil
}

// alike folds grants into fewer statements (the templates must stay well
// under the 51,200 bytes aws cloudformation deploy takes without an S3
// bucket). These allow exactly what the grants did (a statement allows
// each of its actions on each of its resources under its conditions):
//   - grants on the same resources under the same conditions (API
//     Gateway's children, which all go through their API's tags) into one
//     with the actions of all;
//   - grants of the same actions under the same conditions into one on the
//     resources of all;
//   - a grant whose actions another allows, on resources its patterns
//     match, into that one.
//
// Grants under conditions are folded by their actions only: a condition
// key is evaluated only for the actions AWS lists it for, and on another
// action of the statement it would never hold.
//
// A folded statement keeps the Sid of the first (by type); the state's
// grants keep to themselves.
func alike(grants []*grant) []*grant {
	sorted := make([]*grant, len(grants))
	for i, g := range grants {
		c := *g
		c.actions = slices.Clone(g.actions)
		c.resources = slices.Clone(g.resources)
		c.reasons = slices.Clone(g.reasons)
		c.folded = slices.Clone(g.folded)
		sorted[i] = &c
	}
	sort.SliceStable(sorted, func(i, j int) bool {
		if ri, rj := rank(sorted[i]), rank(sorted[j]); ri != rj {
			return ri < rj
		}
		return sorted[i].sid < sorted[j].sid
	})
	sortedKey := func(values []string) string {
		v := slices.Clone(values)
		sort.Strings(v)
		return strings.Join(v, " ")
	}
	conditions := func(g *grant) string { return fmt.Sprint(g.tags, g.conds) }
	conditioned := func(g *grant) bool { return g.tags != untagged || len(g.conds) > 0 }
	fold := func(into, g *grant) {
		into.folded = append(append(into.folded, g.sid), g.folded...)
		into.actions = dedupe(into.actions, g.actions)
		into.resources = dedupe(into.resources, g.resources)
		into.reasons = dedupe(into.reasons, g.reasons)
	}
	byKey := func(in []*grant, key func(*grant) string) []*grant {
		first := map[string]*grant{}
		var out []*grant
		for _, g := range in {
			k := key(g)
			if f, ok := first[k]; ok && !strings.HasPrefix(g.sid, "State") {
				fold(f, g)
				continue
			}
			first[k] = g
			out = append(out, g)
		}
		return out
	}
	// Same resources and conditions, other actions: only unconditioned
	// grants (under conditions, an action may not evaluate the key).
	out := byKey(sorted, func(g *grant) string {
		if conditioned(g) {
			return "sid " + g.sid
		}
		return sortedKey(g.resources) + conditions(g)
	})
	out = byKey(out, func(g *grant) string { return sortedKey(g.actions) + conditions(g) })
	covers := func(h, g *grant) bool {
		if conditions(h) != conditions(g) || strings.HasPrefix(g.sid, "State") || strings.HasPrefix(h.sid, "State") {
			return false
		}
		for _, a := range g.actions {
			if !slices.Contains(h.actions, a) {
				return false
			}
		}
		for _, r := range g.resources {
			if !slices.ContainsFunc(h.resources, func(p string) bool { return iampattern.Match(p, r) }) {
				return false
			}
		}
		return true
	}
	dropped := make([]bool, len(out))
	for i, g := range out {
		for j, h := range out {
			dropped[i] = dropped[i] || (i != j && covers(h, g) && (!covers(g, h) || j < i))
		}
	}
	var kept []*grant
	for i, g := range out {
		if !dropped[i] {
			kept = append(kept, g)
		}
	}
	for i, g := range out {
		if dropped[i] {
			// A statement kept covers it: covering is transitive.
			h := kept[slices.IndexFunc(kept, func(h *grant) bool { return covers(h, g) })]
			h.reasons = dedupe(h.reasons, g.reasons)
			h.folded = append(append(h.folded, g.sid), g.folded...)
		}
	}
	renameFolded(kept)
	return kept
}

// renameFolded names a statement that holds several types' grants after
// what it holds rather than after one of them: its services, and how it
// goes by tags (S3, ApigatewayTagged), unless another statement of the
// policy has that name.
func renameFolded(grants []*grant) {
	names := map[string]int{}
	name := func(g *grant) string {
		var services []string
		for _, a := range g.actions {
			service, _, _ := strings.Cut(a, ":")
			services = dedupe(services, []string{service})
		}
		sort.Strings(services)
		var b strings.Builder
		for _, s := range services {
			b.WriteString(upperFirst(s))
		}
		switch g.tags {
		case onRequest:
			b.WriteString("Create")
		case onResource:
			b.WriteString("Tagged")
		}
		return b.String()
	}
	for _, g := range grants {
		names[g.sid]++
		if len(g.folded) > 0 {
			names[name(g)]++
		}
	}
	for _, g := range grants {
		if n := name(g); len(g.folded) > 0 && names[n] == 1 {
			g.sid = n
		}
	}
}

// rank orders grants: the state's, the stack's resource types', and those
// on no particular resource.
func rank(g *grant) int {
	switch {
	case strings.HasPrefix(g.sid, "State"):
		return 0
	case g.sid == "ChecksLambdaConcurrency" || g.sid == "NoResourceLevelPermissions":
		return 2
	}
	return 1
}

// ordered puts the state first, then the stack's resource types by name,
// and the grants on no particular resource last. (The program registers
// resources concurrently: their order is not the template's.)
func ordered(grants []*grant) []*grant {
	out := slices.Clone(grants)
	sort.SliceStable(out, func(i, j int) bool {
		if ri, rj := rank(out[i]), rank(out[j]); ri != rj {
			return ri < rj
		}
		if rank(out[i]) == 0 {
			return false // the state's own order: list, read, write
		}
		return out[i].sid < out[j].sid
	})
	return out
}

// statement is one rendered statement and its size as IAM counts it.
type statement struct {
	yaml commented
	size int
}

// commented is a value with a comment above it.
type commented struct {
	value   any
	comment string
}

// statement renders a grant for a policy.
func (w *writer) statement(t tagContext, g *grant, effect string) (statement, error) {
	actions := slices.Clone(g.actions)
	sort.Strings(actions)
	resources := make([]string, len(g.resources))
	for i, res := range g.resources {
		resources[i] = w.normalize(res)
	}
	sort.Strings(resources)
	resources = slices.Compact(resources)
	conds := append(t.conditions(g.tags), g.conds...)

	s := obj{}.set("Sid", g.sid).set("Effect", effect).set("Action", flow(actions))
	list := make([]any, len(resources))
	for i, res := range resources {
		list[i] = text(res)
	}
	if len(list) == 1 {
		s = s.set("Resource", oneLine{list})
	} else {
		s = s.set("Resource", list)
	}
	plain := map[string]any{"Sid": g.sid, "Effect": effect, "Action": actions, "Resource": resources}
	if len(conds) > 0 {
		c, cp := w.conditionBlock(conds)
		s = s.set("Condition", oneLine{c})
		plain["Condition"] = cp
	}
	size, err := resolvedSize(plain)
	if err != nil {
		return statement{}, err
	}
	var comment []string
	for _, why := range g.reasons {
		if !w.explained[why] {
			w.explained[why] = true
			comment = append(comment, why)
		}
	}
	return statement{yaml: commented{value: s, comment: strings.Join(comment, "\n")}, size: size}, nil
}

// conditions are the tag conditions that limit a grant to the
// environment's resources (and review stacks', or never theirs); a
// reader's reach the project's.
func (t tagContext) conditions(m tagMode) []condition {
	if m == untagged {
		return nil
	}
	key := "aws:ResourceTag/"
	if m == onRequest {
		key = "aws:RequestTag/"
	}
	out := []condition{{"StringEquals", key + "project", []string{t.project}}}
	if len(t.envs) > 0 {
		out = append(out, condition{"StringEquals", key + "environment", t.envs})
	}
	switch {
	case t.review:
		out = append(out, condition{"StringLike", key + "review-stack", []string{"pr-*"}})
	case t.notReview:
		out = append(out, condition{"Null", key + "review-stack", []string{"true"}})
	}
	return out
}

// conditionBlock renders conditions grouped by operator, and the same as
// plain values for sizing.
func (w *writer) conditionBlock(conds []condition) (obj, map[string]any) {
	ops := obj{}
	plain := map[string]any{}
	for _, c := range conds {
		var value any
		values := make([]string, len(c.values))
		for i, v := range c.values {
			values[i] = w.normalize(v)
		}
		if len(values) == 1 {
			value = text(values[0])
		} else {
			list := make([]any, len(values))
			for i, v := range values {
				list[i] = text(v)
			}
			value = list
		}
		i := slices.IndexFunc(ops, func(f field) bool { return f.key == c.op })
		if i < 0 {
			ops = ops.set(c.op, obj{})
			i = len(ops) - 1
			plain[c.op] = map[string]any{}
		}
		ops[i].value = ops[i].value.(obj).set(c.key, value)
		plain[c.op].(map[string]any)[c.key] = values
	}
	return ops, plain
}

// normalize turns the offline model's concrete ARNs into the template's:
// the region's partition (the ARNs name the region too), this account, the
// state bucket as this template names it.
func (w *writer) normalize(s string) string {
	s = strings.ReplaceAll(s, "arn:aws:", "arn:"+w.partition+":")
	s = strings.ReplaceAll(s, "${StateBucket}", w.bucket)
	return strings.ReplaceAll(s, modelAccount, "${AWS::AccountId}")
}

// resolvedSize is a statement's size as IAM counts it: CloudFormation's
// substitutions made (an account id is 12 digits; the state bucket's name
// is at most 63 characters), IAM's policy variables as written.
func resolvedSize(plain map[string]any) (int, error) {
	b, err := json.Marshal(plain)
	if err != nil {
		return 0, err
	}
	s := strings.NewReplacer(
		"${AWS::AccountId}", modelAccount,
		"${StateBucket}", strings.Repeat("b", 63),
	).Replace(string(b))
	return len(s), nil
}

// policyOverhead is a managed policy's characters around its statements.
const policyOverhead = len(`{"Version":"2012-10-17","Statement":[]}`)

// size is a managed policy's size with these statements.
func size(statements []statement) int {
	n := policyOverhead
	for _, s := range statements {
		n += s.size + 1
	}
	return n
}

// pack spreads statements over managed policies of at most
// ManagedPolicyFill characters, in order.
func pack(statements []statement) [][]statement {
	var parts [][]statement
	n := policyOverhead
	for _, s := range statements {
		if len(parts) == 0 || n+s.size+1 > ManagedPolicyFill {
			parts = append(parts, nil)
			n = policyOverhead
		}
		parts[len(parts)-1] = append(parts[len(parts)-1], s)
		n += s.size + 1
	}
	return parts
}
