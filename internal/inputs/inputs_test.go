package inputs_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/inputs"
	"github.com/org/tap-deploy/internal/problems"
)

// parse parses inputs; a test that does not mention aws-region gets one
// (the region is always required).
func parse(in map[string]string, env map[string]string, inActions bool) (inputs.Inputs, error) {
	if _, set := in["aws-region"]; !set {
		in = withRegion(in)
	}
	return inputs.Parse(func(k string) string { return in[k] }, inputs.Env{
		Getenv:    func(k string) string { return env[k] },
		InActions: inActions,
		WorkDir:   "/work/repo",
	})
}

func TestParse_Defaults(t *testing.T) {
	got, err := parse(map[string]string{"environment": "dev", "aws-region": "eu-west-1"}, nil, false)
	require.NoError(t, err)
	assert.Equal(t, inputs.Auto, got.Command)
	assert.Equal(t, "eu-west-1", got.AWSRegion)
	assert.Equal(t, inputs.CommitOrderStrict, got.CommitOrder)
	assert.Empty(t, got.DeployBranches, "the default branch")
	assert.Equal(t, "tap", got.ProjectName)
	assert.Equal(t, "dev", got.StackName)
	assert.Equal(t, "file:///work/repo/.tap/state", got.BackendURL)
	assert.Equal(t, "passphrase", got.SecretsProvider)
	assert.True(t, got.CommentOnPR)
	assert.False(t, got.FailOnDrift)
	assert.Equal(t, "text", got.Output)
	assert.Empty(t, got.Config)
}

func TestParse_RegionFallsBackThroughEnvironment(t *testing.T) {
	tests := []struct {
		name  string
		input string
		env   map[string]string
		want  string
	}{
		{"input wins", "eu-west-1", map[string]string{"AWS_REGION": "us-west-2"}, "eu-west-1"},
		{"AWS_REGION", "", map[string]string{"AWS_REGION": "us-west-2", "AWS_DEFAULT_REGION": "ap-south-1"}, "us-west-2"},
		{"AWS_DEFAULT_REGION", "", map[string]string{"AWS_DEFAULT_REGION": "ap-south-1"}, "ap-south-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parse(map[string]string{"environment": "dev", "aws-region": tt.input}, tt.env, false)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got.AWSRegion)
		})
	}
}

func withRegion(in map[string]string) map[string]string {
	out := map[string]string{"aws-region": "eu-west-1"}
	for k, v := range in {
		out[k] = v
	}
	return out
}

func TestParse_NoRegionIsAnErrorNamingAllThreeSources(t *testing.T) {
	_, err := parse(map[string]string{"environment": "dev", "aws-region": ""}, nil, false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--aws-region: required: set it, or AWS_REGION or AWS_DEFAULT_REGION")
}

func TestParse_ProblemsNameTheFlagLocallyAndTheInputInActions(t *testing.T) {
	in := map[string]string{"environment": "Dev", "aws-region": "eu-west-1a", "config": "x", "policy-overrides": "nope", "deploy-branches": "[", "lock-timeout": "1h"}
	for _, tt := range []struct {
		inActions bool
		want      []string
	}{
		{false, []string{
			`--environment: "Dev" must start with a lowercase letter`,
			`--aws-region: "eu-west-1a" is not an AWS region name (like eu-west-1)`,
			`--config line 1: not key=value`,
			`--policy-overrides line 1: not RULE_ID=advisory|disabled`,
			`--lock-timeout: "1h" must be a duration from 0s to 30m`,
			`--deploy-branches: "[" is not a branch pattern`,
		}},
		{true, []string{
			`environment: "Dev" must start with a lowercase letter`,
			`aws-region: "eu-west-1a" is not an AWS region name (like eu-west-1)`,
			`config line 1: not key=value`,
			`policy-overrides line 1: not RULE_ID=advisory|disabled`,
			`lock-timeout: "1h" must be a duration from 0s to 30m`,
			`deploy-branches: "[" is not a branch pattern`,
		}},
	} {
		_, err := parse(in, nil, tt.inActions)
		found := problems.Of(err)
		require.Len(t, found, len(tt.want), "one problem an input: %v", found)
		for i, want := range tt.want {
			assert.True(t, strings.HasPrefix(found[i], want), "in Actions: %v\n got: %s\nwant: %s...", tt.inActions, found[i], want)
		}
	}
}

func TestParse_NeverEchoesConfigOrPolicyValues(t *testing.T) {
	const secret = "AKIAIOSFODNN7EXAMPLEwJalrXUtnFEMI"
	tests := map[string]map[string]string{
		"config without =":         {"config": secret},
		"config key not camelCase": {"config": secret + "_x=1"},
		"policy line":              {"policy-overrides": secret},
		"policy action":            {"policy-overrides": "CKV_AWS_59=" + secret},
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			in["environment"], in["aws-region"] = "dev", "eu-west-1"
			_, err := parse(in, nil, false)
			require.Error(t, err)
			assert.NotContains(t, err.Error(), secret[:12])
			assert.Contains(t, err.Error(), "line 1")
		})
	}
}

