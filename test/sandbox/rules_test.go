package sandbox

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/stack"
)

func newState(resources ...Resource) *State {
	st := &State{Resources: map[string]Resource{}, Calls: map[string]int{}, Account: Account{APIGatewayCloudWatchRole: map[string]string{}}}
	for _, r := range resources {
		if r.Region == "" {
			r.Region = "eu-west-1"
		}
		st.Resources[keyIn(r.Region, r.Type, r.ID, r.Inputs)] = r
	}
	return st
}

func TestAlreadyExists_AWSNamespaces(t *testing.T) {
	st := newState(
		Resource{ID: "tap-dev-files", Type: tBucket, Region: "eu-west-1"},
		Resource{ID: "tap-dev-api-handler", Type: tRole, Region: "eu-west-1"},
		Resource{ID: "tap-dev-items", Type: tTable, Region: "eu-west-1"},
	)
	st.Taken = map[string][]string{tBucket: {"someone-elses"}}
	for _, tt := range []struct {
		typ, region, id, err string
	}{
		{tBucket, "us-east-1", "tap-dev-files", "BucketAlreadyOwnedByYou: Your previous request to create the named bucket succeeded and you already own it."},
		{tBucket, "eu-west-1", "someone-elses", "BucketAlreadyExists: The requested bucket name is not available. The bucket namespace is shared by all users of the system."},
		{tRole, "us-east-1", "tap-dev-api-handler", "EntityAlreadyExists: Role with name tap-dev-api-handler already exists."},
		{tTable, "eu-west-1", "tap-dev-items", "ResourceInUseException: Table already exists: tap-dev-items"},
		{tTable, "us-east-1", "tap-dev-items", ""},
		{tBucket, "eu-west-1", "free", ""},
	} {
		err := alreadyExists(st, tt.typ, tt.region, tt.id, nil)
		if tt.err == "" {
			assert.NoError(t, err, "%s %s in %s", tt.typ, tt.id, tt.region)
		} else {
			assert.ErrorContains(t, err, tt.err)
		}
	}
}

func TestCheckConcurrency_KeepsTheUnreservedMinimum(t *testing.T) {
	fn := func(id string, reserved float64) Resource {
		return Resource{ID: id, Type: tFunction, Inputs: map[string]any{"reservedConcurrentExecutions": reserved}}
	}
	for _, tt := range []struct {
		name   string
		limit  int
		others []Resource
		want   float64
		err    string
	}{
		{"default account, room left", 0, []Resource{fn("a", 400)}, 500, ""},
		{"default account, 100 must stay", 0, []Resource{fn("a", 400)}, 501, "below its minimum value of [100]"},
		{"a new account cannot reserve any", 10, nil, 1, "below its minimum value of [10]"},
		{"no reservation fits any account", 10, nil, 0, ""},
		{"its own old value does not count", 200, []Resource{fn("me", 100)}, 100, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := newState(tt.others...)
			st.Account.LambdaConcurrency = tt.limit
			err := checkConcurrency(st, "eu-west-1", "me", map[string]any{"reservedConcurrentExecutions": tt.want})
			if tt.err == "" {
				assert.NoError(t, err)
			} else {
				assert.ErrorContains(t, err, "InvalidParameterValueException: Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution "+tt.err)
			}
		})
	}
}

