package e2e_test

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/test/githubtest"
)

func TestS3Backend_DeployNoChangesAndRollback(t *testing.T) {
	mem := s3mem.New()
	require.NoError(t, mem.CreateBucket("tap-state"))
	s3 := httptest.NewServer(gofakes3.New(mem).Server())
	defer s3.Close()

	e := newEnv(t)
	e.Vars["AWS_ACCESS_KEY_ID"] = "AKIAFAKES3LOOPBACK00"
	e.Vars["AWS_SECRET_ACCESS_KEY"] = "loopback-secret-key-not-real"
	e.Vars["AWS_REGION"] = "eu-west-1"
	backend := "s3://tap-state/stacks?endpoint=" + s3.URL + "&use_path_style=true&disable_https=true&region=us-east-1"
	in := map[string]string{"backend-url": backend}

	first := e.run("push", fixture(t, "push.with-new-branch.json"), in)
	require.Equal(t, 0, first.Exit, first.String())
	objects, err := mem.ListBucket("tap-state", &gofakes3.Prefix{}, gofakes3.ListBucketPage{})
	require.NoError(t, err)
	assert.NotEmpty(t, objects.Contents, "the state lives in the S3 bucket")
	assert.NoDirExists(t, e.state, "and not on the local disk")

	in2 := map[string]string{"backend-url": backend, "config": "lambdaTimeoutSeconds=20"}
	second := e.run("push", fixture(t, "push.with-new-branch.json"), in2)
	require.Equal(t, 0, second.Exit, second.String())
	assert.EqualValues(t, 20, functionState(t, e, "api-handler").Inputs["timeout"])

	same := e.run("push", fixture(t, "push.with-new-branch.json"), in2)
	require.Equal(t, 0, same.Exit, same.String())
	assert.Equal(t, "false", same.Outputs["has-changes"])

	rb := e.run("workflow_dispatch", fixture(t, "workflow_dispatch.json"), map[string]string{"backend-url": backend, "command": "rollback", "rollback-to": "1"})
	require.Equal(t, 0, rb.Exit, rb.String())
	assert.EqualValues(t, 10, functionState(t, e, "api-handler").Inputs["timeout"])
	for _, secret := range []string{"loopback-secret-key-not-real"} {
		assert.NotContains(t, rb.Summary, secret)
	}
}

func TestDeploy_UpdatesTheMergedPullRequestsComment(t *testing.T) {
	e := newEnv(t)
	e.GitHub.SetCommitPRs(headSHA, githubtest.PR{Number: 7, HeadSHA: "7777777777777777777777777777777777777777"})
	res := e.run("push", fixture(t, "push.with-new-branch.json"), nil)
	require.Equal(t, 0, res.Exit, res.String())
	comments := e.GitHub.Comments(7)
	require.Len(t, comments, 1)
	assert.Contains(t, comments[0].Body, "Deploy of `tap` / `dev`: deployed")
	assert.Contains(t, comments[0].Body, "pr=7 project=tap stack=dev")
}

