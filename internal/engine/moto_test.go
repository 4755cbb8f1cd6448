package engine_test

// The S3 state backend and the awskms:// secrets provider against moto:
// the Pulumi CLI keeps the stack's state in a bucket set up as the
// bootstrap template sets up the state bucket (versioned, encrypted by
// default, public access blocked) and encrypts its secrets with a KMS key,
// and the action's own reader of the backend (StackExists, LayoutWritten,
// Locks) finds what the CLI wrote, where the bootstrap template's grants
// say it is.

import (
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/engine"
	"github.com/org/tap-deploy/internal/oidcrole"
	"github.com/org/tap-deploy/test/enginetest"
	"github.com/org/tap-deploy/test/moto"
)

const (
	stateBucket = "tap-pulumi-state-123456789012-eu-west-1"
	secretsKey  = "alias/tap-state-secrets"
	secretValue = "s3cr3t-kept-by-kms"
)

// motoStateBucket makes the state bucket as the bootstrap template does
// (internal/bootstrap: StateBucket) and a KMS key for the secrets. The
// template's bucket policy (deny s3:* without aws:SecureTransport) is left
// out: moto 5.2.1 applies a Principal "*" Deny without its condition, so
// it would refuse the CLI's every call, over HTTPS too.
func motoStateBucket(t *testing.T, endpoint string) *s3.Client {
	t.Helper()
	ctx := moto.Context(t)
	cfg := moto.Config(endpoint, "eu-west-1")
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	_, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(stateBucket),
		CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraintEuWest1}})
	require.NoError(t, err)
	_, err = s3c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(stateBucket),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}})
	require.NoError(t, err)
	_, err = s3c.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: aws.String(stateBucket),
		ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{Rules: []s3types.ServerSideEncryptionRule{
			{ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAes256}}}}})
	require.NoError(t, err)
	_, err = s3c.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: aws.String(stateBucket),
		PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{BlockPublicAcls: aws.Bool(true), BlockPublicPolicy: aws.Bool(true),
			IgnorePublicAcls: aws.Bool(true), RestrictPublicBuckets: aws.Bool(true)}})
	require.NoError(t, err)

	k := kms.NewFromConfig(cfg)
	key, err := k.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("tap-deploy state secrets")})
	require.NoError(t, err)
	_, err = k.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String(secretsKey), TargetKeyId: key.KeyMetadata.KeyId})
	require.NoError(t, err)
	return s3c
}

func secretProgram(versioning string) pulumi.RunFunc {
	bucket := bucketProgram(versioning)
	return func(ctx *pulumi.Context) error {
		ctx.Export("token", pulumi.ToSecret(pulumi.String(secretValue)))
		return bucket(ctx)
	}
}

