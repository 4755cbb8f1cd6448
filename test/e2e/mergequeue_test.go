package e2e_test

// Merge queues, end to end: a merge_group check waits for its base to be
// deployed, previews the commit that will land, writes its plan into the
// pull request's comment, and the push deploy after the merge applies it
// under reviewed-plan: require.

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/comment"
	"github.com/org/tap-deploy/test/fixtures"
	"github.com/org/tap-deploy/test/githubtest"
)

// queueHead is the commit the merge queue builds for pull request #2.
const queueHead = "2ffea6db159f6b6c47a24e778fb9ef40cf6b1c7d"

// mergeGroup is a checks_requested payload for pull request #2 of the
// fixtures' repository, landing queueHead on base.
func mergeGroup(t *testing.T, base string) string {
	t.Helper()
	var push map[string]any
	require.NoError(t, json.Unmarshal(fixtures.Read(t, "push.with-new-branch.json"), &push))
	repo := push["repository"]
	return modified(t, "merge_group.checks_requested.json", func(p map[string]any) {
		g := p["merge_group"].(map[string]any)
		g["head_sha"], g["base_sha"], g["base_ref"] = queueHead, base, "refs/heads/master"
		g["head_ref"] = "refs/heads/gh-readonly-queue/master/pr-2-" + base
		g["head_commit"].(map[string]any)["id"] = queueHead
		p["repository"] = repo
		delete(p, "organization")
	})
}

// pushOf is the push of commit sha to master after before.
func pushOf(t *testing.T, sha, before string) string {
	return modified(t, "push.with-new-branch.json", func(p map[string]any) {
		p["after"], p["before"] = sha, before
		p["head_commit"].(map[string]any)["id"] = sha
	})
}

func queueSection(t *testing.T, e *env) string {
	t.Helper()
	comments := e.GitHub.Comments(2)
	require.Len(t, comments, 1, "one comment per pull request")
	text, ok := comment.SectionText(comments[0].Body, "merge-queue")
	require.True(t, ok, "the comment has the merge queue's section:\n%s", comments[0].Body)
	return text
}

func TestMergeQueue_TheCheckPreviewsWhatLandsAndTheDeployAppliesItUnderRequire(t *testing.T) {
	e := newEnv(t)
	change := map[string]string{"config": "lambdaMemoryMb=512"}
	require.Equal(t, 0, e.run("push", fixture(t, "push.with-new-branch.json"), nil).Exit, "the base is deployed")
	e.GitHub.SetPullRequestHead(2, prHeadSHA)
	reviewedID := previewPR(t, e, change)

	check := e.run("merge_group", mergeGroup(t, headSHA), mergeInputs(change, "require"))
	require.Equal(t, 0, check.Exit, check.String())
	assert.Contains(t, check.Stdout, "stack dev runs the merge group's base 6113728")
	section := queueSection(t, e)
	assert.True(t, strings.HasPrefix(section, "<!-- tap-deploy:plan "), "the section starts with its plan")
	assert.Contains(t, section, "Merge queue preview of `tap` / `dev`")
	assert.Contains(t, section, "The merge applies the plan reviewed on pull request #2 ("+reviewedID+")")
	queuedID := planID.FindStringSubmatch(section)[1]

	// The queue merges: master moves to the queue's commit, which GitHub
	// lists as pull request #2's merge commit.
	e.GitHub.SetCommitPRs(queueHead, githubtest.PR{Number: 2, HeadSHA: prHeadSHA, MergeCommit: queueHead})
	e.GitHub.SetCompare(headSHA, queueHead, "ahead")
	deploy := e.run("push", pushOf(t, queueHead, headSHA), mergeInputs(change, "require"))
	require.Equal(t, 0, deploy.Exit, deploy.String())
	assert.Contains(t, deploy.Stdout, "merge queue previewed the pushed commit 2ffea6d")
	assert.Contains(t, e.GitHub.Comments(2)[0].Body, "Applied the reviewed plan "+queuedID+" of pull request #2.")
}

