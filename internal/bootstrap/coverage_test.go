package bootstrap

import (
	"encoding/json"
	"fmt"
	"net/url"
	"path"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/graph"
	"github.com/org/tap-deploy/stack"
)

// The requests a role must be allowed, derived from the simulated cloud's
// own ARNs (cloudsim) and the stack's tags, not from the generator's name
// functions: a name the template builds wrongly is a request it refuses.

const region = "eu-west-1"

func cloudARN(r graph.Resource) string { s, _ := r.Outputs["arn"].(string); return s }

func byName(g *graph.Graph, typ, name string) (graph.Resource, bool) {
	for _, r := range g.OfType(typ) {
		if str(r, "name") == name || path.Base(cloudARN(r)) == name {
			return r, true
		}
	}
	return graph.Resource{}, false
}

// resourceARNs are the ARNs IAM authorizes calls about r on.
func resourceARNs(t *testing.T, g *graph.Graph, r graph.Resource) []string {
	t.Helper()
	apigw := func(p string) string { return "arn:aws:apigateway:" + region + "::" + p }
	api := "/restapis/" + str(r, "restApi")
	switch r.Type {
	case "aws:s3/bucketV2:BucketV2":
		return []string{cloudARN(r), cloudARN(r) + "/lambda/api-handler/some-version.zip"}
	case "aws:s3/bucketObjectv2:BucketObjectv2":
		return []string{"arn:aws:s3:::" + str(r, "bucket") + "/" + str(r, "key"), "arn:aws:s3:::" + str(r, "bucket")}
	case "aws:lambda/permission:Permission":
		fn, ok := byName(g, "aws:lambda/function:Function", str(r, "function"))
		require.True(t, ok, "the permission's function")
		return []string{cloudARN(fn)}
	case "aws:lambda/eventSourceMapping:EventSourceMapping":
		return []string{"arn:aws:lambda:" + region + ":" + modelAccount + ":event-source-mapping:" + r.Outputs["uuid"].(string)}
	case "aws:iam/rolePolicy:RolePolicy", "aws:iam/rolePolicyAttachment:RolePolicyAttachment":
		role, ok := byName(g, "aws:iam/role:Role", str(r, "role"))
		require.True(t, ok, "the policy's role")
		return []string{cloudARN(role)}
	case "aws:sns/topicPolicy:TopicPolicy":
		return []string{str(r, "arn")}
	case "aws:sns/topicSubscription:TopicSubscription":
		return []string{str(r, "topic"), cloudARN(r)}
	case "aws:apigateway/resource:Resource":
		return []string{apigw(api + "/resources/" + strings.TrimPrefix(r.Outputs["path"].(string), "/"))}
	case "aws:apigateway/method:Method":
		return []string{apigw(api + "/resources/" + str(r, "resourceId") + "/methods/" + str(r, "httpMethod"))}
	case "aws:apigateway/integration:Integration":
		return []string{apigw(api + "/resources/" + str(r, "resourceId") + "/methods/" + str(r, "httpMethod") + "/integration")}
	case "aws:apigateway/deployment:Deployment":
		return []string{apigw(api + "/deployments/d1")}
	case "aws:apigateway/methodSettings:MethodSettings":
		return []string{apigw(api + "/stages/" + str(r, "stageName"))}
	case "aws:apigateway/account:Account":
		return []string{apigw("/account")}
	}
	if a := cloudARN(r); a != "" {
		return []string{a}
	}
	if b := str(r, "bucket"); b != "" {
		return []string{"arn:aws:s3:::" + b}
	}
	t.Fatalf("the test knows no ARN of %s", r.Type)
	return nil
}

func req(action, resource string, ctx map[string]string) request {
	return request{Action: action, Resource: resource, Context: ctx}
}

// createdOn is where a create of a type whose id AWS generates is
// authorized (the id does not exist yet).
func createdOn(typ string) string {
	switch typ {
	case "aws:apigateway/restApi:RestApi":
		return "arn:aws:apigateway:" + region + "::/restapis"
	}
	return "*"
}

