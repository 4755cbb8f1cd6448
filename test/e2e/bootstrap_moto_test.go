package e2e_test

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/test/moto"
	"github.com/org/tap-deploy/test/requires"
)

// The templates bootstrap writes, deployed with the commands it prints
// (the AWS CLI's `aws cloudformation deploy`) against moto, an AWS
// emulator that is not ours; then every role it made assumed through
// moto's STS with a web identity, as GitHub's jobs assume them.
//
// What this proves: CloudFormation (as moto models it) takes every
// template as written, with the documented command and nothing else (no
// bucket, no parameter but the OIDC provider's); every resource is
// created; the roles exist with the session length the examples ask for,
// hold the managed policies they name across templates, and can be
// assumed with a web identity. What it does not: moto enforces no IAM
// policy and checks no OIDC token (its signature, audience or subject), so
// who may assume a role and what a role may do are checked by iamtest and
// iam-simulate (internal/bootstrap), not here.
func TestBootstrap_TheTemplatesDeployToMotoAndItsRolesCanBeAssumed(t *testing.T) {
	needBinary(t)
	cli := requires.AWSCLI(t)
	endpoint := moto.Start(t)
	const region = "eu-west-1"
	dir := t.TempDir()

	cmd := exec.Command(binary, "bootstrap", "--environment", "dev,prod", "--aws-region", region,
		"--repository", "Codertocat/Hello-World", "--out-dir", dir, "--merge-queue")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	out, err := cmd.Output()
	require.NoError(t, err)

	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	for k, v := range moto.Env(endpoint, region) {
		if v != "" { // the CLI takes an empty AWS_PROFILE for a profile named ""
			env = append(env, k+"="+v)
		}
	}
	aws := func(args ...string) []byte {
		t.Helper()
		c := exec.Command(cli, append([]string{"--endpoint-url", endpoint, "--output", "json"}, args...)...)
		c.Env = env
		b, err := c.CombinedOutput()
		require.NoError(t, err, "aws %s: %s", strings.Join(args, " "), b)
		return b
	}
	var stacks []string
	for _, line := range strings.Split(string(out), "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "aws cloudformation deploy ") {
			continue
		}
		// The printed command, word for word, pointed at moto.
		args := strings.Fields(strings.TrimPrefix(line, "aws "))
		aws(args...)
		for i, a := range args {
			if a == "--stack-name" {
				stacks = append(stacks, args[i+1])
			}
		}
	}
	require.Equal(t, []string{"tap-bootstrap", "tap-bootstrap-dev", "tap-bootstrap-prod"}, stacks, "bootstrap printed one deploy per template, the account's first")

	// moto creates these types without modelling them (it lists them with
	// no physical id): the bucket policy and the OIDC provider.
	unmodelled := map[string]string{"StateBucketPolicy": "AWS::S3::BucketPolicy", "GitHubOidcProvider": "AWS::IAM::OIDCProvider"}
	roles := map[string]string{}
	created, blank := 0, 0
	for _, stack := range stacks {
		var res struct {
			StackResources []struct{ LogicalResourceId, ResourceType, ResourceStatus, PhysicalResourceId string }
		}
		require.NoError(t, json.Unmarshal(aws("cloudformation", "describe-stack-resources", "--stack-name", stack), &res))
		for _, r := range res.StackResources {
			assert.Equal(t, "CREATE_COMPLETE", r.ResourceStatus, "%s %s", stack, r.LogicalResourceId)
			created++
			// moto reports no outputs for a stack made through a change set
			// (what aws cloudformation deploy does), so the roles are found
			// by their physical ids, which the outputs would name.
			if r.ResourceType == "AWS::IAM::Role" {
				roles[stack+" "+r.LogicalResourceId] = "arn:aws:iam::" + moto.Account + ":role/" + r.PhysicalResourceId
			}
			if r.LogicalResourceId == "" {
				blank++ // one of unmodelled: moto lists it with no id or type
			} else {
				assert.NotEmpty(t, r.PhysicalResourceId, "%s %s", stack, r.LogicalResourceId)
			}
		}
	}
	t.Logf("moto created %d resources in %d stacks (%v are created without being modelled)", created, len(stacks), unmodelled)
	assert.Equal(t, len(unmodelled), blank, "the resources moto lists without modelling them")
	require.Len(t, roles, 6, "the preview and review roles, and each environment's deploy and drift roles: %v", roles)

	// The state bucket exists under the name the backend URL names
	// (moto's CloudFormation leaves its versioning and encryption
	// settings unapplied; the template test checks them).
	bucket := "tap-pulumi-state-" + moto.Account + "-" + region
	aws("s3api", "head-bucket", "--bucket", bucket)

	token := webIdentityToken()
	for name, arn := range roles {
		roleName := arn[strings.LastIndex(arn, "/")+1:]
		var role struct {
			Role struct{ MaxSessionDuration int }
		}
		require.NoError(t, json.Unmarshal(aws("iam", "get-role", "--role-name", roleName), &role))
		want := 7200
		if strings.Contains(name, "DeployRole") || strings.Contains(name, "ReviewRole") {
			want = 10800 // as long as the longest job of the examples
		}
		assert.Equal(t, want, role.Role.MaxSessionDuration, name)
		var attached struct{ AttachedPolicies []struct{ PolicyName string } }
		require.NoError(t, json.Unmarshal(aws("iam", "list-attached-role-policies", "--role-name", roleName), &attached))
		assert.NotEmpty(t, attached.AttachedPolicies, "%s holds its policies", name)

		var assumed struct {
			Credentials struct{ AccessKeyId, SecretAccessKey, SessionToken string }
		}
		require.NoError(t, json.Unmarshal(aws("sts", "assume-role-with-web-identity", "--role-arn", arn, "--role-session-name", "github-actions",
			"--web-identity-token", token, "--duration-seconds", itoa(want)), &assumed), name)
		require.NotEmpty(t, assumed.Credentials.SessionToken, name)
		var names []string
		for _, p := range attached.AttachedPolicies {
			names = append(names, p.PolicyName)
		}
		if strings.Contains(name, "DeployRole") || strings.Contains(name, "DriftRole") {
			// An environment's roles hold the account's read policy by ARN
			// (ManagedPolicyArns), which moto's CloudFormation does not
			// attach; that the ARN names a policy the account template
			// made is what moto can show.
			aws("iam", "get-policy", "--policy-arn", "arn:aws:iam::"+moto.Account+":policy/tap-github-read-1-"+region)
		}
		t.Logf("%s (%s): assumed for %d s, holds %v", name, roleName, want, names)
	}
}

// webIdentityToken is a JWT of GitHub's OIDC token's shape (moto checks
// neither its signature nor its claims).
func webIdentityToken() string {
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return strings.TrimRight(base64URL(b), "=")
	}
	return enc(map[string]string{"alg": "RS256", "typ": "JWT"}) + "." +
		enc(map[string]any{"iss": "https://token.actions.githubusercontent.com", "aud": "sts.amazonaws.com",
			"sub": "repo:Codertocat/Hello-World:environment:dev", "repository_id": "1296269"}) + ".c2lnbmF0dXJl"
}

func base64URL(b []byte) string { return base64.URLEncoding.EncodeToString(b) }

func itoa(n int) string { return strconv.Itoa(n) }
