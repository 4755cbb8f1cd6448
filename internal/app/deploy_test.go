package app

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/engine"
	"github.com/org/tap-deploy/internal/github"
	"github.com/org/tap-deploy/internal/outcome"
	"github.com/org/tap-deploy/stack"
)

const pushedSHA = "6113728f27ae82c7b1a177c8d03f9e96e0adf246"

func pushHarness(t *testing.T) *harness {
	t.Helper()
	h := newHarness(t)
	h.event("push", "push.with-new-branch.json", nil)
	return h
}

func deployed(version int, commit string) engine.Update {
	return engine.Update{Version: version, Kind: "update", Result: "succeeded", Config: map[string]string{stack.CommitKey: commit}}
}

func TestDeploy_WaitsForALockWithDoublingBackoffThenUpdates(t *testing.T) {
	h := pushHarness(t)
	h.inputs["lock-timeout"] = "1m"
	locked := 3
	h.stack.up = func(context.Context, string) (outcome.Result, error) {
		if locked > 0 {
			locked--
			return outcome.Result{}, lockedErr()
		}
		return changes(outcome.KindUpdate), nil
	}
	require.NoError(t, h.run(), h.log())
	assert.Equal(t, []time.Duration{5 * time.Second, 10 * time.Second, 20 * time.Second}, h.clock.slept)
	assert.Len(t, h.stack.messages, 4, "three refused attempts, then the update")
	assert.Contains(t, h.log(), "the stack is locked by another update; updating again in 5s")
}

func TestDeploy_GivesUpOnALockAtTheDeadlineAndNamesIt(t *testing.T) {
	h := pushHarness(t)
	h.inputs["lock-timeout"] = "30s"
	h.stack.up = func(context.Context, string) (outcome.Result, error) { return outcome.Result{}, lockedErr() }
	err := h.run()
	require.ErrorIs(t, err, ErrReported)
	var total time.Duration
	for _, d := range h.clock.slept {
		total += d
	}
	assert.LessOrEqual(t, total, 30*time.Second, "never waits past lock-timeout")
	assert.Equal(t, []time.Duration{5 * time.Second, 10 * time.Second}, h.clock.slept)
	assert.Contains(t, h.log(), "gave up after 30s (lock-timeout)")
	assert.Contains(t, h.log(), "deployer@runner-7")
}

func TestDeploy_ALockTimeoutOfZeroTriesOnce(t *testing.T) {
	h := pushHarness(t)
	h.inputs["lock-timeout"] = "0s"
	h.stack.preview = func(context.Context) (outcome.Result, error) { return outcome.Result{}, lockedErr() }
	require.ErrorIs(t, h.run(), ErrReported)
	assert.Empty(t, h.clock.slept)
	assert.Empty(t, h.stack.messages, "no update after a refused preview")
}

// A first deploy into an S3 backend nothing has used yet: Pulumi writes
// the backend's layout (.pulumi/meta.yaml) on its first use, which the
// bootstrap template's deploy roles may not. The run names the one
// command the administrator runs once, in the backend's region.
func TestDeploy_AFirstDeployIntoABackendWithoutItsLayoutNamesTheLoginThatCreatesIt(t *testing.T) {
	denied := errors.New(`opening stack tap/dev on s3://tap-state/tap: write ".pulumi/meta.yaml": AccessDenied: Access Denied`)
	for _, tt := range []struct {
		name    string
		backend string
		want    string
	}{
		{"no layout", "s3://tap-state/tap", "pulumi login 's3://tap-state/tap?region=eu-west-1'"},
		{"no layout, the region in the URL", "s3://tap-state/tap?region=eu-west-1", "pulumi login 's3://tap-state/tap?region=eu-west-1'"},
		{"no layout, other parameters", "s3://tap-state/tap?awssdk=v2", "pulumi login 's3://tap-state/tap?awssdk=v2&region=eu-west-1'"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := pushHarness(t)
			h.firstDeploy, h.noLayout, h.openErr = true, true, denied
			h.inputs["backend-url"] = tt.backend
			require.ErrorIs(t, h.run(), ErrReported)
			assert.Contains(t, h.log(), "AccessDenied", "Pulumi's own error first")
			assert.Contains(t, h.log(), "has no .pulumi/meta.yaml yet")
			assert.Contains(t, h.log(), tt.want)
			assert.Empty(t, h.stack.messages, "nothing was updated")
		})
	}
	t.Run("a layout already there", func(t *testing.T) {
		h := pushHarness(t)
		h.firstDeploy, h.openErr = true, denied
		h.inputs["backend-url"] = "s3://tap-state/tap"
		require.ErrorIs(t, h.run(), ErrReported)
		assert.Contains(t, h.log(), "AccessDenied")
		assert.NotContains(t, h.log(), "pulumi login", "the layout is not what failed")
	})
}