func TestCheckAPIGatewayRole_TheRoleMustWriteTheWelcomeLogGroup(t *testing.T) {
	const arn = "arn:aws:iam::123456789012:role/logs"
	trust := `{"Statement":[{"Effect":"Allow","Principal":{"Service":"apigateway.amazonaws.com"},"Action":["sts:AssumeRole"]}]}`
	role := Resource{ID: "logs", Type: tRole, Inputs: map[string]any{"assumeRolePolicy": trust}, Outputs: map[string]any{"arn": arn}}
	executionLogsOnly := Resource{ID: "logs:p", Type: tRolePolicy, Inputs: map[string]any{"role": "logs",
		"policy": `{"Statement":[{"Effect":"Allow","Action":["logs:CreateLogGroup","logs:CreateLogStream","logs:PutLogEvents"],"Resource":["arn:aws:logs:eu-west-1:123456789012:log-group:API-Gateway-Execution-Logs_*"]}]}`}}
	managed := Resource{ID: "logs-att", Type: tAttachment, Inputs: map[string]any{"role": "logs", "policyArn": "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"}}
	untrusted := role
	untrusted.Inputs = map[string]any{"assumeRolePolicy": strings.ReplaceAll(trust, "apigateway", "lambda")}

	in := map[string]any{"cloudwatchRoleArn": arn}
	const refused = "BadRequestException: The role ARN does not have required permissions configured. Please grant trust permission for API Gateway and add the required role policy."
	assert.ErrorContains(t, checkAPIGatewayRole(newState(role, executionLogsOnly), "eu-west-1", in), refused, "execution log groups only")
	assert.ErrorContains(t, checkAPIGatewayRole(newState(role), "eu-west-1", in), refused, "no policy yet")
	assert.ErrorContains(t, checkAPIGatewayRole(newState(untrusted, managed), "eu-west-1", in), refused, "API Gateway may not assume it")
	assert.NoError(t, checkAPIGatewayRole(newState(role, managed), "eu-west-1", in), "AWS's managed policy")
}

func TestStageLogging_NeedsTheRegionsRole(t *testing.T) {
	st := newState()
	logs := map[string]any{"accessLogSettings": map[string]any{"destinationArn": "arn:aws:logs:eu-west-1:1:log-group:x"}}
	settings := map[string]any{"settings": map[string]any{"loggingLevel": "ERROR"}}
	const refused = "BadRequestException: CloudWatch Logs role ARN must be set in account settings to enable logging"
	assert.ErrorContains(t, checkSave(st, "eu-west-1", tStage, "s", logs, nil), refused)
	assert.ErrorContains(t, checkSave(st, "eu-west-1", tMethodSettings, "m", settings, nil), refused)
	assert.NoError(t, checkSave(st, "eu-west-1", tStage, "s", map[string]any{}, nil), "a stage without logging")

	afterSave(st, "eu-west-1", tAPIAccount, map[string]any{"cloudwatchRoleArn": "arn:aws:iam::1:role/r"})
	assert.NoError(t, checkSave(st, "eu-west-1", tStage, "s", logs, nil))
	assert.NoError(t, checkSave(st, "eu-west-1", tMethodSettings, "m", settings, nil))
	assert.ErrorContains(t, checkSave(st, "us-east-1", tStage, "s", logs, nil), refused, "the setting is per region")
}

func TestNotification_NeedsAPermissionForTheBucket(t *testing.T) {
	const fn = "arn:aws:lambda:eu-west-1:123456789012:function:proc"
	in := map[string]any{"bucket": "files", "lambdaFunctions": []any{map[string]any{"lambdaFunctionArn": fn}}}
	perm := func(function, sourceArn, qualifier string) Resource {
		return Resource{ID: "p-" + function + sourceArn + qualifier, Type: tPermission,
			Inputs: map[string]any{"function": function, "principal": "s3.amazonaws.com", "sourceArn": sourceArn, "qualifier": qualifier}}
	}
	const refused = "InvalidArgument: Unable to validate the following destination configurations"
	assert.ErrorContains(t, checkSave(newState(), "eu-west-1", tNotification, "files", in, nil), refused)
	assert.ErrorContains(t, checkSave(newState(perm("proc", "arn:aws:s3:::other", "")), "eu-west-1", tNotification, "files", in, nil), refused, "another bucket's permission")
	assert.NoError(t, checkSave(newState(perm("proc", "arn:aws:s3:::files", "")), "eu-west-1", tNotification, "files", in, nil))
	assert.NoError(t, checkSave(newState(perm(fn, "arn:aws:s3:::files", "")), "eu-west-1", tNotification, "files", in, nil))

	live := map[string]any{"bucket": "files", "lambdaFunctions": []any{map[string]any{"lambdaFunctionArn": fn + ":live"}}}
	assert.ErrorContains(t, checkSave(newState(perm("proc", "arn:aws:s3:::files", "")), "eu-west-1", tNotification, "files", live, nil), refused,
		"a permission for the function does not cover its alias")
	assert.NoError(t, checkSave(newState(perm("proc", "arn:aws:s3:::files", "live")), "eu-west-1", tNotification, "files", live, nil))
}