// requests are the calls a role makes through IAM for one resource in a
// phase. A key's own calls, once it exists, are authorized by its policy
// (keyPolicyCalls), not here.
func requests(t *testing.T, g *graph.Graph, r graph.Resource, tags map[string]string, p phase) [][]request {
	t.Helper()
	acc := Table[r.Type]
	arns := resourceARNs(t, g, r)
	withTags := func(prefix string) map[string]string {
		ctx := map[string]string{}
		for k, v := range tags {
			ctx[prefix+k] = v
		}
		return ctx
	}
	b := newGrantBuilder("tap", region, p)
	_, actions := b.actions(acc, r)
	// The permissions boundary of the role a call is about (every role of
	// the stack carries one), which IAM puts in the call's context.
	boundary := ""
	switch r.Type {
	case "aws:iam/role:Role":
		boundary = str(r, "permissionsBoundary")
	case "aws:iam/rolePolicy:RolePolicy", "aws:iam/rolePolicyAttachment:RolePolicyAttachment":
		role, ok := byName(g, "aws:iam/role:Role", str(r, "role"))
		require.True(t, ok, "the policy's role")
		boundary = str(role, "permissionsBoundary")
	}
	var out [][]request
	for _, a := range dedupe(nil, actions) {
		var alternatives []request
		switch {
		case anyResource[a] != "":
			alternatives = []request{req(a, "*", nil)}
		case r.Type == "aws:kms/key:Key":
			if p == readOnly {
				// The readers read the project's keys, which IAM tells by
				// the aliases that name them.
				alternatives = []request{req(a, arns[0], map[string]string{"kms:ResourceAliases": aliasOf(t, g, r)})}
			} else if slices.Contains(acc.Create, a) {
				alternatives = []request{req(a, "*", nil)}
			} else {
				continue // the key's policy (keyPolicyCalls)
			}
		case r.Type == "aws:lambda/eventSourceMapping:EventSourceMapping":
			ctx := map[string]string{"lambda:FunctionArn": mappedFunction(g, r)}
			switch {
			case slices.Contains(acc.Create, a):
				alternatives = []request{req(a, "*", ctx)}
			case functionKeyed[a]:
				alternatives = []request{req(a, arns[0], ctx)}
			default:
				alternatives = []request{req(a, arns[0], nil)}
			}
		case acc.On.CreateOn != nil && slices.Contains(acc.Create, a) && !slices.Contains(acc.Update, a):
			alternatives = []request{req(a, createdOn(r.Type), withTags("aws:RequestTag/"))}
		default:
			ctx := withTags("aws:ResourceTag/")
			if slices.Contains(acc.Tag, a) {
				for k, v := range withTags("aws:RequestTag/") {
					ctx[k] = v
				}
			}
			if acc.On.WriteCondition != nil && !slices.Contains(acc.Read, a) {
				ctx["iam:PolicyARN"] = str(r, "policyArn")
			}
			for _, arn := range arns {
				call := req(a, arn, ctx)
				if strings.HasPrefix(r.Type, "aws:iam/role") {
					// The role carries the boundary it is created with.
					call = roleCall(a, arn, boundary, boundary)
					for k, v := range ctx {
						call.Context[k] = v
					}
				}
				alternatives = append(alternatives, call)
			}
		}
		out = append(out, alternatives)
	}
	for _, also := range acc.Also {
		// API Gateway authorizes reading an API's or a stage's tags on
		// /tags/<its ARN, URL-encoded>.
		if also.Sid == "ReadTags" && p != writeOnly {
			out = append(out, []request{req("apigateway:GET", "arn:aws:apigateway:"+region+"::/tags/"+url.PathEscape(apiGatewayARN(r)), nil)})
		}
	}
	if p == readOnly {
		return out
	}
	switch r.Type {
	case "aws:lambda/function:Function":
		out = append(out,
			[]request{req("iam:PassRole", str(r, "role"), map[string]string{"iam:PassedToService": "lambda.amazonaws.com"})},
			[]request{req("s3:GetObject", "arn:aws:s3:::"+str(r, "s3Bucket")+"/"+str(r, "s3Key"), nil)},
			[]request{req("s3:GetObjectVersion", "arn:aws:s3:::"+str(r, "s3Bucket")+"/"+str(r, "s3Key"), nil)},
			[]request{req("lambda:GetFunctionConcurrency", cloudARN(r), nil)})
	case "aws:apigateway/account:Account":
		out = append(out, []request{req("iam:PassRole", str(r, "cloudwatchRoleArn"), map[string]string{"iam:PassedToService": "apigateway.amazonaws.com"})})
	}
	return out
}

// aliasOf is the alias that names a key (the stack names every key).
func aliasOf(t *testing.T, g *graph.Graph, key graph.Resource) string {
	t.Helper()
	for _, a := range g.OfType("aws:kms/alias:Alias") {
		if str(a, "targetKeyId") == key.Outputs["keyId"] || str(a, "targetKeyId") == cloudARN(key) {
			return str(a, "name")
		}
	}
	t.Fatalf("no alias names the key %s: the readers could not read it", key.Name)
	return ""
}

// mappedFunction is the function ARN a mapping's calls carry in
// lambda:FunctionArn.
func mappedFunction(g *graph.Graph, r graph.Resource) string {
	fn := str(r, "functionName")
	if strings.HasPrefix(fn, "arn:") {
		return fn
	}
	if f, ok := byName(g, "aws:lambda/function:Function", fn); ok {
		return cloudARN(f)
	}
	return "arn:aws:lambda:" + region + ":" + modelAccount + ":function:" + fn
}

// apiGatewayARN is the ARN of an API or a stage, as /tags names it.
func apiGatewayARN(r graph.Resource) string {
	if r.Type == "aws:apigateway/stage:Stage" {
		return "arn:aws:apigateway:" + region + "::/restapis/" + str(r, "restApi") + "/stages/" + str(r, "stageName")
	}
	return cloudARN(r)
}

// keyPolicyCalls are the calls the deploy role makes on the stack's keys
// once they exist, which each key's own policy must allow it: IAM grants
// that role nothing on the account's keys.
func keyPolicyCalls(t *testing.T, models []accessModel) (calls []request, policies map[string][]stmt) {
	t.Helper()
	policies = map[string][]stmt{}
	for _, m := range models {
		for _, k := range m.graph.OfType("aws:kms/key:Key") {
			var doc map[string]any
			require.NoError(t, json.Unmarshal([]byte(str(k, "policy")), &doc), k.Name)
			policies[cloudARN(k)] = keyStatements(doc)
			acc := Table[k.Type]
			_, actions := newGrantBuilder("tap", region, readWrite).actions(acc, k)
			for _, a := range dedupe(nil, append(actions, keyAliasActions...)) {
				if !slices.Contains(acc.Create, a) {
					calls = append(calls, req(a, cloudARN(k), nil))
				}
			}
		}
	}
	return calls, policies
}