func TestParse_DeployBranchesAndCommitOrder(t *testing.T) {
	got, err := parse(map[string]string{"environment": "dev", "aws-region": "eu-west-1",
		"deploy-branches": "main\nrelease/*, refs/heads/hotfix", "commit-order": "WARN"}, nil, false)
	require.NoError(t, err)
	assert.Equal(t, []string{"main", "release/*", "hotfix"}, got.DeployBranches)
	assert.Equal(t, inputs.CommitOrderWarn, got.CommitOrder)
}

func TestCheck_RequiresWhatTheCommandNeeds(t *testing.T) {
	tests := []struct {
		name    string
		command inputs.Command
		in      map[string]string
		env     map[string]string
		want    []string
	}{
		{"validate needs nothing", inputs.Validate, nil, nil, nil},
		{"preview needs a backend and a passphrase", inputs.Preview, nil, nil, []string{
			"backend-url: required for preview in GitHub Actions",
			"PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) must be set for preview"}},
		{"a passphrase file will do", inputs.Up, map[string]string{"backend-url": "s3://state/tap"}, map[string]string{"PULUMI_CONFIG_PASSPHRASE_FILE": "/run/secrets/p"}, nil},
		{"Pulumi Cloud is a backend", inputs.Drift, nil, map[string]string{"PULUMI_ACCESS_TOKEN": "pul-x", "PULUMI_CONFIG_PASSPHRASE": "p"}, nil},
		{"KMS needs no passphrase", inputs.Rollback, map[string]string{"backend-url": "s3://state/tap", "secrets-provider": "awskms://alias/tap?region=eu-west-1", "rollback-to": "1"}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := map[string]string{"environment": "dev", "aws-region": "eu-west-1"}
			for k, v := range tt.in {
				in[k] = v
			}
			env := inputs.Env{Getenv: func(k string) string { return tt.env[k] }, InActions: true}
			got, err := inputs.Parse(func(k string) string { return in[k] }, env)
			require.NoError(t, err, "parsing alone never requires a backend")
			found := got.Check(tt.command, env)
			require.Len(t, found, len(tt.want), "%v", found)
			for i, w := range tt.want {
				assert.Contains(t, found[i], w)
			}
		})
	}
}

