package bootstrap

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode"

	"github.com/org/tap-deploy/internal/graph"
	"github.com/org/tap-deploy/internal/offline"
)

// tagMode is how a grant is limited by the stack's tags.
type tagMode int

const (
	untagged tagMode = iota
	// onRequest: the request must carry the tags (a create).
	onRequest
	// onResource: the resource must carry them.
	onResource
)

// grant is one statement of a role's policy, before the role's tags are
// filled in: actions on resources (concrete ARNs of the offline model),
// under conditions.
type grant struct {
	sid       string
	actions   []string
	resources []string
	tags      tagMode
	conds     []condition
	why       string
	// reasons are the why of every grant merged into this one.
	reasons []string
	// folded are the Sids of the grants folded into this one when the
	// template was made smaller (see alike).
	folded []string
}

// phase says which of a type's actions a role needs.
type phase int

const (
	// readOnly is what a preview, a refresh and a drift check call.
	readOnly phase = iota
	// readWrite is what an update, a rollback and a destroy call.
	readWrite
	// writeOnly is readWrite without what readOnly allows: the deploy and
	// review roles read through the policy previews read through.
	writeOnly
)

// grantBuilder collects the grants a role needs for the resources and invokes
// of one or more graphs of the stack.
type grantBuilder struct {
	region string
	phase  phase
	grants []*grant
	bySid  map[string]*grant
	// functions are the stack's function ARNs, for the action's own
	// concurrency check and its look at the live aliases; groups and apps
	// are its CodeDeploy deployment groups and applications, through which
	// the action shifts traffic.
	functions    []string
	groups, apps []string

	// ids are the generated ids of the graph being added.
	ids []string
	// twins, for review stacks, are the same resources in a second review
	// stack (another pull request): every name becomes the pattern that
	// matches both (see glob).
	twins   map[twinKey]graph.Resource
	twinIDs []string

	// boundary, for a deploy role (an environment's or the review role),
	// is the permissions boundary every role it writes must carry (the
	// offline model's ARN): its role calls that IAM gives the
	// iam:PermissionsBoundary key require it (see merge).
	boundary string
	// keyAdmin is the role the stack's keys must name as their
	// administrator (the offline model's ARN): the deploy role that
	// builder's grants are for. Empty for the readers.
	keyAdmin string
	// project is the project whose resources the readers read.
	project string
}

// twinKey finds a resource in another run of the program: its type and
// logical name, which do not depend on the stack.
type twinKey struct{ typ, name string }

func newGrantBuilder(project, region string, p phase) *grantBuilder {
	return &grantBuilder{project: project, region: region, phase: p, bySid: map[string]*grant{}}
}

// merge merges g into the grant of the same Sid. A builder that bounds
// roles puts g's calls that carry iam:PermissionsBoundary into a grant of
// their own that requires its boundary.
func (b *grantBuilder) merge(g grant) {
	if b.boundary == "" {
		b.mergeGrant(g)
		return
	}
	var keyed, rest []string
	for _, a := range g.actions {
		if slices.Contains(boundaryKeyed, a) {
			keyed = append(keyed, a)
		} else {
			rest = append(rest, a)
		}
	}
	if len(keyed) > 0 {
		k := g
		k.sid, k.actions = g.sid+"Bounded", keyed
		k.conds = append(slices.Clone(g.conds), condition{"StringEquals", "iam:PermissionsBoundary", []string{b.boundary}})
		b.mergeGrant(k)
		k.why = boundedWhy
		b.mergeGrant(k)
	}
	g.actions = rest
	b.mergeGrant(g)
}

