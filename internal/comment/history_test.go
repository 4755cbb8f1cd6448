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

// GitHub's GraphQL API names a bot in actor fields (userContentEdits'
// editor) by the Bot's login, without the "[bot]" suffix REST and the
// viewer query give it ("github-actions"). The action's own edits of its
// comment (a second preview, the merge queue's section, a review stack's
// status) must read as its own under the workflow's GITHUB_TOKEN and an
// App's installation token, or require would refuse every merge the action
// wrote a section for, and every preview would replace the comment.
func TestForeignEditors_TheActionsOwnEditsAreItsOwnUnderABotToken(t *testing.T) {
	for _, token := range []struct{ name, token, login string }{
		{"GITHUB_TOKEN", githubtest.Token, "github-actions[bot]"},
		{"an App's installation token", githubtest.AppToken, githubtest.AppLogin},
	} {
		t.Run(token.name, func(t *testing.T) {
			fake := githubtest.New()
			defer fake.Close()
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
			assert.Empty(t, again.Replaced)
		})
	}
}

// Anyone with write access can edit the action's comment more times than
// the action reads of its history (5,000 edits on GitHub; 100 in the fake,
// whose pages hold 2). A preview replaces a comment whose history it cannot
// read, or require would refuse every deploy until someone deleted the
// comment by hand.
func TestUpsert_ReplacesACommentWhoseHistoryCannotBeRead(t *testing.T) {
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
	_, err = foreignEditors(t, gh)
	require.Error(t, err, "the history is longer than the action reads")

	res, err := comment.Upsert(ctx, gh, target, body("two"))
	require.NoError(t, err)
	assert.True(t, res.Created, "a comment whose history cannot be read is replaced, so that deploys can trust the new plan")
	_, err = foreignEditors(t, gh)
	assert.NoError(t, err, "the deploy after this preview can read the comment's history")
}

// foreignEditors reads who other than GITHUB_TOKEN's account edited the
// target's comment.
func foreignEditors(t *testing.T, gh *github.Client) ([]string, error) {
	t.Helper()
	c, err := comment.Find(context.Background(), gh, target)
	require.NoError(t, err)
	require.NotNil(t, c)
	return comment.ForeignEditors(context.Background(), gh, c, "github-actions[bot]")
}
