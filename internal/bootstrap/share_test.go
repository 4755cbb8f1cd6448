package bootstrap

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTemplate_FitsAwsCloudformationDeployWithoutABucket(t *testing.T) {
	assert.LessOrEqual(t, len(referenceTemplate(t)), DeployFileLimit,
		"aws cloudformation deploy --template-file takes at most %d bytes; a larger template needs --s3-bucket (README)", DeployFileLimit)
}

// The deploy and drift roles of every environment share their policies,
// which name the environment as ${aws:PrincipalTag/environment}: each
// role's own tag, which only this template sets.
func TestTemplate_SharedPoliciesReadTheEnvironmentFromTheRolesTag(t *testing.T) {
	doc := parse(t, referenceTemplate(t))
	shared := 0
	for name, r := range doc.resources(t) {
		res := r.(map[string]any)
		if res["Type"] != "AWS::IAM::ManagedPolicy" {
			continue
		}
		p := props(t, res)
		text := strings.ReplaceAll(fmtJSON(t, resolve(p["PolicyDocument"], "aws")), "${!", "${")
		if !strings.Contains(text, principalEnv) {
			continue
		}
		shared++
		roles := p["Roles"].([]any)
		assert.Len(t, roles, len(referenceOptions.Environments), "%s: shared by one role per environment", name)
		for _, ref := range roles {
			logical := ref.(map[string]any)["Ref"].(string)
			env := ""
			for _, e := range referenceOptions.Environments {
				if strings.HasSuffix(logical, pascal(e)) {
					env = e
				}
			}
			require.NotEmpty(t, env, "%s: %s is an environment's role", name, logical)
			tags := props(t, doc.resource(t, logical))["Tags"].([]any)
			assert.Contains(t, tags, map[string]any{"Key": "environment", "Value": env}, "%s: %s carries its environment", name, logical)
		}
	}
	assert.Positive(t, shared, "the deploy and drift policies are shared")

	// The tag is the role's alone: no session brings tags of its own, and
	// no role of the template may tag another (or itself).
	for logical, r := range doc.resources(t) {
		if r.(map[string]any)["Type"] != "AWS::IAM::Role" || logical == "ApiGatewayLogsRole" {
			continue
		}
		trust := fmtJSON(t, props(t, r.(map[string]any))["AssumeRolePolicyDocument"])
		assert.NotContains(t, trust, "sts:TagSession", logical)
		statements := doc.roleStatements(t, logical)
		for other, o := range doc.resources(t) {
			if o.(map[string]any)["Type"] != "AWS::IAM::Role" {
				continue
			}
			arn := "arn:aws:iam::" + modelAccount + ":role/" + props(t, o.(map[string]any))["RoleName"].(string)
			for _, action := range []string{"iam:TagRole", "iam:UntagRole", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:UpdateAssumeRolePolicy"} {
				assert.Empty(t, allows(statements, request{Action: action, Resource: arn}), "%s may %s on %s", logical, action, other)
			}
		}
	}
}

func TestTemplate_OneEnvironmentSharesNothing(t *testing.T) {
	o := Options{Project: "tap", Environments: []string{"prod"}, Region: region, Repository: "owner/repo",
		APIGatewayAccount: OwnerTemplate, ReviewEnvironment: "prod"}
	out, err := Template(o)
	require.NoError(t, err)
	assert.NotContains(t, string(out), "PrincipalTag")
	doc := parse(t, out)
	allowedAll(t, doc.roleStatements(t, "DeployRoleProd"), need(t, envModels(t, "prod", false), commonTags("prod", 0), readWrite))
	allowedAll(t, doc.roleStatements(t, "DriftRoleProd"), need(t, envModels(t, "prod", false), commonTags("prod", 0), readOnly))
}

// What one environment's stack alone has (the API Gateway account of the
// environment that owns it) is its role's alone.
func TestTemplate_WhatOneEnvironmentAloneHasIsItsRolesAlone(t *testing.T) {
	o := referenceOptions
	o.APIGatewayAccount = "prod"
	out, err := Template(o)
	require.NoError(t, err)
	doc := parse(t, out)
	assert.Contains(t, doc.resources(t), "DeployRoleProdPolicy1")
	assert.Contains(t, doc.resources(t), "DeployPolicy1")

	owner := need(t, envModels(t, "prod", true), commonTags("prod", 0), readWrite)
	allowedAll(t, doc.roleStatements(t, "DeployRoleProd"), owner)
	allowedAll(t, doc.roleStatements(t, "DeployRoleDev"), need(t, envModels(t, "dev", false), commonTags("dev", 0), readWrite))
	deniedAll(t, doc.roleStatements(t, "DeployRoleDev"), writes(owner))
	assert.Empty(t, allows(doc.roleStatements(t, "DeployRoleDev"),
		request{Action: "apigateway:PATCH", Resource: "arn:aws:apigateway:" + region + "::/account"}), "only prod manages the account")
}

