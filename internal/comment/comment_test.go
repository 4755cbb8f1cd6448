package comment_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/comment"
	"github.com/org/tap-deploy/internal/github"
	"github.com/org/tap-deploy/test/githubtest"
)

var target = comment.Target{Owner: "Codertocat", Repo: "Hello-World", Number: 2, Project: "tap", Stack: "dev"}

// instant retries without waiting, recording the waits asked for.
func instant(waits *[]time.Duration) github.Retry {
	r := github.DefaultRetry
	r.Sleep = func(_ context.Context, d time.Duration) error {
		*waits = append(*waits, d)
		return nil
	}
	return r
}

func client(t *testing.T, fake *githubtest.Server, waits *[]time.Duration) *github.Client {
	t.Helper()
	c, err := github.New(fake.APIURL(), githubtest.Token, instant(waits))
	require.NoError(t, err)
	return c
}

func body(text string) string { return target.Marker() + "\n" + text }

func TestUpsert_CreatesOnceThenUpdates(t *testing.T) {
	fake := githubtest.New()
	defer fake.Close()
	var waits []time.Duration
	gh := client(t, fake, &waits)

	first, err := comment.Upsert(context.Background(), gh, target, body("one"))
	require.NoError(t, err)
	assert.True(t, first.Created)
	second, err := comment.Upsert(context.Background(), gh, target, body("two"))
	require.NoError(t, err)
	assert.False(t, second.Created)
	assert.Equal(t, first.Comment.ID, second.Comment.ID)

	comments := fake.Comments(2)
	require.Len(t, comments, 1)
	assert.Equal(t, body("two"), comments[0].Body)
}

func TestUpsert_UpdatesExistingAcrossPages(t *testing.T) {
	fake := githubtest.New()
	defer fake.Close()
	for i := 0; i < 230; i++ {
		fake.AddComment(2, "someone", fmt.Sprintf("chatter %d", i))
	}
	ours := fake.AddComment(2, "github-actions[bot]", body("old"))
	for i := 0; i < 5; i++ {
		fake.AddComment(2, "someone", "more chatter")
	}
	var waits []time.Duration
	res, err := comment.Upsert(context.Background(), client(t, fake, &waits), target, body("new"))
	require.NoError(t, err)
	assert.False(t, res.Created)
	assert.Equal(t, ours, res.Comment.ID)
	assert.Equal(t, 3, fake.Calls("GET comments"), "the marker is on page 3 of 100")
	assert.Equal(t, 0, fake.Calls("POST comments"))
	assert.Len(t, fake.Comments(2), 236)
}

func TestUpsert_NeverEditsSomeoneElsesMarkedComment(t *testing.T) {
	fake := githubtest.New()
	defer fake.Close()
	foreign := fake.AddComment(2, "mallory", body("copied marker"))
	var waits []time.Duration
	res, err := comment.Upsert(context.Background(), client(t, fake, &waits), target, body("ours"))
	require.NoError(t, err)
	assert.True(t, res.Created)
	assert.NotEqual(t, foreign, res.Comment.ID)
	assert.Equal(t, body("copied marker"), fake.Comments(2)[0].Body)
}

func TestUpsert_RateLimitedThenSucceedsWithOneComment(t *testing.T) {
	fake := githubtest.New()
	defer fake.Close()
	fake.Fail(githubtest.Fault{Method: "POST", Path: "comments$", Status: 429, RetryAfter: "7"})
	var waits []time.Duration
	res, err := comment.Upsert(context.Background(), client(t, fake, &waits), target, body("x"))
	require.NoError(t, err)
	assert.True(t, res.Created)
	assert.Len(t, fake.Comments(2), 1)
	assert.Equal(t, []time.Duration{7 * time.Second}, waits, "Retry-After is honoured")
}

func TestUpsert_SecondaryRateLimit403WithRetryAfterIsRetried(t *testing.T) {
	fake := githubtest.New()
	defer fake.Close()
	fake.Fail(githubtest.Fault{Method: "GET", Status: 403, RetryAfter: "3", Message: "You have exceeded a secondary rate limit"})
	var waits []time.Duration
	_, err := comment.Upsert(context.Background(), client(t, fake, &waits), target, body("x"))
	require.NoError(t, err)
	assert.Equal(t, []time.Duration{3 * time.Second}, waits)
	assert.Len(t, fake.Comments(2), 1)
}

func TestUpsert_BadGatewayAfterCreateGivesOneComment(t *testing.T) {
	fake := githubtest.New()
	defer fake.Close()
	fake.Fail(githubtest.Fault{Method: "POST", Path: "comments$", Status: 502, AfterWrite: true})
	var waits []time.Duration
	res, err := comment.Upsert(context.Background(), client(t, fake, &waits), target, body("x"))
	require.NoError(t, err)
	assert.Len(t, fake.Comments(2), 1, "the lost answer must not lead to a second comment")
	assert.Equal(t, 1, fake.Calls("POST comments"))
	assert.Equal(t, fake.Comments(2)[0].ID, res.Comment.ID)
}