// keyStatements reads a key policy, each statement keeping its principals
// as the Sid's prefix ("<principal> <sid>") so a test can pick a role's.
func keyStatements(doc map[string]any) []stmt {
	var out []stmt
	raw, _ := doc["Statement"].([]any)
	for i, s := range statementsOf(doc) {
		m, _ := raw[i].(map[string]any)
		principal, _ := m["Principal"].(map[string]any)
		for _, p := range strings1(principal["AWS"]) {
			s := s
			s.Sid = p + " " + s.Sid
			out = append(out, s)
		}
	}
	return out
}

// ofPrincipal are the statements of a key policy that name principal.
func ofPrincipal(statements []stmt, principal string) []stmt {
	var out []stmt
	for _, s := range statements {
		if strings.HasPrefix(s.Sid, principal+" ") {
			out = append(out, s)
		}
	}
	return out
}

// need is every call the role must be allowed for the runs of a
// configuration, each as alternatives (one must be allowed).
func need(t *testing.T, models []accessModel, tags map[string]string, p phase) [][]request {
	t.Helper()
	var out [][]request
	for _, m := range models {
		for _, r := range m.graph.Resources {
			if !r.Custom || strings.HasPrefix(r.Type, "pulumi:providers:") {
				continue
			}
			require.Contains(t, Table, r.Type)
			out = append(out, requests(t, m.graph, r, tags, p)...)
		}
		for _, c := range m.calls {
			if c.Token == "aws:s3/getObject:getObject" {
				out = append(out, []request{req("s3:GetObject", "arn:aws:s3:::"+c.Args["bucket"].(string)+"/"+c.Args["key"].(string), nil)})
			}
		}
	}
	return out
}

func commonTags(env string, review int) map[string]string {
	return stack.Config{Base: stack.Base{Project: "tap", Environment: env}, ReviewStackPR: review}.CommonTags()
}

func allowedAll(t *testing.T, statements []stmt, calls [][]request) {
	t.Helper()
	require.NotEmpty(t, calls, "no calls to check: the test would pass on nothing")
	for _, alternatives := range calls {
		ok := false
		for _, r := range alternatives {
			ok = ok || allows(statements, r) != ""
		}
		assert.True(t, ok, "allowed: %v", alternatives)
	}
}

// unscopable are the calls AWS authorizes with nothing that tells one
// stack's resource from another's: on no particular resource, or, for an
// event source mapping's tags and an API's, on a UUID or a /tags path that
// has no condition key. They are reads or a new key of no power: every stack's
// role alike may make them.
func unscopable(r request) bool {
	return r.Resource == "*" && len(r.Context) == 0 || strings.HasSuffix(r.Resource, ":log-group:*") ||
		r.Action == "apigateway:GET" && strings.Contains(r.Resource, "::/tags/") ||
		r.Action == "lambda:ListTags" && strings.Contains(r.Resource, ":event-source-mapping:")
}

func deniedAll(t *testing.T, statements []stmt, calls [][]request) {
	t.Helper()
	require.NotEmpty(t, calls, "no calls to check: the test would pass on nothing")
	for _, alternatives := range calls {
		for _, r := range alternatives {
			if unscopable(r) {
				continue
			}
			assert.Empty(t, allows(statements, r), "denied: %v", r)
		}
	}
}

// The runs of the stack the tests check roles against, made once.
var (
	modelsMu sync.Mutex
	models   = map[string][]accessModel{}
)

func cached(t *testing.T, key string, run func() ([]accessModel, error)) []accessModel {
	t.Helper()
	modelsMu.Lock()
	defer modelsMu.Unlock()
	if m, ok := models[key]; ok {
		return m
	}
	m, err := run()
	require.NoError(t, err)
	models[key] = m
	return m
}

func envModels(t *testing.T, env string, ownsAccount bool) []accessModel {
	t.Helper()
	return cached(t, fmt.Sprint("env ", env, ownsAccount), func() ([]accessModel, error) {
		return environmentModels(stack.Base{Project: "tap", Environment: env, Region: region}, ownsAccount)
	})
}

func reviewStack(t *testing.T, pr int) []accessModel {
	t.Helper()
	return cached(t, fmt.Sprint("review ", pr), func() ([]accessModel, error) {
		return reviewModels(stack.Base{Project: "tap", Environment: "dev", Region: region}, pr)
	})
}

func base(env string) stack.Base { return stack.Base{Project: "tap", Environment: env, Region: region} }

// deployRole and the others are the statements of the reference
// templates' roles: an environment's in its own template, the preview and
// review roles in the account's.
func deployRole(t *testing.T, env string) []stmt {
	return referenceTemplates(t).role(t, env+".yaml", "DeployRole")
}
func driftRole(t *testing.T, env string) []stmt {
	return referenceTemplates(t).role(t, env+".yaml", "DriftRole")
}
func previewRole(t *testing.T) []stmt {
	return referenceTemplates(t).role(t, "account.yaml", "PreviewRole")
}
func reviewRole(t *testing.T) []stmt {
	return referenceTemplates(t).role(t, "account.yaml", "ReviewRole")
}

func roleNamed(name string) string { return "arn:aws:iam::" + modelAccount + ":role/" + name }
func policyNamed(name string) string {
	return "arn:aws:iam::" + modelAccount + ":policy/" + name
}

