package app

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/engine"
	"github.com/org/tap-deploy/internal/github"
	"github.com/org/tap-deploy/internal/outcome"
)

const prHead = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"

// previewed is a stack whose preview shows one function's memory change.
func previewed(memory float64) func(context.Context) (outcome.Result, error) {
	return func(context.Context) (outcome.Result, error) {
		res := changes(outcome.KindPreview, outcome.Step{URN: "urn:pulumi:dev::tap::tap:functions:Function$aws:lambda/function:Function::api-handler",
			Type: "aws:lambda/function:Function", Name: "api-handler", Op: outcome.OpUpdate, Changed: []string{"memorySize"},
			New: map[string]any{"memorySize": memory}})
		res.Start = "the-state-both-saw"
		return res, nil
	}
}

// reviewedThenMerged runs a PR preview (which records its plan in the
// comment), then the merge push of that PR with the given preview.
func reviewedThenMerged(t *testing.T, mode string, mergePreview func(context.Context) (outcome.Result, error), head string) *harness {
	t.Helper()
	h := newHarness(t)
	h.event("pull_request", "pull_request.opened.json", nil)
	h.stack.preview = previewed(512)
	require.NoError(t, h.run(), h.log())
	require.Len(t, h.gh.bodies(fixturePR), 1)
	require.Contains(t, h.gh.bodies(fixturePR)[0], "<!-- tap-deploy:plan ", "the preview records its plan")
	require.Contains(t, h.gh.bodies(fixturePR)[0], "**Plan** `")

	h.event("push", "push.with-new-branch.json", nil)
	h.inputs["reviewed-plan"] = mode
	h.stack.preview = mergePreview
	h.gh.prsOfCommit = func(sha string) ([]github.PullRequest, error) {
		return []github.PullRequest{{Number: 2, HeadSHA: head, Merged: true, BaseRef: "master", MergeCommitSHA: sha}}, nil
	}
	h.stdout.Reset()
	return h
}

func TestReview_TheMergeAppliesTheReviewedPlanConstrainedToItsPreview(t *testing.T) {
	h := reviewedThenMerged(t, "require", previewed(512), prHead)
	h.stack.state = func(context.Context) (engine.State, error) { return engine.State{Digest: "digest-before-preview"}, nil }
	require.NoError(t, h.run(), h.log())
	require.Len(t, h.stack.ups, 1)
	assert.NotEmpty(t, h.stack.ups[0].UpdatePlan, "up applies the saved plan of its preview")
	assert.Equal(t, h.stack.previews[len(h.stack.previews)-1].SaveUpdatePlan, h.stack.ups[0].UpdatePlan)
	assert.Equal(t, "digest-before-preview", h.stack.ups[0].ExpectState, "up starts from the state its preview saw")
	body := h.gh.bodies(fixturePR)[0]
	assert.Regexp(t, "Applied the reviewed plan [0-9a-f]{12} of pull request #2", body)
	assert.Contains(t, body, "Deploy of `tap` / `dev`")
}

func TestReview_RequireRefusesADifferentPlanAndSaysWhatDiffers(t *testing.T) {
	h := reviewedThenMerged(t, "require", previewed(1024), prHead)
	require.ErrorIs(t, h.run(), ErrReported)
	assert.Empty(t, h.stack.ups, "nothing was changed")
	assert.Contains(t, h.log(), "Refusing to deploy what was not reviewed")
	assert.Contains(t, h.log(), "changes differently than reviewed: update aws:lambda/function:Function api-handler (memorySize)")
	assert.Contains(t, h.log(), "Re-run the pull request's preview")
	body := h.gh.bodies(fixturePR)[0]
	assert.Contains(t, body, "Not deployed: the plan differs from the one reviewed on pull request #2")
	assert.Contains(t, body, "<!-- tap-deploy:plan ", "the reviewed plan stays in the comment for a retry")
}

func TestReview_RequireRefusesWhenTheLastCommitsWereNeverPreviewed(t *testing.T) {
	h := reviewedThenMerged(t, "require", previewed(512), "ffffffffffffffffffffffffffffffffffffffff")
	require.ErrorIs(t, h.run(), ErrReported)
	assert.Empty(t, h.stack.ups)
	assert.Contains(t, h.log(), "the pull request's last preview was of ec26c3e, its final head is fffffff")
}

func TestReview_WarnDeploysAndReportsTheDifference(t *testing.T) {
	h := reviewedThenMerged(t, "warn", previewed(1024), prHead)
	require.NoError(t, h.run(), h.log())
	assert.Len(t, h.stack.ups, 1)
	assert.Contains(t, h.log(), "::warning::Deploying a plan that differs from the one reviewed on pull request #2")
	for where, text := range map[string]string{"comment": h.gh.bodies(fixturePR)[0], "summary": h.summaryText()} {
		assert.Contains(t, text, "[!WARNING]", where)
		assert.Contains(t, text, "changes differently than reviewed", where)
	}
}