func TestUpsert_ServerErrorsOnReadsAreRetriedWithBackoff(t *testing.T) {
	fake := githubtest.New()
	defer fake.Close()
	fake.Fail(githubtest.Fault{Method: "GET", Status: 503})
	fake.Fail(githubtest.Fault{Method: "GET", Status: 500})
	var waits []time.Duration
	_, err := comment.Upsert(context.Background(), client(t, fake, &waits), target, body("x"))
	require.NoError(t, err)
	assert.Equal(t, []time.Duration{time.Second, 2 * time.Second}, waits)
}

func TestUpsert_ForbiddenNamesTheMissingPermission(t *testing.T) {
	fake := githubtest.New()
	defer fake.Close()
	fake.Fail(githubtest.Fault{Method: "POST", Path: "comments$", Status: 403, Message: "Resource not accessible by integration"})
	var waits []time.Duration
	_, err := comment.Upsert(context.Background(), client(t, fake, &waits), target, body("x"))
	require.Error(t, err)
	assert.True(t, github.IsPermission(err))
	assert.Contains(t, err.Error(), "pull-requests: write")
	assert.Empty(t, waits, "a refusal is not retried")
	assert.Equal(t, 1, fake.Calls("POST comments"))
	assert.Empty(t, fake.Comments(2))
}

func TestUpsert_RejectsBodyWithoutMarker(t *testing.T) {
	fake := githubtest.New()
	defer fake.Close()
	var waits []time.Duration
	_, err := comment.Upsert(context.Background(), client(t, fake, &waits), target, "no marker")
	require.Error(t, err)
}

func TestUpsert_WorksAgainstGitHubEnterprisePaths(t *testing.T) {
	fake := githubtest.New()
	defer fake.Close()
	var waits []time.Duration
	gh, err := github.New(fake.URL+"/api/v3", githubtest.Token, instant(&waits))
	require.NoError(t, err)
	res, err := comment.Upsert(context.Background(), gh, target, body("ghes"))
	require.NoError(t, err)
	assert.True(t, res.Created)
	assert.Len(t, fake.Comments(2), 1)
}

func TestUpsert_KeepsOneCommentWithEveryKindOfToken(t *testing.T) {
	for _, tt := range []struct{ name, token, author string }{
		{"GITHUB_TOKEN", githubtest.Token, "github-actions[bot]"},
		{"GitHub App installation token", githubtest.AppToken, githubtest.AppLogin},
		{"personal access token", githubtest.PAT, githubtest.PATLogin},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fake := githubtest.New()
			defer fake.Close()
			// Someone else's comment with our marker is never taken over.
			fake.AddComment(2, "github-actions[bot]-lookalike", body("copied marker"))
			var waits []time.Duration
			gh, err := github.New(fake.APIURL(), tt.token, instant(&waits))
			require.NoError(t, err)
			first, err := comment.Upsert(context.Background(), gh, target, body("one"))
			require.NoError(t, err)
			second, err := comment.Upsert(context.Background(), gh, target, body("two"))
			require.NoError(t, err)
			assert.True(t, first.Created)
			assert.False(t, second.Created, "the second run finds its own comment")
			assert.Equal(t, first.Comment.ID, second.Comment.ID)
			comments := fake.Comments(2)
			require.Len(t, comments, 2)
			assert.Equal(t, tt.author, comments[1].Author)
			assert.Equal(t, body("two"), comments[1].Body)
			assert.Equal(t, body("copied marker"), comments[0].Body)
		})
	}
}