func TestDeployRoles_AllowEveryCallOfTheirEnvironmentsStack(t *testing.T) {
	for _, env := range referenceOptions.Environments {
		t.Run(env, func(t *testing.T) {
			allowedAll(t, deployRole(t, env), need(t, envModels(t, env, false), commonTags(env, 0), readWrite))
		})
	}
}

// Every call the deploy role makes on a key once it exists is allowed by
// that key's own policy, which names the role: the deploy that creates a
// key uses it at once (no tag to wait for), and IAM grants the role
// nothing on any other key of the account.
func TestKeys_PoliciesLetTheirDeployRoleDoWhatTheStackDoesWithThem(t *testing.T) {
	for _, c := range []struct {
		name, admin string
		models      []accessModel
	}{
		{"dev", roleNamed(stack.DeployRoleName(base("dev"))), envModels(t, "dev", false)},
		{"prod", roleNamed(stack.DeployRoleName(base("prod"))), envModels(t, "prod", false)},
		{"a review stack", roleNamed(stack.ReviewRoleName("tap", region)), reviewStack(t, 7)},
	} {
		t.Run(c.name, func(t *testing.T) {
			calls, policies := keyPolicyCalls(t, c.models)
			require.NotEmpty(t, calls)
			for _, call := range calls {
				assert.NotEmpty(t, allows(ofPrincipal(policies[call.Resource], c.admin), call), "the key's policy refuses %s: %v", c.admin, call)
			}
			// Another environment's deploy role is no administrator of it.
			other := roleNamed(stack.DeployRoleName(base("staging")))
			for _, call := range calls {
				assert.Empty(t, allows(ofPrincipal(policies[call.Resource], other), call), "staging's deploy role: %v", call)
			}
			// IAM gives the role nothing on a key beyond creating one.
			for _, call := range calls {
				var role []stmt
				if c.name == "a review stack" {
					role = reviewRole(t)
				} else {
					role = deployRole(t, c.name)
				}
				if isRead(call.Action) {
					continue // the readers' reads, by the project's aliases
				}
				assert.Empty(t, allows(role, call), "IAM lets %s %v", c.name, call)
			}
		})
	}
}

func TestDeployRole_OfTheOwningEnvironmentManagesTheAPIGatewayAccount(t *testing.T) {
	o := Options{Project: "tap", Environments: []string{"prod"}, Region: region, Repository: "owner/repo",
		APIGatewayLogging: "prod", ReviewEnvironment: OwnerNone}
	ts := generated(t, o)
	assert.NotContains(t, ts["account.yaml"].resources(t), "ApiGatewayLogsRole", "the stack owns it, not the template")
	models := envModels(t, "prod", true)
	require.NotEmpty(t, models[len(models)-1].graph.OfType("aws:apigateway/account:Account"))
	allowedAll(t, ts.role(t, "prod.yaml", "DeployRole"), need(t, models, commonTags("prod", 0), readWrite))
	// Another environment's deploy role leaves the setting alone.
	o.Environments, o.APIGatewayLogging = []string{"dev", "prod"}, "prod"
	ts = generated(t, o)
	assert.Empty(t, allows(ts.role(t, "dev.yaml", "DeployRole"), req("apigateway:PATCH", "arn:aws:apigateway:"+region+"::/account", nil)))
}

func TestReadRoles_AllowEveryReadOfTheirStacks(t *testing.T) {
	preview := previewRole(t)
	for _, env := range referenceOptions.Environments {
		t.Run(env, func(t *testing.T) {
			reads := need(t, envModels(t, env, false), commonTags(env, 0), readOnly)
			allowedAll(t, driftRole(t, env), reads)
			allowedAll(t, preview, reads)
		})
	}
}

func TestReadRoles_ChangeNothing(t *testing.T) {
	changes := writes(need(t, envModels(t, "dev", false), commonTags("dev", 0), readWrite))
	require.NotEmpty(t, changes)
	deniedAll(t, previewRole(t), changes)
	deniedAll(t, driftRole(t, "dev"), changes)
}

// isRead reports whether an action is in some type's Read list (or reads
// a package) and nothing else.
func isRead(action string) bool {
	for _, acc := range Table {
		if slices.Contains(acc.Read, action) {
			return true
		}
	}
	switch action {
	case "s3:GetObject", "s3:GetObjectVersion", "lambda:GetFunctionConcurrency", "lambda:GetAccountSettings",
		"codedeploy:GetDeployment", "codedeploy:ListDeployments":
		// tap-deploy's own reads (ownCalls).
		return true
	}
	return false
}

func TestReviewRole_AllowsEveryCallOfAnyPullRequestsReviewStack(t *testing.T) {
	review := reviewRole(t)
	// Other pull requests than the two the patterns were made from.
	for _, pr := range []int{7, 42, 123456} {
		allowedAll(t, review, need(t, reviewStack(t, pr), commonTags("dev", pr), readWrite))
	}
}

