package e2e_test

// A real AWS account's rules, end to end: the sandbox refuses what AWS
// refuses (test/sandbox/rules.go), and the stack's first deploy works in
// the accounts adopters actually have.

import (
	"crypto/sha256"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/artifacts/build"
	"github.com/org/tap-deploy/stack"
	"github.com/org/tap-deploy/test/sandbox"
)

func (e *env) account(change func(st *sandbox.State)) {
	e.t.Helper()
	require.NoError(e.t, sandbox.Store{Path: e.cloud}.Update(func(st *sandbox.State) error { change(st); return nil }))
}

func TestAWS_OneEnvironmentDeploysToTwoRegionsOfOneAccount(t *testing.T) {
	e := newEnv(t)
	eu := e.run("push", fixture(t, "push.with-new-branch.json"), nil)
	require.Equal(t, 0, eu.Exit, eu.String())
	us := e.run("push", fixture(t, "push.with-new-branch.json"), map[string]string{"stack-name": "dev-us", "aws-region": "us-east-1"})
	require.Equal(t, 0, us.Exit, us.String())

	roles := map[string]string{}
	for _, r := range e.cloudState().ByType("aws:iam/role:Role") {
		roles[r.ID] = r.Region
	}
	assert.Contains(t, roles, "tap-dev-api-handler-eu-west-1")
	assert.Contains(t, roles, "tap-dev-api-handler-us-east-1", "IAM is global: the second region's roles have their own names")
	tables := map[string]bool{}
	for _, r := range e.cloudState().ByType("aws:dynamodb/table:Table") {
		tables[r.ID+" "+r.Region] = true
	}
	assert.Equal(t, map[string]bool{"tap-dev-items eu-west-1": true, "tap-dev-items us-east-1": true}, tables, "regional names repeat, as in AWS")
}

func TestAWS_AFirstDeploySucceedsWhileOtherAccountsOwnTheOldNames(t *testing.T) {
	e := newEnv(t)
	// Every bucket name of the old scheme (<project>-<env>-<component>-<region>)
	// belongs to the first adopter who deployed it, in another account.
	e.account(func(st *sandbox.State) {
		st.Taken = map[string][]string{"aws:s3/bucketV2:BucketV2": {"tap-dev-files-eu-west-1", "tap-dev-artifacts-eu-west-1"}}
	})
	res := e.run("push", fixture(t, "push.with-new-branch.json"), nil)
	require.Equal(t, 0, res.Exit, res.String())
	for _, b := range e.cloudState().ByType("aws:s3/bucketV2:BucketV2") {
		assert.True(t, strings.HasSuffix(b.ID, "-123456789012-eu-west-1"), b.ID)
	}
}

func TestAWS_ABucketNameAnotherAccountOwnsFailsAsInAWS(t *testing.T) {
	e := newEnv(t)
	e.account(func(st *sandbox.State) {
		st.Taken = map[string][]string{"aws:s3/bucketV2:BucketV2": {"tap-dev-files-123456789012-eu-west-1"}}
	})
	res := e.run("push", fixture(t, "push.with-new-branch.json"), nil)
	assert.Equal(t, 1, res.Exit, res.String())
	assert.Contains(t, res.Stdout, "BucketAlreadyExists: The requested bucket name is not available")
}

func TestAWS_DefaultsAndAReviewStackDeployOnAnAccountWithAConcurrencyLimitOf10(t *testing.T) {
	e := newEnv(t)
	e.account(func(st *sandbox.State) { st.Account.LambdaConcurrency = 10 })
	res := e.run("push", fixture(t, "push.with-new-branch.json"), nil)
	require.Equal(t, 0, res.Exit, res.String())
	review := e.run("pull_request", fixture(t, "pull_request.opened.json"), map[string]string{"review-stack": "on"})
	require.Equal(t, 0, review.Exit, review.String())
	assert.NotEmpty(t, review.Outputs["review-stack-url"])
	assert.Zero(t, e.AWS.Calls("lambda:GetAccountSettings"), "without reservations the account is not asked")
}