// mergeGrant merges g into the grant of the same Sid.
func (b *grantBuilder) mergeGrant(g grant) {
	if len(g.actions) == 0 || len(g.resources) == 0 {
		return
	}
	have, ok := b.bySid[g.sid]
	if !ok {
		c := g
		c.actions = dedupe(nil, g.actions)
		c.resources = dedupe(nil, g.resources)
		c.conds = append([]condition(nil), g.conds...)
		if g.why != "" {
			c.reasons = []string{g.why}
		}
		b.grants = append(b.grants, &c)
		b.bySid[g.sid] = &c
		return
	}
	if g.why != "" {
		have.reasons = dedupe(have.reasons, []string{g.why})
	}
	have.actions = dedupe(have.actions, g.actions)
	have.resources = dedupe(have.resources, g.resources)
	for _, c := range g.conds {
		i := slices.IndexFunc(have.conds, func(h condition) bool { return h.op == c.op && h.key == c.key })
		if i < 0 {
			have.conds = append(have.conds, c)
			continue
		}
		have.conds[i].values = dedupe(have.conds[i].values, c.values)
	}
}

// graph adds what the resources and invokes of one run need.
func (b *grantBuilder) graph(m accessModel) error {
	b.ids, b.twins, b.twinIDs = generatedIDs(m.graph), nil, nil
	return b.add(m, nil)
}

// graphs adds what two runs need that differ only by the review stack's
// pull request: their names become patterns that match every review stack.
func (b *grantBuilder) graphs(m, twin accessModel) error {
	if err := b.pair(m, twin); err != nil {
		return err
	}
	return b.add(m, twin.calls)
}

// pair makes twin the run whose names turn m's into patterns (see arns).
func (b *grantBuilder) pair(m, twin accessModel) error {
	b.ids, b.twinIDs = generatedIDs(m.graph), generatedIDs(twin.graph)
	b.twins = map[twinKey]graph.Resource{}
	for _, r := range twin.graph.Resources {
		k := twinKey{r.Type, r.Name}
		if _, dup := b.twins[k]; dup {
			return fmt.Errorf("the stack has two %s named %s: review stacks cannot be matched", r.Type, r.Name)
		}
		b.twins[k] = r
	}
	return nil
}

func (b *grantBuilder) add(m accessModel, twinCalls []offline.Call) error {
	for _, r := range m.graph.Resources {
		if !r.Custom || strings.HasPrefix(r.Type, "pulumi:providers:") {
			continue
		}
		if err := b.resource(r); err != nil {
			return err
		}
	}
	for i, c := range m.calls {
		if b.phase == writeOnly {
			break // data sources only read
		}
		inv, ok := Invokes[c.Token]
		if !ok {
			return fmt.Errorf("the stack reads %s, for which internal/bootstrap knows no IAM actions: add it to Invokes in %s", c.Token, entryNeeds)
		}
		if inv.On == nil {
			continue
		}
		on := inv.On(c.Args)
		if b.twins != nil {
			if i >= len(twinCalls) || twinCalls[i].Token != c.Token {
				return fmt.Errorf("two review stacks read different data sources")
			}
			other := inv.On(twinCalls[i].Args)
			for j := range on {
				on[j] = glob(on[j], other[j])
			}
		}
		b.merge(grant{sid: "Reads" + sidOf(c.Token), actions: inv.Actions, resources: on, why: inv.Why})
	}
	return nil
}

// arns are the ARNs f gives for r, every character of a generated id
// turned into a one-character wildcard (the id's length is AWS's: ten for
// a REST API), and for review stacks the pattern that also matches r's
// twin; generated says whether a generated id was in them.
func (b *grantBuilder) arns(r graph.Resource, f func(graph.Resource) []string) (arns []string, generated bool, err error) {
	arns, generated = withoutIDs(f(r), b.ids)
	if b.twins == nil {
		return arns, generated, nil
	}
	t, ok := b.twins[twinKey{r.Type, r.Name}]
	if !ok {
		return nil, false, fmt.Errorf("%s %s is in one review stack and not in another", r.Type, r.Name)
	}
	other, _ := withoutIDs(f(t), b.twinIDs)
	if len(other) != len(arns) {
		return nil, false, fmt.Errorf("%s %s has different ARNs in two review stacks", r.Type, r.Name)
	}
	for i := range arns {
		arns[i] = glob(arns[i], other[i])
	}
	return arns, generated, nil
}