func TestUploaded_VersionsAndMultipartChecksums(t *testing.T) {
	dir := t.TempDir()
	small, big := filepath.Join(dir, "small.zip"), filepath.Join(dir, "big.zip")
	require.NoError(t, os.WriteFile(small, make([]byte, 1024), 0o644))
	require.NoError(t, os.WriteFile(big, make([]byte, MultipartThreshold+1), 0o644))
	const whole = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
	object := func(p string) (map[string]any, map[string]any) {
		return map[string]any{"bucket": "artifacts", "source": map[string]any{"path": p}}, map[string]any{"versionId": "v1", "checksumSha256": whole}
	}

	in, out := object(small)
	uploaded(newState(), in, out)
	assert.Equal(t, "", out["versionId"], "no version id before the bucket's versioning is on")
	assert.Equal(t, whole, out["checksumSha256"])

	versioned := newState(Resource{ID: "artifacts", Type: tVersioning, Inputs: map[string]any{"bucket": "artifacts",
		"versioningConfiguration": map[string]any{"status": "Enabled"}}})
	in, out = object(big)
	uploaded(versioned, in, out)
	assert.Equal(t, "v1", out["versionId"])
	assert.Regexp(t, `^[A-Za-z0-9+/]+=*-2$`, out["checksumSha256"], "a checksum of the parts' checksums, and the part count")
	assert.NotContains(t, out["checksumSha256"], whole)
}