func TestReview_ADirectPushHasNoReviewedPlan(t *testing.T) {
	for _, mode := range []string{"require", "warn"} {
		t.Run(mode, func(t *testing.T) {
			h := pushHarness(t)
			h.inputs["reviewed-plan"] = mode
			err := h.run()
			if mode == "require" {
				require.ErrorIs(t, err, ErrReported)
				assert.Empty(t, h.stack.ups)
				assert.Contains(t, h.log(), "reviewed-plan is require and the push to master merged no pull request (a direct push)")
				return
			}
			require.NoError(t, err, h.log())
			assert.Len(t, h.stack.ups, 1)
			assert.Contains(t, h.summaryText(), "No reviewed plan: the push to master merged no pull request")
		})
	}
}

func TestReview_ADispatchedUpIsOutsideTheCheckAndSaysSo(t *testing.T) {
	h := newHarness(t)
	h.event("workflow_dispatch", "workflow_dispatch.json", nil)
	h.inputs["command"] = "up"
	h.inputs["reviewed-plan"] = "require"
	require.NoError(t, h.run(), h.log())
	assert.Contains(t, h.log(), "a workflow_dispatch deploy has no pull request: the reviewed-plan check does not apply")
	assert.Len(t, h.stack.ups, 1)
}

func TestReview_APlanTheEngineRejects(t *testing.T) {
	rejected := func(context.Context, string) (outcome.Result, error) {
		res := outcome.Result{Kind: outcome.KindUpdate, Error: "resource urn:x violates plan: properties changed: ++memorySize"}
		return res, &engine.RunError{Kind: outcome.KindUpdate, Result: res, UpdatePlanRejected: true, Err: errors.New("exit status 1")}
	}
	t.Run("require stops", func(t *testing.T) {
		h := pushHarness(t)
		h.inputs["reviewed-plan"] = "require"
		h.event("workflow_dispatch", "workflow_dispatch.json", nil)
		h.inputs["command"] = "up"
		h.stack.up = rejected
		require.ErrorIs(t, h.run(), ErrReported)
		assert.Len(t, h.stack.ups, 1)
		assert.Contains(t, h.log(), "the engine rejected the plan of its own gated preview (resource urn:x violates plan")
		assert.Contains(t, h.summaryText(), "reviewed-plan is require, so the update stopped")
	})
	t.Run("warn falls back to an unconstrained up from the state as it is", func(t *testing.T) {
		h := pushHarness(t)
		h.inputs["reviewed-plan"] = "warn"
		reads := 0
		h.stack.state = func(context.Context) (engine.State, error) {
			reads++
			return engine.State{Digest: map[int]string{1: "before", 2: "after-the-rejected-attempt"}[reads]}, nil
		}
		first := true
		h.stack.up = func(ctx context.Context, msg string) (outcome.Result, error) {
			if first {
				first = false
				return rejected(ctx, msg)
			}
			return changes(outcome.KindUpdate), nil
		}
		require.NoError(t, h.run(), h.log())
		require.Len(t, h.stack.ups, 2)
		assert.Equal(t, engine.UpOptions{UpdatePlan: h.stack.ups[0].UpdatePlan, ExpectState: "before"}, h.stack.ups[0])
		assert.Equal(t, engine.UpOptions{ExpectState: "after-the-rejected-attempt"}, h.stack.ups[1], "no plan; still guarded")
		assert.Len(t, h.stack.previews, 2, "the unconstrained update has a preview of its own")
		assert.Contains(t, h.log(), "::warning::the engine rejected the plan of its own gated preview")
		assert.Contains(t, h.summaryText(), "passed the policy gate, the reviewed-plan comparison and the commit order again, and ran without the plan constraint")
	})
	t.Run("the second preview passes the policy gate again or nothing more runs", func(t *testing.T) {
		h := pushHarness(t)
		h.inputs["reviewed-plan"] = "warn"
		h.stack.up = rejected
		previews := 0
		h.stack.preview = func(ctx context.Context) (outcome.Result, error) {
			previews++
			if previews == 2 {
				return breaksPolicy(ctx)
			}
			return changes(outcome.KindPreview), nil
		}
		require.ErrorIs(t, h.run(), ErrReported)
		assert.Len(t, h.stack.ups, 1, "no unconstrained update")
		assert.Contains(t, h.log(), "The update's second preview breaks mandatory policy rules; it stopped there")
		assert.Equal(t, 1, strings.Count(h.log(), "::error::The update's second preview breaks"), "reported once")
	})
}

func TestDeploy_AStackThatChangedSinceThePreviewStopsTheUpdate(t *testing.T) {
	h := pushHarness(t)
	h.stack.up = func(context.Context, string) (outcome.Result, error) {
		return outcome.Result{Kind: outcome.KindUpdate}, &engine.RunError{Kind: outcome.KindUpdate, Err: engine.ErrStateChanged}
	}
	require.ErrorIs(t, h.run(), ErrReported)
	assert.Contains(t, h.log(), "The stack changed between the preview and the update; nothing was changed")
}

