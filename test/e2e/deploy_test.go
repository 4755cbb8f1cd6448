package e2e_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/artifacts/build"
	"github.com/org/tap-deploy/stack"
	"github.com/org/tap-deploy/test/sandbox"
)

const (
	functionType = "aws:lambda/function:Function"
	headSHA      = "6113728f27ae82c7b1a177c8d03f9e96e0adf246"
)

// everyResourceOnce fails if the sandbox holds two resources for one URN.
func everyResourceOnce(t *testing.T, st sandbox.State) {
	t.Helper()
	seen := map[string]string{}
	for k, r := range st.Resources {
		if other, dup := seen[r.URN]; dup {
			t.Errorf("%s exists twice: %s and %s", r.URN, other, k)
		}
		seen[r.URN] = k
	}
}

func TestPush_DeploysTheStackThenChangesNothing(t *testing.T) {
	e := newEnv(t)
	first := e.run("push", fixture(t, "push.with-new-branch.json"), nil)
	require.Equal(t, 0, first.Exit, first.String())
	assert.Equal(t, "up", first.Outputs["command"])
	assert.Equal(t, "true", first.Outputs["has-changes"])
	assert.Equal(t, "1", first.Outputs["deployed-version"])

	cloud := e.cloudState()
	assert.Greater(t, len(cloud.Resources), 60)
	everyResourceOnce(t, cloud)
	for _, r := range cloud.Resources {
		assert.Equal(t, "eu-west-1", r.Region, r.URN)
	}
	fns := cloud.ByType(functionType)
	require.Len(t, fns, 3)
	for _, f := range fns {
		assert.Equal(t, "provided.al2023", f.Inputs["runtime"])
		assert.Equal(t, map[string]any{"project": "tap", "environment": "dev", "managed-by": "tap-deploy"}, f.Outputs["tagsAll"])
	}
	var outputs map[string]any
	require.NoError(t, json.Unmarshal([]byte(first.Outputs["stack-outputs"]), &outputs))
	assert.Equal(t, "tap-dev-items", outputs["tableName"])
	for _, name := range stack.OutputNames {
		assert.Contains(t, outputs, name)
	}
	assert.Contains(t, first.Summary, "Deploy of `tap` / `dev`: deployed")
	assert.Contains(t, first.Summary, "| `apiUrl` | `(known after deploy)` |", "the preview before the deploy says what it cannot know yet")
	assert.Contains(t, first.Summary, "| `tableName` | `tap-dev-items` |", "strings read as they are")
	assert.Contains(t, first.Summary, "| `alarmArns.tap-dev-api-5xx` | `arn:aws:cloudwatch:eu-west-1:123456789012:alarm:tap-dev-api-5xx` |",
		"the deploy shows a long map one entry per row")
	var topics []string
	for _, topic := range cloud.ByType("aws:sns/topic:Topic") {
		topics = append(topics, topic.ID)
	}
	assert.ElementsMatch(t, []string{"arn:aws:sns:eu-west-1:123456789012:tap-dev-alerts", "arn:aws:sns:eu-west-1:123456789012:tap-dev-item-events"}, topics)
	processor := functionState(t, e, "file-processor")
	assert.Equal(t, "arn:aws:sns:eu-west-1:123456789012:tap-dev-item-events",
		processor.Inputs["environment"].(map[string]any)["variables"].(map[string]any)["EVENTS_TOPIC_ARN"], "item data goes to its own topic")

	second := e.run("push", fixture(t, "push.with-new-branch.json"), nil)
	require.Equal(t, 0, second.Exit, second.String())
	assert.Equal(t, "false", second.Outputs["has-changes"], second.Outputs["change-summary"])
	assert.Equal(t, "2", second.Outputs["deployed-version"])
	assert.Equal(t, cloud.Calls["create"], e.cloudState().Calls["create"], "nothing new was created")
	assert.Zero(t, e.cloudState().Calls["update"])

	tag := e.run("push", fixture(t, "push.json"), nil)
	require.Equal(t, 0, tag.Exit, tag.String())
	assert.Equal(t, "none", tag.Outputs["command"])
	assert.Contains(t, tag.Stdout, "deletes refs/tags/simple-tag")
}

