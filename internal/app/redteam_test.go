package app

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/github"
	"github.com/org/tap-deploy/internal/shift"
)

// TestRedTeam_RequireDeploysAPlanWhoseCommentOnlyTheActionEdited: with
// the workflow's GITHUB_TOKEN the action's account is "github-actions[bot]"
// (REST's author, GraphQL's viewer), but GraphQL's userContentEdits names
// the same account's edits by the Bot's login, "github-actions". The
// action edits its own comment in place on every later preview, and
// writes sections into it (the merge queue's plan, a review stack's
// status). editDoubts then reads "edited by github-actions, not by this
// action (github-actions[bot])", and reviewed-plan: require refuses a merge
// of exactly the reviewed plan: every merge-queue deploy (its check always
// edits the comment before the deploy reads it) and every PR previewed an
// even number of times. The README's way out ("a new preview replaces
// it") is undone by the next section the action writes; only an
// unreviewed dispatch deploys.
//
// Fix: compare account ids (editor { ... on Bot { databaseId } ... on
// User { databaseId } } against the author's user.id), or normalise a
// Bot actor's login with its "[bot]" suffix before comparing, in
// comment.ForeignEditors.
func TestRedTeam_RequireDeploysAPlanWhoseCommentOnlyTheActionEdited(t *testing.T) {
	h := reviewedThenMerged(t, "require", previewed(512), prHead)
	// What GitHub's GraphQL API answers for a comment the action created
	// and then edited itself (its second preview, a section).
	h.gh.edits = map[string][]github.CommentEdit{h.gh.comments[fixturePR][0].NodeID: {
		{Editor: "github-actions", At: "2026-11-28T12:00:00Z"}, {Editor: "github-actions", At: "2026-11-28T10:00:00Z"}}}
	require.NoError(t, h.run(), h.log())
	assert.Len(t, h.stack.ups, 1, "the reviewed plan is deployed")
	assert.NotContains(t, h.log(), "not by this action")
}

// TestRedTeam_AnAlarmStopReturnsEveryFunctionToTheOldVersion: SECURITY.md
// promises "A traffic shift that an alarm stops returns all traffic to the
// old version", and the README that when one shift is stopped "every
// function serves the same release: the old one". The shifts of a release
// start seconds apart under one preference and so end within seconds of
// each other: an alarm that fires on one function in the last step of a
// linear shift finds another's shift already Succeeded. stopShifts stops
// only the shifts still running and says of the finished one "had already
// succeeded; version 2 stays live", so the release is left mixed (one
// function on the new code, its neighbours back on the old, the new code
// known bad by the alarm) while the notice's title says "the new versions
// take no traffic".
//
// Fix: return a finished shift's alias to its old version too (an
// AllAtOnce CodeDeploy deployment back to f.Current, or UpdateAlias), and
// say so; at the least, never title the notice "take no traffic" while a
// function serves its new version.
func TestRedTeam_AnAlarmStopReturnsEveryFunctionToTheOldVersion(t *testing.T) {
	h := pushHarness(t)
	h.inputs["deployment-preference"] = "Linear10PercentEvery1Minute"
	h.publishes("2")
	h.traffic.script[apiFunction] = []look{{status: shift.InProgress, share: 90}, {status: shift.Stopped, alarm: "tap-dev-api-handler-live-errors"}}
	h.traffic.script["tap-dev-file-processor"] = []look{{status: shift.InProgress, share: 90}, {status: shift.Succeeded, share: 100}}
	h.traffic.script["tap-dev-stream-processor"] = []look{{status: shift.InProgress, share: 90}}

	require.ErrorIs(t, h.run(), ErrReported)
	assert.Contains(t, h.log(), "The traffic shift stopped: alarm tap-dev-api-handler-live-errors fired")
	for _, f := range []string{apiFunction, "tap-dev-file-processor", "tap-dev-stream-processor"} {
		assert.Equal(t, shift.Alias{Version: "1"}, h.traffic.aliases[f], "%s serves the old version after the alarm stopped the release", f)
	}
	if h.traffic.aliases["tap-dev-file-processor"].Version == "2" {
		assert.NotContains(t, h.summaryText(), "take no traffic", "a function serves its new version")
	}
}