func TestAWS_AReservationThatCannotFitFailsBeforeAnyChangeNamingTheLimit(t *testing.T) {
	e := newEnv(t)
	e.account(func(st *sandbox.State) { st.Account.LambdaConcurrency = 10 })
	res := e.run("push", fixture(t, "push.with-new-branch.json"), map[string]string{"config": "reservedConcurrency=1"})
	assert.Equal(t, 1, res.Exit, res.String())
	assert.Contains(t, res.Stdout, "The reserved concurrency does not fit the AWS account; nothing was changed")
	assert.Contains(t, res.Stdout, "its Lambda concurrency limit is 10")
	assert.Zero(t, e.cloudState().Calls["create"], "nothing was half-applied")
	assert.Equal(t, 1, e.AWS.Calls("lambda:GetAccountSettings"))

	// Without the check, the sandbox refuses it halfway, as Lambda does.
	local := e.local("up", map[string]string{"config": "reservedConcurrency=1"}, map[string]string{"AWS_ENDPOINT_URL_LAMBDA": "http://127.0.0.1:1"})
	assert.Equal(t, 1, local.Exit)
	assert.Contains(t, local.Stderr, "Could not check the reserved concurrency against the AWS account")
}

func TestAWS_StageLoggingNeedsTheRegionsRoleAndOneStackMayOwnIt(t *testing.T) {
	e := newEnv(t)
	e.account(func(st *sandbox.State) { st.Account.APIGatewayCloudWatchRole = nil }) // a fresh account
	res := e.run("push", fixture(t, "push.with-new-branch.json"), nil)
	assert.Equal(t, 1, res.Exit, res.String())
	assert.Contains(t, res.Stdout, "CloudWatch Logs role ARN must be set in account settings to enable logging")

	owner := e.run("push", fixture(t, "push.with-new-branch.json"), map[string]string{"config": "manageApiGatewayAccount=true"})
	require.Equal(t, 0, owner.Exit, owner.String())
	assert.Equal(t, "arn:aws:iam::123456789012:role/tap-dev-apigw-logs-eu-west-1", e.cloudState().Account.APIGatewayCloudWatchRole["eu-west-1"],
		"the owner's role passed API Gateway's test write to /aws/apigateway/welcome")
}

func TestAWS_CodeObjectsPinAVersionEvenWhenVersioningIsSlow(t *testing.T) {
	e := newEnv(t)
	e.Vars[sandbox.EnvDelay] = "1500ms"
	e.Vars[sandbox.EnvDelayOnly] = "BucketVersioningV2::artifacts"
	res := e.run("push", fixture(t, "push.with-new-branch.json"), nil)
	require.Equal(t, 0, res.Exit, res.String())
	for _, spec := range stack.Functions {
		fn := functionState(t, e, spec.Component)
		assert.NotEmpty(t, fn.Inputs["s3ObjectVersion"], "%s pins the version of its package", spec.Component)
	}
}

// bigCode is a package per function above S3's multipart threshold.
func bigCode(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range stack.Functions {
		// Incompressible: the zip stays above 5 MiB.
		body := make([]byte, 0, sandbox.MultipartThreshold+1<<20)
		block := sha256.Sum256([]byte(f.Component))
		for len(body) < cap(body) {
			block = sha256.Sum256(block[:])
			body = append(body, block[:]...)
		}
		data, err := build.Pack(append([]byte("\x7fELF"), body...))
		require.NoError(t, err)
		require.Greater(t, len(data), sandbox.MultipartThreshold)
		require.NoError(t, os.WriteFile(filepath.Join(dir, f.Component+".zip"), data, 0o644))
	}
	return dir
}

func TestAWS_RollbackProvesAPackageUploadedInParts(t *testing.T) {
	e := newEnv(t)
	big := e.local("up", nil, map[string]string{"TAP_LAMBDA_ZIPS_DIR": bigCode(t)})
	require.Equal(t, 0, big.Exit, big.String())
	for _, o := range e.cloudState().ByType("aws:s3/bucketObjectv2:BucketObjectv2") {
		assert.Regexp(t, `-2$`, o.Outputs["checksumSha256"], "S3's checksum of an upload in parts is not the package's digest")
	}
	v1 := functionState(t, e, "api-handler")
	other := e.local("up", nil, map[string]string{"TAP_LAMBDA_ZIPS_DIR": otherCode(t)})
	require.Equal(t, 0, other.Exit, other.String())

	rb := e.run("workflow_dispatch", fixture(t, "workflow_dispatch.json"), map[string]string{"command": "rollback", "rollback-to": "1"})
	require.Equal(t, 0, rb.Exit, rb.String())
	assert.Equal(t, v1.Inputs["s3Key"], functionState(t, e, "api-handler").Inputs["s3Key"], "the package is proven by the digest in its metadata")
}
