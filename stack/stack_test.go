package stack_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/awsfacts"
	"github.com/org/tap-deploy/internal/graph"
	"github.com/org/tap-deploy/internal/offline"
	"github.com/org/tap-deploy/internal/policy"
	"github.com/org/tap-deploy/stack"
	"github.com/org/tap-deploy/test/stacktest"
)

func collect(t *testing.T, cfg stack.Config) *graph.Graph {
	t.Helper()
	g, err := offline.Collect(stack.Program(cfg, stacktest.Packages(t, "a")), "tap", "dev", cfg.Region)
	require.NoError(t, err)
	return g
}

// Everything goes through one of the stack's two explicit providers, both
// pinned to the configured region: the tagged one, and the untagged one
// for exactly the types that must stay untagged (awsfacts.Type.Untagged).
func TestProgram_EveryAWSResourceUsesTheExplicitProvider(t *testing.T) {
	g := collect(t, stacktest.Config(t, nil))
	providers := map[string]graph.Resource{}
	for _, p := range g.OfType("pulumi:providers:aws") {
		providers[p.Name] = p
		assert.Equal(t, "eu-west-1", p.Inputs["region"], p.Name)
	}
	require.Len(t, providers, 2)
	tagged, untagged := providers["aws"], providers["aws-untagged"]
	assert.Equal(t, map[string]any{"project": "tap", "environment": "dev", "managed-by": "tap-deploy"}, tagged.Inputs["defaultTags"].(map[string]any)["tags"])
	assert.NotContains(t, untagged.Inputs, "defaultTags")

	aws := 0
	for _, r := range g.Resources {
		if !r.Custom || !strings.HasPrefix(r.Type, "aws:") {
			continue
		}
		aws++
		want := tagged.URN
		if awsfacts.Of(r.Type).Untagged != "" {
			want = untagged.URN
		}
		assert.Equal(t, want, r.ProviderURN(), "%s %s", r.Type, r.Name)
		assert.NotEmpty(t, r.Parent, "%s %s has no parent component", r.Type, r.Name)
		assert.NotContains(t, r.Parent, "pulumi:pulumi:Stack", "%s %s sits outside the components", r.Type, r.Name)
	}
	assert.Greater(t, aws, 50)
}

func TestProgram_NoNetworkResources(t *testing.T) {
	g := collect(t, stacktest.Config(t, nil))
	for _, r := range g.Resources {
		assert.False(t, strings.HasPrefix(r.Type, "aws:ec2/"), "serverless stack must not create %s", r.Type)
		assert.NotContains(t, r.Inputs, "availabilityZone")
		assert.NotContains(t, r.Inputs, "vpcConfig")
	}
}

func TestProgram_PassesEveryPolicyRule(t *testing.T) {
	cfg := stacktest.Config(t, map[string]string{"reservedConcurrency": "10"})
	rep := policy.Evaluate(collect(t, cfg), policy.Settings{RequiredTags: []string{"project", "environment", "managed-by"}})
	assert.Empty(t, rep.Violations, "violations:\n%v", rep.Violations)
	assert.Equal(t, len(policy.Rules), rep.Rules)
}

func TestProgram_DefaultsOnlyRaiseTheReservedConcurrencyAdvisory(t *testing.T) {
	rep := policy.Evaluate(collect(t, stacktest.Config(t, nil)), policy.Settings{RequiredTags: []string{"project"}})
	assert.Empty(t, rep.Mandatory())
	for _, v := range rep.Advisory() {
		assert.Equal(t, "CKV_AWS_115", v.RuleID)
	}
	assert.Len(t, rep.Advisory(), 3)
}

func TestProgram_PoliciesNameOnlyScopedActionsAndResources(t *testing.T) {
	g := collect(t, stacktest.Config(t, map[string]string{"manageApiGatewayAccount": "true"}))
	policies := g.OfType("aws:iam/rolePolicy:RolePolicy")
	require.Len(t, policies, 3, "one per function (API Gateway's logging role has AWS's managed policy)")
	for _, p := range policies {
		var doc stack.PolicyDocument
		require.NoError(t, json.Unmarshal([]byte(p.Inputs["policy"].(string)), &doc))
		for _, s := range doc.Statement {
			for _, a := range s.Action {
				assert.NotContains(t, a, "*", "%s: %s", p.Name, a)
			}
			for _, r := range s.Resource {
				assert.NotEqual(t, "*", r, "%s", p.Name)
				assert.True(t, strings.HasPrefix(r, "arn:aws:"), "%s: %s", p.Name, r)
			}
		}
	}
}

