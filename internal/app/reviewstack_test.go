package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/engine"
	"github.com/org/tap-deploy/internal/github"
	"github.com/org/tap-deploy/internal/outcome"
	"github.com/org/tap-deploy/stack"
)

const reviewURL = "https://r2d2.execute-api.eu-west-1.amazonaws.com/v1/items"

// reviewHarness is a same-repository pull request #2 event with review
// stacks on; the review stack dev-pr-2 is its own fake.
func reviewHarness(t *testing.T, fixture string, change func(map[string]any)) (*harness, *fakeStack) {
	t.Helper()
	h := newHarness(t)
	h.inputs["review-stack"] = "on"
	h.event("pull_request", fixture, change)
	review := &fakeStack{up: func(context.Context, string) (outcome.Result, error) {
		res := changes(outcome.KindUpdate, outcome.Step{URN: "urn:pulumi:dev-pr-2::tap::aws:s3/bucketV2:BucketV2::artifacts", Op: outcome.OpCreate})
		res.Outputs = map[string]any{"apiUrl": reviewURL}
		return res, nil
	}}
	h.others = map[string]*fakeStack{"dev-pr-2": review}
	return h, review
}

// madeForPR2 is the history of a review stack tap-deploy made for PR #2.
func madeForPR2(context.Context) ([]engine.Update, error) {
	return []engine.Update{
		{Version: 2, Kind: "update", Result: "succeeded", Config: map[string]string{stack.ReviewStackKey: "2"}},
		{Version: 1, Kind: "update", Result: "succeeded", Config: map[string]string{stack.ReviewStackKey: "2"}},
	}, nil
}

func TestReviewStack_APassingPreviewDeploysThePullRequestsOwnStack(t *testing.T) {
	h, review := reviewHarness(t, "pull_request.opened.json", nil)
	require.NoError(t, h.run(), h.log())

	assert.Empty(t, h.stack.ups, "the environment's stack is only previewed")
	require.Len(t, review.ups, 1)
	assert.NotEmpty(t, review.ups[0].UpdatePlan, "the review stack applies the plan of its own gated preview")
	require.Len(t, h.opened, 2)
	assert.Equal(t, "dev-pr-2", h.opened[1].Stack)
	assert.False(t, h.opened[1].MustExist)
	assert.Equal(t, "2", h.opened[1].Config[stack.ReviewStackKey], "the review marker is recorded with every update")
	assert.Equal(t, "5", h.opened[1].Config["tap:apiThrottleRate"], "review defaults apply")
	assert.Equal(t, "true", h.opened[1].Env["PULUMI_DISABLE_CHECKPOINT_BACKUPS"], "a disposable stack leaves no checkpoint backups")
	assert.Empty(t, h.opened[0].Env["PULUMI_DISABLE_CHECKPOINT_BACKUPS"], "the environment's stack keeps them")

	require.Len(t, h.gh.bodies(fixturePR), 1, "one comment holds the preview and the review stack")
	body := h.gh.bodies(fixturePR)[0]
	assert.Contains(t, body, "Preview of `tap` / `dev`")
	assert.Contains(t, body, "Review stack `dev-pr-2`")
	assert.Contains(t, body, "[https://r2d2.execute-api.eu-west-1.amazonaws.com/v1/items]("+reviewURL+")")
	assert.Contains(t, body, "once it has gone 72h without an update (after 2026-12-01 12:00 UTC)", "the expiry is review-stack-ttl from now")
	assert.NotContains(t, body, "Deploying", "the section ends with the result")

	out := h.outputs()
	assert.Equal(t, reviewURL, out["review-stack-url"])
	assert.Equal(t, "preview", out["command"])
	assert.Equal(t, "false", out["has-changes"], "the step outputs are the preview's, not the review stack's")
	assert.Empty(t, out["deployed-version"])

	require.Len(t, h.gh.deployments, 1)
	assert.Equal(t, "dev-pr-2", h.gh.deployments[0].Environment)
	assert.Equal(t, []bool{true}, h.gh.transient, "a review stack's environment is transient")
	assert.Contains(t, h.summaryText(), "Review stack deploy of `tap` / `dev-pr-2`: deployed: 1 created")
}