// generatedIDs are the ids AWS generates for the graph's resources (REST
// APIs, keys, mappings), which other names may embed.
func generatedIDs(g *graph.Graph) []string {
	var ids []string
	for _, r := range g.Resources {
		if acc, ok := Table[r.Type]; ok && acc.On.ID != nil {
			if id := acc.On.ID(r); id != "" {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

// actions is what the role needs of one resource.
func (b *grantBuilder) actions(acc Access, r graph.Resource) (create, all []string) {
	if b.phase == readOnly {
		return nil, acc.Read
	}
	create = append(append([]string(nil), acc.Create...), acc.Tag...)
	all = append(all, acc.Create...)
	if b.phase == readWrite {
		all = append(all, acc.Read...)
	}
	all = append(all, acc.Update...)
	// A retained resource is never deleted by Pulumi: no delete actions.
	if !r.Retain {
		all = append(all, acc.Delete...)
	}
	all = append(all, acc.Tag...)
	for _, input := range slices.Sorted(maps.Keys(acc.IfInput)) {
		if truthy(r.Inputs[input]) {
			all = append(all, acc.IfInput[input]...)
		}
	}
	if b.phase == writeOnly {
		reads := func(a string) bool { return slices.Contains(acc.Read, a) }
		create = slices.DeleteFunc(create, reads)
		all = slices.DeleteFunc(all, reads)
	}
	return create, all
}

// entryNeeds says where a missing type or data source goes and what its
// entry must carry (TestTable_EveryEntryLinksItsServicesAuthorizationPage).
const entryNeeds = "internal/bootstrap/access.go, with the IAM actions the provider calls and Docs, the link to its service's page " +
	"in AWS's Service Authorization Reference (https://docs.aws.amazon.com/service-authorization/latest/reference/list_<service>.html)"

// resource adds what one resource needs: its own calls, scoped as its
// type's Scope says, and the grants it needs on other resources (Also).
func (b *grantBuilder) resource(r graph.Resource) error {
	acc, ok := Table[r.Type]
	if !ok {
		return fmt.Errorf("the stack creates %s, for which internal/bootstrap knows no IAM actions: add it to Table in %s", r.Type, entryNeeds)
	}
	if b.boundary != "" && r.Type == "aws:iam/role:Role" && str(r, "permissionsBoundary") != b.boundary {
		return fmt.Errorf("the review stack's role %s carries the permissions boundary %q, not %s: the review role could not create it", str(r, "name"), str(r, "permissionsBoundary"), b.boundary)
	}
	sid := sidOf(r.Type)
	_, all := b.actions(acc, r)
	all = b.special(all)
	var err error
	switch {
	case acc.On.Names != nil:
		err = b.byNames(r, acc, sid, all)
	case acc.On.Tagged != nil:
		b.byTags(acc, sid, all)
	case acc.On.KeyPolicy:
		err = b.byKeyPolicy(r, acc, sid, all)
	case acc.On.FunctionOf != "":
		err = b.byFunction(r, acc, sid, all)
	default:
		err = fmt.Errorf("internal/bootstrap's Table scopes %s by neither names, tags, its own policy nor its function", r.Type)
	}
	if err != nil {
		return err
	}
	return b.also(r, acc, sid)
}

// byNames grants a type's calls on the resource's own ARNs, a write
// condition apart where the type has one.
func (b *grantBuilder) byNames(r graph.Resource, acc Access, sid string, all []string) error {
	arns, _, err := b.arns(r, func(r graph.Resource) []string { return acc.On.Names(r, b.region) })
	if err != nil {
		return err
	}
	switch r.Type {
	case "aws:lambda/function:Function":
		b.functions = dedupe(b.functions, arns[:1])
	case "aws:codedeploy/deploymentGroup:DeploymentGroup":
		b.groups = dedupe(b.groups, arns)
	case "aws:codedeploy/application:Application":
		b.apps = dedupe(b.apps, arns)
	}
	if acc.On.WriteCondition != nil && b.phase != readOnly {
		reads := slices.DeleteFunc(slices.Clone(all), func(a string) bool { return !slices.Contains(acc.Read, a) })
		writes := slices.DeleteFunc(slices.Clone(all), func(a string) bool { return slices.Contains(acc.Read, a) })
		b.merge(grant{sid: sid + "Read", actions: reads, resources: arns})
		b.merge(grant{sid: sid, actions: writes, resources: arns, conds: []condition{acc.On.WriteCondition(r)}, why: acc.On.Why})
		return nil
	}
	b.merge(grant{sid: sid, actions: all, resources: arns, why: acc.On.Why})
	return nil
}

// byTags grants a type whose id AWS generates on the resources that carry
// the environment's tags, and its create where the request carries them.
func (b *grantBuilder) byTags(acc Access, sid string, all []string) {
	main := all
	if acc.On.CreateOn != nil && b.phase != readOnly {
		main = slices.DeleteFunc(slices.Clone(all), func(a string) bool {
			return slices.Contains(acc.Create, a) && !slices.Contains(acc.Update, a)
		})
		b.merge(grant{sid: sid + "Create", actions: b.special(acc.Create), resources: acc.On.CreateOn(b.region), tags: onRequest,
			why: acc.On.Why})
	}
	b.merge(grant{sid: sid, actions: main, resources: acc.On.Tagged(b.region), tags: onResource, why: acc.On.Why})
}

// byKeyPolicy grants a key's create; its policy grants the deploy role
// the rest (checked), and the readers read it by the project's aliases.
func (b *grantBuilder) byKeyPolicy(r graph.Resource, acc Access, sid string, all []string) error {
	if b.phase == readOnly {
		b.merge(grant{sid: sid + "Read", actions: all, resources: acc.On.ReadOn(b.region),
			conds: []condition{acc.On.ReadCondition(b.project)}, why: "the readers read only keys the project's aliases name"})
		return nil
	}
	if err := b.keyPolicyGrants(r, acc, all); err != nil {
		return err
	}
	b.merge(grant{sid: sid + "Create", actions: b.special(acc.Create), resources: acc.On.CreateOn(b.region), why: acc.On.Why})
	return nil
}

// byFunction grants a type scoped by the function it feeds (event source
// mappings) under lambda:FunctionArn.
func (b *grantBuilder) byFunction(r graph.Resource, acc Access, sid string, all []string) error {
	fn := str(r, acc.On.FunctionOf)
	if fn == "" {
		return fmt.Errorf("%s %s names no function in %s", r.Type, r.Name, acc.On.FunctionOf)
	}
	functions, _, err := b.arns(r, func(r graph.Resource) []string { return functionARNs(unqualified(str(r, acc.On.FunctionOf)), b.region) })
	if err != nil {
		return err
	}
	of := condition{"ArnLike", "lambda:FunctionArn", functions}
	if b.phase == readOnly {
		// Readers read every environment's mappings: of the project's
		// functions.
		of.values = functionARNs(arn("lambda", b.region, "function:"+b.project+"-*"), b.region)
	}
	keyed := slices.DeleteFunc(slices.Clone(all), func(a string) bool { return !functionKeyed[a] })
	rest := slices.DeleteFunc(slices.Clone(all), func(a string) bool { return functionKeyed[a] || slices.Contains(acc.Create, a) })
	if b.phase != readOnly {
		b.merge(grant{sid: sid + "Create", actions: b.special(acc.Create), resources: acc.On.CreateOn(b.region), conds: []condition{of}, why: acc.On.Why})
	}
	b.merge(grant{sid: sid, actions: slices.DeleteFunc(keyed, func(a string) bool { return slices.Contains(acc.Create, a) }),
		resources: acc.On.FunctionScoped(b.region), conds: []condition{of}, why: acc.On.Why})
	// What no key can tie to a function (its tags, which the stack
	// leaves unset, are listed on every read).
	b.merge(grant{sid: sid + "Any", actions: rest, resources: acc.On.FunctionScoped(b.region),
		why: "ListTags has no condition key that names the mapping's function"})
	return nil
}

// also adds the grants a resource needs on other resources: the roles it
// passes to a service, the packages it reads.
func (b *grantBuilder) also(r graph.Resource, acc Access, sid string) error {
	for _, also := range acc.Also {
		if also.Reads != (b.phase == readOnly) {
			continue
		}
		g := grant{sid: sid + also.Sid, actions: also.Actions, why: also.Why}
		switch {
		case also.PassedTo != "":
			if str(r, also.RoleInput) == "" {
				return fmt.Errorf("%s %s passes no role in %s", r.Type, r.Name, also.RoleInput)
			}
			roles, _, err := b.arns(r, func(r graph.Resource) []string { return []string{str(r, also.RoleInput)} })
			if err != nil {
				return err
			}
			g.actions = []string{"iam:PassRole"}
			g.resources = roles
			g.conds = []condition{{"StringEquals", "iam:PassedToService", []string{also.PassedTo}}}
		default:
			on, _, err := b.arns(r, func(r graph.Resource) []string { return also.On(r, b.region) })
			if err != nil {
				return err
			}
			g.resources = on
		}
		b.merge(g)
	}
	return nil
}

// keyPolicyGrants checks that a key's own policy lets the builder's role
// do what the type needs once the key exists (actions), and point aliases
// at it: the key's policy names that role, so IAM grants it nothing on
// the account's keys.
func (b *grantBuilder) keyPolicyGrants(r graph.Resource, acc Access, actions []string) error {
	if b.keyAdmin == "" {
		return fmt.Errorf("%s %s: no role administers the stack's keys", r.Type, r.Name)
	}
	var doc struct {
		Statement []struct {
			Effect    string
			Principal map[string]any
			Action    any
		}
	}
	if err := json.Unmarshal([]byte(str(r, "policy")), &doc); err != nil {
		return fmt.Errorf("the key %s has no policy tap-deploy can read (%v): its policy must name %s as its administrator", r.Name, err, b.keyAdmin)
	}
	granted := map[string]bool{}
	for _, s := range doc.Statement {
		if s.Effect != "Allow" || !slices.Contains(anyStrings(s.Principal["AWS"]), b.keyAdmin) {
			continue
		}
		for _, a := range anyStrings(s.Action) {
			granted[a] = true
		}
	}
	var missing []string
	for _, a := range append(slices.Clone(actions), keyAliasActions...) {
		if !granted[a] && !slices.Contains(acc.Create, a) {
			missing = append(missing, a)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("the key %s's policy does not let %s (the role that deploys the stack) %s: name it as the key's administrator (stack.KeyAdministration)", r.Name, b.keyAdmin, strings.Join(dedupe(nil, missing), ", "))
	}
	return nil
}

// keyAliasActions are what an alias call needs on the key as well as on
// the alias (KMS Developer Guide, controlling access to aliases).
var keyAliasActions = []string{"kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias"}

// functionKeyed are the calls on event source mappings whose request
// carries lambda:FunctionArn (Service Authorization Reference, Lambda).
var functionKeyed = map[string]bool{
	"lambda:CreateEventSourceMapping": true, "lambda:UpdateEventSourceMapping": true,
	"lambda:DeleteEventSourceMapping": true, "lambda:GetEventSourceMapping": true,
}

// unqualified is a function ARN without its version or alias.
func unqualified(fn string) string {
	if parts := strings.Split(fn, ":"); len(parts) == 8 && parts[0] == "arn" {
		return strings.Join(parts[:7], ":")
	}
	return fn
}

// anyStrings reads a policy value that is a string or a list of them.
func anyStrings(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// special moves the actions AWS authorizes on no particular resource to a
// grant of their own, and returns the rest.
func (b *grantBuilder) special(actions []string) []string {
	var rest []string
	for _, a := range actions {
		if why, ok := anyResource[a]; ok {
			// The statement lists the actions; one reason serves all the
			// actions it explains (SNS's subscription calls).
			b.merge(grant{sid: "NoResourceLevelPermissions", actions: []string{a}, resources: []string{"*"}, why: why})
			continue
		}
		rest = append(rest, a)
	}
	return rest
}

// ownCalls adds what tap-deploy itself calls before an update: the
// account's Lambda concurrency (internal/awsaccount), and the traffic
// shifts it waits for and follows (internal/awstraffic).
func (b *grantBuilder) ownCalls() {
	b.special([]string{"lambda:GetAccountSettings"})
	b.merge(grant{sid: "ChecksLambdaConcurrency", actions: []string{"lambda:GetFunctionConcurrency"}, resources: b.functions,
		why: "tap-deploy reads each function's reserved concurrency before an update that reserves some"})
	// Where each live alias points (lambda:GetAlias) is read with the
	// aliases; the shifts are read with the deployment groups.
	b.merge(grant{sid: sidOf("aws:codedeploy/deploymentGroup:DeploymentGroup"), actions: []string{"codedeploy:ListDeployments", "codedeploy:GetDeployment"},
		resources: b.groups})
}

// ownUpdates adds what tap-deploy itself calls after an update: it asks
// CodeDeploy to shift each function's live alias to the new version, and
// stops the release's other shifts when an alarm stops one.
func (b *grantBuilder) ownUpdates() {
	if len(b.groups) == 0 {
		return
	}
	b.special([]string{"codedeploy:StopDeployment"})
	// CreateDeployment registers the shift's AppSpec revision with the
	// application and reads the predefined Lambda configuration.
	b.merge(grant{sid: sidOf("aws:codedeploy/deploymentGroup:DeploymentGroup"), actions: []string{"codedeploy:CreateDeployment", "codedeploy:GetDeployment"},
		resources: b.groups})
	b.merge(grant{sid: sidOf("aws:codedeploy/application:Application"), actions: []string{"codedeploy:GetApplicationRevision", "codedeploy:RegisterApplicationRevision"},
		resources: b.apps})
	b.merge(grant{sid: sidOf("aws:codedeploy/application:Application"), actions: []string{"codedeploy:GetDeploymentConfig"},
		resources: []string{arn("codedeploy", b.region, "deploymentconfig:CodeDeployDefault.Lambda*")}})
}

// withoutIDs replaces each generated id in arns by as many one-character
// wildcards, and says whether there were any.
func withoutIDs(arns, ids []string) ([]string, bool) {
	out := make([]string, len(arns))
	generated := false
	for i, a := range arns {
		for _, id := range ids {
			if strings.Contains(a, id) {
				a = strings.ReplaceAll(a, id, strings.Repeat("?", len(id)))
				generated = true
			}
		}
		out[i] = a
	}
	return out, generated
}

// sidOf names a statement after a Pulumi type (aws:s3/bucketV2:BucketV2 →
// S3BucketV2) or data source.
func sidOf(token string) string {
	parts := strings.Split(token, ":")
	module := parts[1]
	if i := strings.Index(module, "/"); i >= 0 {
		module = module[:i]
	}
	name := parts[len(parts)-1]
	if module == "index" {
		module = ""
	}
	return upperFirst(module) + upperFirst(name)
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	r := []rune(s)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

// dedupe appends the values of add not yet in have.
func dedupe(have, add []string) []string {
	for _, v := range add {
		if !slices.Contains(have, v) {
			have = append(have, v)
		}
	}
	return have
}

// glob is the pattern that matches a and b: their common prefix and
// suffix around a wildcard.
func glob(a, b string) string {
	if a == b {
		return a
	}
	p := 0
	for p < len(a) && p < len(b) && a[p] == b[p] {
		p++
	}
	s := 0
	for s < len(a)-p && s < len(b)-p && a[len(a)-1-s] == b[len(b)-1-s] {
		s++
	}
	return a[:p] + "*" + a[len(a)-s:]
}
