package comment_test

import (
	"context"
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
