package app

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/github"
)

func TestPreview_CommentsOnceAndUpdatesTheSameComment(t *testing.T) {
	h := newHarness(t)
	h.event("pull_request", "pull_request.opened.json", nil)
	require.NoError(t, h.run(), h.log())
	require.NoError(t, h.run(), h.log())
	require.Len(t, h.gh.bodies(fixturePR), 1)
	assert.Equal(t, 1, h.gh.calls["create"])
	assert.Equal(t, 1, h.gh.calls["edit"])
	assert.Contains(t, h.gh.bodies(fixturePR)[0], "Preview of `tap` / `dev`")
	assert.Equal(t, "preview", h.outputs()["command"])
	assert.NotEmpty(t, h.outputs()["comment-id"])
}

func TestPreview_CommentsOnItsOwnPullRequestOnly(t *testing.T) {
	h := newHarness(t)
	h.event("pull_request", "pull_request.opened.json", nil)
	other := "<!-- tap-deploy:comment repo=Codertocat/Hello-World pr=3 project=tap stack=dev -->\n### Preview of PR 3"
	h.gh.comments[3] = []github.Comment{{ID: 9, Author: "github-actions[bot]", Body: other}}
	require.NoError(t, h.run(), h.log())
	require.Len(t, h.gh.bodies(fixturePR), 1)
	assert.Contains(t, h.gh.bodies(fixturePR)[0], "pr=2 project=tap stack=dev")
	assert.Equal(t, []string{other}, h.gh.bodies(3), "another pull request's comment is left alone")
	assert.Zero(t, h.gh.calls["edit"])
}

func TestPreview_WhereResultsGo(t *testing.T) {
	fork := func(p map[string]any) {
		p["pull_request"].(map[string]any)["head"].(map[string]any)["repo"].(map[string]any)["full_name"] = "someone/Hello-World"
	}
	tests := []struct {
		name     string
		change   func(map[string]any)
		inputs   map[string]string
		command  string
		says     string
		clients  int
		comments int
	}{
		{"same-repository PR", nil, nil, "preview", "created comment", 1, 1},
		{"fork PR", fork, nil, "validate", "comes from a fork", 1, 0},
		{"no token", nil, map[string]string{"github-token": ""}, "preview", "::warning::no github-token input: the result is in the job summary only", 0, 0},
		{"comment-on-pr off", nil, map[string]string{"comment-on-pr": "false"}, "preview", "", 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.event("pull_request", "pull_request.opened.json", tt.change)
			for k, v := range tt.inputs {
				h.inputs[k] = v
			}
			require.NoError(t, h.run(), h.log())
			assert.Equal(t, tt.command, h.outputs()["command"])
			assert.Contains(t, h.log(), tt.says)
			assert.Equal(t, tt.clients, h.clients, "GitHub clients built")
			assert.Len(t, h.gh.bodies(fixturePR), tt.comments)
			assert.Contains(t, h.summaryText(), "of `tap` / `dev`", "the job summary always has the result")
			if tt.command == "validate" {
				assert.Empty(t, h.opened, "a fork PR never opens the stack")
				assert.NotContains(t, h.summaryText(), "Preview of")
			}
		})
	}
}

func TestPreview_LocallyPrintsWhatThePullRequestWouldGet(t *testing.T) {
	h := newHarness(t)
	h.actions = false
	delete(h.env, "GITHUB_ACTIONS")
	h.event("pull_request", "pull_request.opened.json", nil)
	require.NoError(t, h.run(), h.stderr.String())
	assert.Contains(t, h.stdout.String(), "### ✅ Preview of `tap` / `dev`: no changes")
	assert.Zero(t, h.clients, "a local run never talks to GitHub")
	assert.Contains(t, h.stderr.String(), "output command=preview")
}

func TestPreview_APassingCommentStillShowsWhatWasSwitchedOff(t *testing.T) {
	h := newHarness(t)
	h.event("pull_request", "pull_request.opened.json", nil)
	h.inputs["policy-overrides"] = "CKV_AWS_115=disabled\nCKV_AWS_28=advisory"
	h.inputs["config"] = "apiAuthorization=NONE"
	require.NoError(t, h.run(), h.log())
	require.Len(t, h.gh.bodies(fixturePR), 1)
	for where, text := range map[string]string{"comment": h.gh.bodies(fixturePR)[0], "summary": h.summaryText()} {
		assert.Contains(t, text, "**Policy exceptions in effect**", where)
		assert.Contains(t, text, "Rules disabled by `policy-overrides`: `CKV_AWS_115`", where)
		assert.Contains(t, text, "Rules lowered to advisory by `policy-overrides`: `CKV_AWS_28`", where)
		assert.Contains(t, text, "The API is public: `apiAuthorization=NONE`", where)
	}
}
