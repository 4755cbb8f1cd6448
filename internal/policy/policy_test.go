package policy_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/graph"
	"github.com/org/tap-deploy/internal/offline"
	"github.com/org/tap-deploy/internal/policy"
	"github.com/org/tap-deploy/stack"
	"github.com/org/tap-deploy/test/stacktest"
)

var settings = policy.Settings{RequiredTags: []string{"project", "environment", "managed-by"}}

// stackGraph is the real stack's graph, which passes every rule; each test
// case breaks one thing in a copy of it.
func stackGraph(t *testing.T) []graph.Resource {
	t.Helper()
	cfg := stacktest.Config(t, map[string]string{"reservedConcurrency": "5"})
	g, err := offline.Collect(stack.Program(cfg, stacktest.Packages(t, "a")), "tap", "dev", cfg.Region)
	require.NoError(t, err)
	return g.Resources
}

func clone(rs []graph.Resource) []graph.Resource {
	b, _ := json.Marshal(rs)
	var out []graph.Resource
	_ = json.Unmarshal(b, &out)
	for i := range out {
		out[i].Outputs = rs[i].Outputs // not marshalled, and only read
	}
	return out
}

// named applies change to the resource of a type called name.
func named(typ, name string, change func(r *graph.Resource)) func([]graph.Resource) []graph.Resource {
	return func(rs []graph.Resource) []graph.Resource {
		for i := range rs {
			if rs[i].Type == typ && rs[i].Name == name {
				change(&rs[i])
				return rs
			}
		}
		panic("no " + typ + " " + name)
	}
}

// first applies change to the first resource of a type (optionally whose
// name contains part).
func first(typ, part string, change func(r *graph.Resource)) func([]graph.Resource) []graph.Resource {
	return func(rs []graph.Resource) []graph.Resource {
		for i := range rs {
			if rs[i].Type == typ && strings.Contains(rs[i].Name, part) {
				change(&rs[i])
				return rs
			}
		}
		panic("no " + typ)
	}
}

func policyDoc(stmts ...map[string]any) string {
	b, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": stmts})
	return string(b)
}

func setPolicy(doc string) func(r *graph.Resource) {
	return func(r *graph.Resource) { r.Inputs["policy"] = doc }
}

func drop(typ, part string) func([]graph.Resource) []graph.Resource {
	return func(rs []graph.Resource) []graph.Resource {
		for i := range rs {
			if rs[i].Type == typ && strings.Contains(rs[i].Name, part) {
				return append(rs[:i:i], rs[i+1:]...)
			}
		}
		panic("no " + typ)
	}
}

const rolePolicy = "aws:iam/rolePolicy:RolePolicy"