func TestReview_OnlyAPullRequestMergedAsThePushedCommitIntoThePushedBranchCounts(t *testing.T) {
	for _, tt := range []struct {
		name string
		pr   github.PullRequest
	}{
		{"an open pull request whose previewed head was pushed", github.PullRequest{Number: 2, HeadSHA: prHead, State: "open", BaseRef: "master", MergeCommitSHA: "e5bd3914e2e596debea16f433f57875b5b90bcd6"}},
		{"merged into another branch", github.PullRequest{Number: 2, HeadSHA: prHead, Merged: true, BaseRef: "release", MergeCommitSHA: "6113728f27ae82c7b1a177c8d03f9e96e0adf246"}},
		{"merged as another commit", github.PullRequest{Number: 2, HeadSHA: prHead, Merged: true, BaseRef: "master", MergeCommitSHA: "0000000000000000000000000000000000000001"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := reviewedThenMerged(t, "require", previewed(512), prHead)
			h.gh.prsOfCommit = func(string) ([]github.PullRequest, error) { return []github.PullRequest{tt.pr}, nil }
			require.ErrorIs(t, h.run(), ErrReported)
			assert.Empty(t, h.stack.ups)
			assert.Contains(t, h.log(), "the push to master merged no pull request (a direct push)")
			assert.NotContains(t, h.gh.bodies(fixturePR)[0], "Not deployed", "the open pull request's comment is left alone")
		})
	}
}

// forged edits the action's comment on the pull request the way anyone
// with write access can.
func forged(h *harness, edit func(body string) string) {
	h.gh.mu.Lock()
	defer h.gh.mu.Unlock()
	c := &h.gh.comments[fixturePR][0]
	c.Body = edit(c.Body)
}

func TestReview_RequireRefusesAForgedComment(t *testing.T) {
	t.Run("rows deleted by the action's own account keep the plan line", func(t *testing.T) {
		h := reviewedThenMerged(t, "require", previewed(512), prHead)
		forged(h, func(b string) string { return strings.Replace(b, "| 0 | 1 | 0 | 0 | 0 |", "| 0 | 0 | 0 | 0 | 1 |", 1) })
		require.ErrorIs(t, h.run(), ErrReported)
		assert.Empty(t, h.stack.ups)
		assert.Contains(t, h.log(), `the comment does not show what this deploy would apply: line 11 of the comment shows "| 0 | 0 | 0 | 0 | 1 |", a fresh rendering of the plan has "| 0 | 1 | 0 | 0 | 0 |"`)
	})
	t.Run("an edit by a person", func(t *testing.T) {
		h := reviewedThenMerged(t, "require", previewed(512), prHead)
		h.gh.edits = map[string][]github.CommentEdit{h.gh.comments[fixturePR][0].NodeID: {
			{Editor: "github-actions[bot]", At: "2026-11-28T12:00:00Z"}, {Editor: "mallory", At: "2026-11-28T11:00:00Z"}, {Editor: "github-actions[bot]", At: "2026-11-28T10:00:00Z"}}}
		require.ErrorIs(t, h.run(), ErrReported)
		assert.Empty(t, h.stack.ups)
		assert.Contains(t, h.log(), "the comment was edited by mallory at 2026-11-28T11:00:00Z, not by this action (github-actions[bot])")
	})
	t.Run("a plan line moved below the marker's line", func(t *testing.T) {
		h := reviewedThenMerged(t, "require", previewed(512), prHead)
		forged(h, func(b string) string {
			lines := strings.SplitN(b, "\n", 3)
			return lines[0] + "\nI approve\n" + lines[1] + "\n" + lines[2]
		})
		require.ErrorIs(t, h.run(), ErrReported)
		assert.Contains(t, h.log(), "the comment carries a plan line, but not at its place after the marker")
	})
	t.Run("a plan line from another pull request", func(t *testing.T) {
		other := reviewedThenMerged(t, "require", previewed(512), prHead)
		h := reviewedThenMerged(t, "require", previewed(512), prHead)
		h.gh.prsOfCommit = func(sha string) ([]github.PullRequest, error) {
			return []github.PullRequest{{Number: 9, HeadSHA: prHead, Merged: true, BaseRef: "master", MergeCommitSHA: sha}}, nil
		}
		h.gh.comments[9] = []github.Comment{{ID: 900, NodeID: "IC_900", Author: "github-actions[bot]",
			Body: strings.Replace(other.gh.bodies(fixturePR)[0], "pr=2 ", "pr=9 ", 1)}}
		require.ErrorIs(t, h.run(), ErrReported)
		assert.Empty(t, h.stack.ups)
		assert.Contains(t, h.log(), "the recorded plan was made for Codertocat/Hello-World pull request #2, stack dev, not for Codertocat/Hello-World pull request #9, stack dev")
	})
	t.Run("untouched, the same flow deploys", func(t *testing.T) {
		h := reviewedThenMerged(t, "require", previewed(512), prHead)
		require.NoError(t, h.run(), h.log())
		assert.Len(t, h.stack.ups, 1)
	})
}