func TestDeploy_RefusesACommitBehindTheDeployedOne(t *testing.T) {
	h := pushHarness(t)
	h.stack.history = func(context.Context) ([]engine.Update, error) {
		return []engine.Update{deployed(2, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")}, nil
	}
	h.gh.compare = func(base, head string) (string, error) {
		assert.Equal(t, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", base)
		assert.Equal(t, pushedSHA, head)
		return "behind", nil
	}
	require.ErrorIs(t, h.run(), ErrReported)
	assert.Contains(t, h.log(), "Refusing to deploy an older commit")
	assert.Contains(t, h.log(), "6113728 is behind the deployed aaaaaaa")
	assert.Empty(t, h.stack.messages, "nothing was updated")
}

func TestDeploy_DeploysADivergedCommitWithAWarning(t *testing.T) {
	h := pushHarness(t)
	h.stack.history = func(context.Context) ([]engine.Update, error) {
		return []engine.Update{deployed(2, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")}, nil
	}
	h.gh.compare = func(string, string) (string, error) { return "diverged", nil }
	require.NoError(t, h.run(), h.log())
	assert.Contains(t, h.log(), "::warning::6113728 and the deployed bbbbbbb have diverged")
	assert.Len(t, h.stack.messages, 1)
}

func TestDeploy_StopsBeforeUpWhenAnUpdateWasInterrupted(t *testing.T) {
	h := pushHarness(t)
	h.stack.state = func(context.Context) (engine.State, error) {
		return engine.State{Digest: "s", Pending: []engine.PendingOperation{{Type: "creating", URN: "urn:pulumi:dev::tap::aws:sqs/queue:Queue::orphan"}}}, nil
	}
	require.ErrorIs(t, h.run(), ErrReported)
	assert.Contains(t, h.log(), "An earlier update was interrupted")
	assert.Contains(t, h.log(), "creating of urn:pulumi:dev::tap::aws:sqs/queue:Queue::orphan")
	assert.Contains(t, h.log(), "pulumi refresh --clear-pending-creates --yes")
	assert.Empty(t, h.stack.messages)
}

func TestDeploy_ThePolicyGateStopsAnUpdateTheEngineSeesBreakingARule(t *testing.T) {
	h := pushHarness(t)
	h.stack.preview = breaksPolicy
	require.ErrorIs(t, h.run(), ErrReported)
	assert.Contains(t, h.log(), "CKV_AWS_28 [mandatory]")
	assert.Contains(t, h.log(), "The update breaks mandatory policy rules; nothing was changed")
	assert.Empty(t, h.stack.messages, "the gate runs before up")
	assert.Contains(t, h.summaryText(), "blocked by policy")
}

func TestDeploy_ReportsToTheMergedPullRequestWithOneGitHubClient(t *testing.T) {
	h := pushHarness(t)
	h.gh.prsOfCommit = func(sha string) ([]github.PullRequest, error) {
		return []github.PullRequest{{Number: 7, HeadSHA: "7777", Merged: true, BaseRef: "master", MergeCommitSHA: sha}}, nil
	}
	h.stack.history = func(context.Context) ([]engine.Update, error) {
		return []engine.Update{deployed(1, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")}, nil
	}
	h.gh.compare = func(string, string) (string, error) { return "ahead", nil }
	require.NoError(t, h.run(), h.log())
	require.Len(t, h.gh.bodies(7), 1)
	assert.Contains(t, h.gh.bodies(7)[0], "pr=7 project=tap stack=dev")
	assert.Contains(t, h.gh.bodies(7)[0], "Deploy of `tap` / `dev`")
	assert.Equal(t, 1, h.clients, "the run builds one GitHub client")
	assert.Equal(t, []string{"tap-deploy · commit " + pushedSHA + " · by Codertocat · https://github.com/Codertocat/Hello-World/actions/runs/7"}, h.stack.messages)
	assert.Equal(t, pushedSHA, h.opened[0].Config[stack.CommitKey], "the update records its commit")
	assert.Equal(t, 1, h.stack.closed)
}

func TestDeploy_AFailedUpdateNamesTheResource(t *testing.T) {
	h := pushHarness(t)
	h.stack.up = func(context.Context, string) (outcome.Result, error) {
		res := changes(outcome.KindUpdate, outcome.Step{URN: "urn:x", Type: "aws:lambda/function:Function", Name: "api-handler", Op: outcome.OpCreate, Error: "AccessDenied"})
		res.Error = "1 resource failed"
		return res, errors.New("update failed")
	}
	require.ErrorIs(t, h.run(), ErrReported)
	assert.Contains(t, h.log(), `::error::aws:lambda/function:Function "api-handler": AccessDenied`)
	assert.Contains(t, h.log(), "The update failed")
}

func TestDeploy_FailsClosedWhenTheCommitOrderCannotBeChecked(t *testing.T) {
	withDeployed := func(h *harness) {
		h.stack.history = func(context.Context) ([]engine.Update, error) {
			return []engine.Update{deployed(3, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")}, nil
		}
	}
	tests := []struct {
		name  string
		setup func(h *harness)
		says  string
	}{
		{"no token", func(h *harness) { withDeployed(h); h.inputs["github-token"] = "" }, "there is no github-token to ask GitHub whether 6113728 is newer than the deployed aaaaaaa"},
		{"GitHub fails", func(h *harness) {
			withDeployed(h)
			h.gh.compare = func(string, string) (string, error) { return "", errors.New("GitHub failed to compare (HTTP 502)") }
		}, "cannot tell whether 6113728 is newer than the deployed aaaaaaa: GitHub failed to compare (HTTP 502)"},
		{"the history cannot be read", func(h *harness) {
			h.stack.history = func(context.Context) ([]engine.Update, error) {
				return nil, errors.New("reading the stack history: access denied")
			}
		}, "could not read the stack history to compare the deployed commit: reading the stack history: access denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name+": strict refuses", func(t *testing.T) {
			h := pushHarness(t)
			tt.setup(h)
			require.ErrorIs(t, h.run(), ErrReported)
			assert.Contains(t, h.log(), "Refusing to deploy: the commit order cannot be checked")
			assert.Contains(t, h.log(), tt.says)
			assert.Contains(t, h.log(), "commit-order: warn")
			assert.Empty(t, h.stack.messages, "nothing was updated")
		})
		t.Run(tt.name+": warn deploys", func(t *testing.T) {
			h := pushHarness(t)
			tt.setup(h)
			h.inputs["commit-order"] = "warn"
			require.NoError(t, h.run(), h.log())
			assert.Contains(t, h.log(), "::warning::"+tt.says)
			assert.Len(t, h.stack.messages, 1)
		})
	}
}

func TestDeploy_RefusesAnOlderActionOverANewerOne(t *testing.T) {
	h := pushHarness(t) // the harness's action is v1.0.0-test, a development build
	h.stack.history = func(context.Context) ([]engine.Update, error) {
		u := deployed(4, pushedSHA)
		u.Config[stack.ActionVersionKey] = "v1.3.0"
		return []engine.Update{u}, nil
	}
	require.ErrorIs(t, h.run(), ErrReported)
	assert.Contains(t, h.log(), "version 4 was deployed by tap-deploy v1.3.0 and this build (v1.0.0-test) is not a release")
	assert.Empty(t, h.stack.messages)
}

func TestCompareVersions(t *testing.T) {
	tests := []struct {
		ours, deployed string
		want           versionOrder
	}{
		{"v1.2.0", "v1.3.0", versionOlder},
		{"v1.3.0", "v1.3.0", versionSameOrNewer},
		{"v1.10.0", "v1.9.4", versionSameOrNewer},
		{"v2.0.0", "v1.9.4", versionSameOrNewer},
		{"dev", "v1.3.0", versionUnknown},
		{"v1.3.0-2-gabcdef0", "v1.3.0", versionUnknown},
		{"v1.2.0", "", versionSameOrNewer},
		{"v1.2.0", "dev", versionSameOrNewer},
		{"v1.2.0", "36e1733-dirty", versionSameOrNewer},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, compareVersions(tt.ours, tt.deployed), "%s over %s", tt.ours, tt.deployed)
	}
}

func TestDeploy_RecordsWhereTheUpdateCameFrom(t *testing.T) {
	h := newHarness(t)
	h.event("workflow_dispatch", "workflow_dispatch.json", nil)
	h.inputs["command"] = "up"
	h.env["GITHUB_SHA"] = "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c"
	require.NoError(t, h.run(), h.log())
	rec := h.opened[0].Config
	assert.Equal(t, "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", rec[stack.CommitKey], "a dispatched up records GITHUB_SHA")
	assert.Equal(t, "Codertocat", rec[stack.ActorKey], "the sender of the event")
	assert.Equal(t, "v1.0.0-test", rec[stack.ActionVersionKey])
}

func TestRun_RefusesUpFromAPullRequestAndTouchesNothing(t *testing.T) {
	h := newHarness(t)
	h.event("pull_request", "pull_request.opened.json", nil)
	h.inputs["command"] = "up"
	require.ErrorIs(t, h.run(), ErrReported)
	assert.Contains(t, h.log(), "Refusing to run up; nothing was touched: command up never runs from a pull_request event (pull request #2)")
	assert.Empty(t, h.opened)
	assert.Zero(t, h.clients)
}

func TestDeploy_AKilledEngineIsReportedWithTheRecoverySteps(t *testing.T) {
	h := pushHarness(t)
	h.stack.up = func(context.Context, string) (outcome.Result, error) {
		return outcome.Result{Kind: outcome.KindUpdate}, &engine.RunError{Kind: outcome.KindUpdate, Killed: true, Err: context.Canceled}
	}
	require.ErrorIs(t, h.run(), ErrReported)
	assert.Contains(t, h.log(), "Cancelled, and the engine had to be killed")
	assert.Contains(t, h.log(), "the stack may still be locked")
	assert.Contains(t, h.log(), "pulumi cancel")
	assert.Contains(t, h.log(), "pulumi refresh --clear-pending-creates --yes")
	assert.NotContains(t, h.log(), "stopped cleanly")
}

func TestDeploy_RecordsAGitHubDeploymentFromInProgressToSuccess(t *testing.T) {
	h := pushHarness(t)
	h.stack.up = func(context.Context, string) (outcome.Result, error) {
		res := changes(outcome.KindUpdate)
		res.Outputs = map[string]any{"apiUrl": "https://abc.execute-api.eu-west-1.amazonaws.com/v1/items"}
		return res, nil
	}
	require.NoError(t, h.run(), h.log())
	require.Len(t, h.gh.deployments, 1)
	d := h.gh.deployments[0]
	assert.Equal(t, pushedSHA, d.Ref)
	assert.Equal(t, "dev", d.Environment)
	assert.Equal(t, []string{
		fmt.Sprintf("%d:in_progress:", d.ID),
		fmt.Sprintf("%d:success:https://abc.execute-api.eu-west-1.amazonaws.com/v1/items", d.ID),
	}, h.gh.statuses)
}

func TestDeploy_AFailedUpdateIsAFailedDeployment(t *testing.T) {
	h := pushHarness(t)
	h.stack.up = func(context.Context, string) (outcome.Result, error) {
		return changes(outcome.KindUpdate), errors.New("update failed")
	}
	require.ErrorIs(t, h.run(), ErrReported)
	require.Len(t, h.gh.statuses, 2)
	assert.Contains(t, h.gh.statuses[1], ":failure:")
}

func TestDeploy_WithoutDeploymentsWriteTheDeployStillHappens(t *testing.T) {
	h := pushHarness(t)
	h.gh.deployErr = &github.PermissionError{Status: 403, Operation: "create a deployment to dev", Permission: "deployments: write", Message: "Resource not accessible by integration"}
	require.NoError(t, h.run(), h.log())
	assert.Len(t, h.stack.ups, 1)
	assert.Contains(t, h.log(), "::warning::could not record a GitHub deployment (the update goes on)")
	assert.Contains(t, h.log(), "deployments: write")
}

func TestDeploy_GitHubDeploymentsCanBeTurnedOff(t *testing.T) {
	h := pushHarness(t)
	h.inputs["github-deployments"] = "false"
	require.NoError(t, h.run(), h.log())
	assert.Zero(t, h.gh.calls["create deployment"])
}
