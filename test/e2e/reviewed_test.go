package e2e_test

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/test/githubtest"
	"github.com/org/tap-deploy/test/sandbox"
)

// prHeadSHA is the head of pull request #2 in the real payloads.
const prHeadSHA = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"

var planID = regexp.MustCompile("\\*\\*Plan\\*\\* `([0-9a-f]{12})`")

// previewPR runs pull request #2's preview with the given inputs and
// returns the plan id its comment shows.
func previewPR(t *testing.T, e *env, in map[string]string) string {
	t.Helper()
	res := e.run("pull_request", fixture(t, "pull_request.opened.json"), in)
	require.Equal(t, 0, res.Exit, res.String())
	comments := e.GitHub.Comments(2)
	require.Len(t, comments, 1)
	m := planID.FindStringSubmatch(comments[0].Body)
	require.NotNil(t, m, "the comment shows the plan id:\n%s", comments[0].Body)
	assert.Contains(t, comments[0].Body, "<!-- tap-deploy:plan ", "and carries the plan")
	assert.Contains(t, res.Summary, "<!-- tap-deploy:plan ", "so does the job summary")
	return m[1]
}

// mergeOfPR2 makes the pushed commit the merge of pull request #2.
func mergeOfPR2(e *env) {
	e.GitHub.SetCommitPRs(headSHA, githubtest.PR{Number: 2, HeadSHA: prHeadSHA})
}

func TestReviewedPlan_AMergeWithNothingInBetweenAppliesTheReviewedPlan(t *testing.T) {
	e := newEnv(t)
	id := previewPR(t, e, nil)
	mergeOfPR2(e)
	res := e.run("push", fixture(t, "push.with-new-branch.json"), map[string]string{"reviewed-plan": "require"})
	require.Equal(t, 0, res.Exit, res.String())
	comments := e.GitHub.Comments(2)
	require.Len(t, comments, 1, "the merged PR's comment is updated")
	assert.Contains(t, comments[0].Body, "Applied the reviewed plan "+id+" of pull request #2.")
	assert.Contains(t, comments[0].Body, "constrained to the plan of its gated preview")
	assert.Greater(t, len(e.cloudState().Resources), 60)
}

func TestReviewedPlan_AChangeDeployedInBetweenIsRefusedUnderRequireAndReportedUnderWarn(t *testing.T) {
	e := newEnv(t)
	require.Equal(t, 0, e.run("push", fixture(t, "push.with-new-branch.json"), nil).Exit)
	pr := map[string]string{"config": "lambdaTimeoutSeconds=20"}
	previewPR(t, e, pr)

	// Someone deploys another change before the merge.
	other := e.run("workflow_dispatch", fixture(t, "workflow_dispatch.json"), map[string]string{"command": "up", "config": "lambdaMemoryMb=512", "commit-order": "warn"})
	require.Equal(t, 0, other.Exit, other.String())
	e.GitHub.SetCompare(dispatchSHA, headSHA, "ahead")
	mergeOfPR2(e)
	before := e.cloudState().Calls["update"]

	require := func(in map[string]string) map[string]string { in["config"] = pr["config"]; return in }
	refused := e.run("push", fixture(t, "push.with-new-branch.json"), require(map[string]string{"reviewed-plan": "require"}))
	assert.Equal(t, 1, refused.Exit, refused.String())
	assert.Contains(t, refused.Stdout, "Refusing to deploy what was not reviewed")
	assert.Contains(t, refused.Stdout, "changes differently than reviewed: update aws:lambda/function:Function api-handler (memorySize, timeout)")
	assert.Contains(t, refused.Stdout, "a different starting state: the review saw the stack at version 1, the deploy finds version 2")
	assert.Contains(t, refused.Stdout, "Re-run the pull request's preview")
	assert.Equal(t, before, e.cloudState().Calls["update"], "the cloud is unchanged")
	assert.EqualValues(t, 512, functionState(t, e, "api-handler").Inputs["memorySize"])
	assert.EqualValues(t, 10, functionState(t, e, "api-handler").Inputs["timeout"])
	assert.Contains(t, e.GitHub.Comments(2)[0].Body, "Not deployed: the plan differs from the one reviewed on pull request #2")

	warned := e.run("push", fixture(t, "push.with-new-branch.json"), require(map[string]string{"reviewed-plan": "warn"}))
	assert.Equal(t, 0, warned.Exit, warned.String())
	assert.EqualValues(t, 20, functionState(t, e, "api-handler").Inputs["timeout"])
	for where, text := range map[string]string{"summary": warned.Summary, "comment": e.GitHub.Comments(2)[0].Body} {
		assert.Contains(t, text, "Deploying a plan that differs from the one reviewed on pull request #2", where)
		assert.Contains(t, text, "changes differently than reviewed: update aws:lambda/function:Function api-handler (memorySize, timeout)", where)
	}
}