// A deploy role (an environment's, or the review role, which every branch
// may use) writes only roles that carry its boundary: were it to create or
// rewrite a role of its choosing (any policy, a trust policy naming itself
// or the GitHub OIDC provider), assuming that role, or pushing code to a
// function that runs as it, would make it the account's administrator. It
// may never take a boundary off, change its own policies, its boundary or
// the boundary policy, nor rewrite trust.
func TestDeployRoles_WriteOnlyRolesBoundedByTheirBoundary(t *testing.T) {
	const admin = "arn:aws:iam::aws:policy/AdministratorAccess"
	for _, c := range []struct {
		name                string
		role                []stmt
		self, own, boundary string
	}{
		{"dev's deploy role", deployRole(t, "dev"), roleNamed(stack.DeployRoleName(base("dev"))),
			roleNamed("tap-dev-api-handler-" + region), policyNamed(stack.BoundaryName(base("dev")))},
		{"prod's deploy role", deployRole(t, "prod"), roleNamed(stack.DeployRoleName(base("prod"))),
			roleNamed("tap-prod-api-handler-" + region), policyNamed(stack.BoundaryName(base("prod")))},
		{"the review role", reviewRole(t), roleNamed(stack.ReviewRoleName("tap", region)),
			roleNamed("tap-dev-pr-7-api-handler-" + region), policyNamed(stack.ReviewBoundaryName(base("dev")))},
	} {
		t.Run(c.name, func(t *testing.T) {
			escalate := strings.Replace(c.own, "api-handler", "escalate", 1)
			denied := []request{
				// No boundary, or another one.
				req("iam:CreateRole", escalate, nil),
				roleCall("iam:CreateRole", escalate, admin, ""),
				roleCall("iam:PutRolePolicy", c.own, "", ""),
				roleCall("iam:AttachRolePolicy", c.own, "", admin),
				roleCall("iam:PutRolePermissionsBoundary", c.own, admin, c.boundary),
				// Taking the boundary off, or rewriting who may assume a role.
				roleCall("iam:DeleteRolePermissionsBoundary", c.own, "", c.boundary),
				roleCall("iam:UpdateAssumeRolePolicy", c.own, c.boundary, c.boundary),
				// Itself, whatever boundary it carries.
				roleCall("iam:PutRolePolicy", c.self, "", c.boundary),
				roleCall("iam:AttachRolePolicy", c.self, "", c.boundary),
				roleCall("iam:UpdateAssumeRolePolicy", c.self, "", c.boundary),
				roleCall("iam:DeleteRolePermissionsBoundary", c.self, "", c.boundary),
				// The boundary policy.
				req("iam:CreatePolicyVersion", c.boundary, nil),
				req("iam:SetDefaultPolicyVersion", c.boundary, nil),
				req("iam:DeletePolicy", c.boundary, nil),
			}
			for _, r := range denied {
				assert.Empty(t, allows(c.role, r), "%s may %v: a role of any power it can act through", c.name, r)
			}
			for _, r := range []request{
				roleCall("iam:CreateRole", c.own, c.boundary, ""),
				roleCall("iam:PutRolePolicy", c.own, "", c.boundary),
				roleCall("iam:DeleteRolePolicy", c.own, "", c.boundary),
				roleCall("iam:DeleteRole", c.own, "", c.boundary),
			} {
				assert.NotEmpty(t, allows(c.role, r), "%s's bounded role: %v", c.name, r)
			}
		})
	}
}

// given are the calls a stack's roles are allowed, on its own resources,
// as IAM authorizes them.
func given(t *testing.T, models []accessModel, tags map[string]string) []request {
	t.Helper()
	var out []request
	for _, m := range models {
		for _, p := range m.graph.OfType("aws:iam/rolePolicy:RolePolicy") {
			var policy stack.PolicyDocument
			require.NoError(t, json.Unmarshal([]byte(str(p, "policy")), &policy))
			for _, s := range policy.Statement {
				for _, a := range s.Action {
					for _, res := range s.Resource {
						ctx := map[string]string{}
						if strings.HasPrefix(a, "kms:") {
							ctx["kms:ViaService"] = "sns." + region + ".amazonaws.com"
						}
						out = append(out, req(a, res, ctx))
						if i := strings.Index(res, "/stream/"); i >= 0 {
							// AWS names a stream by when it was enabled.
							out = append(out, req(a, res[:i]+"/stream/2027-05-05T10:00:00.000", ctx))
						}
					}
				}
			}
		}
		// CodeDeploy moves the live aliases and reads the alarms that stop
		// a shift, with its role.
		for _, alias := range m.graph.OfType("aws:lambda/alias:Alias") {
			for _, a := range []string{"lambda:GetAlias", "lambda:UpdateAlias"} {
				out = append(out, req(a, cloudARN(alias), nil))
			}
		}
		for _, g := range m.graph.OfType("aws:codedeploy/deploymentGroup:DeploymentGroup") {
			alarms, _ := g.Inputs["alarmConfiguration"].(map[string]any)["alarms"].([]any)
			require.NotEmpty(t, alarms)
			for _, name := range alarms {
				out = append(out, req("cloudwatch:DescribeAlarms", "arn:aws:cloudwatch:"+region+":"+modelAccount+":alarm:"+name.(string), nil))
			}
		}
	}
	require.NotEmpty(t, out)
	_ = tags
	return out
}

