package app

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/github"
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