func TestDeploy_RefusesACommitBehindTheDeployedOne(t *testing.T) {
	e := newEnv(t)
	newer := "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	payload := modified(t, "push.with-new-branch.json", func(p map[string]any) { p["after"] = newer })
	require.Equal(t, 0, e.run("push", payload, nil).Exit)

	e.GitHub.SetCompare(newer, headSHA, "behind")
	res := e.run("push", fixture(t, "push.with-new-branch.json"), map[string]string{"config": "lambdaMemoryMb=1024"})
	assert.Equal(t, 1, res.Exit, res.String())
	assert.Contains(t, res.Stdout, "Refusing to deploy an older commit")
	assert.EqualValues(t, 256, functionState(t, e, "api-handler").Inputs["memorySize"])

	// When GitHub cannot tell (here: no such comparison, 404), the deploy
	// stops: the order is unproven. commit-order: warn deploys anyway.
	other := modified(t, "push.with-new-branch.json", func(p map[string]any) { p["after"] = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb" })
	res = e.run("push", other, map[string]string{"config": "lambdaMemoryMb=1024"})
	assert.Equal(t, 1, res.Exit, res.String())
	assert.Contains(t, res.Stdout, "Refusing to deploy: the commit order cannot be checked")
	assert.Contains(t, res.Stdout, "cannot tell whether bbbbbbb is newer than the deployed aaaaaaa")
	assert.EqualValues(t, 256, functionState(t, e, "api-handler").Inputs["memorySize"])

	res = e.run("push", other, map[string]string{"commit-order": "warn"})
	require.Equal(t, 0, res.Exit, res.String())
	assert.Contains(t, res.Stdout, "::warning::cannot tell whether bbbbbbb is newer than the deployed aaaaaaa")
}

func TestDeploy_StopsBeforeUpWhenAnUpdateWasInterrupted(t *testing.T) {
	e := newEnv(t)
	require.Equal(t, 0, e.run("push", fixture(t, "push.with-new-branch.json"), nil).Exit)
	path := filepath.Join(e.state, ".pulumi", "stacks", "tap", "dev.json")
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var state map[string]any
	require.NoError(t, json.Unmarshal(b, &state))
	dep := state["checkpoint"].(map[string]any)["latest"].(map[string]any)
	dep["pending_operations"] = []any{map[string]any{
		"type":     "creating",
		"resource": map[string]any{"urn": "urn:pulumi:dev::tap::aws:sqs/queue:Queue::orphan", "type": "aws:sqs/queue:Queue", "custom": true},
	}}
	b, _ = json.Marshal(state)
	require.NoError(t, os.WriteFile(path, b, 0o644))

	res := e.run("push", fixture(t, "push.with-new-branch.json"), map[string]string{"config": "lambdaMemoryMb=1024"})
	assert.Equal(t, 1, res.Exit, res.String())
	assert.Contains(t, res.Stdout, "An earlier update was interrupted")
	assert.Contains(t, res.Stdout, "creating of urn:pulumi:dev::tap::aws:sqs/queue:Queue::orphan")
	assert.Contains(t, res.Stdout, "pulumi refresh --clear-pending-creates")
	assert.EqualValues(t, 256, functionState(t, e, "api-handler").Inputs["memorySize"])
}

var _ = githubtest.Token

// s3Objects is every object of a fake S3 bucket with its content's digest.
func s3Objects(t *testing.T, mem *s3mem.Backend, bucket string) map[string]string {
	t.Helper()
	list, err := mem.ListBucket(bucket, &gofakes3.Prefix{}, gofakes3.ListBucketPage{})
	require.NoError(t, err)
	out := map[string]string{}
	for _, o := range list.Contents {
		obj, err := mem.GetObject(bucket, o.Key, nil)
		require.NoError(t, err)
		b, err := io.ReadAll(obj.Contents)
		require.NoError(t, err)
		obj.Contents.Close()
		out[o.Key] = fmt.Sprintf("%x", sha256.Sum256(b))
	}
	return out
}

// A preview (and a drift check) works with a role that may only read the
// state: the backend is byte for byte what it was, for a stack that does
// not exist yet (its first deploy) and for a deployed one.
func TestPreview_NeverWritesTheBackend(t *testing.T) {
	t.Run("file", func(t *testing.T) {
		e := newEnv(t)
		first := e.run("pull_request", fixture(t, "pull_request.opened.json"), nil)
		require.Equal(t, 0, first.Exit, first.String())
		assert.NoDirExists(t, e.state, "a first deploy's preview creates nothing where the state lives")
		assert.Contains(t, e.GitHub.Comments(2)[0].Body, "this is its first deploy")
		assert.Equal(t, "true", first.Outputs["has-changes"])

		require.Equal(t, 0, e.run("push", fixture(t, "push.with-new-branch.json"), nil).Exit)
		before := backendFiles(t, e.state)
		for _, in := range []map[string]string{nil, {"command": "drift"}} {
			res := e.run("pull_request", fixture(t, "pull_request.synchronize.json"), in)
			require.Equal(t, 0, res.Exit, res.String())
		}
		assert.Equal(t, before, backendFiles(t, e.state), "a deployed stack's preview and drift check write nothing")
	})
	t.Run("s3", func(t *testing.T) {
		mem := s3mem.New()
		require.NoError(t, mem.CreateBucket("tap-state"))
		s3 := httptest.NewServer(gofakes3.New(mem).Server())
		defer s3.Close()
		e := newEnv(t)
		e.Vars["AWS_REGION"] = "eu-west-1"
		in := map[string]string{"backend-url": "s3://tap-state/stacks?endpoint=" + s3.URL + "&use_path_style=true&disable_https=true&region=us-east-1"}

		first := e.run("pull_request", fixture(t, "pull_request.opened.json"), in)
		require.Equal(t, 0, first.Exit, first.String())
		assert.Empty(t, s3Objects(t, mem, "tap-state"), "not even .pulumi/meta.yaml is written into the empty bucket")

		require.Equal(t, 0, e.run("push", fixture(t, "push.with-new-branch.json"), in).Exit)
		before := s3Objects(t, mem, "tap-state")
		require.NotEmpty(t, before)
		res := e.run("pull_request", fixture(t, "pull_request.synchronize.json"), in)
		require.Equal(t, 0, res.Exit, res.String())
		assert.NotContains(t, e.GitHub.Comments(2)[0].Body, "first deploy")
		assert.Equal(t, before, s3Objects(t, mem, "tap-state"))
	})
}
