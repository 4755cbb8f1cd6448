package bootstrap

import (
	"bufio"
	"encoding/json"
	"flag"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/problems"
	"github.com/org/tap-deploy/stack"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func TestTemplate_MatchesTheGoldenFile(t *testing.T) {
	got := referenceTemplate(t)
	golden := filepath.Join("testdata", "template.golden.yaml")
	if *update {
		require.NoError(t, os.WriteFile(golden, got, 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got), "the template changed: review the difference, then go test ./internal/bootstrap -update")
}

func TestTemplate_IsTheSameOnEveryRun(t *testing.T) {
	again, err := Template(referenceOptions)
	require.NoError(t, err)
	assert.Equal(t, string(referenceTemplate(t)), string(again), "the program registers resources concurrently; the template must not depend on it")
}

func TestTemplate_HoldsTheStateBucketWithEveryGuard(t *testing.T) {
	doc := parse(t, referenceTemplate(t))
	assert.Equal(t, "2010-09-09", doc["AWSTemplateFormatVersion"])

	bucket := doc.resource(t, "StateBucket")
	assert.Equal(t, "AWS::S3::Bucket", bucket["Type"])
	assert.Equal(t, "Retain", bucket["DeletionPolicy"], "the state outlives the stack")
	assert.Equal(t, "Retain", bucket["UpdateReplacePolicy"])
	p := props(t, bucket)
	assert.Equal(t, map[string]any{"Fn::Sub": "tap-pulumi-state-${AWS::AccountId}-eu-west-1"}, p["BucketName"])
	assert.Equal(t, map[string]any{"Status": "Enabled"}, p["VersioningConfiguration"])
	assert.Equal(t, map[string]any{"ServerSideEncryptionConfiguration": []any{
		map[string]any{"ServerSideEncryptionByDefault": map[string]any{"SSEAlgorithm": "AES256"}}}}, p["BucketEncryption"])
	assert.Equal(t, map[string]any{"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true},
		p["PublicAccessBlockConfiguration"])
	assert.Equal(t, map[string]any{"Rules": []any{map[string]any{"ObjectOwnership": "BucketOwnerEnforced"}}}, p["OwnershipControls"])

	policy := doc.resource(t, "StateBucketPolicy")
	assert.Equal(t, "Retain", policy["DeletionPolicy"])
	pp := props(t, policy)
	assert.Equal(t, map[string]any{"Ref": "StateBucket"}, pp["Bucket"])
	statements := statementsOf(resolve(pp["PolicyDocument"], "aws").(map[string]any))
	require.Len(t, statements, 1)
	deny := statements[0]
	assert.Equal(t, "Deny", deny.Effect)
	assert.Equal(t, []string{"s3:*"}, deny.Actions)
	assert.ElementsMatch(t, []string{"arn:aws:s3:::" + testBucket, "arn:aws:s3:::" + testBucket + "/*"}, deny.Resources)
	assert.Equal(t, map[string]map[string][]string{"Bool": {"aws:SecureTransport": {"false"}}}, deny.Conditions)
}

func TestTemplate_EveryRoleTrustsExactlyItsOIDCSubject(t *testing.T) {
	doc := parse(t, referenceTemplate(t))
	tests := []struct {
		role, name, subject string
	}{
		{"PreviewRole", "tap-github-preview-eu-west-1", "repo:owner/repo:pull_request"},
		{"DeployRoleDev", "tap-dev-github-deploy-eu-west-1", "repo:owner/repo:environment:dev"},
		{"DeployRoleStaging", "tap-staging-github-deploy-eu-west-1", "repo:owner/repo:environment:staging"},
		{"DeployRoleProd", "tap-prod-github-deploy-eu-west-1", "repo:owner/repo:environment:prod"},
		{"DriftRoleDev", "tap-dev-github-drift-eu-west-1", "repo:owner/repo:environment:dev-drift"},
		{"DriftRoleStaging", "tap-staging-github-drift-eu-west-1", "repo:owner/repo:environment:staging-drift"},
		{"DriftRoleProd", "tap-prod-github-drift-eu-west-1", "repo:owner/repo:environment:prod-drift"},
		{"ReviewRole", "tap-github-review-eu-west-1", "repo:owner/repo:environment:review"},
	}
	var roles []string
	for logical, r := range doc.resources(t) {
		if r.(map[string]any)["Type"] == "AWS::IAM::Role" && logical != "ApiGatewayLogsRole" {
			roles = append(roles, logical)
		}
	}
	var want []string
	for _, tt := range tests {
		want = append(want, tt.role)
		t.Run(tt.role, func(t *testing.T) {
			p := props(t, doc.resource(t, tt.role))
			assert.Equal(t, tt.name, p["RoleName"])
			trust := p["AssumeRolePolicyDocument"].(map[string]any)
			statements := trust["Statement"].([]any)
			require.Len(t, statements, 1, "one way in")
			s := statements[0].(map[string]any)
			assert.Equal(t, "Allow", s["Effect"])
			assert.Equal(t, "sts:AssumeRoleWithWebIdentity", s["Action"])
			assert.Equal(t, map[string]any{"Federated": map[string]any{"Fn::If": []any{
				"CreateGitHubOidcProvider",
				map[string]any{"Ref": "GitHubOidcProvider"},
				map[string]any{"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:oidc-provider/token.actions.githubusercontent.com"},
			}}}, s["Principal"])
			assert.Equal(t, map[string]any{"StringEquals": map[string]any{
				"token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
				"token.actions.githubusercontent.com:sub": tt.subject,
			}}, s["Condition"], "the exact subject, never a pattern")
		})
	}
	assert.ElementsMatch(t, want, roles, "one role per job kind and environment")
}

// No role of the template may write the backend's layout
// (.pulumi/meta.yaml), which Pulumi writes on a backend's first use: the
// header tells the administrator to log in to the backend once, in the
// template's region, with the bucket the template names.
func TestTemplate_TellsTheAdministratorToCreateTheBackendOnce(t *testing.T) {
	header := strings.SplitN(string(referenceTemplate(t)), "\n\n", 2)[0]
	assert.Contains(t, header, "#   pulumi login 's3://tap-pulumi-state-<account-id>-eu-west-1/tap?region=eu-west-1'\n")
	assert.Less(t, strings.Index(header, "aws cloudformation deploy"), strings.Index(header, "pulumi login"), "after the template is deployed")

	o := referenceOptions
	o.StateBucket, o.Project, o.Region = "my-state", "shop", "us-east-2"
	assert.Equal(t, "s3://my-state/shop?region=us-east-2", LoginURL(o))
}

func TestTemplate_TheOIDCProviderIsOptional(t *testing.T) {
	doc := parse(t, referenceTemplate(t))
	provider := doc.resource(t, "GitHubOidcProvider")
	assert.Equal(t, "CreateGitHubOidcProvider", provider["Condition"])
	assert.Equal(t, "Retain", provider["DeletionPolicy"], "other roles of the account may trust it")
	p := props(t, provider)
	assert.Equal(t, "https://token.actions.githubusercontent.com", p["Url"])
	assert.Equal(t, []any{"sts.amazonaws.com"}, p["ClientIdList"])
	assert.Equal(t, map[string]any{"CreateGitHubOidcProvider": map[string]any{"Fn::Equals": []any{map[string]any{"Ref": "CreateGitHubOidcProvider"}, "true"}}},
		doc["Conditions"])
	param := doc["Parameters"].(map[string]any)["CreateGitHubOidcProvider"].(map[string]any)
	assert.Equal(t, "true", param["Default"])
	assert.Equal(t, []any{"true", "false"}, param["AllowedValues"])

	o := Options{Project: "tap", Environments: []string{"dev"}, Region: region, Repository: "owner/repo",
		APIGatewayAccount: OwnerNone, ReviewEnvironment: OwnerNone}
	out, err := Template(o)
	require.NoError(t, err)
	second := parse(t, out)
	assert.Equal(t, "false", second["Parameters"].(map[string]any)["CreateGitHubOidcProvider"].(map[string]any)["Default"],
		"--create-oidc-provider=false: the account's existing provider")
	assert.NotContains(t, second.resources(t), "ApiGatewayAccount", "--api-gateway-account none")
	assert.NotContains(t, second.resources(t), "ApiGatewayLogsRole")
	assert.NotContains(t, second.resources(t), "ReviewRole", "--review-environment none")
	assert.NotContains(t, second["Outputs"], "ReviewRoleArn")
}

func TestTemplate_OwnsTheAPIGatewayLoggingRoleByDefault(t *testing.T) {
	doc := parse(t, referenceTemplate(t))
	role := doc.resource(t, "ApiGatewayLogsRole")
	assert.Equal(t, "Retain", role["DeletionPolicy"], "other stacks keep logging through it")
	p := props(t, role)
	assert.Equal(t, []any{map[string]any{"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/" + stack.PushToCloudWatchLogs}}, p["ManagedPolicyArns"])
	trust := p["AssumeRolePolicyDocument"].(map[string]any)["Statement"].([]any)[0].(map[string]any)
	assert.Equal(t, map[string]any{"Service": "apigateway.amazonaws.com"}, trust["Principal"])
	account := doc.resource(t, "ApiGatewayAccount")
	assert.Equal(t, map[string]any{"Fn::GetAtt": []any{"ApiGatewayLogsRole", "Arn"}}, props(t, account)["CloudWatchRoleArn"])
}

func TestTemplate_MergeQueueChecksMayAssumeThePreviewRole(t *testing.T) {
	o := Options{Project: "tap", Environments: []string{"dev"}, Region: region, Repository: "owner/repo",
		APIGatewayAccount: OwnerNone, ReviewEnvironment: OwnerNone, MergeQueue: true}
	out, err := Template(o)
	require.NoError(t, err)
	statements := props(t, parse(t, out).resource(t, "PreviewRole"))["AssumeRolePolicyDocument"].(map[string]any)["Statement"].([]any)
	require.Len(t, statements, 2)
	assert.Equal(t, map[string]any{
		"StringEquals": map[string]any{"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
		"StringLike":   map[string]any{"token.actions.githubusercontent.com:sub": "repo:owner/repo:ref:refs/heads/gh-readonly-queue/*"},
	}, statements[1].(map[string]any)["Condition"])
}

func TestTemplate_OutputsNameTheVariableEachGoesInto(t *testing.T) {
	outputs := parse(t, referenceTemplate(t))["Outputs"].(map[string]any)
	tests := []struct {
		output, value, description string
	}{
		{"BackendUrl", "s3://${StateBucket}/tap", "Repository variable TAP_BACKEND_URL"},
		{"ReviewBackendUrl", "s3://${StateBucket}/tap/review", "Repository variable TAP_REVIEW_BACKEND_URL"},
		{"PreviewRoleArn", "PreviewRole", "Repository variable TAP_PREVIEW_ROLE_ARN (OIDC subject repo:owner/repo:pull_request)"},
		{"DeployRoleArnDev", "DeployRoleDev", "Variable TAP_DEPLOY_ROLE_ARN of the GitHub environment dev (OIDC subject repo:owner/repo:environment:dev)"},
		{"DeployRoleArnProd", "DeployRoleProd", "Variable TAP_DEPLOY_ROLE_ARN of the GitHub environment prod"},
		{"DriftRoleArnStaging", "DriftRoleStaging", "Variable TAP_DRIFT_ROLE_ARN of the GitHub environment staging-drift"},
		{"ReviewRoleArn", "ReviewRole", "Variable TAP_REVIEW_ROLE_ARN of the GitHub environment review"},
	}
	for _, tt := range tests {
		o, ok := outputs[tt.output].(map[string]any)
		require.True(t, ok, tt.output)
		assert.Contains(t, o["Description"], tt.description, tt.output)
		switch v := o["Value"].(map[string]any); {
		case v["Fn::Sub"] != nil:
			assert.Equal(t, tt.value, v["Fn::Sub"], tt.output)
		default:
			assert.Equal(t, []any{tt.value, "Arn"}, v["Fn::GetAtt"], tt.output)
		}
	}
	assert.Contains(t, outputs, "StateBucketName")
}

// realActions is testdata/iam-actions.txt: the actions AWS's Service
// Authorization Reference lists for the services the stack uses.
func realActions(t *testing.T) map[string]bool {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "iam-actions.txt"))
	require.NoError(t, err)
	defer f.Close()
	out := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		require.Regexp(t, `^[a-z0-9-]+:[A-Za-z0-9]+$`, line)
		out[strings.ToLower(line)] = true
	}
	require.NoError(t, sc.Err())
	require.Greater(t, len(out), 500)
	return out
}

// everyAction is every action the template names, in any statement.
func everyAction(t *testing.T, doc parsed) []string {
	t.Helper()
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				if k == "Action" {
					out = append(out, strings1(e)...)
				}
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(map[string]any(doc))
	return out
}

func TestTemplate_NamesOnlyRealIAMActions(t *testing.T) {
	real := realActions(t)
	doc := parse(t, referenceTemplate(t))
	actions := everyAction(t, doc)
	require.Greater(t, len(actions), 100)
	for _, a := range actions {
		if a == "s3:*" {
			continue // the bucket policy's Deny of every request without TLS
		}
		assert.True(t, real[strings.ToLower(a)], "%s is not an IAM action of the Service Authorization Reference", a)
	}
	// And the table's, including what this template did not need.
	for typ, acc := range Table {
		for _, list := range [][]string{acc.Create, acc.Read, acc.Update, acc.Delete, acc.Tag} {
			for _, a := range list {
				assert.True(t, real[strings.ToLower(a)], "%s of %s", a, typ)
			}
		}
		for _, list := range acc.IfInput {
			for _, a := range list {
				assert.True(t, real[strings.ToLower(a)], "%s of %s", a, typ)
			}
		}
		for _, also := range acc.Also {
			for _, a := range also.Actions {
				assert.True(t, real[strings.ToLower(a)], "%s of %s", a, typ)
			}
		}
	}
	for token, inv := range Invokes {
		for _, a := range inv.Actions {
			assert.True(t, real[strings.ToLower(a)], "%s of %s", a, token)
		}
	}
	for a := range anyResource {
		assert.True(t, real[strings.ToLower(a)], a)
	}
}

func TestTemplate_NoRoleMayDoAnythingOrPassAnyRole(t *testing.T) {
	doc := parse(t, referenceTemplate(t))
	for logical, r := range doc.resources(t) {
		if r.(map[string]any)["Type"] != "AWS::IAM::Role" || logical == "ApiGatewayLogsRole" {
			continue
		}
		for _, s := range doc.roleStatements(t, logical) {
			assert.Equal(t, "Allow", s.Effect)
			for _, a := range s.Actions {
				assert.NotContains(t, a, "*", "%s %s names actions by wildcard", logical, s.Sid)
				assert.NotContains(t, a, "?", "%s %s", logical, s.Sid)
			}
			if slices.Contains(s.Actions, "iam:PassRole") {
				assert.Equal(t, []string{"iam:PassRole"}, s.Actions, "%s %s: PassRole stands alone", logical, s.Sid)
				for _, res := range s.Resources {
					assert.Regexp(t, `^arn:aws:iam::123456789012:role/tap-[a-z0-9*-]+-eu-west-1$`, res, "%s %s passes only the stack's roles", logical, s.Sid)
				}
				services := s.Conditions["StringEquals"]["iam:PassedToService"]
				require.Len(t, services, 1, "%s %s passes to one service", logical, s.Sid)
				assert.Contains(t, []string{"lambda.amazonaws.com", "apigateway.amazonaws.com", "codedeploy.amazonaws.com"}, services[0])
			}
			if slices.Contains(s.Resources, "*") {
				// On no particular resource: only what AWS authorizes so, or
				// a create that must carry the environment's tags.
				for _, a := range s.Actions {
					_, documented := anyResource[a]
					tagged := len(s.Conditions["StringEquals"]["aws:RequestTag/environment"]) > 0
					assert.True(t, documented || tagged, "%s %s allows %s on every resource", logical, s.Sid, a)
				}
			}
		}
	}
}

// TestTemplate_ManagedPoliciesFitIAMsLimits sizes each policy as IAM does
// (the JSON without whitespace), with the longest partition name.
func TestTemplate_ManagedPoliciesFitIAMsLimits(t *testing.T) {
	doc := parse(t, referenceTemplate(t))
	perRole := map[string]int{}
	for name, r := range doc.resources(t) {
		res := r.(map[string]any)
		if res["Type"] != "AWS::IAM::ManagedPolicy" {
			continue
		}
		p := props(t, res)
		b, err := json.Marshal(resolve(p["PolicyDocument"], "aws-us-gov"))
		require.NoError(t, err)
		assert.LessOrEqual(t, len(b), ManagedPolicyLimit, name)
		// The review boundary is attached to no role of the template.
		roles, _ := p["Roles"].([]any)
		for _, role := range roles {
			perRole[role.(map[string]any)["Ref"].(string)]++
		}
		assert.LessOrEqual(t, len(p["Description"].(string)), 1000, name)
	}
	require.NotEmpty(t, perRole)
	for role, n := range perRole {
		assert.LessOrEqual(t, n, 10, "%s: IAM attaches at most 10 managed policies to a role by default", role)
	}
}

func TestOptions_ProblemsNameTheirFlagAndComeTogether(t *testing.T) {
	good := referenceOptions
	tests := []struct {
		name   string
		change func(o *Options)
		want   string
	}{
		{"no environment", func(o *Options) { o.Environments = nil }, "--environment: required"},
		{"environment as the action refuses it", func(o *Options) { o.Environments = []string{"Dev"} }, `--environment: "Dev" must start with a lowercase letter`},
		{"a review stack's name", func(o *Options) { o.Environments = []string{"dev-pr-7"} }, `--environment: "dev-pr-7" ends in -pr-<number>`},
		{"twice", func(o *Options) { o.Environments = []string{"dev", "dev"} }, `--environment: "dev" is named twice`},
		{"the review environment's name", func(o *Options) { o.Environments = []string{"review"} }, `--environment: "review" is the GitHub environment of review stacks`},
		{"another's drift environment", func(o *Options) { o.Environments = []string{"dev", "dev-drift"} }, `--environment: "dev-drift" is the GitHub environment of dev's drift checks`},
		{"named like another's alarms", func(o *Options) { o.Environments = []string{"dev", "dev-api"} }, `--environment: "dev-api" would name its alarms like dev's (tap-dev-api-…)`},
		{"no region", func(o *Options) { o.Region = "" }, "--aws-region: required"},
		{"unknown region", func(o *Options) { o.Region = "eu-west-9" }, `--aws-region: "eu-west-9" is not a known AWS region`},
		{"project", func(o *Options) { o.Project = "My_Project" }, `--project-name: "My_Project"`},
		{"repository without owner", func(o *Options) { o.Repository = "repo" }, `--repository: "repo" must be the GitHub repository as owner/repo`},
		{"repository as a URL", func(o *Options) { o.Repository = "https://github.com/owner/repo" }, "--repository:"},
		{"bucket name", func(o *Options) { o.StateBucket = "My_Bucket" }, "--state-bucket: S3 bucket name"},
		{"API Gateway owner", func(o *Options) { o.APIGatewayAccount = "qa" }, `--api-gateway-account: "qa" must be template`},
		{"review environment", func(o *Options) { o.ReviewEnvironment = "qa" }, `--review-environment: "qa" must be one of the environments`},
		{"named like review stacks", func(o *Options) { o.Environments = []string{"dev", "dev-pr-eu"} }, `--environment: "dev-pr-eu" would name its resources like the review stacks of dev`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := good
			o.Environments = slices.Clone(good.Environments)
			tt.change(&o)
			_, err := Template(o)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	assert.NoError(t, good.Problems())

	bad := Options{Environments: []string{"Dev"}, Repository: "x", APIGatewayAccount: "template", ReviewEnvironment: OwnerNone}
	err := bad.Problems()
	require.Error(t, err)
	assert.Len(t, problems.Of(err), 4, "project, environment, region and repository at once: %v", err)
}

func TestTable_CoversEveryTypeTheStackCreates(t *testing.T) {
	types := map[string]bool{}
	invokes := map[string]bool{}
	add := func(models []model) {
		for _, m := range models {
			for _, r := range m.graph.Resources {
				if r.Custom && !strings.HasPrefix(r.Type, "pulumi:providers:") {
					types[r.Type] = true
				}
			}
			for _, c := range m.calls {
				invokes[c.Token] = true
			}
		}
	}
	// The default configuration, the one that owns the API Gateway
	// account, every optional feature, a rollback, and a review stack.
	add(envModels(t, "dev", true))
	add(reviewStack(t, 7))

	var missing, stale []string
	for typ := range types {
		if _, ok := Table[typ]; !ok {
			missing = append(missing, typ)
		}
	}
	for typ := range Table {
		if !types[typ] {
			stale = append(stale, typ)
		}
	}
	sort.Strings(missing)
	sort.Strings(stale)
	assert.Empty(t, missing, "the stack creates types internal/bootstrap's Table lacks: add the IAM actions their create, read, update and delete need")
	assert.Empty(t, stale, "Table holds types the stack no longer creates")
	for token := range invokes {
		assert.Contains(t, Invokes, token, "the stack reads a data source Invokes lacks")
	}
	assert.Contains(t, types, "aws:apigateway/account:Account", "the models include the API Gateway account's owner")
	assert.Contains(t, types, "aws:sns/topicSubscription:TopicSubscription", "the models include the optional alarm e-mail")
	assert.Contains(t, invokes, "aws:s3/getObject:getObject", "the models include a rollback to code in the bucket")
}

func TestTable_EveryTypeIsScopedByNamesOrTags(t *testing.T) {
	for typ, acc := range Table {
		assert.True(t, (acc.On.Names != nil) != (acc.On.Tagged != nil), "%s: names or tags, one of them", typ)
		assert.NotEmpty(t, acc.Terraform, typ)
		assert.NotEmpty(t, acc.Read, "%s: a refresh reads it", typ)
		if acc.On.Tagged != nil && acc.On.CreateOn == nil {
			assert.True(t, strings.HasPrefix(typ, "aws:apigateway/"), "%s: only API Gateway's children inherit tags", typ)
		}
	}
}

func TestGlob_KeepsWhatTwoNamesShare(t *testing.T) {
	tests := []struct{ a, b, want string }{
		{"tap-dev-pr-1-items", "tap-dev-pr-999999-items", "tap-dev-pr-*-items"},
		{"arn:aws:s3:::tap-dev-pr-1-files-123456789012-eu-west-1", "arn:aws:s3:::tap-dev-pr-999999-files-123456789012-eu-west-1",
			"arn:aws:s3:::tap-dev-pr-*-files-123456789012-eu-west-1"},
		{"same", "same", "same"},
		{"ab", "abb", "ab*"},
	}
	for _, tt := range tests {
		got := glob(tt.a, tt.b)
		assert.Equal(t, tt.want, got)
		assert.True(t, matches(got, tt.a) && matches(got, tt.b), got)
	}
}

func TestAlarmFamily_OneEnvironmentsAlarmsNotItsReviewStacks(t *testing.T) {
	for name, want := range map[string]string{
		"tap-dev-api-5xx":                         "tap-dev-api-*",
		"tap-dev-api-handler-live-errors":         "tap-dev-api-*",
		"tap-prod-eu-file-processor-throttles":    "tap-prod-eu-file-processor-*",
		"tap-dev-stream-processor-live-throttles": "tap-dev-stream-processor-*",
	} {
		assert.Equal(t, want, alarmFamily(name), name)
	}
	for _, review := range []string{"tap-dev-pr-7-api-5xx", "tap-dev-pr-7-file-processor-throttles"} {
		for _, env := range []string{"tap-dev-api-*", "tap-dev-file-processor-*"} {
			ok, _ := path.Match(env, review)
			assert.False(t, ok, "%s must not reach the review stack's %s", env, review)
		}
	}
}

// The generator refuses what would make the review boundary a hole: a
// review stack's role without the boundary the template creates (the
// review role could not create it), and a boundary that allows IAM (a
// bounded role could make an unbounded one).
func TestTemplate_RefusesAReviewBoundaryThatDoesNotHold(t *testing.T) {
	o := referenceOptions
	o.ReviewEnvironment = "staging" // not the environment of the review stacks below
	_, err := reviewGrants(o, reviewStack(t, 7), reviewStack(t, 42))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "carries the permissions boundary \"arn:aws:iam::123456789012:policy/tap-dev-review-boundary-eu-west-1\", not arn:aws:iam::123456789012:policy/tap-staging-review-boundary-eu-west-1")

	p := plan{opts: referenceOptions, bucket: testBucket, explained: map[string]bool{},
		boundary: &policy{logical: "ReviewBoundary", grants: []*grant{{sid: "Escalate", actions: []string{"iam:CreateRole"}, resources: []string{"*"}}}}}
	err = p.check()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the review boundary would allow iam:CreateRole")
}
