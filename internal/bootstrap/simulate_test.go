package bootstrap

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/stack"
	"github.com/org/tap-deploy/test/iamdata"
	"github.com/org/tap-deploy/test/iamsim"
	"github.com/org/tap-deploy/test/iamtest"
	"github.com/org/tap-deploy/test/requires"
)

// simulated is one row of the table iam-simulate decides: a request, the
// role that makes it, and what the tests expect.
type simulated struct {
	what  string
	role  string // "account.yaml PreviewRole", "dev.yaml DeployRole"
	alts  []request
	allow bool
	// keyPolicy, for a call on a key, is the key's own policy.
	keyPolicy any
	// boundary, for a role the stack makes, is the boundary it carries
	// ("dev.yaml Boundary"); its identity policy is then *:*.
	boundary string
}

// The reference templates, as iamtest reads them.
func referenceSet(t *testing.T) iamtest.Set {
	t.Helper()
	set := iamtest.Set{}
	for _, f := range referenceFiles(t) {
		tmpl, err := iamtest.Parse(f.Body, vars("aws"))
		require.NoError(t, err)
		set[f.Name] = tmpl
	}
	return set
}

func roleARNOf(role string) string {
	file, logical, _ := strings.Cut(role, " ")
	env := strings.TrimSuffix(file, ".yaml")
	switch logical {
	case "DeployRole":
		return roleNamed(stack.DeployRoleName(base(env)))
	case "DriftRole":
		return roleNamed(stack.DriftRoleName(base(env)))
	case "PreviewRole":
		return roleNamed(stack.PreviewRoleName("tap", region))
	case "ReviewRole":
		return roleNamed(stack.ReviewRoleName("tap", region))
	}
	return roleNamed(logical)
}