// What a boundary allows is what a role the deploy role writes can ever
// do, whatever policy a branch gives it: what the stack's own roles are
// given, on that stack's resources (any review stack's, for the review
// boundary), and nothing of IAM, of another stack or of the state.
func TestBoundaries_AllowWhatTheirStacksRolesAreGivenAndNothingElse(t *testing.T) {
	ts := referenceTemplates(t)
	review := ts.policy(t, "account.yaml", "ReviewBoundary")
	dev := ts.policy(t, "dev.yaml", "Boundary")
	prod := ts.policy(t, "prod.yaml", "Boundary")
	assert.Equal(t, stack.ReviewBoundaryName(base("dev")), props(t, ts["account.yaml"].resource(t, "ReviewBoundary"))["ManagedPolicyName"])
	assert.Equal(t, stack.BoundaryName(base("dev")), props(t, ts["dev.yaml"].resource(t, "Boundary"))["ManagedPolicyName"])

	// A key is untagged and its id unknown until it exists, so a boundary
	// allows using keys only through SNS (kms:ViaService): what a role
	// encrypts or decrypts that way is a message of a topic, and the
	// boundary names the topics (the sns: requests below, refused for
	// another stack's).
	throughSNS := func(r request) bool { return r.Context["kms:ViaService"] != "" }
	for _, pr := range []int{7, 123456} {
		for _, r := range given(t, reviewStack(t, pr), commonTags("dev", pr)) {
			assert.NotEmpty(t, allows(review, r), "the review boundary refuses what review stack %d's roles are given: %v", pr, r)
			if !throughSNS(r) {
				assert.Empty(t, allows(dev, r), "dev's boundary lets a role reach review stack %d: %v", pr, r)
			}
		}
	}
	devGiven := given(t, envModels(t, "dev", false), commonTags("dev", 0))
	for _, r := range devGiven {
		assert.NotEmpty(t, allows(dev, r), "dev's boundary refuses what dev's roles are given: %v", r)
		if !throughSNS(r) {
			assert.Empty(t, allows(review, r), "a review stack's role may reach dev's stack: %v", r)
			assert.Empty(t, allows(prod, r), "a prod role may reach dev's stack: %v", r)
		}
	}
	require.True(t, slices.ContainsFunc(devGiven, func(r request) bool { return strings.HasPrefix(r.Action, "sns:") }), "dev's roles publish to a topic")
	state := "arn:aws:s3:::" + testBucket
	for name, boundary := range map[string][]stmt{"review": review, "dev": dev} {
		for _, r := range []request{
			req("iam:CreateRole", roleNamed("tap-dev-pr-0-escalate-"+region), nil),
			req("iam:PutRolePolicy", roleNamed("tap-dev-api-handler-"+region), nil),
			req("iam:PassRole", roleNamed("tap-dev-api-handler-"+region), nil),
			req("iam:CreatePolicyVersion", policyNamed(stack.BoundaryName(base("dev"))), nil),
			req("sts:AssumeRole", roleNamed(stack.DeployRoleName(base("prod"))), nil),
			req("s3:GetObject", state+"/tap/.pulumi/stacks/tap/prod.json", nil),
			req("s3:PutObject", state+"/tap/.pulumi/stacks/tap/dev.json", nil),
			req("kms:Decrypt", "arn:aws:kms:eu-west-1:123456789012:key/1234abcd", map[string]string{"kms:ViaService": "s3." + region + ".amazonaws.com"}),
		} {
			assert.Empty(t, allows(boundary, r), "a role under the %s boundary may %v", name, r)
		}
		for _, s := range boundary {
			for _, a := range s.Actions {
				assert.False(t, strings.HasPrefix(a, "iam:") || strings.HasPrefix(a, "sts:"), "the %s boundary allows %s (%s)", name, a, s.Sid)
			}
			assert.NotContains(t, s.Resources, "*", s.Sid)
		}
	}
}

// writes are the calls among calls that change something.
func writes(calls [][]request) [][]request {
	var out [][]request
	for _, alternatives := range calls {
		if !isRead(alternatives[len(alternatives)-1].Action) {
			out = append(out, alternatives)
		}
	}
	return out
}

// Every role reads what a preview reads, of every environment; what sets
// them apart is what they may change.
func TestRoles_ChangeNothingOfAnotherEnvironmentOrOfReviewStacks(t *testing.T) {
	dev := writes(need(t, envModels(t, "dev", false), commonTags("dev", 0), readWrite))
	prod := writes(need(t, envModels(t, "prod", false), commonTags("prod", 0), readWrite))
	review := writes(need(t, reviewStack(t, 7), commonTags("dev", 7), readWrite))
	require.NotEmpty(t, dev)

	deniedAll(t, deployRole(t, "dev"), prod)
	deniedAll(t, deployRole(t, "dev"), review)
	deniedAll(t, deployRole(t, "prod"), dev)
	deniedAll(t, deployRole(t, "staging"), dev)
	deniedAll(t, reviewRole(t), dev)
	deniedAll(t, reviewRole(t), prod)
}

// Nothing of another project, read or written: its names and aliases are
// not the project's.
func TestRoles_ReachNothingOfAnotherProject(t *testing.T) {
	other := cached(t, "project other", func() ([]accessModel, error) {
		return environmentModels(stack.Base{Project: "other", Environment: "dev", Region: region}, false)
	})
	calls := need(t, other, stack.Config{Base: stack.Base{Project: "other", Environment: "dev"}}.CommonTags(), readWrite)
	require.NotEmpty(t, calls)
	for name, role := range map[string][]stmt{"preview": previewRole(t), "drift": driftRole(t, "dev"), "deploy": deployRole(t, "dev"), "review": reviewRole(t)} {
		t.Run(name, func(t *testing.T) { deniedAll(t, role, calls) })
	}
}