func TestS3Backend_OnMotoKeepsVersionedEncryptedStateAndKMSSecrets(t *testing.T) {
	endpoint := moto.Start(t)
	s3c := motoStateBucket(t, endpoint)
	ctx := context.Background()
	env := enginetest.New(t)
	for k, v := range moto.Env(endpoint, "eu-west-1") {
		env.Env[k] = v
	}
	// KMS needs no passphrase, and a run with awskms:// has none: a stack
	// that fell back to the passphrase provider fails instead of quietly
	// encrypting with it.
	delete(env.Env, "PULUMI_CONFIG_PASSPHRASE")
	t.Setenv("PULUMI_CONFIG_PASSPHRASE", "")
	os.Unsetenv("PULUMI_CONFIG_PASSPHRASE")
	// The reader below loads the SDK's default configuration in this
	// process, as a run of the action does.
	moto.Setenv(t, endpoint, "eu-west-1")
	host := strings.TrimPrefix(endpoint, "http://")
	env.BackendURL = "s3://" + stateBucket + "/tap?region=eu-west-1&endpoint=" + url.QueryEscape(host) + "&disable_https=true&use_path_style=true"
	settings := env.Settings("engine-test", "dev")
	settings.SecretsProvider = "awskms://" + secretsKey + "?region=eu-west-1"

	exists, err := engine.StackExists(ctx, settings)
	require.NoError(t, err)
	assert.False(t, exists, "nothing in the bucket yet")
	layout, err := engine.LayoutWritten(ctx, settings)
	require.NoError(t, err)
	assert.False(t, layout)

	for _, versioning := range []string{"Enabled", "Suspended"} {
		st, err := engine.Open(ctx, settings, secretProgram(versioning))
		require.NoError(t, err)
		t.Cleanup(func() { st.Close() })
		_, err = st.Up(ctx, "versioning "+versioning, engine.UpOptions{})
		require.NoError(t, err)
	}

	exists, err = engine.StackExists(ctx, settings)
	require.NoError(t, err)
	assert.True(t, exists, "the reader finds the checkpoint the CLI wrote")
	layout, err = engine.LayoutWritten(ctx, settings)
	require.NoError(t, err)
	assert.True(t, layout, "the CLI's first login wrote the layout")
	locks, err := engine.Locks(ctx, settings)
	require.NoError(t, err)
	assert.Empty(t, locks, "no update holds the stack")

	// The layout the bootstrap template grants (internal/bootstrap/state.go).
	mctx := moto.Context(t)
	list, err := s3c.ListObjectVersions(mctx, &s3.ListObjectVersionsInput{Bucket: aws.String(stateBucket), Prefix: aws.String("tap/")})
	require.NoError(t, err)
	versions := map[string]int{}
	for _, v := range list.Versions {
		versions[aws.ToString(v.Key)]++
	}
	checkpoint := "tap/.pulumi/stacks/engine-test/dev.json"
	assert.Contains(t, versions, "tap/.pulumi/meta.yaml")
	assert.GreaterOrEqual(t, versions[checkpoint], 2, "every update keeps the checkpoint's earlier version: %v", versions)
	for key := range versions {
		assert.True(t, strings.HasPrefix(key, "tap/.pulumi/meta.yaml") || strings.HasPrefix(key, "tap/.pulumi/stacks/engine-test/dev.json") ||
			strings.HasPrefix(key, "tap/.pulumi/history/engine-test/dev/") || strings.HasPrefix(key, "tap/.pulumi/backups/engine-test/dev/") ||
			strings.HasPrefix(key, "tap/.pulumi/locks/organization/engine-test/dev/"), "%s is outside what the template grants", key)
	}

	head, err := s3c.HeadObject(mctx, &s3.HeadObjectInput{Bucket: aws.String(stateBucket), Key: aws.String(checkpoint)})
	require.NoError(t, err)
	assert.Equal(t, s3types.ServerSideEncryptionAes256, head.ServerSideEncryption, "the bucket's default encryption applies to the state")

	obj, err := s3c.GetObject(mctx, &s3.GetObjectInput{Bucket: aws.String(stateBucket), Key: aws.String(checkpoint)})
	require.NoError(t, err)
	body, err := io.ReadAll(obj.Body)
	obj.Body.Close()
	require.NoError(t, err)
	assert.NotContains(t, string(body), secretValue, "a secret is kept encrypted")
	var cp struct {
		Checkpoint struct {
			Latest struct {
				SecretsProviders struct {
					Type  string `json:"type"`
					State struct {
						URL string `json:"url"`
					} `json:"state"`
				} `json:"secrets_providers"`
			} `json:"latest"`
		} `json:"checkpoint"`
	}
	require.NoError(t, json.Unmarshal(body, &cp))
	assert.Equal(t, "cloud", cp.Checkpoint.Latest.SecretsProviders.Type)
	assert.Contains(t, cp.Checkpoint.Latest.SecretsProviders.State.URL, "awskms://"+secretsKey)

	// The CLI decrypts it again with the key: the state reads back.
	st, err := engine.Open(ctx, settings, secretProgram("Suspended"))
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	state, err := st.State(ctx)
	require.NoError(t, err)
	assert.Contains(t, state.Outputs, "token")

	// A lock an update holds is where Locks looks.
	_, err = s3c.PutObject(mctx, &s3.PutObjectInput{Bucket: aws.String(stateBucket), Key: aws.String("tap/.pulumi/locks/organization/engine-test/dev/held.json"), Body: strings.NewReader("{}")})
	require.NoError(t, err)
	locks, err = engine.Locks(ctx, settings)
	require.NoError(t, err)
	assert.Equal(t, []string{"held.json"}, locks)
}

