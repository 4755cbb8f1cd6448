package e2e_test

// Promotion, end to end: prod deploys only what staging runs, from the
// same backend, and records where it came from.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/stack"
	"github.com/org/tap-deploy/test/sandbox"
)

func staging(more map[string]string) map[string]string {
	in := map[string]string{"environment": "staging"}
	for k, v := range more {
		in[k] = v
	}
	return in
}

func promoteToProd(more map[string]string) map[string]string {
	in := map[string]string{"environment": "prod", "promote-from": "staging"}
	for k, v := range more {
		in[k] = v
	}
	return in
}

func TestPromote_ProdRepeatsStagingsUpdateAndRecordsIt(t *testing.T) {
	e := newEnv(t)
	require.Equal(t, 0, e.run("push", fixture(t, "push.with-new-branch.json"), staging(nil)).Exit)

	prod := e.run("push", fixture(t, "push.with-new-branch.json"), promoteToProd(nil))
	require.Equal(t, 0, prod.Exit, prod.String())
	assert.Contains(t, prod.Stdout, "promoted from staging, update 1: the same commit 6113728")
	assert.Contains(t, prod.Summary, "Deploy (promoted from staging, update 1) of `tap` / `prod`")
	deps := e.GitHub.Deployments()
	require.NotEmpty(t, deps)
	last := deps[len(deps)-1]
	assert.Equal(t, "prod", last.Environment)
	assert.True(t, strings.HasPrefix(last.Description, "promoted from staging, update 1"), last.Description)

	hist := e.run("workflow_dispatch", fixture(t, "workflow_dispatch.json"), map[string]string{"environment": "prod", "command": "history"})
	require.Equal(t, 0, hist.Exit, hist.String())
	assert.Contains(t, hist.Stdout, "promoted from staging@1")
}

func TestPromote_RefusedForAnotherCommit(t *testing.T) {
	e := newEnv(t)
	require.Equal(t, 0, e.run("push", fixture(t, "push.with-new-branch.json"), staging(nil)).Exit)
	const other = "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"
	prod := e.run("push", pushOf(t, other, headSHA), promoteToProd(nil))
	assert.Equal(t, 1, prod.Exit, prod.String())
	assert.Contains(t, prod.Stdout, "Refusing to promote from staging; nothing was changed")
	assert.Contains(t, prod.Stdout, "a different commit: staging runs 6113728 (version 1), this deploy is of a1a1a1a")
	assert.NoDirExists(t, filepath.Join(e.state, ".pulumi", "stacks", "tap", "prod.json"))
	for _, r := range e.cloudState().Resources {
		assert.NotContains(t, r.ID, "tap-prod-", "nothing of prod was created")
	}
}

func TestPromote_RefusedForAnotherActionVersion(t *testing.T) {
	e := newEnv(t)
	require.Equal(t, 0, e.run("push", fixture(t, "push.with-new-branch.json"), staging(nil)).Exit)
	// Staging's update was made by another release of the action.
	rewriteLatestHistory(t, e, "staging", func(cfg map[string]any) {
		cfg[stack.ActionVersionKey] = "v0.9.0"
	})
	prod := e.run("push", fixture(t, "push.with-new-branch.json"), promoteToProd(nil))
	assert.Equal(t, 1, prod.Exit, prod.String())
	assert.Contains(t, prod.Stdout, "a different tap-deploy: staging was deployed by v0.9.0 (version 1)")
}

func TestPromote_RefusedAfterAFailedStagingUpdate(t *testing.T) {
	e := newEnv(t)
	require.Equal(t, 0, e.run("push", fixture(t, "push.with-new-branch.json"), staging(nil)).Exit)
	e.Vars[sandbox.EnvFailUpdate] = "aws:lambda/function:Function"
	failed := e.run("push", fixture(t, "push.with-new-branch.json"), staging(map[string]string{"config": "lambdaMemoryMb=512"}))
	require.Equal(t, 1, failed.Exit, failed.String())
	delete(e.Vars, sandbox.EnvFailUpdate)

	prod := e.run("push", fixture(t, "push.with-new-branch.json"), promoteToProd(nil))
	assert.Equal(t, 1, prod.Exit, prod.String())
	assert.Contains(t, prod.Stdout, "the latest update of staging (version 2) failed: promote only what succeeded there")
}

func TestPromote_RefusedWhileStagingsShiftDidNotComplete(t *testing.T) {
	e := newEnv(t)
	e.AWS.MinuteIs(100 * time.Millisecond)
	require.Equal(t, 0, e.run("push", fixture(t, "push.with-new-branch.json"), staging(nil)).Exit)
	e.AWS.AlarmDuringShift("tap-staging-api-handler", "tap-staging-api-handler-live-errors")
	stopped := e.run("push", fixture(t, "push.with-new-branch.json"), staging(map[string]string{"config": "lambdaMemoryMb=512", "deployment-preference": "Canary10Percent5Minutes"}))
	require.Equal(t, 1, stopped.Exit, stopped.String())

	prod := e.run("push", fixture(t, "push.with-new-branch.json"), promoteToProd(map[string]string{"config": "lambdaMemoryMb=512"}))
	assert.Equal(t, 1, prod.Exit, prod.String())
	assert.Contains(t, prod.Stdout, "tap-staging-api-handler: staging serves version 1, not version 2 of its latest update: the traffic shift did not complete")
}

// rewriteLatestHistory changes the configuration recorded by a stack's
// newest update in the file backend, as another release would have
// written it.
func rewriteLatestHistory(t *testing.T, e *env, stackName string, change func(cfg map[string]any)) {
	t.Helper()
	dir := filepath.Join(e.state, ".pulumi", "history", "tap", stackName)
	files, err := filepath.Glob(filepath.Join(dir, "*.history.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "history of %s in %s", stackName, dir)
	sort.Strings(files)
	latest := files[len(files)-1]
	b, err := os.ReadFile(latest)
	require.NoError(t, err)
	var entry map[string]any
	require.NoError(t, json.Unmarshal(b, &entry))
	cfg, ok := entry["config"].(map[string]any)
	require.True(t, ok, "the history entry records its configuration")
	change(cfg)
	out, err := json.Marshal(entry)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(latest, out, 0o644))
}