func mergeInputs(in map[string]string, reviewedPlan string) map[string]string {
	out := map[string]string{"reviewed-plan": reviewedPlan}
	for k, v := range in {
		out[k] = v
	}
	return out
}

func TestMergeQueue_TheCheckWaitsForItsBaseToBeDeployed(t *testing.T) {
	e := newEnv(t)
	require.Equal(t, 0, e.run("push", fixture(t, "push.with-new-branch.json"), nil).Exit)
	const base = "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0"
	e.GitHub.SetCompare(base, headSHA, "behind") // the deployed commit is older than the base
	e.GitHub.SetCompare(headSHA, base, "ahead")
	e.GitHub.SetPullRequestHead(2, prHeadSHA)
	previewPR(t, e, nil)

	// Generous bounds: CI runs this beside other packages on two cores.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	check := e.start(ctx, "merge_group", mergeGroup(t, base), map[string]string{"lock-timeout": "8m"})
	require.Eventually(t, func() bool {
		return strings.Contains(check.stdout.String(), "waiting for stack dev to deploy the merge group's base b0b0b0b")
	},
		3*time.Minute, 100*time.Millisecond, "the check waits: %s", check.stdout)
	// The entry ahead lands and deploys.
	deployBase := e.run("push", pushOf(t, base, headSHA), nil)
	require.Equal(t, 0, deployBase.Exit, deployBase.String())
	res := check.wait()
	require.Equal(t, 0, res.Exit, res.String())
	assert.Contains(t, res.Stdout, "stack dev runs the merge group's base b0b0b0b")
	assert.Contains(t, queueSection(t, e), "Merge queue preview")
}

func TestMergeQueue_ABaseNeverDeployedFailsTheCheckAndSaysWhy(t *testing.T) {
	e := newEnv(t)
	require.Equal(t, 0, e.run("push", fixture(t, "push.with-new-branch.json"), nil).Exit)
	const base = "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0"
	e.GitHub.SetCompare(base, headSHA, "behind")
	res := e.run("merge_group", mergeGroup(t, base), map[string]string{"lock-timeout": "3s"})
	assert.Equal(t, 1, res.Exit, res.String())
	assert.Contains(t, res.Stdout, "The merge group's base is not deployed yet; the check failed and the queue drops the entry")
	assert.Contains(t, res.Stdout, "it runs 6113728, which is behind the base")
}

func TestMergeQueue_AnEntryThatBreaksAPolicyFailsItsCheckAndDeploysNothing(t *testing.T) {
	e := newEnv(t)
	require.Equal(t, 0, e.run("push", fixture(t, "push.with-new-branch.json"), nil).Exit)
	before := e.cloudState().Calls
	res := e.run("merge_group", mergeGroup(t, headSHA), map[string]string{"policy-overrides": "CKV_AWS_1234=disabled"})
	assert.Equal(t, 1, res.Exit, res.String())
	assert.Contains(t, res.Stdout, "mandatory policy violation")
	assert.Equal(t, before, e.cloudState().Calls, "the check changed nothing in the cloud")
}

func TestMergeQueue_AnEntryThatDiffersFromTheReviewedPlanFailsUnderRequire(t *testing.T) {
	e := newEnv(t)
	require.Equal(t, 0, e.run("push", fixture(t, "push.with-new-branch.json"), nil).Exit)
	e.GitHub.SetPullRequestHead(2, prHeadSHA)
	previewPR(t, e, map[string]string{"config": "lambdaMemoryMb=512"})
	// The commit that lands changes more than the reviewed one did.
	res := e.run("merge_group", mergeGroup(t, headSHA), map[string]string{"config": "lambdaMemoryMb=1024", "reviewed-plan": "require"})
	assert.Equal(t, 1, res.Exit, res.String())
	assert.Contains(t, res.Stdout, "The merge group differs from the reviewed plan; the queue drops the entry")
	assert.Contains(t, queueSection(t, e), "Not merged: the merge would apply a plan that differs from the one reviewed on pull request #2.")
}