func TestPush_InjectedFailureNamesTheResourceThenTheNextDeployConverges(t *testing.T) {
	e := newEnv(t)
	e.Vars[sandbox.EnvFailCreate] = `aws:lambda/function:Function::file-processor$`
	failed := e.run("push", fixture(t, "push.with-new-branch.json"), nil)
	require.Equal(t, 1, failed.Exit, failed.String())
	assert.Contains(t, failed.Stdout, `::error::aws:lambda/function:Function "file-processor": `)
	assert.Contains(t, strings.Join(honoured(failed.Stdout), "\n"), `::error::aws:lambda/function:Function "file-processor": `,
		"the failed resource's annotation is outside the engine output's fence")
	assert.Contains(t, failed.Stdout, "injected failure creating")
	assert.Contains(t, failed.Summary, "failed")
	for _, f := range e.cloudState().ByType(functionType) {
		assert.NotEqual(t, "tap-dev-file-processor", f.ID, "the failed create left no function behind")
	}

	delete(e.Vars, sandbox.EnvFailCreate)
	ok := e.run("push", fixture(t, "push.with-new-branch.json"), nil)
	require.Equal(t, 0, ok.Exit, ok.String())
	cloud := e.cloudState()
	everyResourceOnce(t, cloud)
	assert.Len(t, cloud.ByType(functionType), 3)

	again := e.run("push", fixture(t, "push.with-new-branch.json"), nil)
	require.Equal(t, 0, again.Exit, again.String())
	assert.Equal(t, "false", again.Outputs["has-changes"])
}

// otherCode writes zips that differ from the embedded ones.
func otherCode(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range stack.Functions {
		data, err := build.Pack([]byte("\x7fELF other build of " + f.Component))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, f.Component+".zip"), data, 0o644))
	}
	return dir
}

func functionState(t *testing.T, e *env, component string) sandbox.Resource {
	t.Helper()
	for _, f := range e.cloudState().ByType(functionType) {
		if f.ID == "tap-dev-"+component {
			return f
		}
	}
	t.Fatalf("no function %s", component)
	return sandbox.Resource{}
}

func TestRollback_RestoresTheFirstConfigurationAndCode(t *testing.T) {
	e := newEnv(t)
	first := e.run("push", fixture(t, "push.with-new-branch.json"), nil)
	require.Equal(t, 0, first.Exit, first.String())
	v1 := functionState(t, e, "api-handler")
	assert.EqualValues(t, 256, v1.Inputs["memorySize"])

	// A developer deploys other code and configuration from a laptop
	// (TAP_LAMBDA_ZIPS_DIR is refused in Actions).
	second := e.local("up", map[string]string{"config": "lambdaMemoryMb=512;logRetentionDays=30"}, map[string]string{"TAP_LAMBDA_ZIPS_DIR": otherCode(t)})
	require.Equal(t, 0, second.Exit, second.String())
	v2 := functionState(t, e, "api-handler")
	assert.EqualValues(t, 512, v2.Inputs["memorySize"])
	require.NotEqual(t, v1.Inputs["s3Key"], v2.Inputs["s3Key"], "the second deploy ships other code")

	bad := e.run("workflow_dispatch", fixture(t, "workflow_dispatch.json"), map[string]string{"command": "rollback", "rollback-to": "7"})
	assert.Equal(t, 1, bad.Exit)
	assert.Contains(t, bad.Stdout, "version 7 is not in the stack history (versions 1 to 2 exist)")
	assert.Equal(t, v2.Inputs["s3Key"], functionState(t, e, "api-handler").Inputs["s3Key"], "a bad target changes nothing")

	rb := e.run("workflow_dispatch", fixture(t, "workflow_dispatch.json"), map[string]string{"command": "rollback", "rollback-to": "1"})
	require.Equal(t, 0, rb.Exit, rb.String())
	back := functionState(t, e, "api-handler")
	assert.EqualValues(t, 256, back.Inputs["memorySize"], "configuration restored")
	assert.Equal(t, v1.Inputs["s3Key"], back.Inputs["s3Key"], "code restored")
	assert.Equal(t, v1.Inputs["sourceCodeHash"], back.Inputs["sourceCodeHash"])
	for _, lg := range e.cloudState().ByType("aws:cloudwatch/logGroup:LogGroup") {
		assert.EqualValues(t, 14, lg.Inputs["retentionInDays"], lg.ID)
	}
	objects := e.cloudState().ByType("aws:s3/bucketObjectv2:BucketObjectv2")
	assert.Len(t, objects, 6, "both versions of each package stay in the artifacts bucket")
	assert.Contains(t, rb.Summary, "Rollback to version 1")
	assert.Contains(t, rb.Summary, "Preview before rollback to version 1", "the rollback's preview is in the job summary first")
	assert.Less(t, strings.Index(rb.Summary, "Preview before rollback"), strings.Index(rb.Summary, "Rollback to version 1 of "))
	assert.Equal(t, "3", rb.Outputs["deployed-version"])

	previous := e.run("workflow_dispatch", fixture(t, "workflow_dispatch.json"), map[string]string{"command": "rollback", "rollback-to": "previous"})
	require.Equal(t, 0, previous.Exit, previous.String())
	assert.EqualValues(t, 512, functionState(t, e, "api-handler").Inputs["memorySize"], "previous is the update before the latest")
}

