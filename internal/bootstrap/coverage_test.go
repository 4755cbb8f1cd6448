package bootstrap

import (
	"encoding/json"
	"fmt"
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

// restAPIIDs are the REST APIs' ids, from the ARNs the simulated cloud gave.
func restAPIIDs(g *graph.Graph) []string {
	var ids []string
	for _, r := range g.OfType("aws:apigateway/restApi:RestApi") {
		ids = append(ids, path.Base(cloudARN(r)))
	}
	return ids
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

// requests are the calls the role makes for one resource in a phase.
func requests(t *testing.T, g *graph.Graph, r graph.Resource, tags map[string]string, p phase) [][]request {
	t.Helper()
	acc := Table[r.Type]
	arns := resourceARNs(t, g, r)
	generated := false
	for _, id := range restAPIIDs(g) {
		generated = generated || (r.Type != "aws:apigateway/restApi:RestApi" && strings.Contains(arns[0], id) && r.Type == "aws:cloudwatch/logGroup:LogGroup")
	}
	withTags := func(prefix string) map[string]string {
		ctx := map[string]string{}
		for k, v := range tags {
			ctx[prefix+k] = v
		}
		return ctx
	}
	b := newBuilder(region, p)
	_, actions := b.actions(acc, r)
	// The permissions boundary of the role a call is about (a review
	// stack's roles carry one), which IAM puts in the call's context.
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
		if a == "iam:UpdateAssumeRolePolicy" && boundary != "" {
			// A review stack's roles keep the trust they were created
			// with (the stack's trust policies depend on nothing that
			// changes): the review role never rewrites one.
			continue
		}
		var alternatives []request
		switch {
		case anyResource[a] != "":
			alternatives = []request{req(a, "*", nil)}
		case regionWide[a].why != "":
			alternatives = []request{req(a, "arn:aws:logs:"+region+":"+modelAccount+":log-group:*", nil)}
		case acc.On.CreateOn != nil && slices.Contains(acc.Create, a) && !slices.Contains(acc.Update, a):
			alternatives = []request{req(a, createdOn(r.Type), withTags("aws:RequestTag/"))}
		case acc.On.CreateOn != nil && slices.Contains(acc.Tag, a) && r.Type == "aws:kms/key:Key":
			// KMS checks tagging on create on no particular key.
			alternatives = []request{req(a, "*", withTags("aws:RequestTag/"))}
		case generated && slices.Contains(acc.Create, a) && !slices.Contains(acc.Update, a):
			alternatives = []request{req(a, arns[0], withTags("aws:RequestTag/"))}
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
	case "aws:kms/alias:Alias":
		var key string
		for _, k := range g.OfType("aws:kms/key:Key") {
			if k.Outputs["keyId"] == str(r, "targetKeyId") {
				key = cloudARN(k)
			}
		}
		require.NotEmpty(t, key, "the alias's key")
		for _, a := range []string{"kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias"} {
			out = append(out, []request{req(a, key, withTags("aws:ResourceTag/"))})
		}
	}
	return out
}

// need is every call the role must be allowed for the runs of a
// configuration, each as alternatives (one must be allowed).
func need(t *testing.T, models []model, tags map[string]string, p phase) [][]request {
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
	for _, alternatives := range calls {
		ok := false
		for _, r := range alternatives {
			ok = ok || allows(statements, r) != ""
		}
		assert.True(t, ok, "allowed: %v", alternatives)
	}
}

func deniedAll(t *testing.T, statements []stmt, calls [][]request) {
	t.Helper()
	for _, alternatives := range calls {
		for _, r := range alternatives {
			if r.Resource == "*" || strings.HasSuffix(r.Resource, ":log-group:*") {
				continue // allowed on no particular resource, for every stack alike
			}
			assert.Empty(t, allows(statements, r), "denied: %v", r)
		}
	}
}

// The runs of the stack the tests check roles against, made once.
var (
	modelsMu sync.Mutex
	models   = map[string][]model{}
)

func cached(t *testing.T, key string, run func() ([]model, error)) []model {
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

func envModels(t *testing.T, env string, ownsAccount bool) []model {
	t.Helper()
	return cached(t, fmt.Sprint("env ", env, ownsAccount), func() ([]model, error) {
		return environmentModels(stack.Base{Project: "tap", Environment: env, Region: region}, ownsAccount)
	})
}

func reviewStack(t *testing.T, pr int) []model {
	t.Helper()
	return cached(t, fmt.Sprint("review ", pr), func() ([]model, error) {
		return reviewModels(stack.Base{Project: "tap", Environment: "dev", Region: region}, pr)
	})
}

func TestDeployRoles_AllowEveryCallOfTheirEnvironmentsStack(t *testing.T) {
	doc := parse(t, referenceTemplate(t))
	for _, env := range referenceOptions.Environments {
		t.Run(env, func(t *testing.T) {
			allowedAll(t, doc.roleStatements(t, "DeployRole"+pascal(env)), need(t, envModels(t, env, false), commonTags(env, 0), readWrite))
		})
	}
}

func TestDeployRole_OfTheOwningEnvironmentManagesTheAPIGatewayAccount(t *testing.T) {
	o := Options{Project: "tap", Environments: []string{"prod"}, Region: region, Repository: "owner/repo",
		APIGatewayAccount: "prod", ReviewEnvironment: OwnerNone}
	out, err := Template(o)
	require.NoError(t, err)
	doc := parse(t, out)
	assert.NotContains(t, doc.resources(t), "ApiGatewayAccount", "the stack owns it, not the template")
	models := envModels(t, "prod", true)
	require.NotEmpty(t, models[len(models)-1].graph.OfType("aws:apigateway/account:Account"))
	allowedAll(t, doc.roleStatements(t, "DeployRoleProd"), need(t, models, commonTags("prod", 0), readWrite))
}

func TestReadRoles_AllowEveryReadOfTheirStacks(t *testing.T) {
	doc := parse(t, referenceTemplate(t))
	preview := doc.roleStatements(t, "PreviewRole")
	for _, env := range referenceOptions.Environments {
		t.Run(env, func(t *testing.T) {
			reads := need(t, envModels(t, env, false), commonTags(env, 0), readOnly)
			allowedAll(t, doc.roleStatements(t, "DriftRole"+pascal(env)), reads)
			allowedAll(t, preview, reads)
		})
	}
}

func TestReadRoles_ChangeNothing(t *testing.T) {
	doc := parse(t, referenceTemplate(t))
	changes := writes(need(t, envModels(t, "dev", false), commonTags("dev", 0), readWrite))
	require.NotEmpty(t, changes)
	for _, role := range []string{"PreviewRole", "DriftRoleDev"} {
		deniedAll(t, doc.roleStatements(t, role), changes)
	}
}

// isRead reports whether an action is in some type's Read list (or reads
// a package) and nothing else.
func isRead(action string) bool {
	for _, acc := range Table {
		if slices.Contains(acc.Read, action) {
			return true
		}
	}
	return action == "s3:GetObject" || action == "s3:GetObjectVersion" || action == "lambda:GetFunctionConcurrency"
}

func TestReviewRole_AllowsEveryCallOfAnyPullRequestsReviewStack(t *testing.T) {
	doc := parse(t, referenceTemplate(t))
	review := doc.roleStatements(t, "ReviewRole")
	// Other pull requests than the two the patterns were made from.
	for _, pr := range []int{7, 42, 123456} {
		allowedAll(t, review, need(t, reviewStack(t, pr), commonTags("dev", pr), readWrite))
	}
}

// The review role is every branch's (any author can deploy a review
// stack), so the roles it writes are bounded: were it to create or rewrite
// a role of its choosing (any policy, a trust policy naming itself or the
// GitHub OIDC provider), assuming that role would make it the account's
// administrator. It may write only roles that carry the review boundary,
// and may never take a boundary off.
func TestReviewRole_WritesOnlyRolesBoundedByTheReviewBoundary(t *testing.T) {
	doc := parse(t, referenceTemplate(t))
	review := doc.roleStatements(t, "ReviewRole")
	const (
		boundary = "arn:aws:iam::123456789012:policy/tap-dev-review-boundary-eu-west-1"
		admin    = "arn:aws:iam::aws:policy/AdministratorAccess"
	)
	escalate := "arn:aws:iam::123456789012:role/tap-dev-pr-0-escalate-eu-west-1"
	existing := "arn:aws:iam::123456789012:role/tap-dev-pr-7-api-handler-eu-west-1"
	for _, r := range []request{
		// No boundary, or another one.
		req("iam:CreateRole", escalate, nil),
		roleCall("iam:CreateRole", escalate, admin, ""),
		roleCall("iam:PutRolePolicy", escalate, "", ""),
		roleCall("iam:PutRolePolicy", existing, "", ""),
		roleCall("iam:AttachRolePolicy", existing, "", admin),
		roleCall("iam:PutRolePermissionsBoundary", existing, admin, boundary),
		// Taking the boundary off, or rewriting who may assume a role:
		// IAM ties no boundary to a trust policy's update.
		roleCall("iam:DeleteRolePermissionsBoundary", existing, "", boundary),
		roleCall("iam:UpdateAssumeRolePolicy", existing, boundary, boundary),
		req("iam:UpdateAssumeRolePolicy", existing, nil),
	} {
		assert.Empty(t, allows(review, r), "the review role may %v: a role of any power it can assume", r)
	}
	for _, r := range []request{
		roleCall("iam:CreateRole", existing, boundary, ""),
		roleCall("iam:PutRolePolicy", existing, "", boundary),
		roleCall("iam:DeleteRolePolicy", existing, "", boundary),
		// A role created before the boundary is bounded on its next update.
		roleCall("iam:PutRolePermissionsBoundary", existing, boundary, ""),
	} {
		assert.NotEmpty(t, allows(review, r), "a review stack's bounded role: %v", r)
	}
}

// What the review boundary allows is what a role the review role writes
// can ever do, whatever policy a branch gives it: what the review stacks'
// own roles are given (the functions' inline policies, what CodeDeploy
// does with its role), on any review stack's resources, and nothing of
// IAM, of the environments' stacks or of the state.
func TestReviewBoundary_AllowsWhatReviewStacksRolesAreGivenAndNothingElse(t *testing.T) {
	doc := parse(t, referenceTemplate(t))
	boundary := doc.policyStatements(t, "ReviewBoundary")
	assert.Equal(t, "tap-dev-review-boundary-eu-west-1", props(t, doc.resource(t, "ReviewBoundary"))["ManagedPolicyName"])

	// given are the calls a stack's roles are allowed, on its own
	// resources, as IAM authorizes them.
	given := func(models []model, tags map[string]string) []request {
		var out []request
		for _, m := range models {
			for _, p := range m.graph.OfType("aws:iam/rolePolicy:RolePolicy") {
				var policy stack.PolicyDocument
				require.NoError(t, json.Unmarshal([]byte(str(p, "policy")), &policy))
				for _, s := range policy.Statement {
					for _, a := range s.Action {
						for _, res := range s.Resource {
							ctx := map[string]string{}
							if strings.Contains(res, ":key/") {
								for k, v := range tags {
									ctx["aws:ResourceTag/"+k] = v
								}
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
			// CodeDeploy moves the live aliases and reads the alarms
			// that stop a shift, with its role.
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
		return out
	}
	for _, pr := range []int{7, 123456} {
		for _, r := range given(reviewStack(t, pr), commonTags("dev", pr)) {
			assert.NotEmpty(t, allows(boundary, r), "the review boundary refuses what review stack %d's roles are given: %v", pr, r)
		}
	}

	for _, r := range given(envModels(t, "dev", false), commonTags("dev", 0)) {
		assert.Empty(t, allows(boundary, r), "a review stack's role may reach dev's stack: %v", r)
	}
	state := "arn:aws:s3:::" + testBucket
	for _, r := range []request{
		req("iam:CreateRole", "arn:aws:iam::123456789012:role/tap-dev-pr-0-escalate-eu-west-1", nil),
		req("iam:PutRolePolicy", "arn:aws:iam::123456789012:role/tap-dev-pr-7-api-handler-eu-west-1", nil),
		req("iam:PassRole", "arn:aws:iam::123456789012:role/tap-dev-pr-7-api-handler-eu-west-1", nil),
		req("iam:CreatePolicyVersion", "arn:aws:iam::123456789012:policy/tap-dev-review-boundary-eu-west-1", nil),
		req("sts:AssumeRole", "arn:aws:iam::123456789012:role/tap-prod-github-deploy-eu-west-1", nil),
		req("s3:GetObject", state+"/tap/.pulumi/stacks/tap/prod.json", nil),
		req("s3:PutObject", state+"/tap/review/.pulumi/stacks/tap/dev-pr-7.json", nil),
		req("kms:Decrypt", "arn:aws:kms:eu-west-1:123456789012:key/1234abcd", map[string]string{"aws:ResourceTag/project": "tap", "aws:ResourceTag/environment": "prod"}),
	} {
		assert.Empty(t, allows(boundary, r), "a review stack's role may %v", r)
	}
	for _, s := range boundary {
		for _, a := range s.Actions {
			assert.False(t, strings.HasPrefix(a, "iam:") || strings.HasPrefix(a, "sts:"), "the review boundary allows %s (%s)", a, s.Sid)
		}
		assert.NotContains(t, s.Resources, "*", s.Sid)
	}

	// No role of the template may change the boundary.
	arn := "arn:aws:iam::123456789012:policy/tap-dev-review-boundary-eu-west-1"
	for logical, r := range doc.resources(t) {
		if r.(map[string]any)["Type"] != "AWS::IAM::Role" || logical == "ApiGatewayLogsRole" {
			continue
		}
		for _, action := range []string{"iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:DeletePolicyVersion", "iam:DeletePolicy"} {
			assert.Empty(t, allows(doc.roleStatements(t, logical), req(action, arn, nil)), "%s may %s the review boundary", logical, action)
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
	doc := parse(t, referenceTemplate(t))
	dev := writes(need(t, envModels(t, "dev", false), commonTags("dev", 0), readWrite))
	prod := writes(need(t, envModels(t, "prod", false), commonTags("prod", 0), readWrite))
	review := writes(need(t, reviewStack(t, 7), commonTags("dev", 7), readWrite))
	require.NotEmpty(t, dev)

	deniedAll(t, doc.roleStatements(t, "DeployRoleDev"), prod)
	deniedAll(t, doc.roleStatements(t, "DeployRoleDev"), review)
	deniedAll(t, doc.roleStatements(t, "DeployRoleProd"), dev)
	deniedAll(t, doc.roleStatements(t, "DeployRoleStaging"), dev)
	deniedAll(t, doc.roleStatements(t, "ReviewRole"), dev)
}

// Nothing of another project, read or written: its names and tags are
// not the project's.
func TestRoles_ReachNothingOfAnotherProject(t *testing.T) {
	doc := parse(t, referenceTemplate(t))
	other := cached(t, "project other", func() ([]model, error) {
		return environmentModels(stack.Base{Project: "other", Environment: "dev", Region: region}, false)
	})
	calls := need(t, other, stack.Config{Base: stack.Base{Project: "other", Environment: "dev"}}.CommonTags(), readWrite)
	require.NotEmpty(t, calls)
	for _, role := range []string{"PreviewRole", "DriftRoleDev", "DeployRoleDev", "ReviewRole"} {
		deniedAll(t, doc.roleStatements(t, role), calls)
	}
}

func TestRoles_ReachOnlyTheirOwnState(t *testing.T) {
	doc := parse(t, referenceTemplate(t))
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
		got := allows(doc.roleStatements(t, tt.role), tt.req) != ""
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
	doc := parse(t, referenceTemplate(t))
	meta := "arn:aws:s3:::" + testBucket + "/tap/.pulumi/meta.yaml"
	for _, role := range []string{"DeployRoleDev", "DeployRoleStaging", "DeployRoleProd", "DriftRoleDev", "PreviewRole"} {
		statements := doc.roleStatements(t, role)
		for _, action := range []string{"s3:PutObject", "s3:DeleteObject"} {
			assert.Empty(t, allows(statements, req(action, meta, nil)),
				"%s may %s the backend's meta.yaml, which decides where every environment's stack is found", role, action)
		}
		assert.NotEmpty(t, allows(statements, req("s3:GetObject", meta, nil)), "%s reads the layout", role)
	}
}

// Tagging on create is granted where nothing names the resource yet (KMS:
// any key), with the role's tags on the request. A role must not use it to
// put its tags on a resource that already carries another environment's
// (overwriting "environment", or adding "review-stack"): its grants on
// tagged resources would then reach that resource, say prod's key or the
// event source mapping of dev.
func TestRoles_TagOnlyWhatTheyCreateOrAlreadyOwn(t *testing.T) {
	doc := parse(t, referenceTemplate(t))
	prodKey := "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	retag := func(to map[string]string, on map[string]string) request {
		ctx := map[string]string{}
		for k, v := range to {
			ctx["aws:RequestTag/"+k] = v
		}
		for k, v := range on {
			ctx["aws:ResourceTag/"+k] = v
		}
		return req("kms:TagResource", prodKey, ctx)
	}
	prod := map[string]string{"project": "tap", "environment": "prod"}
	dev := map[string]string{"project": "tap", "environment": "dev"}
	review := map[string]string{"project": "tap", "environment": "dev", "review-stack": "pr-7"}
	for _, c := range []struct {
		role     string
		to, on   map[string]string
		allowed  bool
		whatItIs string
	}{
		{"DeployRoleDev", dev, prod, false, "prod's key"},
		{"DeployRoleDev", dev, nil, true, "the key it creates"},
		{"DeployRoleDev", dev, dev, true, "its own key"},
		{"ReviewRole", review, dev, false, "dev's key"},
		{"ReviewRole", review, prod, false, "prod's key"},
		{"ReviewRole", review, nil, true, "the key it creates"},
		{"ReviewRole", review, review, true, "its own key"},
	} {
		got := allows(doc.roleStatements(t, c.role), retag(c.to, c.on))
		if c.allowed {
			assert.NotEmpty(t, got, "%s tags %s", c.role, c.whatItIs)
		} else {
			assert.Empty(t, got, "%s may put its tags on %s", c.role, c.whatItIs)
		}
	}
}