func TestParse_EveryBadInputHasAClearMessage(t *testing.T) {
	tests := []struct {
		name    string
		in      map[string]string
		env     map[string]string
		actions bool
		want    string
	}{
		{"missing environment", map[string]string{}, nil, false, "environment: required"},
		{"environment with capitals", map[string]string{"environment": "Prod"}, nil, false, `environment: "Prod" must start with a lowercase letter`},
		{"unknown command", map[string]string{"environment": "dev", "command": "deploy"}, nil, false, `command: "deploy" is not a command; use one of auto, validate, preview, up, rollback, drift`},
		{"bootstrap is not the action's command", map[string]string{"environment": "dev", "command": "bootstrap"}, nil, true, "command: bootstrap prints the CloudFormation template that prepares an AWS account; run `tap-deploy bootstrap` on your machine"},
		{"malformed region", map[string]string{"environment": "dev", "aws-region": "eu-west"}, nil, false, `aws-region: "eu-west" is not an AWS region name`},
		{"bad project", map[string]string{"environment": "dev", "project-name": "My_Project"}, nil, false, `project-name: "My_Project"`},
		{"bad stack", map[string]string{"environment": "dev", "stack-name": "a b"}, nil, false, `stack-name: "a b"`},
		{"backend scheme", map[string]string{"environment": "dev", "backend-url": "gs://bucket"}, nil, false, `backend-url: scheme "gs" is not supported`},
		{"s3 without bucket", map[string]string{"environment": "dev", "backend-url": "s3://"}, nil, false, "names no bucket"},
		{"secrets provider", map[string]string{"environment": "dev", "secrets-provider": "vault://x"}, nil, false, `secrets-provider: "vault://x" is not supported`},
		{"comment-on-pr", map[string]string{"environment": "dev", "comment-on-pr": "sometimes"}, nil, false, `comment-on-pr: "sometimes" must be true or false`},
		{"fail-on-drift", map[string]string{"environment": "dev", "fail-on-drift": "2"}, nil, false, `fail-on-drift: "2" must be true or false`},
		{"config not key=value", map[string]string{"environment": "dev", "config": "logRetentionDays 30"}, nil, false, `config line 1: not key=value`},
		{"config key case", map[string]string{"environment": "dev", "config": "log_retention=30"}, nil, false, `config line 1: the key must be camelCase`},
		{"config duplicate", map[string]string{"environment": "dev", "config": "a=1\nb=2\na=3"}, nil, false, `config line 3: key "a" is set twice`},
		{"rollback without target", map[string]string{"environment": "dev", "command": "rollback"}, nil, false, "rollback-to: required with command rollback"},
		{"rollback target", map[string]string{"environment": "dev", "rollback-to": "v3"}, nil, false, `rollback-to: "v3" must be an update version number`},
		{"policy override", map[string]string{"environment": "dev", "policy-overrides": "CKV_AWS_59=off"}, nil, false, `policy-overrides line 1: CKV_AWS_59 must be set to advisory or disabled`},
		{"policy override id", map[string]string{"environment": "dev", "policy-overrides": "ckv=advisory"}, nil, false, `policy-overrides line 1: not RULE_ID=advisory|disabled`},
		{"deploy branch pattern", map[string]string{"environment": "dev", "deploy-branches": "release/["}, nil, false, `deploy-branches: "release/[" is not a branch pattern`},
		{"commit order", map[string]string{"environment": "dev", "commit-order": "never"}, nil, false, `commit-order: "never" must be strict or warn`},
		{"output", map[string]string{"environment": "dev", "output": "yaml"}, nil, false, `output: "yaml" must be text or json`},
		{"lock timeout", map[string]string{"environment": "dev", "lock-timeout": "2h"}, nil, false, `lock-timeout: "2h" must be a duration from 0s to 30m`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(tt.in, tt.env, tt.actions)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestParse_ReportsAllProblemsTogether(t *testing.T) {
	_, err := parse(map[string]string{"command": "nope", "aws-region": "mars-1", "config": "x"}, nil, false)
	var problems problems.List
	require.ErrorAs(t, err, &problems)
	assert.Len(t, problems, 4)
	assert.True(t, strings.HasPrefix(err.Error(), "4 problems:"), err.Error())
}

func TestParse_BackendURL(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		env     map[string]string
		actions bool
		want    string
	}{
		{"explicit s3", "s3://state-bucket/tap?region=eu-west-1", nil, true, "s3://state-bucket/tap?region=eu-west-1"},
		{"from PULUMI_BACKEND_URL", "", map[string]string{"PULUMI_BACKEND_URL": "file:///tmp/state"}, true, "file:///tmp/state"},
		{"pulumi cloud token", "", map[string]string{"PULUMI_ACCESS_TOKEN": "pul-x"}, true, "https://api.pulumi.com"},
		{"local default", "", nil, false, "file:///work/repo/.tap/state"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parse(map[string]string{"environment": "dev", "backend-url": tt.input}, tt.env, tt.actions)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got.BackendURL)
		})
	}
}

func TestParse_ConfigAndPolicyOverrides(t *testing.T) {
	got, err := parse(map[string]string{
		"environment":      "prod",
		"config":           "# comment\nlogRetentionDays = 30\n\nalarmEmail=ops@example.com\n",
		"policy-overrides": "CKV_AWS_59=disabled\nCKV_AWS_115=advisory",
		"command":          "ROLLBACK",
		"rollback-to":      "Previous",
	}, nil, false)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"logRetentionDays": "30", "alarmEmail": "ops@example.com"}, got.Config)
	assert.Equal(t, map[string]inputs.PolicyAction{"CKV_AWS_59": inputs.PolicyDisabled, "CKV_AWS_115": inputs.PolicyAdvisory}, got.PolicyOverrides)
	assert.Equal(t, inputs.Rollback, got.Command)
	assert.Equal(t, "previous", got.RollbackTo)
}