// The escalations of the bootstrap issue, each denied to the role named:
// tagging to take over, mapping another environment's stream or function,
// subscribing to another environment's topic.
func TestRoles_TakeOverNothingByTagsMappingsOrSubscriptions(t *testing.T) {
	prodFunction := "arn:aws:lambda:" + region + ":" + modelAccount + ":function:tap-prod-stream-processor:live"
	devFunction := "arn:aws:lambda:" + region + ":" + modelAccount + ":function:tap-dev-stream-processor:live"
	mapping := "arn:aws:lambda:" + region + ":" + modelAccount + ":event-source-mapping:0f1d2c3b-aaaa-bbbb-cccc-0123456789ab"
	anyKey := "arn:aws:kms:" + region + ":" + modelAccount + ":key/1234abcd-12ab-34cd-56ef-1234567890ab"
	prodTopic := "arn:aws:sns:" + region + ":" + modelAccount + ":tap-prod-alerts-" + region
	tagged := func(action, resource string, tags map[string]string) request {
		ctx := map[string]string{}
		for k, v := range tags {
			ctx["aws:RequestTag/"+k] = v
			ctx["aws:ResourceTag/"+k] = v
		}
		return req(action, resource, ctx)
	}
	for name, role := range map[string][]stmt{
		"dev's deploy role": deployRole(t, "dev"), "the review role": reviewRole(t),
		"the preview role": previewRole(t), "dev's drift role": driftRole(t, "dev"),
	} {
		for _, r := range []request{
			// No key is tagged, so none can be taken over by its tags.
			tagged("kms:TagResource", anyKey, commonTags("dev", 7)),
			tagged("kms:TagResource", "*", commonTags("dev", 0)),
			tagged("kms:CreateKey", "*", commonTags("dev", 0)),
			req("kms:PutKeyPolicy", anyKey, nil),
			req("kms:ScheduleKeyDeletion", anyKey, nil),
			tagged("kms:Decrypt", anyKey, commonTags("dev", 0)),
			// Mappings are untagged and feed only the role's own functions.
			req("lambda:CreateEventSourceMapping", "*", map[string]string{"lambda:FunctionArn": prodFunction}),
			req("lambda:UpdateEventSourceMapping", mapping, map[string]string{"lambda:FunctionArn": prodFunction}),
			req("lambda:DeleteEventSourceMapping", mapping, map[string]string{"lambda:FunctionArn": prodFunction}),
			tagged("lambda:TagResource", mapping, commonTags("dev", 0)),
			req("lambda:CreateEventSourceMapping", "*", nil),
			// Another environment's topic.
			req("sns:Subscribe", prodTopic, nil),
			req("sns:SetSubscriptionAttributes", prodTopic+":0f1d", nil),
			req("sns:Unsubscribe", prodTopic+":0f1d", nil),
		} {
			if r.Action == "kms:CreateKey" && (name == "dev's deploy role" || name == "the review role") {
				// A deploy role creates keys, but with no tags: KMS
				// authorizes CreateKey with tags as kms:TagResource too,
				// which no role has (above).
				continue
			}
			assert.Empty(t, allows(role, r), "%s may %v", name, r)
		}
	}
	assert.Empty(t, allows(reviewRole(t), req("lambda:CreateEventSourceMapping", "*", map[string]string{"lambda:FunctionArn": devFunction})), "the review role maps onto dev's function")
	assert.NotEmpty(t, allows(deployRole(t, "dev"), req("lambda:CreateEventSourceMapping", "*", map[string]string{"lambda:FunctionArn": devFunction})), "dev maps onto its own function")
}

// roleCalled is a reference role by the name the state tests use.
func roleCalled(t *testing.T, name string) []stmt {
	t.Helper()
	switch {
	case name == "PreviewRole":
		return previewRole(t)
	case name == "ReviewRole":
		return reviewRole(t)
	case strings.HasPrefix(name, "DeployRole"):
		return deployRole(t, strings.ToLower(strings.TrimPrefix(name, "DeployRole")))
	case strings.HasPrefix(name, "DriftRole"):
		return driftRole(t, strings.ToLower(strings.TrimPrefix(name, "DriftRole")))
	}
	t.Fatalf("no reference role %s", name)
	return nil
}