func TestUpsert_AnUnknownIdentityWritesNothing(t *testing.T) {
	fake := githubtest.New()
	defer fake.Close()
	fake.Fail(githubtest.Fault{Method: "POST", Path: "graphql", Status: 403, Message: "Resource not accessible by integration"})
	var waits []time.Duration
	gh, err := github.New(fake.APIURL(), githubtest.AppToken, instant(&waits))
	require.NoError(t, err)
	_, err = comment.Upsert(context.Background(), gh, target, body("one"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "cannot tell which account the token acts as (GET /user: HTTP 403; GraphQL viewer:")
	assert.Empty(t, fake.Comments(2))
	assert.Zero(t, fake.Calls("POST comments"))
}

func TestViewer_AsksGraphQLBesideTheRESTBaseOfGitHubEnterprise(t *testing.T) {
	fake := githubtest.New()
	defer fake.Close()
	var waits []time.Duration
	gh, err := github.New(fake.Server.URL+"/api/v3", githubtest.AppToken, instant(&waits))
	require.NoError(t, err)
	login, err := gh.Viewer(context.Background())
	require.NoError(t, err)
	assert.Equal(t, githubtest.AppLogin, login)
	assert.Equal(t, 1, fake.Calls("POST graphql"))
}

func TestUpdateSection_ReplacesItsPartAndUpsertKeepsIt(t *testing.T) {
	fake := githubtest.New()
	defer fake.Close()
	var waits []time.Duration
	gh := client(t, fake, &waits)
	ctx := context.Background()

	// A review stack run writes its section before any preview.
	_, err := comment.UpdateSection(ctx, gh, target, "review-stack", "deploying")
	require.NoError(t, err)
	// The preview keeps it.
	_, err = comment.Upsert(ctx, gh, target, body("### preview 1"))
	require.NoError(t, err)
	// The review stack's next run replaces only its section.
	_, err = comment.UpdateSection(ctx, gh, target, "review-stack", "deployed at `abc`")
	require.NoError(t, err)
	_, err = comment.Upsert(ctx, gh, target, body("### preview 2\n"+comment.Section("review-stack", "from the new body")))
	require.NoError(t, err)

	comments := fake.Comments(2)
	require.Len(t, comments, 1)
	got := comments[0].Body
	assert.Contains(t, got, "### preview 2")
	assert.Contains(t, got, "from the new body", "a body with the section replaces it")
	assert.NotContains(t, got, "deployed at `abc`")
	assert.Equal(t, 1, strings.Count(got, "<!-- tap-deploy:section review-stack -->"))

	_, err = comment.UpdateSection(ctx, gh, target, "review-stack", "destroyed")
	require.NoError(t, err)
	got = fake.Comments(2)[0].Body
	assert.Contains(t, got, "### preview 2", "the preview stays")
	assert.Contains(t, got, "destroyed")
	assert.NotContains(t, got, "from the new body")
}

func TestSectionText_ReadsOneSectionOnly(t *testing.T) {
	body := "<!-- marker -->\npreview\n\n" + comment.Section("merge-queue", "line one\nline two\n") + "\n" + comment.Section("deploy", "deployed")
	got, ok := comment.SectionText(body, "merge-queue")
	require.True(t, ok)
	assert.Equal(t, "line one\nline two", got)
	got, ok = comment.SectionText(body, "deploy")
	require.True(t, ok)
	assert.Equal(t, "deployed", got)
	_, ok = comment.SectionText(body, "review-stack")
	assert.False(t, ok)
	_, ok = comment.SectionText(body+comment.Section("merge-queue", "pasted"), "merge-queue")
	assert.False(t, ok, "two copies: neither is trusted")
}

// Anyone with write access can edit the action's comment; the edit stays
// in its history, under every later edit of the action's own. Upsert
// replaces such a comment with a new one (without the old sections, which
// may be theirs), so the plan it records is trusted again; a comment only
// the action edited is edited in place.
func TestUpsert_ReplacesACommentSomeoneElseEditedAndReadsTheWholeHistory(t *testing.T) {
	fake := githubtest.New()
	defer fake.Close()
	var waits []time.Duration
	gh := client(t, fake, &waits)
	ctx := context.Background()

	first, err := comment.Upsert(ctx, gh, target, body("one"))
	require.NoError(t, err)
	_, err = comment.UpdateSection(ctx, gh, target, "deploy", "deployed")
	require.NoError(t, err)
	fake.EditAs(first.Comment.ID, "mallory", body("forged")+"\n"+comment.Section("merge-queue", "forged plan"))
	for i := range 4 { // the action's own edits after hers: more than a page of history
		_, err = comment.UpdateSection(ctx, gh, target, "deploy", fmt.Sprintf("deployed %d", i))
		require.NoError(t, err)
	}
	editors, err := foreignEditors(t, gh)
	require.NoError(t, err)
	require.Len(t, editors, 1, "mallory's edit is found under the action's later ones")
	assert.Contains(t, editors[0], "mallory at ")

	res, err := comment.Upsert(ctx, gh, target, body("two"))
	require.NoError(t, err)
	assert.True(t, res.Created)
	assert.NotEqual(t, first.Comment.ID, res.Comment.ID)
	assert.Equal(t, "it was edited by "+editors[0], res.Replaced)
	comments := fake.Comments(2)
	require.Len(t, comments, 1, "the edited comment is gone")
	assert.Equal(t, body("two"), comments[0].Body, "nothing of the edited comment is kept")
	editors, err = foreignEditors(t, gh)
	require.NoError(t, err)
	assert.Empty(t, editors)

	again, err := comment.Upsert(ctx, gh, target, body("three"))
	require.NoError(t, err)
	assert.False(t, again.Created, "a comment only the action edited is edited in place")
	assert.Equal(t, res.Comment.ID, again.Comment.ID)
}
