package e2e_test

// Safe deploys, end to end: the built binary publishes new versions and
// asks CodeDeploy (test/awsfake, over the sandbox cloud) to shift each
// function's live alias; the fake moves the alias in scaled time and can
// set an alarm off during a shift, as CodeDeploy would see it.

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/shift"
	"github.com/org/tap-deploy/stack"
)

// liveVersions is where every function's live alias points in the cloud,
// by function name.
func liveVersions(t *testing.T, e *env) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, a := range e.cloudState().ByType("aws:lambda/alias:Alias") {
		fn := fmt.Sprint(a.Inputs["functionName"])
		fn = fn[strings.LastIndex(fn, ":")+1:]
		out[fn] = fmt.Sprint(a.Outputs["functionVersion"])
		if rc, ok := a.Outputs["routingConfig"].(map[string]any); ok && len(rc) > 0 {
			out[fn] += fmt.Sprintf(" %v", rc["additionalVersionWeights"])
		}
	}
	return out
}

func everyFunctionOn(v string) map[string]string {
	out := map[string]string{}
	for _, n := range stack.FunctionNames(stackConfig()) {
		out[n] = v
	}
	return out
}

func stackConfig() stack.Config {
	return stack.Config{Base: stack.Base{Project: "tap", Environment: "dev", Region: "eu-west-1"}, EnvironmentSuffix: "dev"}
}

const apiGroup = "tap-dev-api-handler"

// Every push deploys the same commit with a new memory size: a new
// version of every function.
func memory(mb int, more map[string]string) map[string]string {
	in := map[string]string{"config": fmt.Sprintf("lambdaMemoryMb=%d", mb)}
	for k, v := range more {
		in[k] = v
	}
	return in
}

func TestTraffic_ACanaryMovesEveryLiveAliasInStepsAndIsNotDrift(t *testing.T) {
	e := newEnv(t)
	e.AWS.MinuteIs(150 * time.Millisecond)
	first := e.run("push", fixture(t, "push.with-new-branch.json"), nil)
	require.Equal(t, 0, first.Exit, first.String())
	assert.Equal(t, everyFunctionOn("1"), liveVersions(t, e), "a new stack's aliases start on its first version")
	assert.Empty(t, e.AWS.Deployments(), "nothing to shift on a first deploy")

	res := e.run("push", fixture(t, "push.with-new-branch.json"), memory(512, map[string]string{"deployment-preference": "Canary10Percent5Minutes"}))
	require.Equal(t, 0, res.Exit, res.String())
	assert.Equal(t, everyFunctionOn("2"), liveVersions(t, e))
	deps := e.AWS.Deployments()
	require.Len(t, deps, 3, "one shift per function")
	for _, d := range deps {
		assert.Equal(t, "CodeDeployDefault.LambdaCanary10Percent5Minutes", d.Config)
		assert.Equal(t, shift.Succeeded, d.Status)
		assert.Equal(t, "1", d.Current)
		assert.Equal(t, "2", d.Target)
		assert.Equal(t, []int{10, 100}, d.Shares, "%s: 10%% first, then the rest", d.Group)
	}
	assert.Contains(t, res.Stdout, "tap-dev-api-handler: version 2 takes 10% of traffic")
	assert.Contains(t, res.Summary, "Traffic moved to the new versions (Canary10Percent5Minutes, through CodeDeploy)")

	drift := e.run("workflow_dispatch", fixture(t, "workflow_dispatch.json"), map[string]string{"command": "drift"})
	require.Equal(t, 0, drift.Exit, drift.String())
	assert.Equal(t, "false", drift.Outputs["drift"], "where CodeDeploy moved the aliases is not drift:\n%s", drift.Summary)
}

func TestTraffic_AnAlarmStopsTheReleaseAndTheNextDeployConverges(t *testing.T) {
	e := newEnv(t)
	e.AWS.MinuteIs(300 * time.Millisecond)
	require.Equal(t, 0, e.run("push", fixture(t, "push.with-new-branch.json"), nil).Exit)

	e.AWS.AlarmDuringShift(apiGroup, "tap-dev-api-handler-live-errors")
	bad := e.run("push", fixture(t, "push.with-new-branch.json"), memory(512, map[string]string{"deployment-preference": "Linear10PercentEvery1Minute"}))
	require.Equal(t, 1, bad.Exit, bad.String())
	assert.Contains(t, bad.Stdout, "The traffic shift stopped: alarm tap-dev-api-handler-live-errors fired")
	assert.Equal(t, everyFunctionOn("1"), liveVersions(t, e), "every function serves the old release")
	for _, d := range e.AWS.Deployments() {
		assert.Equal(t, shift.Stopped, d.Status, "%s", d.Group)
	}
	assert.Contains(t, bad.Summary, "applied, but the new versions take no traffic")
	dep := e.GitHub.Deployments()
	require.NotEmpty(t, dep)
	assert.Equal(t, "failure", dep[len(dep)-1].State(), "the GitHub deployment failed with the shift")

	// The fix is deployed: the same commit and configuration shift again,
	// with nothing to update.
	e.AWS.AlarmDuringShift(apiGroup, "")
	again := e.run("push", fixture(t, "push.with-new-branch.json"), memory(512, map[string]string{"deployment-preference": "Linear10PercentEvery1Minute"}))
	require.Equal(t, 0, again.Exit, again.String())
	assert.Equal(t, everyFunctionOn("2"), liveVersions(t, e))
	assert.Equal(t, "false", again.Outputs["has-changes"], "the update had nothing left to change")

	// A rollback publishes the old configuration as a new version and
	// shifts to it all at once.
	back := e.run("workflow_dispatch", fixture(t, "workflow_dispatch.json"), map[string]string{"command": "rollback", "rollback-to": "1", "deployment-preference": "Canary10Percent30Minutes"})
	require.Equal(t, 0, back.Exit, back.String())
	all := e.AWS.Deployments()
	assert.Equal(t, "CodeDeployDefault.LambdaAllAtOnce", all[len(all)-1].Config)
	assert.Equal(t, everyFunctionOn("3"), liveVersions(t, e))
}

func TestTraffic_AShiftLeftByAKilledRunIsWaitedForByTheNext(t *testing.T) {
	e := newEnv(t)
	e.AWS.MinuteIs(100 * time.Millisecond)
	require.Equal(t, 0, e.run("push", fixture(t, "push.with-new-branch.json"), nil).Exit)

	e.AWS.Hold(apiGroup, true)
	// Generous bounds: CI runs this beside other packages on two cores.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	killed := e.start(ctx, "push", fixture(t, "push.with-new-branch.json"), memory(512, nil))
	require.Eventually(t, func() bool { return len(e.AWS.Deployments()) == 3 }, 4*time.Minute, 100*time.Millisecond, "the shifts started: %s", killed.stdout)
	require.NoError(t, killed.cmd.Process.Kill())
	killed.wait()

	next := e.start(ctx, "push", fixture(t, "push.with-new-branch.json"), memory(512, nil))
	require.Eventually(t, func() bool {
		return strings.Contains(next.stdout.String(), "waiting for the traffic shift of an earlier deploy")
	},
		3*time.Minute, 100*time.Millisecond, "the next run waits: %s", next.stdout)
	e.AWS.Hold(apiGroup, false)
	res := next.wait()
	require.Equal(t, 0, res.Exit, res.String())
	assert.Equal(t, everyFunctionOn("2"), liveVersions(t, e))
	assert.Len(t, e.AWS.Deployments(), 3, "the earlier shifts finished the job; nothing was left to shift")
}