// Everything the jobs call is allowed, and every escalation the bootstrap
// issue names (and those found since) is denied, by an IAM evaluator that
// is not ours. Where it and iamtest disagree the test fails naming both.
func TestRoles_AnIndependentEvaluatorAgrees(t *testing.T) {
	data := iamdata.Open(requires.IAMData(t))
	set := referenceSet(t)
	var rows []simulated
	// A key's policy decides with IAM (KMS: the account's root statement
	// lets IAM policies grant), so a call on a key carries it.
	keys := map[string]any{}
	for _, env := range referenceOptions.Environments {
		for _, m := range envModels(t, env, false) {
			for _, k := range m.graph.OfType("aws:kms/key:Key") {
				keys[cloudARN(k)] = keyPolicyOf(t, []accessModel{m}, cloudARN(k))
			}
		}
	}
	for _, m := range reviewStack(t, 7) {
		for _, k := range m.graph.OfType("aws:kms/key:Key") {
			keys[cloudARN(k)] = keyPolicyOf(t, []accessModel{m}, cloudARN(k))
		}
	}
	needs := func(role string, calls [][]request, what string) {
		for _, alts := range calls {
			rows = append(rows, simulated{what: what, role: role, alts: alts, allow: true, keyPolicy: keys[alts[0].Resource]})
		}
	}
	for _, env := range referenceOptions.Environments {
		needs(env+".yaml DeployRole", need(t, envModels(t, env, false), commonTags(env, 0), readWrite), "up, rollback and promote of "+env)
		needs(env+".yaml DriftRole", need(t, envModels(t, env, false), commonTags(env, 0), readOnly), "drift and history of "+env)
		needs("account.yaml PreviewRole", need(t, envModels(t, env, false), commonTags(env, 0), readOnly), "preview of "+env)
		calls, _ := keyPolicyCalls(t, envModels(t, env, false))
		for _, c := range calls {
			rows = append(rows, simulated{what: "a key of " + env, role: env + ".yaml DeployRole", alts: []request{c}, allow: true, keyPolicy: keyPolicyOf(t, envModels(t, env, false), c.Resource)})
		}
	}
	needs("account.yaml ReviewRole", need(t, reviewStack(t, 7), commonTags("dev", 7), readWrite), "a review stack and its sweep")
	// A deploy of prod in another account promotes from staging with
	// staging's drift role (bootstrap --promotion staging:prod here), the
	// one role it assumes in this account.
	needs("staging.yaml DriftRole", promoteFromReads(t, "staging"), "promote-from staging by prod's deploy, from another account")
	rows = append(rows, escalations(t)...)

	var cases []iamsim.Case
	var index [][2]int // row, alternative
	unsimulated, skipped := map[string]bool{}, map[int]bool{}
	for i, row := range rows {
		var identity, boundary []any
		principal := roleARNOf(row.role)
		if row.boundary == "" {
			file, logical, _ := strings.Cut(row.role, " ")
			docs, err := set.Documents(file, logical)
			require.NoError(t, err, row.role)
			identity = docs
		} else {
			bf, bl, _ := strings.Cut(row.boundary, " ")
			doc, err := set.Document(bf, bl)
			require.NoError(t, err)
			boundary = []any{doc}
			identity = []any{map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{"Effect": "Allow", "Action": "*", "Resource": "*"}}}}
			principal = roleNamed(row.role)
		}
		sent := 0
		for j, r := range row.alts {
			if data.ResourceMatches(r.Action, r.Resource) != "" {
				// Not a resource AWS authorizes the action on: the
				// alternative of another resource type.
				continue
			}
			sent++
			ctx := map[string]string{}
			for k, v := range r.Context {
				// AWS puts in a request only the keys it evaluates there.
				if data.KeyApplies(r.Action, r.Resource, k) == "" {
					ctx[k] = v
				}
			}
			cases = append(cases, iamsim.Case{Name: fmt.Sprint(i, "/", j), Principal: principal, Account: modelAccount,
				Action: r.Action, Resource: r.Resource, Context: ctx, Identity: identity, Boundary: boundary, ResourcePolicy: row.keyPolicy})
			index = append(index, [2]int{i, j})
		}
		if sent == 0 {
			// The service authorization data lists no resource type for
			// the request's path: API Gateway authorizes a management call
			// on the path it is made to (a child's create on its parent's
			// path, PUT of a method on the method's), which the data models
			// only in part. iamtest decides these rows alone.
			require.True(t, strings.HasPrefix(row.alts[0].Action, "apigateway:"), "%s %s: none of %v is a resource AWS authorizes it on", row.role, row.what, row.alts)
			unsimulated[row.alts[0].Action+" "+apiPath(row.alts[0].Resource)] = true
			skipped[i] = true
		}
	}
	decisions := iamsim.Run(t, cases)
	allowed := make([]bool, len(rows))
	evaluated := make([]bool, len(rows))
	for k, d := range decisions {
		if d.Decision == "error" && strings.Contains(d.Errors, "no.resource.types") {
			continue // an alternative of another resource type than the action's
		}
		evaluated[index[k][0]] = true
		if d.Decision == "error" {
			row := rows[index[k][0]]
			t.Errorf("iam-simulate refused the request %v of %s (%s): %s", row.alts[index[k][1]], row.role, row.what, d.Errors)
			continue
		}
		allowed[index[k][0]] = allowed[index[k][0]] || d.Allowed()
	}
	var nAllowed, nDenied int
	for i, row := range rows {
		if !skipped[i] && !evaluated[i] {
			require.True(t, strings.HasPrefix(row.alts[0].Action, "apigateway:"), "%s %s: iam-simulate finds none of %v a resource AWS authorizes it on", row.role, row.what, row.alts)
			unsimulated[row.alts[0].Action+" "+apiPath(row.alts[0].Resource)] = true
			skipped[i] = true
		}
		if skipped[i] {
			continue
		}
		if allowed[i] {
			nAllowed++
		} else {
			nDenied++
		}
		if allowed[i] != row.allow {
			t.Errorf("iam-simulate: %s %v (%s), want allowed=%v: %v", row.role, allowed[i], row.what, row.allow, row.alts)
		}
		// iamtest, for the rows it can decide (no key policy, no boundary).
		if row.keyPolicy == nil && row.boundary == "" {
			file, logical, _ := strings.Cut(row.role, " ")
			statements, err := set.Role(file, logical)
			require.NoError(t, err)
			ours := false
			for _, r := range row.alts {
				ours = ours || allows(statements, r) != ""
			}
			assert.Equal(t, allowed[i], ours, "iam-simulate and iamtest disagree on %s %v (%s)", row.role, row.alts, row.what)
		}
	}
	t.Logf("iam-simulate: %d requests in %d rows: %d allowed, %d denied (as expected: %d must be allowed, %d denied); %d rows iamtest alone decides (API Gateway paths the data lacks: %v)",
		len(cases), len(rows), nAllowed, nDenied, countAllow(rows, true)-len(skipped), countAllow(rows, false), len(skipped), slices.Sorted(maps.Keys(unsimulated)))
}

