package issue_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/issue"
	"github.com/org/tap-deploy/test/githubtest"
)

var target = issue.Target{Owner: "Codertocat", Repo: "Hello-World", Subject: "drift", Project: "tap", Stack: "dev", Labels: []string{"drift", "dev"}}

func TestSync_OpensThenUpdatesTheSameIssueThenClosesIt(t *testing.T) {
	fake := githubtest.New()
	defer fake.Close()
	// Other drift issues, enough for two pages, and one with our marker by
	// someone else: never edited.
	for i := 0; i < 110; i++ {
		fake.AddIssue("someone", fmt.Sprintf("other %d", i), "text", "drift")
	}
	foreign := fake.AddIssue("mallory", "copied", target.Marker()+"\nfake", "drift", "dev")
	gh := fake.Client(t)
	ctx := context.Background()

	opened, err := issue.Sync(ctx, gh, target, true, "Drift in tap/dev (eu-west-1)", "memorySize 256 → 2048", "")
	require.NoError(t, err)
	assert.True(t, opened.Created)
	updated, err := issue.Sync(ctx, gh, target, true, "Drift in tap/dev (eu-west-1)", "memorySize 256 → 4096", "")
	require.NoError(t, err)
	assert.True(t, updated.Updated)
	assert.Equal(t, opened.Issue.Number, updated.Issue.Number, "the same issue, not another")

	var ours githubtest.Issue
	for _, i := range fake.Issues() {
		if i.Number == opened.Issue.Number {
			ours = i
		}
	}
	assert.Equal(t, []string{"drift", "dev"}, ours.Labels)
	assert.True(t, strings.HasPrefix(ours.Body, target.Marker()))
	assert.Contains(t, ours.Body, "4096")

	closed, err := issue.Sync(ctx, gh, target, false, "", "", "No drift found: closing.")
	require.NoError(t, err)
	assert.True(t, closed.Closed)
	for _, i := range fake.Issues() {
		switch i.Number {
		case opened.Issue.Number:
			assert.Equal(t, "closed", i.State)
			assert.Equal(t, "completed", i.StateReason)
		case foreign:
			assert.Equal(t, "open", i.State, "someone else's issue is never touched")
			assert.Equal(t, target.Marker()+"\nfake", i.Body)
		}
	}
	require.Len(t, fake.Comments(opened.Issue.Number), 1)
	assert.Equal(t, "No drift found: closing.", fake.Comments(opened.Issue.Number)[0].Body)

	nothing, err := issue.Sync(ctx, gh, target, false, "", "", "closing")
	require.NoError(t, err)
	assert.Equal(t, issue.Result{}, nothing, "no drift and no issue: nothing to do")
}

func TestSync_WithoutIssuesWriteNamesThePermission(t *testing.T) {
	fake := githubtest.New()
	defer fake.Close()
	fake.Fail(githubtest.Fault{Method: "POST", Path: "/issues$", Status: 403, Message: "Resource not accessible by integration"})
	_, err := issue.Sync(context.Background(), fake.Client(t), target, true, "t", "b", "")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"issues: write"`)
}