func TestCheckDeploymentGroup_AsCodeDeploySavesIt(t *testing.T) {
	const arn = "arn:aws:iam::123456789012:role/cd"
	trust := `{"Statement":[{"Effect":"Allow","Principal":{"Service":"codedeploy.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	role := Resource{ID: "cd", Type: tRole, Inputs: map[string]any{"assumeRolePolicy": trust}, Outputs: map[string]any{"arn": arn}}
	lambdaRole := Resource{ID: "cd", Type: tRole, Inputs: map[string]any{"assumeRolePolicy": strings.ReplaceAll(trust, "codedeploy", "lambda")}, Outputs: map[string]any{"arn": arn}}
	app := Resource{ID: "u:tap-dev-traffic", Type: tCodeDeployApp, Inputs: map[string]any{"name": "tap-dev-traffic"}}
	group := func(alarms int) map[string]any {
		list := []any{}
		for i := 0; i < alarms; i++ {
			list = append(list, "alarm")
		}
		return map[string]any{"appName": "tap-dev-traffic", "deploymentGroupName": "api", "serviceRoleArn": arn,
			"alarmConfiguration": map[string]any{"enabled": true, "alarms": list}}
	}
	assert.ErrorContains(t, checkDeploymentGroup(newState(role), "eu-west-1", "", group(1)), "ApplicationDoesNotExistException: No application found for name: tap-dev-traffic")
	assert.ErrorContains(t, checkDeploymentGroup(newState(role, app), "us-east-1", "", group(1)), "ApplicationDoesNotExistException", "applications are regional")
	assert.ErrorContains(t, checkDeploymentGroup(newState(lambdaRole, app), "eu-west-1", "", group(1)), "InvalidRoleException: Cannot assume role provided.")
	assert.ErrorContains(t, checkDeploymentGroup(newState(app), "eu-west-1", "", group(1)), "InvalidRoleException", "no role yet")
	assert.ErrorContains(t, checkDeploymentGroup(newState(role, app), "eu-west-1", "", group(11)), "AlarmsLimitExceededException")
	assert.NoError(t, checkDeploymentGroup(newState(role, app), "eu-west-1", "", group(10)))

	existing := Resource{ID: "g1", Type: tCodeDeployDG, Inputs: group(1)}
	assert.ErrorContains(t, checkDeploymentGroup(newState(role, app, existing), "eu-west-1", "", group(1)), "DeploymentGroupAlreadyExistsException")
	assert.NoError(t, checkDeploymentGroup(newState(role, app, existing), "eu-west-1", "g1", group(2)), "an update of the group itself")

	assert.ErrorContains(t, checkApplicationName(newState(app), "eu-west-1", "", map[string]any{"name": "tap-dev-traffic"}), "ApplicationAlreadyExistsException: tap-dev-traffic already exists in your account")
	assert.NoError(t, checkApplicationName(newState(app), "us-east-1", "", map[string]any{"name": "tap-dev-traffic"}))
}

// A role's boundary and a key policy's principals must exist: IAM and KMS
// refuse the save otherwise. What bootstrap creates is in the account.
func TestBoundariesAndKeyPrincipals_MustExist(t *testing.T) {
	st := newState(Resource{ID: "tap-dev-api-handler-eu-west-1", Type: tRole,
		Outputs: map[string]any{"arn": "arn:aws:iam::123456789012:role/tap-dev-api-handler-eu-west-1"}})
	st.Account.Policies = BootstrapPolicies("eu-west-1")
	st.Account.Roles = BootstrapRoles("eu-west-1")
	base := stack.Base{Project: "tap", Environment: "dev", Region: "eu-west-1"}
	const trust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	policy := func(principal string) map[string]any {
		return map[string]any{"policy": `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"` + principal + `"},"Action":"kms:*","Resource":"*"}]}`}
	}
	for _, tt := range []struct {
		name string
		typ  string
		in   map[string]any
		err  string
	}{
		{"the environment's boundary", tRole, map[string]any{"name": "r", "assumeRolePolicy": trust, "permissionsBoundary": "arn:aws:iam::123456789012:policy/" + stack.BoundaryName(base)}, ""},
		{"the review boundary", tRole, map[string]any{"name": "r", "assumeRolePolicy": trust, "permissionsBoundary": "arn:aws:iam::123456789012:policy/" + stack.ReviewBoundaryName(base)}, ""},
		{"an AWS managed policy", tRole, map[string]any{"name": "r", "assumeRolePolicy": trust, "permissionsBoundary": "arn:aws:iam::aws:policy/PowerUserAccess"}, ""},
		{"no boundary", tRole, map[string]any{"name": "r", "assumeRolePolicy": trust}, ""},
		{"a boundary of another region", tRole, map[string]any{"name": "r", "assumeRolePolicy": trust, "permissionsBoundary": "arn:aws:iam::123456789012:policy/tap-dev-boundary-us-east-1"},
			"creating IAM Role (r): NoSuchEntity: Scope ARN: arn:aws:iam::123456789012:policy/tap-dev-boundary-us-east-1 does not exist or is not attachable."},
		{"the account's root", tKey, policy("arn:aws:iam::123456789012:root"), ""},
		{"the deploy role", tKey, policy("arn:aws:iam::123456789012:role/" + stack.DeployRoleName(base)), ""},
		{"the review role", tKey, policy("arn:aws:iam::123456789012:role/" + stack.ReviewRoleName("tap", "eu-west-1")), ""},
		{"a role of a stack", tKey, policy("arn:aws:iam::123456789012:role/tap-dev-api-handler-eu-west-1"), ""},
		{"a role nobody made", tKey, policy("arn:aws:iam::123456789012:role/tap-dev-github-deploy-us-east-1"),
			"MalformedPolicyDocumentException: Policy contains a statement with one or more invalid principals."},
	} {
		if tt.typ == tRole {
			// A role needs a trust policy IAM accepts (checked on its own).
			tt.in["assumeRolePolicy"] = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
		}
		err := checkSave(st, "eu-west-1", tt.typ, "id", tt.in, map[string]any{})
		if tt.err == "" {
			assert.NoError(t, err, tt.name)
		} else {
			assert.ErrorContains(t, err, tt.err, tt.name)
		}
	}
}