// apiPath is an API Gateway ARN's path with its ids as {id}.
func apiPath(arn string) string {
	_, p, _ := strings.Cut(arn, "::")
	parts := strings.Split(p, "/")
	for i := 2; i < len(parts); i += 2 {
		parts[i] = "{id}"
	}
	return strings.Join(parts, "/")
}

func countAllow(rows []simulated, want bool) int {
	n := 0
	for _, r := range rows {
		if r.allow == want {
			n++
		}
	}
	return n
}

func keyPolicyOf(t *testing.T, models []accessModel, key string) any {
	t.Helper()
	for _, m := range models {
		for _, k := range m.graph.OfType("aws:kms/key:Key") {
			if cloudARN(k) == key {
				var doc any
				require.NoError(t, json.Unmarshal([]byte(str(k, "policy")), &doc))
				return doc
			}
		}
	}
	t.Fatalf("no key %s", key)
	return nil
}

// escalations are the requests no role may make: the bootstrap issue's,
// and the red-team paths found while building it.
func escalations(t *testing.T) []simulated {
	t.Helper()
	fn := func(env, name string) string {
		return "arn:aws:lambda:" + region + ":" + modelAccount + ":function:tap-" + env + "-" + name
	}
	devRole := roleNamed("tap-dev-api-handler-" + region)
	devBoundary := policyNamed(stack.BoundaryName(base("dev")))
	self := roleNamed(stack.DeployRoleName(base("dev")))
	state := "arn:aws:s3:::" + testBucket
	anyKey := "arn:aws:kms:" + region + ":" + modelAccount + ":key/1234abcd-12ab-34cd-56ef-1234567890ab"
	mapping := "arn:aws:lambda:" + region + ":" + modelAccount + ":event-source-mapping:0f1d2c3b-aaaa-bbbb-cccc-0123456789ab"
	deny := func(what, role string, r request) simulated {
		return simulated{what: what, role: role, alts: []request{r}}
	}
	rows := []simulated{
		deny("a policy on a role without the boundary", "dev.yaml DeployRole", roleCall("iam:PutRolePolicy", devRole, "", "")),
		deny("*:* on the function's role, bounded by another boundary", "dev.yaml DeployRole", roleCall("iam:PutRolePolicy", devRole, "", "arn:aws:iam::aws:policy/AdministratorAccess")),
		deny("the function role's trust rewritten", "dev.yaml DeployRole", roleCall("iam:UpdateAssumeRolePolicy", devRole, "", devBoundary)),
		deny("its own policies", "dev.yaml DeployRole", roleCall("iam:PutRolePolicy", self, "", devBoundary)),
		deny("its own trust", "dev.yaml DeployRole", req("iam:UpdateAssumeRolePolicy", self, nil)),
		deny("its boundary rewritten", "dev.yaml DeployRole", req("iam:CreatePolicyVersion", devBoundary, nil)),
		deny("a boundary taken off", "dev.yaml DeployRole", roleCall("iam:DeleteRolePermissionsBoundary", devRole, "", devBoundary)),
		deny("a role created without a boundary", "dev.yaml DeployRole", req("iam:CreateRole", roleNamed("tap-dev-escalate-"+region), nil)),
		deny("prod's function's code", "dev.yaml DeployRole", req("lambda:UpdateFunctionCode", fn("prod", "api-handler"), nil)),
		deny("prod's stream mapped onto prod's function, tagged as dev's", "dev.yaml DeployRole",
			req("lambda:CreateEventSourceMapping", "*", map[string]string{"lambda:FunctionArn": fn("prod", "stream-processor") + ":live", "aws:RequestTag/environment": "dev", "aws:RequestTag/project": "tap"})),
		deny("a review stack mapped onto prod's function", "account.yaml ReviewRole",
			req("lambda:CreateEventSourceMapping", "*", map[string]string{"lambda:FunctionArn": fn("prod", "stream-processor") + ":live"})),
		deny("a mapping tagged", "dev.yaml DeployRole", req("lambda:TagResource", mapping, map[string]string{"aws:RequestTag/environment": "dev"})),
		deny("any key tagged, to take it over", "account.yaml ReviewRole", req("kms:TagResource", anyKey, map[string]string{"aws:RequestTag/review-stack": "pr-7"})),
		deny("any key's policy", "dev.yaml DeployRole", req("kms:PutKeyPolicy", anyKey, nil)),
		deny("prod's state", "account.yaml ReviewRole", req("s3:GetObject", state+"/tap/.pulumi/stacks/tap/prod.json", nil)),
		deny("prod's state written", "dev.yaml DeployRole", req("s3:PutObject", state+"/tap/.pulumi/stacks/tap/prod.json", nil)),
		deny("the backend's layout", "prod.yaml DeployRole", req("s3:PutObject", state+"/tap/.pulumi/meta.yaml", nil)),
		deny("a write from a preview", "account.yaml PreviewRole", req("lambda:UpdateFunctionCode", fn("dev", "api-handler"), nil)),
		deny("a write from a drift check", "dev.yaml DriftRole", req("dynamodb:DeleteTable", "arn:aws:dynamodb:"+region+":"+modelAccount+":table/tap-dev-items", nil)),
		deny("prod's deploy role assumed", "dev.yaml DeployRole", req("sts:AssumeRole", roleNamed(stack.DeployRoleName(base("prod"))), nil)),
	}
	// What prod's deploy job, from another account, could try with
	// staging's drift role, the one role of this account it assumes.
	source := base("staging")
	sourceCfg, err := stack.NewConfig(source, nil)
	require.NoError(t, err)
	app, fns := stack.TrafficNames(sourceCfg)
	group := "arn:aws:codedeploy:" + region + ":" + modelAccount + ":deploymentgroup:" + app + "/" + fns[0].DeploymentGroup
	alias := "arn:aws:lambda:" + region + ":" + modelAccount + ":function:" + fns[0].Name + ":" + fns[0].Alias
	rows = append(rows,
		deny("the source's state written by the promoting job", "staging.yaml DriftRole", req("s3:PutObject", state+"/tap/.pulumi/stacks/tap/staging.json", nil)),
		deny("the source's lock taken by the promoting job", "staging.yaml DriftRole", req("s3:PutObject", state+"/tap/.pulumi/locks/organization/tap/staging/0f1d.json", nil)),
		deny("the source's history deleted by the promoting job", "staging.yaml DriftRole", req("s3:DeleteObject", state+"/tap/.pulumi/history/tap/staging/staging-1700000000.history.json", nil)),
		deny("the source's deploy role assumed by the promoting job", "staging.yaml DriftRole", req("sts:AssumeRole", roleNamed(stack.DeployRoleName(source)), nil)),
		deny("the source's live alias moved by the promoting job", "staging.yaml DriftRole", req("lambda:UpdateAlias", alias, nil)),
		deny("a traffic shift of the source started by the promoting job", "staging.yaml DriftRole", req("codedeploy:CreateDeployment", group, nil)),
	)
	// A role the stack makes, given *:* by a branch, can do no more than
	// its boundary allows.
	for _, r := range []request{
		req("iam:CreateRole", roleNamed("x"), nil),
		req("iam:PutRolePolicy", self, nil),
		req("sts:AssumeRole", roleNamed(stack.DeployRoleName(base("prod"))), nil),
		req("s3:PutObject", state+"/tap/.pulumi/stacks/tap/dev.json", nil),
		req("lambda:UpdateFunctionCode", fn("prod", "api-handler"), nil),
		req("dynamodb:DeleteItem", "arn:aws:dynamodb:"+region+":"+modelAccount+":table/tap-prod-items", nil),
	} {
		rows = append(rows, simulated{what: "a dev function's role with *:*", role: "tap-dev-api-handler-" + region, alts: []request{r}, boundary: "dev.yaml Boundary"})
		rows = append(rows, simulated{what: "a review stack's role with *:*", role: "tap-dev-pr-7-api-handler-" + region, alts: []request{r}, boundary: "account.yaml ReviewBoundary"})
	}
	// Another environment's deploy role on dev's key, through its policy.
	calls, _ := keyPolicyCalls(t, envModels(t, "dev", false))
	for _, c := range calls[:3] {
		rows = append(rows, simulated{what: "dev's key, by staging", role: "staging.yaml DeployRole", alts: []request{c}, keyPolicy: keyPolicyOf(t, envModels(t, "dev", false), c.Resource)})
	}
	return rows
}