// Issue 31, item 7: a branch's preview or review stack given the deploy's
// Pulumi Cloud token can write every stack. Where both are in one job the
// two are told apart; the value is never echoed.
func TestParse_TheReviewBackendTokenIsRefusedWhenItIsTheDeployToken(t *testing.T) {
	_, err := parse(map[string]string{"environment": "dev", "review-backend-token": "pul-deploy-token"}, map[string]string{"PULUMI_ACCESS_TOKEN": "pul-deploy-token"}, true)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "review-backend-token: is PULUMI_ACCESS_TOKEN, the deploy's token")
	assert.NotContains(t, err.Error(), "pul-deploy-token")

	in, err := parse(map[string]string{"environment": "dev", "review-backend-token": "pul-review-token"}, map[string]string{"PULUMI_ACCESS_TOKEN": "pul-deploy-token"}, true)
	require.NoError(t, err)
	assert.Equal(t, "pul-review-token", in.ReviewBackendToken)
}

func TestParse_ARegionOfAWSFormIsTakenAndAnUnknownOneWarns(t *testing.T) {
	for _, tt := range []struct {
		region, partition string
		warns             bool
	}{
		{"eu-west-1", "aws", false},
		{"ap-southeast-6", "aws", false},
		{"cn-north-1", "aws-cn", false},
		{"cn-northwest-1", "aws-cn", false},
		{"us-gov-west-1", "aws-us-gov", false},
		{"us-iso-east-1", "aws-iso", true},
		{"us-isob-east-1", "aws-iso-b", true},
		{"eu-west-9", "aws", true},
		{"ap-southeast-8", "aws", true},
	} {
		t.Run(tt.region, func(t *testing.T) {
			got, err := parse(map[string]string{"environment": "dev", "aws-region": tt.region}, nil, false)
			require.NoError(t, err, "a name of AWS's form is never refused")
			assert.Equal(t, tt.region, got.AWSRegion)
			assert.Equal(t, tt.partition, inputs.Partition(tt.region))
			if !tt.warns {
				assert.Empty(t, got.Warnings)
				return
			}
			require.Len(t, got.Warnings, 1)
			assert.Equal(t, fmt.Sprintf(`--aws-region: %q is not a region this release of tap-deploy knows; it is used as given (partition %s): if it is a typo, the first call to AWS fails`, tt.region, tt.partition), got.Warnings[0])
		})
	}
}

func TestParse_ARegionNotOfAWSFormIsRefused(t *testing.T) {
	for _, region := range []string{"eu-west", "eu-west-1a", "EU-WEST-1", "mars-1", "eu_west_1", "europe-west-1"} {
		_, err := parse(map[string]string{"environment": "dev", "aws-region": region}, nil, false)
		require.Error(t, err, region)
		assert.Contains(t, err.Error(), fmt.Sprintf("--aws-region: %q is not an AWS region name (like eu-west-1)", region))
	}
}