func TestReviewStack_APushUpdatesTheSectionAndKeepsOneComment(t *testing.T) {
	h, review := reviewHarness(t, "pull_request.opened.json", nil)
	require.NoError(t, h.run(), h.log())
	h.event("pull_request", "pull_request.synchronize.json", func(p map[string]any) {
		p["number"] = 2
		p["pull_request"].(map[string]any)["number"] = 2
	})
	require.NoError(t, h.run(), h.log())
	assert.Len(t, review.ups, 2)
	require.Len(t, h.gh.bodies(fixturePR), 1)
	assert.Equal(t, 1, strings.Count(h.gh.bodies(fixturePR)[0], "Review stack `dev-pr-2`"), "the section is replaced, not appended")
}

func TestReviewStack_AFailingPreviewLeavesTheReviewStackAlone(t *testing.T) {
	h, review := reviewHarness(t, "pull_request.opened.json", nil)
	h.stack.preview = breaksPolicy
	require.ErrorIs(t, h.run(), ErrReported)
	assert.Empty(t, review.ups)
	assert.Len(t, h.opened, 1, "the review stack is not even opened")
	require.Len(t, h.gh.bodies(fixturePR), 1)
	assert.Contains(t, h.gh.bodies(fixturePR)[0], "Not updated")
}

func TestReviewStack_AFailedUpdateFailsTheRunAndSaysSoInTheSection(t *testing.T) {
	h, review := reviewHarness(t, "pull_request.opened.json", nil)
	review.up = func(context.Context, string) (outcome.Result, error) {
		res := changes(outcome.KindUpdate)
		res.Error = "creating Lambda function: ServiceQuotaExceeded"
		return res, errors.New("update failed")
	}
	require.ErrorIs(t, h.run(), ErrReported)
	body := h.gh.bodies(fixturePR)[0]
	assert.Contains(t, body, "Preview of `tap` / `dev`", "the preview stays in the comment")
	assert.Contains(t, body, "The review stack's update failed")
	assert.Contains(t, body, "ServiceQuotaExceeded")
	assert.Empty(t, h.outputs()["review-stack-url"])
}

func TestReviewStack_LabelMode(t *testing.T) {
	withLabels := func(action string, event string, labels ...string) func(map[string]any) {
		return func(p map[string]any) {
			p["action"] = action
			var ls []any
			for _, l := range labels {
				ls = append(ls, map[string]any{"name": l})
			}
			p["pull_request"].(map[string]any)["labels"] = ls
			if event != "" {
				p["label"] = map[string]any{"name": event}
			}
		}
	}
	tests := []struct {
		name    string
		fixture string
		change  func(map[string]any)
		command string
		deploys bool
	}{
		{"opened without the label", "pull_request.opened.json", nil, "preview", false},
		{"opened with the label", "pull_request.opened.json", withLabels("opened", "", "bug", "review-stack"), "preview", true},
		{"labeled with it", "pull_request.labeled.json", withLabels("labeled", "review-stack", "review-stack"), "preview", true},
		{"labeled with another", "pull_request.labeled.json", nil, "none", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, review := reviewHarness(t, tt.fixture, tt.change)
			h.inputs["review-stack"] = "label:review-stack"
			require.NoError(t, h.run(), h.log())
			assert.Equal(t, tt.command, h.outputs()["command"])
			assert.Equal(t, tt.deploys, len(review.ups) == 1)
		})
	}
}

func TestReviewStack_ClosingThePullRequestDestroysAndRemovesIt(t *testing.T) {
	h, review := reviewHarness(t, "pull_request.closed.json", nil)
	review.history = madeForPR2
	h.gh.deployments = []github.Deployment{{ID: 41, Environment: "dev-pr-2"}, {ID: 42, Environment: "dev"}}
	h.gh.comments[fixturePR] = []github.Comment{{ID: 7, Author: "github-actions[bot]",
		Body: "<!-- tap-deploy:comment repo=Codertocat/Hello-World pr=2 project=tap stack=dev -->\n### Preview\n\n" + "<!-- tap-deploy:section review-stack -->\nDeployed\n<!-- /tap-deploy:section review-stack -->\n"}}
	require.NoError(t, h.run(), h.log())

	assert.Equal(t, "destroy-review-stack", h.outputs()["command"])
	assert.Equal(t, 1, review.destroyed)
	assert.Equal(t, 1, review.removed)
	assert.Empty(t, h.stack.ups)
	require.Len(t, h.opened, 1)
	assert.True(t, h.opened[0].MustExist, "a destroy never creates the stack")
	assert.Equal(t, []string{"41:inactive:"}, h.gh.statuses, "only the review stack's deployments go inactive")
	body := h.gh.bodies(fixturePR)[0]
	assert.Contains(t, body, "### Preview", "the preview stays")
	assert.Contains(t, body, "Destroyed")
	assert.NotContains(t, body, "\nDeployed\n")
}