func TestReplaceWord_ReplacesTheEnvironmentAsAWordOfNames(t *testing.T) {
	tests := []struct{ s, word, want string }{
		{"tap-dev-items", "dev", "tap-X-items"},
		{"arn:aws:s3:::b/tap/.pulumi/stacks/tap/dev.json", "dev", "arn:aws:s3:::b/tap/.pulumi/stacks/tap/X.json"},
		{"tap-devices-dev", "dev", "tap-devices-X"},
		{"arn:aws:lambda:eu-west-1:1:function:tap-lambda-x", "lambda", "arn:aws:lambda:eu-west-1:1:function:tap-X-x"},
		{"dev", "dev", "X"},
		{"tapdev", "dev", "tapdev"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, replaceWord(tt.s, tt.word, "X"), tt.s)
	}
}

func TestCollapse_FoldsNamesAfterTheMarkerKeepingWhatTheyShare(t *testing.T) {
	never := func(string) bool { return false }
	tests := []struct {
		name    string
		in      []string
		refused func(string) bool
		want    []string
	}{
		{"roles keep their common end", []string{"arn:aws:iam::1:role/tap-dev-pr-*-api-eu-west-1", "arn:aws:iam::1:role/tap-dev-pr-*-worker-eu-west-1"}, never,
			[]string{"arn:aws:iam::1:role/tap-dev-pr-*-eu-west-1"}},
		{"qualifiers fall under the name pattern", []string{"arn:aws:lambda:r:1:function:tap-dev-pr-*-a", "arn:aws:lambda:r:1:function:tap-dev-pr-*-a:*",
			"arn:aws:lambda:r:1:function:tap-dev-pr-*-b", "arn:aws:lambda:r:1:function:tap-dev-pr-*-b:*"}, never,
			[]string{"arn:aws:lambda:r:1:function:tap-dev-pr-*"}},
		{"keys stay apart", []string{"arn:aws:s3:::tap-dev-pr-*-code-1-r/lambda/a/*", "arn:aws:s3:::tap-dev-pr-*-code-1-r/lambda/b/*"}, never,
			[]string{"arn:aws:s3:::tap-dev-pr-*-code-1-r/lambda/a/*", "arn:aws:s3:::tap-dev-pr-*-code-1-r/lambda/b/*"}},
		{"one name stays as it is", []string{"arn:aws:sqs:r:1:tap-dev-pr-*-dlq"}, never, []string{"arn:aws:sqs:r:1:tap-dev-pr-*-dlq"}},
		{"without the marker", []string{"arn:aws:kms:r:1:key/*", "arn:aws:apigateway:r::/restapis/*"}, never,
			[]string{"arn:aws:kms:r:1:key/*", "arn:aws:apigateway:r::/restapis/*"}},
		{"what another matches goes", []string{"*", "arn:aws:kms:r:1:key/*"}, never, []string{"*"}},
		{"refused patterns are not made", []string{"arn:aws:iam::1:role/tap-dev-pr-*-api-eu-west-1", "arn:aws:iam::1:role/tap-dev-pr-*-worker-eu-west-1"},
			func(p string) bool { return strings.HasSuffix(p, "pr-*-eu-west-1") },
			[]string{"arn:aws:iam::1:role/tap-dev-pr-*-api-eu-west-1", "arn:aws:iam::1:role/tap-dev-pr-*-worker-eu-west-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := collapse(tt.in, "tap-dev-pr-*", tt.refused)
			assert.Equal(t, tt.want, got)
			for _, r := range tt.in {
				assert.True(t, slicesAny(got, func(p string) bool { return matches(p, r) }), "%s is still allowed", r)
			}
		})
	}
}

// Sharing changes no role's permissions: each environment's shared
// grants, with its name for principalEnv, are its own grants.
func TestShared_GivesEachEnvironmentExactlyItsOwnGrants(t *testing.T) {
	o := referenceOptions
	grants := map[string][]*grant{}
	var roles []role
	for _, env := range o.Environments {
		b := newBuilder(region, writeOnly)
		for _, m := range envModels(t, env, false) {
			require.NoError(t, b.graph(m))
		}
		grants[env] = withState(writeState("tap", "tap", env), b.grants)
		roles = append(roles, role{logical: "DeployRole" + pascal(env), stackEnv: env})
	}
	policies := shared(o, "Deploy", roles, grants, tagContext{project: "tap"}, "")
	for _, env := range o.Environments {
		var got []string
		for _, pol := range policies {
			if !slicesAny(pol.roles, func(r string) bool { return r == "DeployRole"+pascal(env) }) {
				continue
			}
			for _, g := range pol.grants {
				c := *g
				c.resources = substitute(g.resources, env)
				c.conds = nil
				for _, cond := range g.conds {
					cond.values = substitute(cond.values, env)
					c.conds = append(c.conds, cond)
				}
				got = append(got, grantKey(&c))
			}
		}
		var want []string
		for _, g := range grants[env] {
			want = append(want, grantKey(g))
		}
		assert.ElementsMatch(t, want, got, env)
	}
}

// substitute is what IAM makes of principalEnv for a role of env.
func substitute(values []string, env string) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = strings.ReplaceAll(v, principalEnv, env)
	}
	return out
}

func fmtJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

func slicesAny(list []string, f func(string) bool) bool {
	for _, s := range list {
		if f(s) {
			return true
		}
	}
	return false
}