// A promotion whose source lives in another account names that account's
// backend and the source's read-only role: both or neither, only with
// promote-from, each problem once, naming its input and the fix.
func TestParse_APromotionAcrossAccounts(t *testing.T) {
	const (
		backend = "s3://tap-pulumi-state-111111111111-eu-west-1/tap?region=eu-west-1"
		role    = "arn:aws:iam::111111111111:role/tap-staging-drift-eu-west-1"
	)
	prod := func(extra map[string]string) map[string]string {
		in := map[string]string{"environment": "prod", "promote-from": "staging", "backend-url": "s3://tap-pulumi-state-222222222222-eu-west-1/tap?region=eu-west-1"}
		for k, v := range extra {
			in[k] = v
		}
		return in
	}
	tests := []struct {
		name    string
		in      map[string]string
		actions bool
		want    []string // nil: valid
	}{
		{"both", prod(map[string]string{"promote-from-backend-url": backend, "promote-from-role-arn": role}), true, nil},
		{"neither", prod(nil), true, nil},
		{"a role with a path", prod(map[string]string{"promote-from-backend-url": backend, "promote-from-role-arn": "arn:aws:iam::111111111111:role/tap/tap-staging-drift-eu-west-1"}), true, nil},
		{"GovCloud", prod(map[string]string{"aws-region": "us-gov-west-1", "promote-from-backend-url": backend, "promote-from-role-arn": "arn:aws-us-gov:iam::111111111111:role/tap-staging-drift-us-gov-west-1"}), true, nil},
		{"a file backend on a laptop", prod(map[string]string{"promote-from-backend-url": "file:///tmp/staging-account", "promote-from-role-arn": role}), false, nil},
		{"the backend alone", prod(map[string]string{"promote-from-backend-url": backend}), true,
			[]string{"promote-from-role-arn: required with promote-from-backend-url: the source environment's drift role"}},
		{"the role alone", prod(map[string]string{"promote-from-role-arn": role}), true,
			[]string{"promote-from-backend-url: required with promote-from-role-arn: the source account's state backend"}},
		{"without promote-from", map[string]string{"environment": "prod", "promote-from-backend-url": backend, "promote-from-role-arn": role}, true,
			[]string{"promote-from-backend-url: applies to a promotion whose source is in another account; set promote-from to the source stack, or remove promote-from-backend-url",
				"promote-from-role-arn: applies to a promotion whose source is in another account; set promote-from to the source stack, or remove promote-from-role-arn"}},
		{"not a role", prod(map[string]string{"promote-from-backend-url": backend, "promote-from-role-arn": "arn:aws:iam::111111111111:user/alice"}), true,
			[]string{`promote-from-role-arn: "arn:aws:iam::111111111111:user/alice" is not an IAM role's ARN (arn:aws:iam::<account-id>:role/<name>`}},
		{"an account id too short", prod(map[string]string{"promote-from-backend-url": backend, "promote-from-role-arn": "arn:aws:iam::1111:role/x"}), true,
			[]string{`promote-from-role-arn: "arn:aws:iam::1111:role/x" is not an IAM role's ARN`}},
		{"another partition", prod(map[string]string{"promote-from-backend-url": backend, "promote-from-role-arn": "arn:aws-cn:iam::111111111111:role/x"}), true,
			[]string{"promote-from-role-arn: the role is in partition aws-cn, but aws-region eu-west-1 is in aws; a role is assumed within its partition"}},
		{"a bad backend", prod(map[string]string{"promote-from-backend-url": "gs://bucket", "promote-from-role-arn": role}), true,
			[]string{`promote-from-backend-url: scheme "gs" is not supported`}},
		{"Pulumi Cloud", prod(map[string]string{"promote-from-backend-url": "https://api.pulumi.com", "promote-from-role-arn": role}), true,
			[]string{"promote-from-backend-url: Pulumi Cloud keeps the stacks of every account in one backend: leave promote-from-backend-url and promote-from-role-arn unset"}},
		{"a file backend in Actions", prod(map[string]string{"promote-from-backend-url": "file:///tmp/x", "promote-from-role-arn": role}), true,
			[]string{"promote-from-backend-url: a file:// backend is the runner's own disk, in no account; use the source account's s3:// backend"}},
		{"this run's backend", prod(map[string]string{"promote-from-backend-url": "s3://tap-pulumi-state-222222222222-eu-west-1/tap?region=eu-west-1", "promote-from-role-arn": role}), true,
			[]string{"promote-from-backend-url: is this run's own backend-url; it is for a source in another account"}},
		{"flags on a laptop", prod(map[string]string{"promote-from-role-arn": "x"}), false,
			[]string{"--promote-from-backend-url: required with --promote-from-role-arn", `--promote-from-role-arn: "x" is not an IAM role's ARN`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parse(tt.in, nil, tt.actions)
			if tt.want == nil {
				require.NoError(t, err)
				assert.Equal(t, tt.in["promote-from-backend-url"], got.PromoteFromBackendURL)
				assert.Equal(t, tt.in["promote-from-role-arn"], got.PromoteFromRoleARN)
				return
			}
			var found problems.List
			require.ErrorAs(t, err, &found)
			require.Len(t, found, len(tt.want), "%q", found)
			for i := range tt.want {
				assert.Contains(t, found[i], tt.want[i])
			}
		})
	}
}
