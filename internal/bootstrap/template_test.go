package bootstrap

import (
	"bufio"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/iampattern"
	"github.com/org/tap-deploy/internal/problems"
	"github.com/org/tap-deploy/stack"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// The account's template and dev's are golden: a reviewer reads how the
// permissions changed in their diff.
func TestTemplates_MatchTheGoldenFiles(t *testing.T) {
	for _, name := range []string{"account.yaml", "dev.yaml"} {
		t.Run(name, func(t *testing.T) {
			got := body(t, name)
			golden := filepath.Join("testdata", strings.TrimSuffix(name, ".yaml")+".golden.yaml")
			if *update {
				require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err)
			assert.Equal(t, string(want), got, "the template changed: review the difference, then go test ./internal/bootstrap -update")
		})
	}
}

func TestTemplates_AreTheSameOnEveryRun(t *testing.T) {
	again, err := Generate(referenceOptions)
	require.NoError(t, err)
	first := referenceFiles(t)
	require.Len(t, again, len(first))
	for i := range first {
		assert.Equal(t, string(first[i].Body), string(again[i].Body), "the program registers resources concurrently; %s must not depend on it", first[i].Name)
	}
}

// One template for the account, then one per environment, each its own
// CloudFormation stack, in the order they are deployed.
func TestGenerate_AnAccountTemplateThenOnePerEnvironment(t *testing.T) {
	var names, stacks []string
	for _, f := range referenceFiles(t) {
		names = append(names, f.Name)
		stacks = append(stacks, f.Stack)
	}
	assert.Equal(t, []string{"account.yaml", "dev.yaml", "staging.yaml", "prod.yaml"}, names)
	assert.Equal(t, []string{"tap-bootstrap", "tap-bootstrap-dev", "tap-bootstrap-staging", "tap-bootstrap-prod"}, stacks)
}

// An environment added later is one more template: the account's and the
// other environments' are the same bytes, so none is deployed again.
func TestGenerate_AnEnvironmentAddedLaterChangesNoOtherTemplate(t *testing.T) {
	before := referenceOptions
	before.Environments = []string{"dev", "staging"}
	first, err := Generate(before)
	require.NoError(t, err)
	later := referenceFiles(t)
	for _, f := range first {
		i := slices.IndexFunc(later, func(g File) bool { return g.Name == f.Name })
		require.GreaterOrEqual(t, i, 0, f.Name)
		assert.Equal(t, string(f.Body), string(later[i].Body), "adding prod changed %s", f.Name)
	}
}

// largestOptions are the largest inputs GitHub and the action allow: the
// longest owner, repository and id, the longest project with five
// environments of the longest names (the review environment as long as a
// review stack's names allow), every option on, the longest partition.
func largestOptions() Options {
	long := []string{"abcdefghijklmnopqrst", "bbcdefghijklmnopqrst", "cbcdefghijklmnopqrst", "dbcdefghijklmnopqrst"}
	return Options{
		Project:      "abcdefghijklmnopqrs",
		Environments: append([]string{"dev"}, long...),
		Region:       "us-gov-west-1", Repository: strings.Repeat("o", 39) + "/" + strings.Repeat("r", 100), RepositoryID: "12345678901234567890",
		CreateOIDCProvider: true, APIGatewayLogging: long[0], ReviewEnvironment: "dev", MergeQueue: true,
		Promotions: []Promotion{{long[0], "zbcdefghijklmnopqrst"}, {long[0], "ybcdefghijklmnopqrst"}},
	}
}

// aws cloudformation deploy --template-file sends the template in the
// request, and CloudFormation takes at most 51,200 bytes there: every
// template stays a tenth under it, for the largest inputs GitHub and the
// action allow (the longest owner and repository names, five environments
// of the longest names, every option on, the longest partition's ARNs).
func TestTemplates_FitAwsCloudformationDeployWithHeadroomForTheLargestInputs(t *testing.T) {
	largest := largestOptions()
	// The longest review environment a short project leaves room for: a
	// review stack's names keep their pull request number (see
	// TestOptions_ReviewStacksKeepTheirNumberInEveryName).
	longReview := largest
	long := largest.Environments[1:]
	longReview.Project, longReview.Environments, longReview.ReviewEnvironment = "tap", append([]string{"abcdefghijklmnopq"}, long...), "abcdefghijklmnopq"
	for _, o := range []Options{referenceOptions, largest, longReview} {
		files, err := Generate(o)
		require.NoError(t, err)
		for _, f := range files {
			t.Logf("%s: %d bytes", f.Name, len(f.Body))
			assert.Less(t, len(f.Body), Headroom, "%s of %s", f.Name, o.Repository)
		}
	}
	assert.Less(t, Headroom, DeployFileLimit*9/10+1)
}

func TestTemplate_HoldsTheStateBucketWithEveryGuard(t *testing.T) {
	doc := referenceTemplates(t)["account.yaml"]
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

var accountProvider = map[string]any{"Fn::If": []any{
	"CreateGitHubOidcProvider",
	map[string]any{"Ref": "GitHubOidcProvider"},
	map[string]any{"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:oidc-provider/token.actions.githubusercontent.com"},
}}

var environmentProvider = map[string]any{"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:oidc-provider/token.actions.githubusercontent.com"}

func TestTemplates_EveryRoleTrustsExactlyItsOIDCSubject(t *testing.T) {
	ts := referenceTemplates(t)
	tests := []struct {
		file, role, name, subject string
		session                   int
	}{
		{"account.yaml", "PreviewRole", "tap-github-preview-eu-west-1", "repo:owner/repo:pull_request", ReadSession},
		{"account.yaml", "ReviewRole", "tap-github-review-eu-west-1", "repo:owner/repo:environment:review", DeploySession},
		{"dev.yaml", "DeployRole", "tap-dev-github-deploy-eu-west-1", "repo:owner/repo:environment:dev", DeploySession},
		{"staging.yaml", "DeployRole", "tap-staging-github-deploy-eu-west-1", "repo:owner/repo:environment:staging", DeploySession},
		{"prod.yaml", "DeployRole", "tap-prod-github-deploy-eu-west-1", "repo:owner/repo:environment:prod", DeploySession},
		{"dev.yaml", "DriftRole", "tap-dev-github-drift-eu-west-1", "repo:owner/repo:environment:dev-drift", ReadSession},
		{"staging.yaml", "DriftRole", "tap-staging-github-drift-eu-west-1", "repo:owner/repo:environment:staging-drift", ReadSession},
		{"prod.yaml", "DriftRole", "tap-prod-github-drift-eu-west-1", "repo:owner/repo:environment:prod-drift", ReadSession},
	}
	var want [][2]string
	for _, tt := range tests {
		want = append(want, [2]string{tt.file, tt.role})
		t.Run(tt.file+" "+tt.role, func(t *testing.T) {
			p := props(t, ts[tt.file].resource(t, tt.role))
			assert.Equal(t, tt.name, p["RoleName"])
			assert.Equal(t, tt.session, p["MaxSessionDuration"])
			trust := p["AssumeRolePolicyDocument"].(map[string]any)
			statements := trust["Statement"].([]any)
			require.Len(t, statements, 1, "one way in")
			s := statements[0].(map[string]any)
			assert.Equal(t, "Allow", s["Effect"])
			assert.Equal(t, "sts:AssumeRoleWithWebIdentity", s["Action"])
			provider := environmentProvider
			if tt.file == "account.yaml" {
				provider = accountProvider
			}
			assert.Equal(t, map[string]any{"Federated": provider}, s["Principal"])
			assert.Equal(t, map[string]any{"StringEquals": map[string]any{
				"token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
				"token.actions.githubusercontent.com:sub": tt.subject,
			}}, s["Condition"], "the exact subject, never a pattern")
		})
	}
	assert.ElementsMatch(t, want, ts.roles(t), "one role per job kind and environment")
}

// With the repository's id, every role also requires the OIDC token's
// repository_id claim: a repository deleted or renamed, then re-created
// under the old name by someone else, presents the same subject and
// another id.
func TestTemplates_TheRepositoryIdIsRequiredWhereGiven(t *testing.T) {
	o := referenceOptions
	o.RepositoryID = "424242"
	ts := generated(t, o)
	for _, r := range ts.roles(t) {
		trust := props(t, ts[r[0]].resource(t, r[1]))["AssumeRolePolicyDocument"].(map[string]any)
		for _, s := range trust["Statement"].([]any) {
			equals := s.(map[string]any)["Condition"].(map[string]any)["StringEquals"].(map[string]any)
			assert.Equal(t, "424242", equals["token.actions.githubusercontent.com:repository_id"], "%v", r)
		}
	}
}

// A promotion from an environment of this account by one of another
// account reads it through the environment's read-only drift role, which
// then trusts that deploy's job too.
func TestTemplates_APromotionFromAnotherAccountReadsThroughTheDriftRole(t *testing.T) {
	o := referenceOptions
	o.Environments = []string{"dev", "staging"}
	o.Promotions = []Promotion{{From: "staging", To: "prod"}}
	ts := generated(t, o)
	trust := props(t, ts["staging.yaml"].resource(t, "DriftRole"))["AssumeRolePolicyDocument"].(map[string]any)
	equals := trust["Statement"].([]any)[0].(map[string]any)["Condition"].(map[string]any)["StringEquals"].(map[string]any)
	assert.Equal(t, []any{"repo:owner/repo:environment:staging-drift", "repo:owner/repo:environment:prod"}, equals["token.actions.githubusercontent.com:sub"])
	devTrust := props(t, ts["dev.yaml"].resource(t, "DriftRole"))["AssumeRolePolicyDocument"].(map[string]any)
	assert.Equal(t, "repo:owner/repo:environment:dev-drift",
		devTrust["Statement"].([]any)[0].(map[string]any)["Condition"].(map[string]any)["StringEquals"].(map[string]any)["token.actions.githubusercontent.com:sub"])
	for _, s := range ts.role(t, "staging.yaml", "DriftRole") {
		for _, a := range s.Actions {
			if s.Effect == "Allow" {
				assert.True(t, isRead(a), "the drift role that prod's deploy assumes may %s (%s)", a, s.Sid)
			}
		}
	}
	// Only the drift role's trust changes: its permissions are the ones
	// simulate_test.go checks promote-from's reads against, and prod's job
	// is named by no other role's trust (not staging's deploy role).
	without := o
	without.Promotions = nil
	assert.Equal(t, generated(t, without).role(t, "staging.yaml", "DriftRole"), ts.role(t, "staging.yaml", "DriftRole"))
	deployTrust := props(t, ts["staging.yaml"].resource(t, "DeployRole"))["AssumeRolePolicyDocument"].(map[string]any)
	assert.Equal(t, "repo:owner/repo:environment:staging",
		deployTrust["Statement"].([]any)[0].(map[string]any)["Condition"].(map[string]any)["StringEquals"].(map[string]any)["token.actions.githubusercontent.com:sub"],
		"prod's job may not assume staging's deploy role")
}

// No role of the templates may write the backend's layout
// (.pulumi/meta.yaml), which Pulumi writes on a backend's first use: the
// account's header tells the administrator to log in to the backend once,
// in the template's region, with the bucket the template names.
func TestTemplate_TellsTheAdministratorToCreateTheBackendOnce(t *testing.T) {
	header := strings.SplitN(body(t, "account.yaml"), "\n\n", 2)[0]
	assert.Contains(t, header, "#   pulumi login 's3://tap-pulumi-state-<account-id>-eu-west-1/tap?region=eu-west-1'\n")
	assert.Less(t, strings.Index(header, "aws cloudformation deploy"), strings.Index(header, "pulumi login"), "after the template is deployed")

	o := referenceOptions
	o.StateBucket, o.Project, o.Region = "my-state", "shop", "us-east-2"
	assert.Equal(t, "s3://my-state/shop?region=us-east-2", LoginURL(o))
}

// Each header says what account-wide setting its template changes.
func TestTemplates_HeadersSayWhatAccountWideSettingTheyChange(t *testing.T) {
	for _, name := range []string{"account.yaml", "dev.yaml"} {
		assert.Contains(t, body(t, name), "# Account-wide settings it changes: none.\n", name)
	}
	o := referenceOptions
	o.APIGatewayLogging = OwnerAccount
	files, err := Generate(o)
	require.NoError(t, err)
	assert.Contains(t, string(files[0].Body), "# Account-wide settings it changes: the region's API Gateway CloudWatch logging role (AWS::ApiGateway::Account)")
	o.APIGatewayLogging = "prod"
	files, err = Generate(o)
	require.NoError(t, err)
	assert.Contains(t, string(files[3].Body), "its deploy role may set the region's API Gateway CloudWatch logging role, which prod's stack owns")
}

func TestTemplate_TheOIDCProviderIsOptional(t *testing.T) {
	doc := referenceTemplates(t)["account.yaml"]
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
		APIGatewayLogging: OwnerNone, ReviewEnvironment: OwnerNone}
	files, err := Generate(o)
	require.NoError(t, err)
	second := parse(t, files[0].Body)
	assert.Equal(t, "false", second["Parameters"].(map[string]any)["CreateGitHubOidcProvider"].(map[string]any)["Default"],
		"--create-oidc-provider=false: the account's existing provider")
	assert.Contains(t, DeployCommand(o, files[0], "bootstrap"), "--parameter-overrides CreateGitHubOidcProvider=false")
	assert.NotContains(t, second.resources(t), "ReviewRole", "--review-environment none")
	assert.NotContains(t, second["Outputs"], "ReviewRoleArn")
}

// The region's API Gateway logging role is an account-wide setting other
// stacks may own: the templates change it only where the adopter asks.
func TestTemplates_SetTheAPIGatewayLoggingRoleOnlyWhereAsked(t *testing.T) {
	for _, doc := range referenceTemplates(t) {
		for logical := range doc.resources(t) {
			assert.NotContains(t, []string{"ApiGatewayAccount", "ApiGatewayLogsRole"}, logical, "the default leaves the setting alone")
		}
	}
	o := referenceOptions
	o.APIGatewayLogging = OwnerAccount
	doc := generated(t, o)["account.yaml"]
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
		APIGatewayLogging: OwnerNone, ReviewEnvironment: OwnerNone, MergeQueue: true}
	statements := props(t, generated(t, o)["account.yaml"].resource(t, "PreviewRole"))["AssumeRolePolicyDocument"].(map[string]any)["Statement"].([]any)
	require.Len(t, statements, 2)
	assert.Equal(t, map[string]any{
		"StringEquals": map[string]any{"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
		"StringLike":   map[string]any{"token.actions.githubusercontent.com:sub": "repo:owner/repo:ref:refs/heads/gh-readonly-queue/*"},
	}, statements[1].(map[string]any)["Condition"])
}

func TestTemplates_OutputsNameTheVariableEachGoesInto(t *testing.T) {
	ts := referenceTemplates(t)
	tests := []struct {
		file, output, value, description string
	}{
		{"account.yaml", "BackendUrl", "s3://${StateBucket}/tap", "Repository variable TAP_BACKEND_URL"},
		{"account.yaml", "ReviewBackendUrl", "s3://${StateBucket}/tap/review", "Repository variable TAP_REVIEW_BACKEND_URL"},
		{"account.yaml", "PreviewRoleArn", "PreviewRole", "Repository variable TAP_PREVIEW_ROLE_ARN (OIDC subject repo:owner/repo:pull_request)"},
		{"account.yaml", "ReviewRoleArn", "ReviewRole", "Variable TAP_REVIEW_ROLE_ARN of the GitHub environment review"},
		{"dev.yaml", "DeployRoleArn", "DeployRole", "Variable TAP_DEPLOY_ROLE_ARN of the GitHub environment dev (OIDC subject repo:owner/repo:environment:dev)"},
		{"prod.yaml", "DeployRoleArn", "DeployRole", "Variable TAP_DEPLOY_ROLE_ARN of the GitHub environment prod"},
		{"staging.yaml", "DriftRoleArn", "DriftRole", "Variable TAP_DRIFT_ROLE_ARN of the GitHub environment staging-drift"},
	}
	for _, tt := range tests {
		o, ok := ts[tt.file]["Outputs"].(map[string]any)[tt.output].(map[string]any)
		require.True(t, ok, tt.output)
		assert.Contains(t, o["Description"], tt.description, tt.output)
		switch v := o["Value"].(map[string]any); {
		case v["Fn::Sub"] != nil:
			assert.Equal(t, tt.value, v["Fn::Sub"], tt.output)
		default:
			assert.Equal(t, []any{tt.value, "Arn"}, v["Fn::GetAtt"], tt.output)
		}
	}
	assert.Contains(t, ts["account.yaml"]["Outputs"], "StateBucketName")
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

// everyAction is every action a template names, in any statement.
func everyAction(doc parsed) []string {
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

func TestTemplates_NameOnlyRealIAMActions(t *testing.T) {
	real := realActions(t)
	var actions []string
	for _, doc := range referenceTemplates(t) {
		actions = append(actions, everyAction(doc)...)
	}
	require.Greater(t, len(actions), 100)
	for _, a := range actions {
		if a == "s3:*" {
			continue // the bucket policy's Deny of every request without TLS
		}
		assert.True(t, real[strings.ToLower(a)], "%s is not an IAM action of the Service Authorization Reference", a)
	}
	// And the table's, including what these templates did not need.
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
	for _, a := range stack.KeyAdministration {
		assert.True(t, real[strings.ToLower(a)], a)
	}
}

func TestTemplates_NoRoleMayDoAnythingOrPassAnyRole(t *testing.T) {
	ts := referenceTemplates(t)
	for _, r := range ts.roles(t) {
		for _, s := range ts.role(t, r[0], r[1]) {
			for _, a := range s.Actions {
				assert.NotContains(t, a, "*", "%v %s names actions by wildcard", r, s.Sid)
				assert.NotContains(t, a, "?", "%v %s", r, s.Sid)
			}
			if s.Effect == "Deny" {
				continue
			}
			assert.Equal(t, "Allow", s.Effect)
			if slices.Contains(s.Actions, "iam:PassRole") {
				assert.Equal(t, []string{"iam:PassRole"}, s.Actions, "%v %s: PassRole stands alone", r, s.Sid)
				for _, res := range s.Resources {
					assert.Regexp(t, `^arn:aws:iam::123456789012:role/tap-[a-z0-9*-]+-eu-west-1$`, res, "%v %s passes only the stack's roles", r, s.Sid)
				}
				services := s.Conditions["StringEquals"]["iam:PassedToService"]
				require.Len(t, services, 1, "%v %s passes to one service", r, s.Sid)
				assert.Contains(t, []string{"lambda.amazonaws.com", "apigateway.amazonaws.com", "codedeploy.amazonaws.com"}, services[0])
			}
			if slices.Contains(s.Resources, "*") {
				// On no particular resource: only what AWS authorizes so,
				// or a create that names nothing yet (a new key; a mapping
				// onto the stack's own function).
				for _, a := range s.Actions {
					_, documented := anyResource[a]
					create := a == "kms:CreateKey" || (a == "lambda:CreateEventSourceMapping" && len(s.Conditions["ArnLike"]["lambda:FunctionArn"]) > 0)
					assert.True(t, documented || create, "%v %s allows %s on every resource", r, s.Sid, a)
				}
			}
		}
	}
}

// TestTemplates_PoliciesKeepATenthUnderIAMsLimits sizes each policy as IAM
// does (the JSON without whitespace), with the longest partition name and
// the longest inputs: managed policies and trust policies stay a tenth
// under IAM's limits, and no role holds more than the 10 managed policies
// IAM attaches by default.
func TestTemplates_PoliciesKeepATenthUnderIAMsLimits(t *testing.T) {
	o := referenceOptions
	o.Repository = strings.Repeat("o", 39) + "/" + strings.Repeat("r", 100)
	o.RepositoryID = "12345678901234567890"
	o.MergeQueue = true
	o.Promotions = []Promotion{{"staging", "preprod"}, {"staging", "perf"}, {"prod", "dr"}}
	ts := generated(t, o)
	perRole := map[string]int{}
	for file, doc := range ts {
		for name, r := range doc.resources(t) {
			res := r.(map[string]any)
			p, _ := res["Properties"].(map[string]any)
			switch res["Type"] {
			case "AWS::IAM::ManagedPolicy":
				b, err := json.Marshal(resolve(p["PolicyDocument"], "aws-us-gov"))
				require.NoError(t, err)
				assert.LessOrEqual(t, len(b), ManagedPolicyFill, "%s %s", file, name)
				roles, _ := p["Roles"].([]any)
				for _, role := range roles {
					perRole[file+" "+role.(map[string]any)["Ref"].(string)]++
				}
				assert.LessOrEqual(t, len(p["Description"].(string)), 1000, name)
			case "AWS::IAM::Role":
				b, err := json.Marshal(resolve(p["AssumeRolePolicyDocument"], "aws-us-gov"))
				require.NoError(t, err)
				assert.LessOrEqual(t, len(b), TrustPolicyFill, "%s %s's trust policy", file, name)
				attached, _ := p["ManagedPolicyArns"].([]any)
				perRole[file+" "+name] += len(attached)
			}
		}
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
		{"a drift environment's name", func(o *Options) { o.Environments = []string{"dev", "dev-drift"} }, `--environment: "dev-drift" ends like the GitHub environment of dev's drift checks`},
		{"named like review stacks", func(o *Options) { o.Environments = []string{"dev", "dev-pr-eu"} }, `--environment: "dev-pr-eu" would name its resources like the review stacks of dev (<project>-dev-pr-<N>-…), which dev's review role may change`},
		{"named like review stacks, alone", func(o *Options) { o.Environments = []string{"dev-pr"}; o.ReviewEnvironment = OwnerNone }, `--environment: "dev-pr" would name its resources like the review stacks of dev`},
		{"no region", func(o *Options) { o.Region = "" }, "--aws-region: required"},
		{"region not of AWS's form", func(o *Options) { o.Region = "eu-west-1a" }, `--aws-region: "eu-west-1a" is not an AWS region name`},
		{"project", func(o *Options) { o.Project = "My_Project" }, `--project-name: "My_Project"`},
		{"repository without owner", func(o *Options) { o.Repository = "repo" }, `--repository: "repo" must be the GitHub repository as owner/repo`},
		{"repository as a URL", func(o *Options) { o.Repository = "https://github.com/owner/repo" }, "--repository:"},
		{"owner too long for GitHub", func(o *Options) { o.Repository = strings.Repeat("o", 40) + "/repo" }, "--repository:"},
		{"repository id", func(o *Options) { o.RepositoryID = "owner/repo" }, `--repository-id: "owner/repo" must be the repository's numeric id (gh api repos/OWNER/REPO --jq .id)`},
		{"bucket name", func(o *Options) { o.StateBucket = "My_Bucket" }, "--state-bucket: S3 bucket name"},
		{"API Gateway logging", func(o *Options) { o.APIGatewayLogging = "qa" }, `--api-gateway-logging: "qa" must be none`},
		{"review environment", func(o *Options) { o.ReviewEnvironment = "qa" }, `--review-environment: "qa" must be one of the environments`},
		{"promotion from elsewhere", func(o *Options) { o.Promotions = []Promotion{{"qa", "prod2"}} }, `--promotion: qa:prod2: "qa" is not one of this account's environments`},
		{"promotion within the account", func(o *Options) { o.Promotions = []Promotion{{"staging", "prod"}} }, "--promotion: staging:prod: prod is bootstrapped in this account with staging"},
		{"promotion to a bad name", func(o *Options) { o.Promotions = []Promotion{{"staging", "Prod"}} }, `--promotion: "Prod" must start with a lowercase letter`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := good
			o.Environments = slices.Clone(good.Environments)
			tt.change(&o)
			files, err := Generate(o)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Empty(t, files, "bad options make no template")
		})
	}
	assert.NoError(t, good.Problems())

	bad := Options{Environments: []string{"Dev"}, Repository: "x", APIGatewayLogging: OwnerNone, ReviewEnvironment: OwnerNone}
	err := bad.Problems()
	require.Error(t, err)
	assert.Len(t, problems.Of(err), 4, "project, environment, region and repository at once: %v", err)
}

func TestTable_CoversEveryTypeTheStackCreates(t *testing.T) {
	types := map[string]bool{}
	invokes := map[string]bool{}
	add := func(models []accessModel) {
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

// Every type is scoped one way: by its names, by the stack's tags (API
// Gateway), by its own policy (keys) or by its function (mappings).
// A name cut to fit AWS's limits loses its end: a review stack's must keep
// its "-pr-<number>", or the review role's patterns would reach the
// environment's own resources.
func TestOptions_ReviewStacksKeepTheirNumberInEveryName(t *testing.T) {
	o := referenceOptions
	o.Project, o.Environments, o.ReviewEnvironment, o.Region = "abcdefghijklmnopqrs", []string{"abcdefghijklmnopqrst"}, "abcdefghijklmnopqrst", "us-gov-west-1"
	err := o.Problems()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--review-environment: abcdefghijklmnopqrst: a review stack's")
	assert.Contains(t, err.Error(), "or --review-environment none")
	o.ReviewEnvironment = OwnerNone
	assert.NoError(t, o.Problems())
	o.Project, o.Environments, o.ReviewEnvironment = "abcdefghijklmnopqrs", []string{"dev"}, "dev"
	assert.NoError(t, o.Problems(), "the longest project with a three-letter environment")
}

func TestTable_EveryTypeHasOneScope(t *testing.T) {
	for typ, acc := range Table {
		n := 0
		for _, set := range []bool{acc.On.Names != nil, acc.On.Tagged != nil, acc.On.KeyPolicy, acc.On.FunctionOf != ""} {
			if set {
				n++
			}
		}
		assert.Equal(t, 1, n, "%s: one scope", typ)
		assert.NotEmpty(t, acc.Terraform, typ)
		assert.NotEmpty(t, acc.Read, "%s: a refresh reads it", typ)
		if acc.On.Tagged != nil && acc.On.CreateOn == nil {
			assert.True(t, strings.HasPrefix(typ, "aws:apigateway/"), "%s: only API Gateway's children inherit tags", typ)
		}
		if acc.On.Names == nil {
			// A type no name scopes is left untagged, or tagged by its
			// create only: a tag call there could take over another's.
			assert.Empty(t, acc.Tag, "%s: no tag calls where no name scopes them", typ)
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
		assert.True(t, iampattern.Match(got, tt.a) && iampattern.Match(got, tt.b), got)
	}
}

// The generator refuses what would make a boundary a hole: a review
// stack's role without the boundary the template creates (the review role
// could not create it), a key whose policy does not name the role that
// deploys the stack (that role could not manage it), and a statement that
// reaches the templates' own roles.
func TestGenerate_RefusesWhatWouldNotHold(t *testing.T) {
	o := referenceOptions
	b := newGrantBuilder(o.Project, o.Region, writeOnly)
	b.boundary = boundaryARN(stack.ReviewBoundaryName(stack.Base{Project: "tap", Environment: "staging", Region: region}))
	b.keyAdmin = roleARN(stack.ReviewRoleName("tap", region))
	err := b.graphs(reviewStack(t, 7)[0], reviewStack(t, 42)[0])
	require.Error(t, err)
	assert.Contains(t, err.Error(), `carries the permissions boundary "arn:aws:iam::123456789012:policy/tap-dev-review-boundary-eu-west-1", not arn:aws:iam::123456789012:policy/tap-staging-review-boundary-eu-west-1`)

	b = newGrantBuilder(o.Project, o.Region, writeOnly)
	b.boundary = boundaryARN(stack.BoundaryName(stack.Base{Project: "tap", Environment: "dev", Region: region}))
	b.keyAdmin = roleARN(stack.DeployRoleName(stack.Base{Project: "tap", Environment: "prod", Region: region}))
	err = b.graph(envModels(t, "dev", false)[0])
	require.Error(t, err)
	assert.Contains(t, err.Error(), "policy does not let arn:aws:iam::123456789012:role/tap-prod-github-deploy-eu-west-1 (the role that deploys the stack)")

	assert.Equal(t, "role tap-dev-github-deploy-eu-west-1", reaches(o, "arn:aws:iam::123456789012:role/tap-*-deploy-eu-west-1"))
	assert.Equal(t, "managed policy tap-dev-review-boundary-eu-west-1", reaches(o, "arn:aws:iam::123456789012:policy/tap-dev-*"))
	assert.Equal(t, "state bucket "+testBucket, reaches(o, "arn:aws:s3:::tap-*"))
	assert.Empty(t, reaches(o, "arn:aws:iam::123456789012:role/tap-dev-api-handler-eu-west-1"))
}

// checkApart names both environments when one's deploy role could change
// the other's resources.
func TestCheckApart_NamesBothEnvironments(t *testing.T) {
	o := referenceOptions
	envs := func(patterns ...string) []*environment {
		var out []*environment
		for i, env := range []string{"dev", "staging"} {
			out = append(out, &environment{env: env, policies: []policy{{}, {grants: []*grant{{sid: "Lambda", actions: []string{"lambda:UpdateFunctionCode"},
				resources: []string{patterns[i]}}}}}})
		}
		return out
	}
	err := checkApart(o, &account{o: o}, envs("arn:aws:lambda:eu-west-1:123456789012:function:tap-dev*", "arn:aws:lambda:eu-west-1:123456789012:function:tap-dev-staging-x"))
	require.Error(t, err)
	assert.Equal(t, "--environment: dev's deploy role would change staging's resources (its pattern arn:aws:lambda:eu-west-1:123456789012:function:tap-dev* matches arn:aws:lambda:eu-west-1:123456789012:function:tap-dev-staging-x); rename one of them", err.Error())
	assert.NoError(t, checkApart(o, &account{o: o}, envs("arn:aws:lambda:eu-west-1:123456789012:function:tap-dev-x", "arn:aws:lambda:eu-west-1:123456789012:function:tap-staging-x")))
}

// Bootstrap's output says where environments share an account and what
// that shares, and how to deploy each template in order.
func TestSummary_SaysHowToDeployAndWhatASharedAccountShares(t *testing.T) {
	s := Summary(referenceOptions, referenceFiles(t), "bootstrap")
	assert.Contains(t, s, "aws cloudformation deploy --region eu-west-1 --stack-name tap-bootstrap --capabilities CAPABILITY_NAMED_IAM --template-file bootstrap/account.yaml\n")
	assert.Less(t, strings.Index(s, "bootstrap/account.yaml\n"), strings.Index(s, "bootstrap/dev.yaml\n"), "the account's first")
	assert.Contains(t, s, "dev, staging, prod share this AWS account. They share its state bucket")
	assert.Contains(t, s, "pulumi login 's3://tap-pulumi-state-<account-id>-eu-west-1/tap?region=eu-west-1'")
	assert.Contains(t, s, "TAP_DEPLOY_ROLE_ARN      GitHub environment prod")

	one := referenceOptions
	one.Environments, one.ReviewEnvironment = []string{"prod"}, OwnerNone
	files, err := Generate(one)
	require.NoError(t, err)
	assert.NotContains(t, Summary(one, files, "bootstrap"), "share this AWS account")

	// A promotion from here by another account's environment: the two
	// variables its job's promote-from-backend-url and
	// promote-from-role-arn read, in its GitHub environment.
	shared := referenceOptions
	shared.Environments, shared.Promotions = []string{"dev", "staging"}, []Promotion{{From: "staging", To: "prod"}}
	files, err = Generate(shared)
	require.NoError(t, err)
	s = Summary(shared, files, "bootstrap")
	assert.Contains(t, s, "TAP_PROMOTE_FROM_BACKEND_URL GitHub environment prod        tap-bootstrap output BackendUrl (where the other account's prod reads staging)\n")
	assert.Contains(t, s, "TAP_PROMOTE_FROM_ROLE_ARN GitHub environment prod        tap-bootstrap-staging output DriftRoleArn (the other account's prod promotes from staging through it)\n")
}
