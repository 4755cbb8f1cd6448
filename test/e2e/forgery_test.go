package e2e_test

// The reviewed plan cannot be forged: what the merge deploy applies is
// what the pull request's comment shows, checked against the comment's
// text, its edit history and where its plan line stands.

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/test/githubtest"
)

// reviewedPR deploys the stack, then previews pull request #2 with a
// change that replaces nothing but updates the API handler, and returns
// its comment.
func reviewedPR(t *testing.T, e *env) githubtest.Comment {
	t.Helper()
	require.Equal(t, 0, e.run("push", fixture(t, "push.with-new-branch.json"), nil).Exit)
	previewPR(t, e, map[string]string{"config": "lambdaTimeoutSeconds=20"})
	mergeOfPR2(e)
	e.GitHub.SetCompare(headSHA, headSHA, "identical")
	return e.GitHub.Comments(2)[0]
}

func mergeRequire(t *testing.T, e *env) result {
	t.Helper()
	return e.run("push", fixture(t, "push.with-new-branch.json"), map[string]string{"config": "lambdaTimeoutSeconds=20", "reviewed-plan": "require"})
}

func TestForgery_AnEditOfTheCommentsVisiblePlanIsRefused(t *testing.T) {
	for _, editor := range []string{"mallory", "github-actions[bot]"} {
		t.Run("edited by "+editor, func(t *testing.T) {
			e := newEnv(t)
			c := reviewedPR(t, e)
			require.Contains(t, c.Body, "`timeout`: `10` → `20`")
			// The visible row now claims a harmless change; the plan line stays.
			e.GitHub.EditAs(c.ID, editor, strings.Replace(c.Body, "`timeout`: `10` → `20`", "`description`: `\"a\"` → `\"b\"`", 1))
			updates := e.cloudState().Calls["update"]

			res := mergeRequire(t, e)
			assert.Equal(t, 1, res.Exit, res.String())
			assert.Contains(t, res.Stdout, "Refusing to deploy what was not reviewed")
			assert.Contains(t, res.Stdout, "the comment does not show what this deploy would apply: line")
			if editor == "mallory" {
				assert.Contains(t, res.Stdout, "the comment was edited by mallory")
			}
			assert.Equal(t, updates, e.cloudState().Calls["update"], "the stack is unchanged")
			assert.EqualValues(t, 10, functionState(t, e, "api-handler").Inputs["timeout"])
		})
	}
	t.Run("untouched, the same flow deploys", func(t *testing.T) {
		e := newEnv(t)
		reviewedPR(t, e)
		res := mergeRequire(t, e)
		require.Equal(t, 0, res.Exit, res.String())
		assert.EqualValues(t, 20, functionState(t, e, "api-handler").Inputs["timeout"])
		body := e.GitHub.Comments(2)[0].Body
		assert.Contains(t, body, "`timeout`: `10` → `20`", "the preview reviewers read stays in the comment")
		assert.Regexp(t, "Applied the reviewed plan [0-9a-f]{12} of pull request #2", body, "the deploy reports in a section of its own")
	})
}

func TestForgery_APlanLineFromAnotherPullRequestIsRefused(t *testing.T) {
	e := newEnv(t)
	c := reviewedPR(t, e)
	// The same preview copied to pull request #9's comment, marker and all.
	e.GitHub.AddComment(9, "github-actions[bot]", strings.Replace(c.Body, "pr=2 ", "pr=9 ", 1))
	e.GitHub.SetCommitPRs(headSHA, githubtest.PR{Number: 9, HeadSHA: prHeadSHA})
	res := mergeRequire(t, e)
	assert.Equal(t, 1, res.Exit, res.String())
	assert.Contains(t, res.Stdout, "the recorded plan was made for Codertocat/Hello-World pull request #2, stack dev, not for Codertocat/Hello-World pull request #9")
	assert.EqualValues(t, 10, functionState(t, e, "api-handler").Inputs["timeout"])
}

func TestForgery_PushingAnOpenPullRequestsPreviewedHeadIsADirectPush(t *testing.T) {
	e := newEnv(t)
	reviewedPR(t, e)
	e.GitHub.SetCommitPRs(headSHA, githubtest.PR{Number: 2, HeadSHA: headSHA, Open: true})
	before := e.GitHub.Comments(2)[0].Body
	res := mergeRequire(t, e)
	assert.Equal(t, 1, res.Exit, res.String())
	assert.Contains(t, res.Stdout, "the push to master merged no pull request (a direct push)")
	assert.Equal(t, before, e.GitHub.Comments(2)[0].Body, "the open pull request's comment is not overwritten")
}

func TestInjection_OutsideTextNeverBecomesAWorkflowCommand(t *testing.T) {
	e := newEnv(t)
	// An actor's name (recorded in the history) and an engine error that
	// quote a workflow command on a line of its own.
	push := modified(t, "push.with-new-branch.json", func(p map[string]any) {
		p["sender"].(map[string]any)["login"] = "mallory\n::error::pwned-by-actor"
	})
	require.Equal(t, 0, e.run("push", push, nil).Exit)
	history := e.run("workflow_dispatch", fixture(t, "workflow_dispatch.json"), map[string]string{"command": "history"})
	require.Equal(t, 0, history.Exit, history.String())

	e.Vars["INJECTED"] = "x\n::error::pwned-by-engine\n::add-mask::run"
	e.Vars["TAP_SANDBOX_ECHO_ENV"] = "INJECTED"
	e.Vars["TAP_SANDBOX_FAIL_UPDATE"] = "api-handler"
	failed := e.run("push", push, map[string]string{"config": "lambdaMemoryMb=512"})
	require.Equal(t, 1, failed.Exit, failed.String())

	for _, out := range []string{history.Stdout, failed.Stdout} {
		for _, line := range honoured(out) {
			// The action's own annotations may quote the text, escaped as
			// command data; the injected commands never start a line.
			for _, injected := range []string{"::error::pwned", "::add-mask::run"} {
				assert.False(t, strings.HasPrefix(line, injected), "the runner would run %q", line)
			}
		}
	}
	assert.Contains(t, failed.Stdout, "INJECTED=x%0A::error::pwned-by-engine", "the engine's error is shown, escaped")
	assert.Contains(t, history.Stdout, "mallory%0A::error::pwned-by-actor", "shown, escaped")
}
