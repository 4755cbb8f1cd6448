package app

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/comment"
	"github.com/org/tap-deploy/internal/engine"
	"github.com/org/tap-deploy/internal/github"
	"github.com/org/tap-deploy/internal/outcome"
)

const (
	queueBase = "6113728f27ae82c7b1a177c8d03f9e96e0adf246"
	queueHead = "2ffea6db159f6b6c47a24e778fb9ef40cf6b1c7d"
)

// reviewedThenQueued previews pull request #2 (its plan recorded in the
// comment), then makes the run the merge queue's check of its entry,
// landing queueHead on queueBase, which the stack runs.
func reviewedThenQueued(t *testing.T) *harness {
	t.Helper()
	h := newHarness(t)
	h.event("pull_request", "pull_request.opened.json", nil)
	h.stack.preview = previewed(512)
	require.NoError(t, h.run(), h.log())

	h.event("merge_group", "merge_group.checks_requested.json", func(p map[string]any) {
		g := p["merge_group"].(map[string]any)
		g["head_sha"], g["base_sha"], g["base_ref"] = queueHead, queueBase, "refs/heads/master"
		g["head_ref"] = "refs/heads/gh-readonly-queue/master/pr-2-" + queueBase
		p["repository"] = map[string]any{"name": "Hello-World", "full_name": "Codertocat/Hello-World", "owner": map[string]any{"login": "Codertocat"}}
		delete(p, "organization")
	})
	h.inputs["reviewed-plan"] = "require"
	h.stack.history = func(context.Context) ([]engine.Update, error) { return []engine.Update{deployed(1, queueBase)}, nil }
	h.gh.pulls = map[int]github.PullRequest{2: {Number: 2, HeadSHA: prHead}}
	h.stdout.Reset()
	return h
}

// queuedThenPushed runs the queue's check of reviewedThenQueued, then
// makes the run the push of the commit the queue landed.
func queuedThenPushed(t *testing.T) *harness {
	t.Helper()
	h := reviewedThenQueued(t)
	require.NoError(t, h.run(), h.log())
	h.event("push", "push.with-new-branch.json", func(p map[string]any) { p["after"] = queueHead })
	h.gh.prsOfCommit = func(sha string) ([]github.PullRequest, error) {
		return []github.PullRequest{{Number: 2, HeadSHA: prHead, Merged: true, BaseRef: "master", MergeCommitSHA: sha}}, nil
	}
	h.gh.compare = func(string, string) (string, error) { return "ahead", nil }
	h.stdout.Reset()
	return h
}

func queueSectionOf(t *testing.T, h *harness) string {
	t.Helper()
	text, ok := comment.SectionText(h.gh.bodies(fixturePR)[0], mergeQueueSection)
	require.True(t, ok, "the comment has the merge queue's section")
	return text
}

