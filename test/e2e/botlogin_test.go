package e2e_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/test/githubtest"
)

// The README's merge-queue flow with the workflow's GITHUB_TOKEN, against a
// GitHub that names a bot editor in GraphQL as GitHub does ("github-actions",
// no "[bot]"; REST and the viewer say "github-actions[bot]"). The queue's
// check edits the pull request's comment to write its section: the
// action's own edit. The push deploy reads the comment's edit history,
// must know "github-actions" as its own account (a Bot, whose login GraphQL
// gives without "[bot]"), or require would refuse the plan it was built
// to apply on every merge.
func TestMergeQueue_ARequireDeployWithTheWorkflowTokenKnowsItsOwnEdits(t *testing.T) {
	e := newEnv(t)
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
