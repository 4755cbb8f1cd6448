package e2e_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/test/githubtest"
)

// TestRedTeam_AMergeQueueDeployUnderRequireWithTheWorkflowToken: the
// README's merge-queue flow with the workflow's GITHUB_TOKEN, against a
// GitHub that names a bot editor in GraphQL as GitHub does ("github-actions",
// no "[bot]"; REST and the viewer say "github-actions[bot]"). The queue's
// check edits the pull request's comment to write its section: the
// action's own edit. The push deploy reads the comment's edit history,
// takes "github-actions" for another account, and under reviewed-plan:
// require refuses the plan it was built to apply, on every merge. The
// refusal's way out, "a new preview replaces it", is undone by the next
// queue check's section; only an unreviewed dispatch deploys.
//
// Fix: compare account ids, or a Bot actor's login with "[bot]" added, in
// comment.ForeignEditors; make githubtest answer GraphQL bot logins as
// GitHub does by default.
func TestRedTeam_AMergeQueueDeployUnderRequireWithTheWorkflowToken(t *testing.T) {
	e := newEnv(t)
	e.GitHub.AnswerBotLoginsAsGitHubDoes()
	change := map[string]string{"config": "lambdaMemoryMb=512"}
	require.Equal(t, 0, e.run("push", fixture(t, "push.with-new-branch.json"), nil).Exit, "the base is deployed")
	e.GitHub.SetPullRequestHead(2, prHeadSHA)
	previewPR(t, e, change)

	check := e.run("merge_group", mergeGroup(t, headSHA), mergeInputs(change, "require"))
	require.Equal(t, 0, check.Exit, check.String())
	queuedID := planID.FindStringSubmatch(queueSection(t, e))[1]

	e.GitHub.SetCommitPRs(queueHead, githubtest.PR{Number: 2, HeadSHA: prHeadSHA, MergeCommit: queueHead})
	e.GitHub.SetCompare(headSHA, queueHead, "ahead")
	deploy := e.run("push", pushOf(t, queueHead, headSHA), mergeInputs(change, "require"))
	assert.NotContains(t, deploy.Stdout, "not by this action")
	require.Equal(t, 0, deploy.Exit, deploy.String())
	assert.Contains(t, e.GitHub.Comments(2)[0].Body, "Applied the reviewed plan "+queuedID+" of pull request #2.")
}