func TestProgram_AlarmsNotifyTheTopic(t *testing.T) {
	g := collect(t, stacktest.Config(t, nil))
	// By name: the mocks register resources concurrently, so the order of
	// the two topics in the graph differs from run to run.
	topic := findByName(t, g.OfType("aws:sns/topic:Topic"), "alerts")
	topicArn := "arn:aws:sns:eu-west-1:123456789012:" + topic.Inputs["name"].(string)
	alarms := g.OfType("aws:cloudwatch/metricAlarm:MetricAlarm")
	assert.Len(t, alarms, 14, "error rate and throttles per function and per function's new version, API 5xx and latency")
	for _, a := range alarms {
		assert.Equal(t, []any{topicArn}, a.Inputs["alarmActions"], a.Name)
		assert.Equal(t, []any{topicArn}, a.Inputs["okActions"], a.Name)
	}
	errorRate := findByName(t, alarms, "api-handler-error-rate")
	queries := errorRate.Inputs["metricQueries"].([]any)
	require.Len(t, queries, 3)
	assert.Equal(t, "IF(invocations > 0, 100 * errors / invocations, 0)", queries[2].(map[string]any)["expression"])
	assert.EqualValues(t, 5, errorRate.Inputs["threshold"])
}

func TestProgram_FunctionsRunOnProvidedAL2023WithOwnRoleAndLogGroup(t *testing.T) {
	g := collect(t, stacktest.Config(t, map[string]string{"lambdaMemoryMb": "512", "logRetentionDays": "30"}))
	fns := g.OfType("aws:lambda/function:Function")
	require.Len(t, fns, 3)
	roles := map[any]bool{}
	for _, f := range fns {
		assert.Equal(t, "provided.al2023", f.Inputs["runtime"])
		assert.Equal(t, []any{"arm64"}, f.Inputs["architectures"])
		assert.EqualValues(t, 512, f.Inputs["memorySize"])
		roles[f.Inputs["role"]] = true
		assert.Regexp(t, `^lambda/[a-z-]+/[0-9a-f]{64}\.zip$`, f.Inputs["s3Key"])
	}
	assert.Len(t, roles, 3, "each function has its own role")
	for _, lg := range g.OfType("aws:cloudwatch/logGroup:LogGroup") {
		assert.EqualValues(t, 30, lg.Inputs["retentionInDays"], lg.Name)
	}
	esm := g.OfType("aws:lambda/eventSourceMapping:EventSourceMapping")
	require.Len(t, esm, 1)
	assert.Equal(t, []any{"ReportBatchItemFailures"}, esm[0].Inputs["functionResponseTypes"])
}

func TestProgram_StageThrottlesFromConfig(t *testing.T) {
	g := collect(t, stacktest.Config(t, map[string]string{"apiThrottleRate": "25", "apiThrottleBurst": "40"}))
	ms := g.OfType("aws:apigateway/methodSettings:MethodSettings")
	require.Len(t, ms, 1)
	settings := ms[0].Inputs["settings"].(map[string]any)
	assert.EqualValues(t, 25, settings["throttlingRateLimit"])
	assert.EqualValues(t, 40, settings["throttlingBurstLimit"])
	assert.Equal(t, false, settings["dataTraceEnabled"])
}

func TestProgram_LongNamesStayWithinLimits(t *testing.T) {
	cfg, err := stack.NewConfig(stack.Base{Project: "a-very-long-project-name-xyz", Environment: "production-europe", Region: "ap-southeast-2"},
		map[string]string{"environmentSuffix": "blue-green-canary-01"})
	require.NoError(t, err)
	g, err := offline.Collect(stack.Program(cfg, stacktest.Packages(t, "a")), "tap", "dev", cfg.Region)
	require.NoError(t, err)
	rep := policy.Evaluate(g, policy.Settings{})
	for _, v := range rep.Violations {
		assert.NotEqual(t, "TAP_NAMES", v.RuleID, v.String())
	}
	for _, f := range g.OfType("aws:lambda/function:Function") {
		assert.LessOrEqual(t, len(f.Inputs["name"].(string)), 64)
	}
	for _, b := range g.OfType("aws:s3/bucketV2:BucketV2") {
		assert.LessOrEqual(t, len(b.Inputs["bucket"].(string)), 63)
	}
}

func TestProgram_RefusesMissingArtifacts(t *testing.T) {
	_, err := offline.Collect(stack.Program(stacktest.Config(t, nil), stack.Packages{}), "tap", "dev", "eu-west-1")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "built without the Lambda artifacts")
}