func TestDeploy_ForeignLockFailsInBoundedTimeAndTheLockStays(t *testing.T) {
	e := newEnv(t)
	first := e.run("push", fixture(t, "push.with-new-branch.json"), nil)
	require.Equal(t, 0, first.Exit, first.String())

	lockDir := filepath.Join(e.state, ".pulumi", "locks", "organization", "tap", "dev")
	require.NoError(t, os.MkdirAll(lockDir, 0o755))
	lock := filepath.Join(lockDir, "7d2b8e8a-0000-4000-8000-000000000001.json")
	require.NoError(t, os.WriteFile(lock, []byte(`{"pid":4242,"username":"deployer","hostname":"runner-7","timestamp":"2026-11-28T10:00:00Z"}`), 0o644))

	start := time.Now()
	// Long enough for one retry after the first refused attempt (a CLI
	// start takes a second or two), short enough to give up.
	res := e.run("push", fixture(t, "push.with-new-branch.json"), map[string]string{"lock-timeout": "8s", "config": "lambdaMemoryMb=1024"})
	elapsed := time.Since(start)
	assert.Equal(t, 1, res.Exit, res.String())
	assert.Less(t, elapsed, 60*time.Second)
	assert.Contains(t, res.Stdout, "locked by another update")
	// The warning of a retry, or on a slow machine the first attempt's
	// error, reaches the runner outside the engine output's fence.
	assert.Regexp(t, `(?m)^::(warning|error)::(The update failed: )?the stack is locked by another update`, strings.Join(honoured(res.Stdout), "\n"))
	assert.Contains(t, res.Stdout, "deployer@runner-7")
	assert.FileExists(t, lock, "someone else's lock is never removed")
	assert.EqualValues(t, 256, functionState(t, e, "api-handler").Inputs["memorySize"])
}