func TestMergeQueue_TheCheckComparesTheWholeCommentReviewersRead(t *testing.T) {
	t.Run("untouched, the entry lands", func(t *testing.T) {
		h := reviewedThenQueued(t)
		require.NoError(t, h.run(), h.log())
		assert.Contains(t, queueSectionOf(t, h), "The merge applies the plan reviewed on pull request #2")
	})
	// The attack of issue 31: the counts row the non-queue path refuses,
	// edited as the bot (no foreign editor in the history).
	t.Run("the counts row edited to read one unchanged resource", func(t *testing.T) {
		h := reviewedThenQueued(t)
		forged(h, func(b string) string { return strings.Replace(b, "| 0 | 1 | 0 | 0 | 0 |", "| 0 | 0 | 0 | 0 | 1 |", 1) })
		require.ErrorIs(t, h.run(), ErrReported)
		assert.Contains(t, h.log(), "The merge group differs from the reviewed plan; the queue drops the entry")
		assert.Contains(t, h.log(), `the comment does not show what the merge would apply: line 11 of the comment shows "| 0 | 0 | 0 | 0 | 1 |", a fresh rendering of the plan has "| 0 | 1 | 0 | 0 | 0 |"`)
		assert.NotContains(t, queueSectionOf(t, h), "The merge applies the plan reviewed")
	})
	t.Run("the configuration section rewritten", func(t *testing.T) {
		h := reviewedThenQueued(t)
		forged(h, func(b string) string {
			const end = "<!-- /tap-deploy:section configuration -->"
			i, j := strings.Index(b, "<!-- tap-deploy:section configuration"), strings.Index(b, end)
			require.True(t, i >= 0 && j > i, b)
			return b[:i] + comment.Section(configurationSection, "#### ⚙️ Configuration\n\nThe deployed configuration could not be read, so no key is compared: **approved**.") + b[j+len(end):]
		})
		require.ErrorIs(t, h.run(), ErrReported)
		assert.Contains(t, h.log(), "the comment's configuration section does not show what the merge would apply")
	})
	t.Run("a section the action does not write", func(t *testing.T) {
		h := reviewedThenQueued(t)
		forged(h, func(b string) string { return b + "\n" + comment.Section("approval", "approved") })
		require.ErrorIs(t, h.run(), ErrReported)
		assert.Contains(t, h.log(), `the comment holds a section the action does not write: "approval"`)
	})
	// Entries ahead deployed since the review: the stack holds resources
	// the review never counted. That count is the review's state, which
	// the queue cannot see: it is the one the plan line records.
	t.Run("entries ahead deployed since the review", func(t *testing.T) {
		h := reviewedThenQueued(t)
		h.stack.preview = func(ctx context.Context) (outcome.Result, error) {
			res, err := previewed(512)(ctx)
			res.Counts[outcome.OpSame], res.Start = 7, "the-state-after-the-entries-ahead"
			return res, err
		}
		require.NoError(t, h.run(), h.log())
		assert.Contains(t, queueSectionOf(t, h), "| 0 | 1 | 0 | 0 | 7 |", "the section shows the state the merge meets")
	})
}

func TestMergeQueue_TheDeployComparesTheCommentAndTheQueuesSectionWhole(t *testing.T) {
	t.Run("untouched, the deploy applies the queue's plan", func(t *testing.T) {
		h := queuedThenPushed(t)
		require.NoError(t, h.run(), h.log())
		assert.Len(t, h.stack.ups, 1)
		assert.Contains(t, h.log(), "pull request #2's merge queue previewed the pushed commit 2ffea6d")
	})
	for name, tt := range map[string]struct {
		edit func(string) string
		says string
	}{
		"the pull request's counts row edited after the check": {
			func(b string) string { return strings.Replace(b, "| 0 | 1 | 0 | 0 | 0 |", "| 0 | 0 | 0 | 0 | 1 |", 1) },
			`the comment does not show what this deploy would apply: line 11 of the comment shows "| 0 | 0 | 0 | 0 | 1 |"`,
		},
		"the queue's section edited to read no changes": {
			func(b string) string {
				return strings.Replace(b, "### 📝 Merge queue preview of `tap` / `dev`: 1 to update", "### ✅ Merge queue preview of `tap` / `dev`: no changes", 1)
			},
			`the merge queue's section does not show what this deploy would apply: line 2 of the merge queue's section shows "### ✅ Merge queue preview`,
		},
		"HTML added to the queue's section": {
			func(b string) string {
				return strings.Replace(b, "\n<!-- /tap-deploy:section merge-queue -->", "\n<details><summary>more</summary>\n<!-- /tap-deploy:section merge-queue -->", 1)
			},
			`of the merge queue's section shows "<details><summary>more</summary>"`,
		},
	} {
		t.Run(name, func(t *testing.T) {
			h := queuedThenPushed(t)
			forged(h, tt.edit)
			require.ErrorIs(t, h.run(), ErrReported)
			assert.Empty(t, h.stack.ups, "nothing was changed")
			assert.Contains(t, h.log(), tt.says)
		})
	}
}