// promoteFromReads is what a promotion reads of its source stack env
// (internal/app, promote.go): the stack selected, its history and
// checkpoint (Pulumi's DIY backend: stateKeys), and, per function, where
// its live alias points and whether a CodeDeploy shift is running.
// (Loading the checkpoint of an awskms:// stack also decrypts its data key
// with the adopter's key, which the templates do not make: its key policy
// grants that, as for drift checks; internal/engine/moto_test.go.)
func promoteFromReads(t *testing.T, env string) [][]request {
	t.Helper()
	state := "arn:aws:s3:::" + testBucket + "/tap/.pulumi/"
	out := [][]request{
		{req("s3:ListBucket", "arn:aws:s3:::"+testBucket, map[string]string{"s3:prefix": "tap/.pulumi/history/tap/" + env + "/"})},
		{req("s3:ListBucket", "arn:aws:s3:::"+testBucket, map[string]string{"s3:prefix": "tap/.pulumi/locks/organization/tap/" + env + "/"})},
		{req("s3:GetObject", state+"meta.yaml", nil)},
		{req("s3:GetObject", state+"stacks/tap/"+env+".json", nil)},
		{req("s3:GetObject", state+"history/tap/"+env+"/"+env+"-1700000000.history.json", nil)},
		{req("s3:GetObject", state+"history/tap/"+env+"/"+env+"-1700000000.checkpoint.json", nil)},
	}
	cfg, err := stack.NewConfig(base(env), nil)
	require.NoError(t, err)
	app, fns := stack.TrafficNames(cfg)
	for _, f := range fns {
		group := "arn:aws:codedeploy:" + region + ":" + modelAccount + ":deploymentgroup:" + app + "/" + f.DeploymentGroup
		out = append(out,
			[]request{req("lambda:GetAlias", "arn:aws:lambda:"+region+":"+modelAccount+":function:"+f.Name+":"+f.Alias, nil)},
			[]request{req("codedeploy:ListDeployments", group, nil)},
			[]request{req("codedeploy:GetDeployment", group, nil)},
		)
	}
	return out
}