func findByName(t *testing.T, rs []graph.Resource, name string) graph.Resource {
	t.Helper()
	for _, r := range rs {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("no resource named %s", name)
	return graph.Resource{}
}

func TestProgram_ItemDataNeverGoesToTheAlarmTopic(t *testing.T) {
	g := collect(t, stacktest.Config(t, nil))
	topics := map[string]graph.Resource{}
	for _, topic := range g.OfType("aws:sns/topic:Topic") {
		topics[topic.Name] = topic
		assert.NotEmpty(t, topic.Inputs["kmsMasterKeyId"], "%s is encrypted", topic.Name)
	}
	require.Contains(t, topics, "alerts")
	require.Contains(t, topics, "item-events")
	alertsArn := "arn:aws:sns:eu-west-1:123456789012:" + topics["alerts"].Inputs["name"].(string)
	eventsArn := "arn:aws:sns:eu-west-1:123456789012:" + topics["item-events"].Inputs["name"].(string)
	assert.NotEqual(t, topics["alerts"].Inputs["kmsMasterKeyId"], topics["item-events"].Inputs["kmsMasterKeyId"], "each topic has its own key")

	for _, fn := range g.OfType("aws:lambda/function:Function") {
		vars := fn.Inputs["environment"].(map[string]any)["variables"].(map[string]any)
		assert.NotContains(t, fmt.Sprint(vars), alertsArn, "%s is not told the alarm topic", fn.Name)
		if fn.Name == "api-handler" {
			assert.NotContains(t, vars, "EVENTS_TOPIC_ARN", "the API publishes nothing")
		} else {
			assert.Equal(t, eventsArn, vars["EVENTS_TOPIC_ARN"], fn.Name)
		}
	}
	for _, p := range g.OfType("aws:iam/rolePolicy:RolePolicy") {
		assert.NotContains(t, p.Inputs["policy"], alertsArn, "role policy %s grants nothing on the alarm topic", p.Name)
	}
	for _, name := range []string{"file-processor", "stream-processor"} {
		assert.Contains(t, findByName(t, g.OfType("aws:iam/rolePolicy:RolePolicy"), name).Inputs["policy"], eventsArn)
	}

	var policy stack.PolicyDocument
	alertsPolicy := findByName(t, g.OfType("aws:sns/topicPolicy:TopicPolicy"), "alerts")
	require.NoError(t, json.Unmarshal([]byte(alertsPolicy.Inputs["policy"].(string)), &policy))
	require.Len(t, policy.Statement, 2)
	allow, deny := policy.Statement[0], policy.Statement[1]
	assert.Equal(t, map[string]any{"Service": "cloudwatch.amazonaws.com"}, allow.Principal)
	assert.Equal(t, "Deny", deny.Effect)
	assert.Equal(t, []string{"sns:Publish"}, deny.Action)
	assert.Equal(t, map[string]map[string]string{"StringNotEquals": {"aws:PrincipalServiceName": "cloudwatch.amazonaws.com"}}, deny.Condition,
		"only CloudWatch may publish to the alarm topic")
}

func TestReviewConfig_NamesStayWithinEveryLimitForTheLongestInputs(t *testing.T) {
	base := stack.Base{Project: strings.Repeat("p", 30), Environment: "e" + strings.Repeat("n", 19), Region: "ap-southeast-2"}
	cfg, err := stack.NewReviewStackConfig(base, nil, 999999)
	require.NoError(t, err)
	g, err := offline.Collect(stack.Program(cfg, stacktest.Packages(t, "a")), base.Project, base.Environment+"-pr-999999", cfg.Region)
	require.NoError(t, err)
	names := map[string]string{}
	for _, r := range g.Resources {
		facts := awsfacts.Of(r.Type)
		if facts.Name == nil {
			continue
		}
		name, _ := r.Inputs[facts.NameKey].(string)
		require.NotEmpty(t, name, "%s %s", r.Type, r.Name)
		assert.Empty(t, facts.Name.Check(name), "%s %s", r.Type, r.Name)
		if facts.UniqueName {
			key := r.Type + " " + name
			assert.NotContains(t, names, key, "%s and %s share a name", names[key], r.Name)
			names[key] = r.Name
		}
	}
	rep := policy.Evaluate(g, policy.Settings{RequiredTags: []string{"project", "environment", "managed-by", "review-stack"}})
	for _, v := range rep.Mandatory() {
		t.Errorf("%v", v)
	}
}

func TestReviewConfig_IsAConservativeDisposableCopy(t *testing.T) {
	env := stacktest.Config(t, map[string]string{"lambdaMemoryMb": "512"})
	cfg, err := stack.NewReviewStackConfig(env.Base, map[string]string{"lambdaMemoryMb": "512", "logRetentionDays": "7"}, 42)
	require.NoError(t, err)
	assert.Equal(t, "dev-pr-42", cfg.EnvironmentSuffix)
	assert.False(t, cfg.ManageAPIGatewayAccount, "account-wide settings stay with the environment's stack")
	assert.InDelta(t, 5, cfg.APIThrottleRate, 0)
	assert.Equal(t, 0, cfg.ReservedConcurrency, "reserving concurrency fails on accounts whose limit is below 100")
	assert.Equal(t, 7, cfg.LogRetentionDays, "the config input overrides a review default")
	assert.Equal(t, 512, cfg.LambdaMemoryMB)
	assert.Equal(t, "pr-42", cfg.CommonTags()["review-stack"])

	g := collect(t, cfg)
	assert.Empty(t, g.OfType("aws:apigateway/account:Account"))
	for _, b := range g.OfType("aws:s3/bucketV2:BucketV2") {
		assert.Equal(t, true, b.Inputs["forceDestroy"], "%s goes with its objects", b.Name)
		assert.Contains(t, b.Inputs["bucket"], "dev-pr-42")
	}
	for _, tbl := range g.OfType("aws:dynamodb/table:Table") {
		assert.Equal(t, false, tbl.Inputs["deletionProtectionEnabled"])
	}
	for _, k := range g.OfType("aws:kms/key:Key") {
		assert.EqualValues(t, 7, k.Inputs["deletionWindowInDays"])
	}
	assert.Equal(t, "42", stack.Record(cfg, stacktest.Packages(t, "a"), stack.Provenance{})[stack.ReviewStackKey])

	_, err = stack.NewReviewStackConfig(env.Base, nil, 0)
	assert.Error(t, err)
	_, err = stack.NewReviewStackConfig(env.Base, nil, 1000000)
	assert.Error(t, err)
}

// No role the stack makes can do more than the bootstrap template allows
// it: a deploy role (any environment's, or the review role any branch can
// assume) may write only roles that carry its permissions boundary. Every
// role of an environment's stack carries the environment's boundary, every
// role of a review stack the review boundary, in the account the program
// read; an account that was not bootstrapped gets none.
func TestConfig_EveryRoleCarriesItsBoundary(t *testing.T) {
	env := stacktest.Config(t, map[string]string{"manageApiGatewayAccount": "true"})
	review, err := stack.NewReviewStackConfig(env.Base, nil, 7)
	require.NoError(t, err)
	assert.Equal(t, "tap-dev-review-boundary-eu-west-1", stack.ReviewBoundaryName(review.Base), "the environment's, whatever the pull request")
	assert.Equal(t, "tap-dev-boundary-eu-west-1", stack.BoundaryName(env.Base))

	roles := collect(t, review).OfType("aws:iam/role:Role")
	require.Len(t, roles, len(stack.Functions)+1, "the functions' roles and CodeDeploy's")
	for _, r := range roles {
		assert.Equal(t, "arn:aws:iam::123456789012:policy/tap-dev-review-boundary-eu-west-1", r.Inputs["permissionsBoundary"], r.Name)
	}
	envRoles := collect(t, env).OfType("aws:iam/role:Role")
	require.Len(t, envRoles, len(stack.Functions)+2, "with API Gateway's logging role")
	for _, r := range envRoles {
		assert.Equal(t, "arn:aws:iam::123456789012:policy/tap-dev-boundary-eu-west-1", r.Inputs["permissionsBoundary"], r.Name)
	}
	unbounded := stacktest.Config(t, map[string]string{"bootstrapped": "false"})
	for _, r := range collect(t, unbounded).OfType("aws:iam/role:Role") {
		assert.NotContains(t, r.Inputs, "permissionsBoundary", r.Name)
	}
}

// A key names the role that deploys the stack as its administrator: that
// role uses the key the moment it exists (a grant through tags would wait
// minutes for them to apply), and no IAM policy needs a grant on the
// account's keys. The keys carry no tags: tagging one on create needs a
// grant on every key of the account.
func TestKeys_NameTheirDeployRoleAndCarryNoTags(t *testing.T) {
	for _, c := range []struct {
		name  string
		cfg   stack.Config
		admin string
	}{
		{"environment", stacktest.Config(t, nil), "arn:aws:iam::123456789012:role/tap-dev-github-deploy-eu-west-1"},
		{"review stack", func() stack.Config {
			c, err := stack.NewReviewStackConfig(stacktest.Config(t, nil).Base, nil, 7)
			require.NoError(t, err)
			return c
		}(), "arn:aws:iam::123456789012:role/tap-github-review-eu-west-1"},
		{"not bootstrapped", stacktest.Config(t, map[string]string{"bootstrapped": "false"}), ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := collect(t, c.cfg)
			keys := g.OfType("aws:kms/key:Key")
			require.Len(t, keys, 2)
			for _, k := range keys {
				var doc struct {
					Statement []struct {
						Sid       string
						Principal map[string]any
						Action    any
					}
				}
				require.NoError(t, json.Unmarshal([]byte(k.Inputs["policy"].(string)), &doc), k.Name)
				var admins []string
				for _, s := range doc.Statement {
					if s.Sid == "DeployerAdministers" {
						admins = append(admins, fmt.Sprint(s.Principal["AWS"]))
						assert.ElementsMatch(t, stack.KeyAdministration, s.Action, k.Name)
					}
				}
				if c.admin == "" {
					assert.Empty(t, admins, k.Name)
				} else {
					assert.Equal(t, []string{c.admin}, admins, k.Name)
				}
				assert.Empty(t, k.Inputs["tags"], k.Name)
				p, ok := g.Get(k.ProviderURN())
				require.True(t, ok, k.Name)
				assert.Empty(t, p.Inputs["defaultTags"], "%s is created through a provider without default tags", k.Name)
			}
			for _, m := range g.OfType("aws:lambda/eventSourceMapping:EventSourceMapping") {
				p, ok := g.Get(m.ProviderURN())
				require.True(t, ok, m.Name)
				assert.Empty(t, p.Inputs["defaultTags"], "%s is created through a provider without default tags", m.Name)
			}
		})
	}
}

