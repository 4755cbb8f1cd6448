package comment_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/comment"
	"github.com/org/tap-deploy/internal/github"
	"github.com/org/tap-deploy/test/githubtest"
)

// TestRedTeam_TheActionsOwnEditsAreNotAnotherAccountsUnderABotToken:
// GitHub's GraphQL API names a bot in actor fields (userContentEdits'
// editor) by the Bot's login, without the "[bot]" suffix: "github-actions",
// "tap-deployer". The viewer query and REST (the comment's author) say
// "github-actions[bot]". ForeignEditors compares the two with EqualFold,
// so with the workflow's GITHUB_TOKEN or an App's installation token (the
// README's default and its recommended alternative) every edit the action
// makes of its own comment (a second preview, the merge queue's section,
// a review stack's status) is "an edit by github-actions, not by this
// action (github-actions[bot])". Effects: the third preview deletes and
// recreates the comment, warning that it was edited by someone else; and
// under reviewed-plan: require every deploy whose comment the action edited
// even once is refused, in particular every merge-queue deploy (the
// queue's check always edits the comment to write its section before the
// push deploy reads it), with no way out but an unreviewed dispatch: the
// "new preview replaces it" the refusal names is edited again by the next
// queue check. The fake answered GraphQL with REST's login, which hid it.
//
// Fix: compare accounts, not spellings: read the editor's databaseId (and
// the comment author's user.id, the viewer's databaseId) and compare ids;
// or normalise a Bot actor's login by adding "[bot]" (editor { __typename
// login }) before comparing. Make the fake answer GraphQL bot logins as
// GitHub does by default.
func TestRedTeam_TheActionsOwnEditsAreNotAnotherAccountsUnderABotToken(t *testing.T) {
	for _, token := range []struct{ name, token, login string }{
		{"GITHUB_TOKEN", githubtest.Token, "github-actions[bot]"},
		{"an App's installation token", githubtest.AppToken, githubtest.AppLogin},
	} {
		t.Run(token.name, func(t *testing.T) {
			fake := githubtest.New()
			defer fake.Close()
			fake.AnswerBotLoginsAsGitHubDoes()
			var waits []time.Duration
			gh, err := github.New(fake.APIURL(), token.token, instant(&waits))
			require.NoError(t, err)
			ctx := context.Background()

			first, err := comment.Upsert(ctx, gh, target, body("one"))
			require.NoError(t, err)
			// The merge queue's check writes its section: the action's own edit.
			_, err = comment.UpdateSection(ctx, gh, target, "merge-queue", "queued plan")
			require.NoError(t, err)

			c, err := comment.Find(ctx, gh, target)
			require.NoError(t, err)
			require.NotNil(t, c)
			viewer, err := gh.Viewer(ctx)
			require.NoError(t, err)
			require.Equal(t, token.login, viewer)
			editors, err := comment.ForeignEditors(ctx, gh, c, viewer)
			require.NoError(t, err)
			assert.Empty(t, editors, "only the action's own account edited the comment")

			again, err := comment.Upsert(ctx, gh, target, body("two"))
			require.NoError(t, err)
			assert.False(t, again.Created, "a comment only the action edited is edited in place, its merge-queue section kept")
			assert.Equal(t, first.Comment.ID, again.Comment.ID)
			assert.Empty(t, again.EditedBy)
		})
	}
}

// TestRedTeam_APreviewReplacesACommentWhoseHistoryIsTooLongToRead: Edits
// reads at most maxEditPages pages of userContentEdits and otherwise
// fails. Anyone with write access can edit the action's comment more
// times than that (5,000 on GitHub; 100 in the fake, whose pages hold 2).
// Upsert treats a history it cannot read as clean and edits the comment
// in place, keeping the history; every deploy under reviewed-plan: require
// then refuses with "the comment's edit history cannot be read", and the
// way out its message and the README name ("a new preview replaces it")
// never happens: each preview edits the same comment again. Only deleting
// the comment by hand unblocks deploys, which nothing tells the operator.
//
// Fix: Upsert replaces a comment whose history it cannot read (deleting
// and recreating the action's own comment is always safe), or Edits stops
// at the first foreign editor instead of failing on a long history.
func TestRedTeam_APreviewReplacesACommentWhoseHistoryIsTooLongToRead(t *testing.T) {
	fake := githubtest.New()
	defer fake.Close()
	var waits []time.Duration
	gh := client(t, fake, &waits)
	ctx := context.Background()

	first, err := comment.Upsert(ctx, gh, target, body("one"))
	require.NoError(t, err)
	for i := range 101 {
		fake.EditAs(first.Comment.ID, "mallory", body("forged "+strconv.Itoa(i)))
	}
	c, err := comment.Find(ctx, gh, target)
	require.NoError(t, err)
	_, err = comment.ForeignEditors(ctx, gh, c, "github-actions[bot]")
	require.Error(t, err, "the history is longer than the action reads")

	res, err := comment.Upsert(ctx, gh, target, body("two"))
	require.NoError(t, err)
	assert.True(t, res.Created, "a comment whose history cannot be read is replaced, so that deploys can trust the new plan")
	c, err = comment.Find(ctx, gh, target)
	require.NoError(t, err)
	_, err = comment.ForeignEditors(ctx, gh, c, "github-actions[bot]")
	assert.NoError(t, err, "the deploy after this preview can read the comment's history")
}
