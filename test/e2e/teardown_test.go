package e2e_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/test/sandbox"
)

// stackResources are the sandbox's resources the dev stack made (the
// bootstrap's are there too, with no URN).
func stackResources(st sandbox.State) map[string]sandbox.Resource {
	out := map[string]sandbox.Resource{}
	for _, r := range st.Resources {
		if strings.HasPrefix(r.URN, "urn:pulumi:dev::") {
			out[r.URN] = r
		}
	}
	return out
}

func typesOf(rs map[string]sandbox.Resource) map[string]int {
	out := map[string]int{}
	for _, r := range rs {
		out[r.Type]++
	}
	return out
}

func dispatchDestroy(e *env, inputs map[string]string) result {
	e.t.Helper()
	in := map[string]string{"command": "destroy", "confirm-destroy": "dev"}
	for k, v := range inputs {
		in[k] = v
	}
	return e.run("workflow_dispatch", fixture(e.t, "workflow_dispatch.json"), in)
}

func TestDestroy_RefusesWrongEventsConfirmationsAndProtectedDataThenKeepsIt(t *testing.T) {
	e := newEnv(t)
	deployed := e.run("push", fixture(t, "push.with-new-branch.json"), nil)
	require.Equal(t, 0, deployed.Exit, deployed.String())
	before := stackResources(e.cloudState())
	require.Greater(t, len(before), 60)

	push := e.run("push", fixture(t, "push.with-new-branch.json"), map[string]string{"command": "destroy", "confirm-destroy": "dev"})
	assert.NotEqual(t, 0, push.Exit, push.String())
	assert.Contains(t, push.Stdout, "command destroy never runs from a push event: a teardown runs only from workflow_dispatch")

	pr := e.run("pull_request", fixture(t, "pull_request.opened.json"), map[string]string{"command": "destroy", "confirm-destroy": "dev"})
	assert.NotEqual(t, 0, pr.Exit, pr.String())
	assert.Contains(t, pr.Stdout, "command destroy never runs from a pull_request event")

	wrong := dispatchDestroy(e, map[string]string{"confirm-destroy": "prod"})
	assert.NotEqual(t, 0, wrong.Exit, wrong.String())
	assert.Contains(t, wrong.Stdout, `confirm-destroy: "prod" is not the environment's name (dev); nothing was destroyed`)
	missing := dispatchDestroy(e, map[string]string{"confirm-destroy": ""})
	assert.NotEqual(t, 0, missing.Exit, missing.String())
	assert.Contains(t, missing.Stdout, "confirm-destroy: required with command destroy")

	protected := dispatchDestroy(e, nil)
	assert.NotEqual(t, 0, protected.Exit, protected.String())
	assert.Contains(t, protected.Stdout, "Refusing to destroy stack dev")
	assert.Contains(t, protected.Summary, "Teardown of `tap` / `dev`: refused, nothing was changed")
	assert.Contains(t, protected.Summary, "aws:dynamodb/table:Table tap-dev-items: the items table, deletion protection on")
	assert.Contains(t, protected.Summary, "a Lambda package kept for rollbacks")
	assert.Equal(t, before, stackResources(e.cloudState()), "the refusals changed nothing")

	kept := dispatchDestroy(e, map[string]string{"destroy-protected": "keep"})
	require.Equal(t, 0, kept.Exit, kept.String())
	assert.Contains(t, kept.Summary, "Teardown of `tap` / `dev`: destroyed")
	assert.Contains(t, kept.Summary, "Kept in the account")
	assert.Contains(t, kept.Summary, "aws:dynamodb/table:Table tap-dev-items: the items table")
	assert.Contains(t, kept.Summary, "Removed (")
	assert.Contains(t, kept.Summary, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock tap-dev-files-123456789012-eu-west-1: kept with its bucket")
	left := typesOf(stackResources(e.cloudState()))
	assert.Equal(t, 1, left["aws:dynamodb/table:Table"], "the table and its data stay")
	assert.Equal(t, 2, left["aws:s3/bucketV2:BucketV2"], "both buckets stay")
	assert.Equal(t, 3, left["aws:s3/bucketObjectv2:BucketObjectv2"], "the packages stay")
	assert.Equal(t, 2, left["aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"], "a kept bucket keeps its guards")
	assert.Zero(t, left["aws:lambda/function:Function"], "the functions are gone")
	assert.Zero(t, left["aws:apigateway/restApi:RestApi"], "the API is gone")
	t.Logf("teardown (keep) summary:\n%s", kept.Summary)

	again := dispatchDestroy(e, map[string]string{"destroy-protected": "keep"})
	require.Equal(t, 0, again.Exit, again.String())
	assert.Contains(t, again.Summary, "destroyed (0 removed, 0 kept)", "a second teardown finds an empty stack")
}

func TestDestroy_DeleteRemovesTheDataToo(t *testing.T) {
	e := newEnv(t)
	deployed := e.run("push", fixture(t, "push.with-new-branch.json"), nil)
	require.Equal(t, 0, deployed.Exit, deployed.String())

	gone := dispatchDestroy(e, map[string]string{"destroy-protected": "delete"})
	require.Equal(t, 0, gone.Exit, gone.String())
	assert.Empty(t, typesOf(stackResources(e.cloudState())), "nothing of the stack is left")
	assert.Contains(t, gone.Summary, "kept)")
	assert.Contains(t, gone.Summary, "aws:dynamodb/table:Table items")
	t.Logf("teardown (delete) summary:\n%s", gone.Summary)
}

func TestConfigFile_EveryCommandReadsItAndTheInputOverridesIt(t *testing.T) {
	e := newEnv(t)
	ws := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(ws, ".git"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(ws, "Pulumi.dev.yaml"), []byte("config:\n  tap:logRetentionDays: 30\n  tap:lambdaMemoryMb: 512\n"), 0o644))
	e.Vars["GITHUB_WORKSPACE"] = ws

	up := e.run("push", fixture(t, "push.with-new-branch.json"), nil)
	require.Equal(t, 0, up.Exit, up.String())
	assert.Contains(t, up.Summary, "Configuration from Pulumi.dev.yaml.")
	for _, f := range e.cloudState().ByType(functionType) {
		assert.EqualValues(t, 512, f.Inputs["memorySize"], f.URN)
	}

	over := e.run("push", fixture(t, "push.with-new-branch.json"), map[string]string{"config": "lambdaMemoryMb=1024"})
	require.Equal(t, 0, over.Exit, over.String())
	assert.Contains(t, over.Summary, "The config input overrides lambdaMemoryMb for this run (over the file's value of lambdaMemoryMb).")

	require.NoError(t, os.WriteFile(filepath.Join(ws, "Pulumi.dev.yaml"), []byte("config:\n  tap:logRetentionDays: 30\n  tap:colour: blue\n"), 0o644))
	bad := e.run("push", fixture(t, "push.with-new-branch.json"), nil)
	assert.NotEqual(t, 0, bad.Exit)
	assert.Contains(t, bad.Stdout, "Pulumi.dev.yaml line 3: key tap:colour is unknown")

	named := e.run("push", fixture(t, "push.with-new-branch.json"), map[string]string{"config-file": "deploy/Pulumi.dev.yaml"})
	assert.NotEqual(t, 0, named.Exit)
	assert.Contains(t, named.Stdout, "config-file: deploy/Pulumi.dev.yaml does not exist in the workspace")
}