// The names a run asks CodeDeploy about before an update are the names the
// program gives: a mismatch would let a deploy run over a running shift.
func TestTrafficNames_AreTheProgramsNames(t *testing.T) {
	cfg := stacktest.Config(t, nil)
	g := collect(t, cfg)
	app, fns := stack.TrafficNames(cfg)
	apps := g.OfType("aws:codedeploy/application:Application")
	require.Len(t, apps, 1)
	assert.Equal(t, app, apps[0].Inputs["name"])
	groups := map[string]bool{}
	for _, r := range g.OfType("aws:codedeploy/deploymentGroup:DeploymentGroup") {
		groups[fmt.Sprint(r.Inputs["deploymentGroupName"])] = true
		assert.Equal(t, app, r.Inputs["appName"])
	}
	functions := map[string]bool{}
	for _, r := range g.OfType("aws:lambda/function:Function") {
		functions[fmt.Sprint(r.Inputs["name"])] = true
		assert.Equal(t, true, r.Inputs["publish"], "every change is a version CodeDeploy can shift to")
	}
	aliases := g.OfType("aws:lambda/alias:Alias")
	require.Len(t, fns, len(stack.Functions))
	require.Len(t, aliases, len(stack.Functions))
	for _, f := range fns {
		assert.True(t, groups[f.DeploymentGroup], "group %s", f.DeploymentGroup)
		assert.True(t, functions[f.Name], "function %s", f.Name)
		assert.Equal(t, stack.LiveAlias, f.Alias)
	}
	for _, a := range aliases {
		assert.Equal(t, stack.LiveAlias, a.Inputs["name"])
	}
}

// What callers invoke is the live alias, never the function's latest code:
// otherwise a new version would take all traffic before CodeDeploy shifts.
func TestProgram_CallersInvokeTheLiveAlias(t *testing.T) {
	g := collect(t, stacktest.Config(t, nil))
	require.NotEmpty(t, g.OfType("aws:lambda/eventSourceMapping:EventSourceMapping"))
	require.NotEmpty(t, g.OfType("aws:lambda/permission:Permission"))
	require.NotEmpty(t, g.OfType("aws:apigateway/integration:Integration"))
	for _, m := range g.OfType("aws:lambda/eventSourceMapping:EventSourceMapping") {
		assert.Contains(t, fmt.Sprint(m.Inputs["functionName"]), ":live", "the stream mapping invokes the alias")
	}
	for _, p := range g.OfType("aws:lambda/permission:Permission") {
		assert.Equal(t, stack.LiveAlias, p.Inputs["qualifier"], "permission %s is for the alias", p.Name)
	}
	for _, i := range g.OfType("aws:apigateway/integration:Integration") {
		assert.Contains(t, fmt.Sprint(i.Inputs["uri"]), ":live/invocations")
	}
}