func TestReviewedPlan_AChangeMadeOutsidePulumiSinceTheReviewIsAStateChange(t *testing.T) {
	e := newEnv(t)
	require.Equal(t, 0, e.run("push", fixture(t, "push.with-new-branch.json"), nil).Exit)
	previewPR(t, e, map[string]string{"config": "lambdaTimeoutSeconds=20"})
	require.NoError(t, sandbox.Store{Path: e.cloud}.Update(func(st *sandbox.State) error {
		for k, r := range st.Resources {
			if r.Type == functionType && r.ID == "tap-dev-api-handler" {
				r.Inputs["memorySize"] = 2048.0 // someone changes it in the console
				r.Outputs["memorySize"] = 2048.0
				st.Resources[k] = r
			}
		}
		return nil
	}))
	mergeOfPR2(e)
	res := e.run("push", fixture(t, "push.with-new-branch.json"), map[string]string{"config": "lambdaTimeoutSeconds=20", "reviewed-plan": "require"})
	assert.Equal(t, 1, res.Exit, res.String())
	assert.Contains(t, res.Stdout, "a different starting state: resources changed outside Pulumi since the review")
	assert.Contains(t, res.Stdout, "changed outside Pulumi: aws:lambda/function:Function api-handler (memorySize)")
}

func TestPlanConstraint_AStackThatChangesBetweenTheDeploysPreviewAndItsUpStopsTheUpdate(t *testing.T) {
	e := newEnv(t)
	require.Equal(t, 0, e.run("push", fixture(t, "push.with-new-branch.json"), nil).Exit)

	// This deploy's preview is slow (every diff waits)...
	e.Vars[sandbox.EnvDiffDelay] = "150ms"
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	slow := e.start(ctx, "push", fixture(t, "push.with-new-branch.json"), map[string]string{"config": "lambdaTimeoutSeconds=20"})
	delete(e.Vars, sandbox.EnvDiffDelay)
	deadline := time.Now().Add(90 * time.Second)
	for e.cloudCalls("diff") == 0 {
		require.True(t, time.Now().Before(deadline), "the slow preview never started")
		time.Sleep(50 * time.Millisecond)
	}
	// ...and another deploy lands in the middle of it.
	other := e.run("push", fixture(t, "push.with-new-branch.json"), map[string]string{"config": "lambdaMemoryMb=512"})
	require.Equal(t, 0, other.Exit, other.String())
	updates := e.cloudState().Calls["update"]

	res := slow.wait()
	assert.Equal(t, 1, res.Exit, res.String())
	assert.Contains(t, res.Stdout, "The stack changed between the preview and the update; nothing was changed")
	assert.Equal(t, updates, e.cloudState().Calls["update"], "the planned update changed nothing")
	assert.EqualValues(t, 512, functionState(t, e, "api-handler").Inputs["memorySize"], "the other deploy's change stays")
	assert.EqualValues(t, 10, functionState(t, e, "api-handler").Inputs["timeout"])
}