func TestDrift_ReportsResourcesChangedOutsidePulumi(t *testing.T) {
	e := newEnv(t)
	require.Equal(t, 0, e.run("push", fixture(t, "push.with-new-branch.json"), nil).Exit)

	clean := e.run("workflow_dispatch", fixture(t, "workflow_dispatch.json"), map[string]string{"command": "drift", "fail-on-drift": "true"})
	require.Equal(t, 0, clean.Exit, clean.String())
	assert.Equal(t, "false", clean.Outputs["drift"])

	// Someone changes a function in the console.
	require.NoError(t, sandbox.Store{Path: e.cloud}.Update(func(st *sandbox.State) error {
		for k, r := range st.Resources {
			if r.Type == functionType && r.ID == "tap-dev-api-handler" {
				r.Inputs["memorySize"] = 2048.0
				r.Outputs["memorySize"] = 2048.0
				st.Resources[k] = r
			}
		}
		return nil
	}))
	drift := e.run("workflow_dispatch", fixture(t, "workflow_dispatch.json"), map[string]string{"command": "drift"})
	require.Equal(t, 0, drift.Exit, drift.String())
	assert.Equal(t, "true", drift.Outputs["drift"])
	assert.Contains(t, drift.Stdout, `::warning::drift: aws:lambda/function:Function "api-handler"`)
	assert.Contains(t, drift.Summary, "drift found")

	strict := e.run("workflow_dispatch", fixture(t, "workflow_dispatch.json"), map[string]string{"command": "drift", "fail-on-drift": "true"})
	assert.Equal(t, 1, strict.Exit)
	assert.True(t, strings.Contains(strict.Stdout, "Drift found"), strict.String())
}

func TestDeploy_SIGTERMCancelsCleanlyAndTheNextDeployConverges(t *testing.T) {
	e := newEnv(t)
	e.Vars[sandbox.EnvDelay] = "700ms"
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	p := e.start(ctx, "push", fixture(t, "push.with-new-branch.json"), nil)
	// Wait until the update has started creating resources, then cancel
	// the workflow as GitHub does.
	deadline := time.Now().Add(90 * time.Second)
	for e.cloudCreates() == 0 {
		require.True(t, time.Now().Before(deadline), "the update never started")
		time.Sleep(100 * time.Millisecond)
	}
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	res := p.wait()
	assert.Equal(t, 1, res.Exit, res.String())
	assert.Contains(t, res.Stdout, "Cancelled; the engine stopped cleanly and saved the state")
	created := e.cloudCreates()
	assert.Less(t, created, 60, "the update stopped early")
	locks, _ := filepath.Glob(filepath.Join(e.state, ".pulumi", "locks", "*", "*", "*", "*.json"))
	assert.Empty(t, locks, "the cancelled update released its lock")

	delete(e.Vars, sandbox.EnvDelay)
	next := e.run("push", fixture(t, "push.with-new-branch.json"), nil)
	require.Equal(t, 0, next.Exit, next.String())
	cloud := e.cloudState()
	everyResourceOnce(t, cloud)
	assert.Len(t, cloud.ByType(functionType), 3)
}

func (e *env) cloudCreates() int {
	st, err := sandbox.Store{Path: e.cloud}.Load()
	if err != nil {
		return 0
	}
	return st.Calls["create"]
}

func TestDrift_WaitsForAnUpdateInProgressInsteadOfReportingIt(t *testing.T) {
	e := newEnv(t)
	require.Equal(t, 0, e.run("push", fixture(t, "push.with-new-branch.json"), nil).Exit)

	e.Vars[sandbox.EnvDelay] = "400ms"
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	update := e.start(ctx, "push", fixture(t, "push.with-new-branch.json"), map[string]string{"config": "lambdaMemoryMb=512"})
	require.Eventually(t, func() bool {
		locks, _ := filepath.Glob(filepath.Join(e.state, ".pulumi", "locks", "*", "*", "*", "*.json"))
		return len(locks) > 0 && e.cloudState().Calls["update"] > 0
	}, 2*time.Minute, 50*time.Millisecond, "the update is under way")

	drift := e.run("workflow_dispatch", fixture(t, "workflow_dispatch.json"), map[string]string{"command": "drift", "config": "lambdaMemoryMb=512"})
	require.Equal(t, 0, drift.Exit, drift.String())
	assert.Contains(t, drift.Stdout, "stack dev is locked by an update")
	assert.Equal(t, "false", drift.Outputs["drift"], "what the update changed is not drift:\n%s", drift.Summary)
	require.Equal(t, 0, update.wait().Exit)
}