func TestRoles_ReachOnlyTheirOwnState(t *testing.T) {
	bucket := "arn:aws:s3:::" + testBucket
	key := func(k string) string { return bucket + "/" + k }
	list := func(prefix string) request {
		return req("s3:ListBucket", bucket, map[string]string{"s3:prefix": prefix})
	}
	tests := []struct {
		role string
		req  request
		want bool
	}{
		// A deploy role writes its environment's stack only.
		{"DeployRoleDev", req("s3:GetObject", key("tap/.pulumi/stacks/tap/dev.json"), nil), true},
		{"DeployRoleDev", req("s3:PutObject", key("tap/.pulumi/stacks/tap/dev.json"), nil), true},
		{"DeployRoleDev", req("s3:PutObject", key("tap/.pulumi/stacks/tap/dev.json.bak"), nil), true},
		{"DeployRoleDev", req("s3:PutObject", key("tap/.pulumi/history/tap/dev/dev-1700000000.history.json"), nil), true},
		{"DeployRoleDev", req("s3:PutObject", key("tap/.pulumi/locks/organization/tap/dev/0f1d.json"), nil), true},
		{"DeployRoleDev", req("s3:DeleteObject", key("tap/.pulumi/locks/organization/tap/dev/0f1d.json"), nil), true},
		{"DeployRoleDev", req("s3:PutObject", key("tap/.pulumi/backups/tap/dev/dev.1700000000.json"), nil), true},
		{"DeployRoleDev", req("s3:GetObject", key("tap/.pulumi/meta.yaml"), nil), true},
		{"DeployRoleDev", req("s3:GetObject", key("tap/.pulumi/stacks/dev.json"), nil), true},
		{"DeployRoleDev", list("tap/.pulumi/history/tap/dev/"), true},
		// It reads the other environments' stacks, as a preview does: a
		// promotion reads the history of the stack it comes from.
		{"DeployRoleProd", req("s3:GetObject", key("tap/.pulumi/stacks/tap/staging.json"), nil), true},
		{"DeployRoleProd", req("s3:GetObject", key("tap/.pulumi/history/tap/staging/staging-1700000000.history.json"), nil), true},
		{"DeployRoleProd", list("tap/.pulumi/history/tap/staging/"), true},
		{"DeployRoleProd", req("s3:PutObject", key("tap/.pulumi/history/tap/staging/staging-1700000000.history.json"), nil), false},
		{"DeployRoleProd", req("s3:GetObject", key("other/.pulumi/stacks/tap/staging.json"), nil), false},
		{"DeployRoleDev", req("s3:PutObject", key("tap/.pulumi/stacks/tap/prod.json"), nil), false},
		{"DeployRoleDev", req("s3:PutObject", key("tap/.pulumi/stacks/tap/dev-pr-7.json"), nil), false},
		{"DeployRoleDev", req("s3:PutObject", key("tap/review/.pulumi/stacks/tap/dev-pr-7.json"), nil), false},
		{"DeployRoleDev", req("s3:PutObject", key("other/.pulumi/stacks/tap/dev.json"), nil), false},
		{"DeployRoleDev", list("other/"), false},
		{"DeployRoleDev", req("s3:ListBucket", bucket, nil), false},
		// A drift role reads its environment's stack and writes nothing.
		{"DriftRoleDev", req("s3:GetObject", key("tap/.pulumi/stacks/tap/dev.json"), nil), true},
		{"DriftRoleDev", req("s3:GetObject", key("tap/.pulumi/locks/organization/tap/dev/0f1d.json"), nil), true},
		{"DriftRoleDev", req("s3:GetObject", key("tap/.pulumi/stacks/tap/staging.json"), nil), false},
		{"DriftRoleDev", req("s3:PutObject", key("tap/.pulumi/locks/organization/tap/dev/0f1d.json"), nil), false},
		{"DriftRoleDev", req("s3:PutObject", key("tap/.pulumi/meta.yaml"), nil), false},
		{"DriftRoleDev", req("s3:GetObject", key("tap/.pulumi/meta.yaml"), nil), true},
		// The preview role reads the project's state and writes nothing.
		{"PreviewRole", req("s3:GetObject", key("tap/.pulumi/stacks/tap/prod.json"), nil), true},
		{"PreviewRole", list("tap/.pulumi/stacks/tap/prod.json"), true},
		{"PreviewRole", req("s3:PutObject", key("tap/.pulumi/meta.yaml"), nil), false},
		{"PreviewRole", req("s3:GetObject", key("tap/.pulumi/meta.yaml"), nil), true},
		{"PreviewRole", req("s3:GetObject", key("other/.pulumi/meta.yaml"), nil), false},
		// The review role keeps to its own backend.
		{"ReviewRole", req("s3:PutObject", key("tap/review/.pulumi/stacks/tap/dev-pr-7.json"), nil), true},
		// Its own backend's layout is its own: no environment's stack is
		// found through it.
		{"ReviewRole", req("s3:PutObject", key("tap/review/.pulumi/meta.yaml"), nil), true},
		{"ReviewRole", req("s3:PutObject", key("tap/.pulumi/meta.yaml"), nil), false},
		{"ReviewRole", req("s3:DeleteObject", key("tap/review/.pulumi/history/tap/dev-pr-7/x.json"), nil), true},
		{"ReviewRole", list("tap/review/.pulumi/stacks/"), true},
		{"ReviewRole", req("s3:GetObject", key("tap/.pulumi/stacks/tap/dev.json"), nil), false},
		{"ReviewRole", list("tap/.pulumi/stacks/"), false},
	}
	for _, tt := range tests {
		got := allows(roleCalled(t, tt.role), tt.req) != ""
		assert.Equal(t, tt.want, got, "%s: %v", tt.role, tt.req)
	}
}

// The backend's .pulumi/meta.yaml says how Pulumi finds every stack under
// the prefix (version 1: .pulumi/stacks/<project>/<stack>.json; 0, the
// legacy layout: .pulumi/stacks/<stack>.json; higher: refused). One
// environment's deploy role rewriting it would make the others' previews,
// drift checks and deploys find no stack, and a deploy that finds none
// would create every resource again. So no environment's role writes it:
// the administrator's first login does, once (the template's header);
// every role reads it.
func TestDeployRoles_NeverWriteTheBackendLayout(t *testing.T) {
	meta := "arn:aws:s3:::" + testBucket + "/tap/.pulumi/meta.yaml"
	for _, role := range []string{"DeployRoleDev", "DeployRoleStaging", "DeployRoleProd", "DriftRoleDev", "PreviewRole"} {
		statements := roleCalled(t, role)
		for _, action := range []string{"s3:PutObject", "s3:DeleteObject"} {
			assert.Empty(t, allows(statements, req(action, meta, nil)),
				"%s may %s the backend's meta.yaml, which decides where every environment's stack is found", role, action)
		}
		assert.NotEmpty(t, allows(statements, req("s3:GetObject", meta, nil)), "%s reads the layout", role)
	}
}