func TestReviewStack_RemovingTheLabelDestroysIt(t *testing.T) {
	h, review := reviewHarness(t, "pull_request.labeled.json", func(p map[string]any) {
		p["action"] = "unlabeled"
		p["label"] = map[string]any{"name": "review-stack"}
	})
	h.inputs["review-stack"] = "label:review-stack"
	review.history = madeForPR2
	require.NoError(t, h.run(), h.log())
	assert.Equal(t, "destroy-review-stack", h.outputs()["command"])
	assert.Equal(t, 1, review.destroyed)
	assert.Equal(t, 1, review.removed)
}

func TestReviewStack_ClosingWithoutAReviewStackDoesNothing(t *testing.T) {
	h, _ := reviewHarness(t, "pull_request.closed.json", nil)
	h.others = nil
	require.NoError(t, h.run(), h.log())
	assert.Contains(t, h.log(), "has no review stack dev-pr-2: nothing to destroy")
	assert.Empty(t, h.gh.bodies(fixturePR), "no comment for a PR that never had a review stack")
	assert.Zero(t, h.stack.destroyed)
}

func TestReviewStack_AStackWithoutTheMarkerIsNeverDestroyed(t *testing.T) {
	h, review := reviewHarness(t, "pull_request.closed.json", nil)
	review.history = func(context.Context) ([]engine.Update, error) {
		return []engine.Update{
			{Version: 2, Kind: "update", Result: "succeeded", Config: map[string]string{stack.ReviewStackKey: "2"}},
			{Version: 1, Kind: "update", Result: "succeeded", Config: map[string]string{stack.CommitKey: "abc"}},
		}, nil
	}
	require.ErrorIs(t, h.run(), ErrReported)
	assert.Zero(t, review.destroyed)
	assert.Zero(t, review.removed)
	assert.Contains(t, h.log(), "has an update (version 1) without tap:reviewOf=2")
	assert.Contains(t, h.gh.bodies(fixturePR)[0], "Destroying it failed")
}

func TestReviewStack_AFailedDestroyKeepsTheStackForTheNextTry(t *testing.T) {
	h, review := reviewHarness(t, "pull_request.closed.json", nil)
	review.history = madeForPR2
	review.destroy = func(context.Context) (outcome.Result, error) {
		res := changes(outcome.KindDestroy)
		res.Error = "BucketNotEmpty"
		return res, errors.New("destroy failed")
	}
	require.ErrorIs(t, h.run(), ErrReported)
	assert.Zero(t, review.removed, "a stack that still holds resources stays in the backend")
	assert.Contains(t, h.log(), "the next close, label change or sweep tries again")
}

func TestReviewStack_ForkPullRequestsNeverGetOne(t *testing.T) {
	fork := func(p map[string]any) {
		p["pull_request"].(map[string]any)["head"].(map[string]any)["repo"].(map[string]any)["full_name"] = "someone/Hello-World"
	}
	for _, fixture := range []string{"pull_request.opened.json", "pull_request.closed.json"} {
		t.Run(fixture, func(t *testing.T) {
			h, review := reviewHarness(t, fixture, fork)
			require.NoError(t, h.run(), h.log())
			assert.Empty(t, review.ups)
			assert.Zero(t, review.destroyed)
			for _, s := range h.opened {
				assert.NotEqual(t, "dev-pr-2", s.Stack)
			}
		})
	}
}