// A promotion's source in another account, end to end with the CLI: the
// stack lives in a bucket behind a gate that lets through only the
// credentials of the source's role, as the source account's S3 and KMS do
// for the promoting job. Opened with those credentials in Settings.Env (as
// internal/app gives them, the run's own staying in the process
// environment), the CLI reads its history and state; with the run's own it
// is refused. The read decrypts the state's data key with the source's
// secrets key, through the same gate: with the source's role.
func TestS3Backend_OnMotoASourceInAnotherAccountIsReadWithItsRolesCredentialsOnly(t *testing.T) {
	endpoint := moto.Start(t)
	motoStateBucket(t, endpoint)
	ctx := context.Background()
	host := strings.TrimPrefix(endpoint, "http://")
	backend := func(h string) string {
		return "s3://" + stateBucket + "/tap?region=eu-west-1&endpoint=" + url.QueryEscape(h) + "&disable_https=true&use_path_style=true"
	}

	// The source account deploys staging with its own credentials.
	src := enginetest.New(t)
	for k, v := range moto.Env(endpoint, "eu-west-1") {
		src.Env[k] = v
	}
	delete(src.Env, "PULUMI_CONFIG_PASSPHRASE")
	src.BackendURL = backend(host)
	staging := src.Settings("engine-test", "staging")
	staging.SecretsProvider = "awskms://" + secretsKey + "?region=eu-west-1"
	st, err := engine.Open(ctx, staging, secretProgram("Enabled"))
	require.NoError(t, err)
	_, err = st.Up(ctx, "staging's update", engine.UpOptions{})
	require.NoError(t, err)
	st.Close()

	// The source account, as the promoting job reaches it.
	const sourceKey = "ASIASOURCEROLE000001"
	var mu sync.Mutex
	var kmsCalls []string
	target, err := url.Parse(endpoint)
	require.NoError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(target)
	gate := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if op := r.Header.Get("X-Amz-Target"); strings.HasPrefix(op, "TrentService.") {
			mu.Lock()
			kmsCalls = append(kmsCalls, op)
			mu.Unlock()
		}
		if !strings.Contains(r.Header.Get("Authorization"), "Credential="+sourceKey+"/") {
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>1</RequestId></Error>`)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer gate.Close()

	// The promoting run: its own credentials in the process environment
	// (moto's key, which the gate refuses), the source's in Settings.Env.
	for k, v := range moto.Env(gate.URL, "eu-west-1") {
		t.Setenv(k, v)
	}
	run := enginetest.New(t)
	run.BackendURL = backend(strings.TrimPrefix(gate.URL, "http://"))
	read := run.Settings("engine-test", "staging")
	read.MustExist = true
	read.SecretsProvider = "passphrase" // the target's, whatever the source's is
	read.Env = maps.Clone(read.Env)
	creds := oidcrole.Credentials{AccessKeyID: sourceKey, SecretAccessKey: "source-secret", SessionToken: "source-session"}
	for k, v := range creds.Env() {
		read.Env[k] = v
	}
	st, err = engine.Open(ctx, read, secretProgram("Enabled"))
	require.NoError(t, err)
	defer st.Close()
	hist, err := st.History(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, hist)
	assert.Contains(t, hist[0].Message, "staging's update")
	mu.Lock()
	assert.Empty(t, kmsCalls, "the history is read without secret values: no key is needed for it")
	mu.Unlock()
	state, err := st.State(ctx)
	require.NoError(t, err)
	assert.NotEmpty(t, state.Outputs["bucketArn"])
	// Exporting the checkpoint decrypts its data key with the source's
	// secrets key (awskms://), with the source's role: that key's policy
	// must let the drift role decrypt, as its drift checks need. Nothing is
	// encrypted or written.
	require.NotEmpty(t, kmsCalls)
	for _, op := range kmsCalls {
		assert.Equal(t, "TrentService.Decrypt", op)
	}

	// With the run's own credentials the source account refuses.
	own := run.Settings("engine-test", "staging")
	own.MustExist = true
	_, err = engine.Open(ctx, own, secretProgram("Enabled"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "AccessDenied")
}