func TestRules_EachRuleFailsOnABrokenGraphAndPassesOnTheStack(t *testing.T) {
	tests := []struct {
		rule   string
		break_ func([]graph.Resource) []graph.Resource
		want   string
	}{
		{"CKV_AWS_62", first(rolePolicy, "", setPolicy(policyDoc(map[string]any{"Effect": "Allow", "Action": "*", "Resource": "*"}))), "full admin"},
		{"CKV_AWS_63", first(rolePolicy, "", setPolicy(policyDoc(map[string]any{"Effect": "Allow", "Action": []string{"s3:*"}, "Resource": "arn:aws:s3:::b/*"}))), `"s3:*" use a wildcard`},
		{"CKV_AWS_355", first(rolePolicy, "", setPolicy(policyDoc(map[string]any{"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*"}))), `apply to Resource "*"`},
		{"CKV_AWS_286", first(rolePolicy, "", setPolicy(policyDoc(map[string]any{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}))), "raise its own permissions"},
		{"CKV_AWS_290", first(rolePolicy, "", setPolicy(policyDoc(map[string]any{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}))), "without a Condition"},
		{"CKV_AWS_60", first("aws:iam/role:Role", "", func(r *graph.Resource) {
			r.Inputs["assumeRolePolicy"] = policyDoc(map[string]any{"Effect": "Allow", "Principal": map[string]any{"AWS": "*"}, "Action": "sts:AssumeRole"})
		}), `AWS principal "*"`},
		{"CKV_AWS_274", first("aws:iam/role:Role", "", func(r *graph.Resource) {
			r.Inputs["managedPolicyArns"] = []any{"arn:aws:iam::aws:policy/AdministratorAccess"}
		}), "AdministratorAccess"},
		{"CKV_AWS_301", first("aws:lambda/permission:Permission", "", func(r *graph.Resource) { r.Inputs["principal"] = "*" }), `principal "*"`},
		{"CKV_AWS_364", first("aws:lambda/permission:Permission", "files", func(r *graph.Resource) {
			delete(r.Inputs, "sourceArn")
			delete(r.Inputs, "sourceAccount")
		}), "any account"},
		{"CKV_AWS_45", first("aws:lambda/function:Function", "", func(r *graph.Resource) {
			r.Inputs["environment"].(map[string]any)["variables"].(map[string]any)["DB_PASSWORD"] = "hunter2"
		}), "DB_PASSWORD looks like a secret"},
		{"CKV_AWS_363", first("aws:lambda/function:Function", "", func(r *graph.Resource) { r.Inputs["runtime"] = "go1.x" }), "use provided.al2023"},
		{"CKV_AWS_116", first("aws:lambda/function:Function", "", func(r *graph.Resource) { delete(r.Inputs, "deadLetterConfig") }), "no deadLetterConfig"},
		{"CKV_AWS_115", first("aws:lambda/function:Function", "", func(r *graph.Resource) { delete(r.Inputs, "reservedConcurrentExecutions") }), "no reserved concurrency"},
		{"CKV_AWS_59", first("aws:apigateway/method:Method", "", func(r *graph.Resource) { r.Inputs["authorization"] = "NONE" }), "authorization is NONE"},
		{"CKV_AWS_76", first("aws:apigateway/stage:Stage", "", func(r *graph.Resource) { delete(r.Inputs, "accessLogSettings") }), "no accessLogSettings"},
		{"CKV2_AWS_4", first("aws:apigateway/methodSettings:MethodSettings", "", func(r *graph.Resource) {
			r.Inputs["settings"].(map[string]any)["loggingLevel"] = "OFF"
		}), "execution logging is off"},
		{"CKV_AWS_276", first("aws:apigateway/methodSettings:MethodSettings", "", func(r *graph.Resource) {
			r.Inputs["settings"].(map[string]any)["dataTraceEnabled"] = true
		}), "dataTraceEnabled"},
		{"ES2003", first("aws:apigateway/methodSettings:MethodSettings", "", func(r *graph.Resource) {
			delete(r.Inputs["settings"].(map[string]any), "throttlingBurstLimit")
		}), "no default throttling"},
		{"CKV_AWS_28", first("aws:dynamodb/table:Table", "", func(r *graph.Resource) { delete(r.Inputs, "pointInTimeRecovery") }), "point-in-time recovery is off"},
		{"CKV_AWS_119", first("aws:dynamodb/table:Table", "", func(r *graph.Resource) {
			r.Inputs["serverSideEncryption"] = map[string]any{"enabled": false}
		}), "server-side encryption"},
		{"CKV2_AWS_6", first("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "files", func(r *graph.Resource) { r.Inputs["restrictPublicBuckets"] = false }), "restrictPublicBuckets is not true"},
		{"CKV2_AWS_6", drop("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "files"), "no BucketPublicAccessBlock"},
		{"CKV_AWS_145", drop("aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2", "artifacts"), "no default encryption"},
		{"S3.5", first("aws:s3/bucketPolicy:BucketPolicy", "files", setPolicy(policyDoc(map[string]any{"Effect": "Deny", "Principal": "*", "Action": "s3:DeleteBucket", "Resource": "arn:aws:s3:::x"}))), "aws:SecureTransport"},
		{"CKV_AWS_21", first("aws:s3/bucketVersioningV2:BucketVersioningV2", "files", func(r *graph.Resource) {
			r.Inputs["versioningConfiguration"] = map[string]any{"status": "Suspended"}
		}), "versioning is not enabled"},
		{"CKV_AWS_26", first("aws:sns/topic:Topic", "", func(r *graph.Resource) { delete(r.Inputs, "kmsMasterKeyId") }), "not encrypted"},
		{"TAP_ALARM_TOPIC_KEY", first("aws:sns/topic:Topic", "alerts", func(r *graph.Resource) { r.Inputs["kmsMasterKeyId"] = "alias/aws/sns" }), "AWS managed key alias/aws/sns"},
		{"TAP_ALARM_TOPIC_KEY", first("aws:kms/key:Key", "alerts", func(r *graph.Resource) {
			r.Inputs["policy"] = policyDoc(map[string]any{"Effect": "Allow", "Principal": map[string]any{"AWS": "arn:aws:iam::123456789012:root"}, "Action": "kms:*", "Resource": "*"})
		}), "does not let cloudwatch.amazonaws.com use"},
		{"TAP_MANAGED_POLICY", first("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "", func(r *graph.Resource) {
			r.Inputs["policyArn"] = "arn:aws:iam::aws:policy/AmazonS3FullAccess"
		}), "only managed policies allowed are"},
		{"CKV_AWS_169", first("aws:sns/topicPolicy:TopicPolicy", "", setPolicy(policyDoc(map[string]any{"Effect": "Allow", "Principal": map[string]any{"AWS": "*"}, "Action": "sns:Publish", "Resource": "arn:aws:sns:eu-west-1:1:t"}))), `Principal "*"`},
		{"CKV_AWS_66", first("aws:cloudwatch/logGroup:LogGroup", "api-access", func(r *graph.Resource) { delete(r.Inputs, "retentionInDays") }), "kept forever"},
		{"CKV_AWS_66", drop("aws:cloudwatch/logGroup:LogGroup", "file-processor"), "no log group /aws/lambda/tap-dev-file-processor"},
		{"TAP_ALARM_ACTIONS", first("aws:cloudwatch/metricAlarm:MetricAlarm", "", func(r *graph.Resource) { r.Inputs["alarmActions"] = []any{} }), "alarmActions is empty"},
		{"TAP_ALARM_ACTIONS", first("aws:cloudwatch/metricAlarm:MetricAlarm", "", func(r *graph.Resource) {
			r.Inputs["alarmActions"] = []any{"arn:aws:iam::123456789012:policy/x"}
		}), `alarm action "arn:aws:iam::123456789012:policy/x" is not an SNS topic ARN`},
		{"TAP_ALARM_ACTIONS", first("aws:cloudwatch/metricAlarm:MetricAlarm", "", func(r *graph.Resource) {
			r.Inputs["alarmActions"] = []any{map[string]any{"Ref": "topic"}}
		}), `alarm action {"Ref":"topic"} is not an SNS topic ARN`},
		{"TAP_PROVIDER", first("aws:dynamodb/table:Table", "", func(r *graph.Resource) {
			r.Provider = "urn:pulumi:dev::tap::pulumi:providers:aws::default_6_83_4::id"
		}), "default provider"},
		{"TAP_PROVIDER", first("pulumi:providers:aws", "", func(r *graph.Resource) { delete(r.Inputs, "region") }), "no region"},
		// The tagging provider (the stack has an untagged one as well, for
		// what AWS must leave untagged; resources register concurrently, so
		// by name, not by order).
		{"TAP_TAGS", named("pulumi:providers:aws", "aws", func(r *graph.Resource) {
			delete(r.Inputs["defaultTags"].(map[string]any)["tags"].(map[string]any), "managed-by")
		}), `missing tags "managed-by"`},
		{"TAP_NAMES", first("aws:s3/bucketV2:BucketV2", "files", func(r *graph.Resource) { r.Inputs["bucket"] = "Files_Bucket" }), "S3 bucket name"},
		{"TAP_NAMES", first("aws:lambda/function:Function", "", func(r *graph.Resource) { r.Inputs["name"] = strings.Repeat("f", 65) }), "AWS allows 64"},
	}
	base := stackGraph(t)
	clean := policy.Evaluate(graph.New(base), settings)
	require.Empty(t, clean.Violations, "the stack itself must pass: %v", clean.Violations)

	covered := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.rule+"/"+tt.want, func(t *testing.T) {
			rep := policy.Evaluate(graph.New(tt.break_(clone(base))), settings)
			var got []policy.Violation
			for _, v := range rep.Violations {
				if v.RuleID == tt.rule {
					got = append(got, v)
				}
			}
			require.NotEmpty(t, got, "rule %s did not fire; got %v", tt.rule, rep.Violations)
			assert.Contains(t, got[0].Message, tt.want)
			assert.NotEmpty(t, got[0].URN)
			covered[tt.rule] = true
		})
	}
	for _, r := range policy.Rules {
		assert.True(t, covered[r.ID], "rule %s has no failing case", r.ID)
	}
}

func TestEvaluate_OverridesLowerOrDisableRules(t *testing.T) {
	rs := first("aws:dynamodb/table:Table", "", func(r *graph.Resource) { delete(r.Inputs, "pointInTimeRecovery") })(clone(stackGraph(t)))
	rs = first("aws:sns/topic:Topic", "", func(r *graph.Resource) { delete(r.Inputs, "kmsMasterKeyId") })(rs)

	s := settings
	s.Overrides = map[string]string{"CKV_AWS_28": "advisory", "CKV_AWS_26": "disabled", "NOPE_1": "disabled"}
	rep := policy.Evaluate(graph.New(rs), s)
	assert.Empty(t, rep.Mandatory())
	require.Len(t, rep.Advisory(), 1)
	assert.True(t, rep.Advisory()[0].Lowered)
	assert.Equal(t, []string{"CKV_AWS_26"}, rep.Disabled)
	assert.Equal(t, []string{"CKV_AWS_28"}, rep.Lowered)
	assert.Equal(t, []string{"NOPE_1"}, rep.Unknown)
}

func TestEvaluate_UnknownValuesAreNotViolations(t *testing.T) {
	unknown := "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
	rs := first(rolePolicy, "", setPolicy(unknown))(clone(stackGraph(t)))
	rs = first("aws:cloudwatch/metricAlarm:MetricAlarm", "", func(r *graph.Resource) { r.Inputs["alarmActions"] = []any{unknown} })(rs)
	rep := policy.Evaluate(graph.New(rs), settings)
	assert.Empty(t, rep.Violations)
}