func TestSweep_DestroysOnlyReviewStacksThatAreClosedOrIdle(t *testing.T) {
	h := newHarness(t)
	h.inputs["command"] = "sweep"
	h.inputs["review-stack-ttl"] = "48h"
	h.event("workflow_dispatch", "workflow_dispatch.json", nil)
	now := h.clock.now
	h.listed = []engine.StackSummary{
		{Name: "dev", LastUpdate: now.Add(-1000 * time.Hour)},
		{Name: "dev-pr-1", LastUpdate: now.Add(-time.Hour)},                       // PR closed
		{Name: "dev-pr-3", LastUpdate: now.Add(-time.Hour)},                       // open, fresh
		{Name: "organization/tap/dev-pr-4", LastUpdate: now.Add(-50 * time.Hour)}, // open, idle
		{Name: "dev-pr-5", LastUpdate: now.Add(-90 * time.Hour), UpdateInProgress: true},
		{Name: "staging-pr-6", LastUpdate: now.Add(-900 * time.Hour)},
		{Name: "dev-pr-7x", LastUpdate: now.Add(-900 * time.Hour)},
	}
	h.gh.pulls = map[int]github.PullRequest{1: {Number: 1, State: "closed"}, 3: {Number: 3, State: "open"}, 4: {Number: 4, State: "open"}, 5: {Number: 5, State: "closed"}}
	h.others = map[string]*fakeStack{}
	for _, pr := range []int{1, 3, 4, 5} {
		h.others[fmt.Sprintf("dev-pr-%d", pr)] = &fakeStack{history: func(context.Context) ([]engine.Update, error) {
			return []engine.Update{{Version: 1, Kind: "update", Result: "succeeded", Config: map[string]string{stack.ReviewStackKey: fmt.Sprint(pr)}}}, nil
		}}
	}
	require.NoError(t, h.run(), h.log())

	destroyed := map[string]int{}
	for name, st := range h.others {
		destroyed[name] = st.destroyed
	}
	assert.Equal(t, map[string]int{"dev-pr-1": 1, "dev-pr-3": 0, "dev-pr-4": 1, "dev-pr-5": 0}, destroyed)
	assert.Zero(t, h.stack.destroyed, "the environment's stack is never touched")
	summary := h.summaryText()
	assert.Contains(t, summary, "2 destroyed, 0 failed, 2 kept")
	assert.Contains(t, summary, "pull request #1 is closed")
	assert.Contains(t, summary, "no update for 50h (review-stack-ttl 48h)")
	assert.Contains(t, summary, "an update of it is running")
	assert.NotContains(t, summary, "staging-pr-6")
	assert.Equal(t, 3, h.gh.calls["pull"], "GitHub is asked only about the stacks the TTL keeps and no update holds (1, 3), and once more about #1 just before its destroy")
}

func TestSweep_ASecondLookAfterTheLockKeepsAStackThatWasRedeployedOrReopened(t *testing.T) {
	for _, tt := range []struct {
		name     string
		reopened bool
		started  string
		why      string
	}{
		{"redeployed while the sweep waited", false, "2026-11-28T11:59:00.000Z", "it was updated (version 2, 2026-11-28T11:59:00.000Z) while the sweep waited for it"},
		{"the pull request reopened", true, "2026-11-28T10:00:00.000Z", "pull request #1 is open again"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.inputs["command"] = "sweep"
			h.event("workflow_dispatch", "workflow_dispatch.json", nil)
			now := h.clock.now
			h.listed = []engine.StackSummary{{Name: "dev-pr-1", LastUpdate: now.Add(-90 * time.Minute)}}
			h.gh.pulls = map[int]github.PullRequest{1: {Number: 1, State: "closed"}}
			reads := 0
			review := &fakeStack{history: func(context.Context) ([]engine.Update, error) {
				reads++
				if reads > 1 { // read again after the lock's wait
					if tt.reopened {
						h.gh.pulls[1] = github.PullRequest{Number: 1, State: "open"}
						return []engine.Update{{Version: 1, Kind: "update", Result: "succeeded", Config: map[string]string{stack.ReviewStackKey: "1"}}}, nil
					}
					return []engine.Update{{Version: 2, Kind: "update", Result: "succeeded", StartTime: tt.started, Config: map[string]string{stack.ReviewStackKey: "1"}},
						{Version: 1, Kind: "update", Result: "succeeded", Config: map[string]string{stack.ReviewStackKey: "1"}}}, nil
				}
				return []engine.Update{{Version: 1, Kind: "update", Result: "succeeded", Config: map[string]string{stack.ReviewStackKey: "1"}}}, nil
			}}
			h.others = map[string]*fakeStack{"dev-pr-1": review}
			require.NoError(t, h.run(), h.log())
			assert.Zero(t, review.destroyed)
			assert.Zero(t, review.removed)
			assert.Contains(t, h.log(), tt.why)
			assert.Contains(t, h.summaryText(), "a second look kept it")
		})
	}
}

func TestHumanDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		72 * time.Hour: "72h", 90 * time.Minute: "1h30m", 5 * time.Minute: "5m", 50*time.Hour + 20*time.Second: "50h", 10 * time.Second: "0m",
	} {
		assert.Equal(t, want, humanDuration(d), d.String())
	}
}

func TestSweep_OnlyRunsWhereAStackMayChange(t *testing.T) {
	h := newHarness(t)
	h.inputs["command"] = "sweep"
	h.event("pull_request", "pull_request.opened.json", nil)
	require.ErrorIs(t, h.run(), ErrReported)
	assert.Contains(t, h.log(), "Refusing to run sweep")
	assert.Empty(t, h.opened)
}

func TestReviewStack_ADestroyWaitsForARunningUpdateOfThatStack(t *testing.T) {
	h, review := reviewHarness(t, "pull_request.closed.json", nil)
	review.history = madeForPR2
	calls := 0
	review.destroy = func(context.Context) (outcome.Result, error) {
		calls++
		if calls < 3 {
			return outcome.Result{}, lockedErr()
		}
		return changes(outcome.KindDestroy, outcome.Step{Op: outcome.OpDelete}), nil
	}
	require.NoError(t, h.run(), h.log())
	assert.Equal(t, 3, calls)
	assert.Equal(t, []time.Duration{5 * time.Second, 10 * time.Second}, h.clock.slept)
	assert.Equal(t, 1, review.removed)
	assert.Contains(t, h.log(), "destroyed 1 resource(s) of dev-pr-2")
}

func TestReviewStack_ACleanupDoesNotWaitOnTheProgramValidating(t *testing.T) {
	h, review := reviewHarness(t, "pull_request.closed.json", nil)
	review.history = madeForPR2
	h.inputs["policy-overrides"] = "CKV_AWS_9999=disabled" // a mandatory violation offline
	require.NoError(t, h.run(), h.log())
	assert.Equal(t, 1, review.destroyed)
	assert.NotContains(t, h.log(), "mandatory policy violation")
}

// Issue 31, item 7: on Pulumi Cloud the token decides what a job may
// write. Previews and review stacks use review-backend-token, the
// environment's updates PULUMI_ACCESS_TOKEN; on S3 and file backends the
// role decides and the token is not passed.
func TestBackendToken_PreviewsAndReviewStacksUseTheReviewToken(t *testing.T) {
	token := func(h *harness, stackName string) string {
		for _, s := range h.opened {
			if s.Stack == stackName {
				return s.Env["PULUMI_ACCESS_TOKEN"]
			}
		}
		t.Fatalf("stack %s was not opened", stackName)
		return ""
	}
	cloud := func(h *harness) {
		h.inputs["backend-url"] = "https://api.pulumi.com"
		h.inputs["review-backend-token"] = "pul-review-token"
		h.env["PULUMI_ACCESS_TOKEN"] = "pul-deploy-token"
	}
	t.Run("a pull request's preview and review stack", func(t *testing.T) {
		h := newHarness(t)
		cloud(h)
		h.inputs["review-stack"] = "on"
		h.event("pull_request", "pull_request.opened.json", nil)
		require.NoError(t, h.run(), h.log())
		assert.Equal(t, "pul-review-token", token(h, "dev"))
		assert.Equal(t, "pul-review-token", token(h, "dev-pr-2"))
		assert.Equal(t, 1, strings.Count(h.log(), "pul-review-token"), "masked: only in its ::add-mask:: line")
	})
	t.Run("a deploy", func(t *testing.T) {
		h := pushHarness(t)
		cloud(h)
		require.NoError(t, h.run(), h.log())
		assert.Empty(t, token(h, "dev"), "the deploy's own PULUMI_ACCESS_TOKEN")
	})
	t.Run("an S3 backend", func(t *testing.T) {
		h := newHarness(t)
		h.inputs["backend-url"] = "s3://state/tap"
		h.inputs["review-backend-token"] = "pul-review-token"
		h.event("pull_request", "pull_request.opened.json", nil)
		require.NoError(t, h.run(), h.log())
		assert.Empty(t, token(h, "dev"))
	})
}
