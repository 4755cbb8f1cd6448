package app

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/engine"
	"github.com/org/tap-deploy/stack"
	"github.com/org/tap-deploy/test/stacktest"
)

func TestPickTarget(t *testing.T) {
	ok := func(v int) engine.Update { return engine.Update{Version: v, Kind: "update", Result: "succeeded"} }
	failed := engine.Update{Version: 3, Kind: "update", Result: "failed"}
	refresh := engine.Update{Version: 2, Kind: "refresh", Result: "succeeded"}
	tests := []struct {
		name    string
		hist    []engine.Update // newest first
		to      string
		want    int
		wantErr string
	}{
		{"a version", []engine.Update{ok(2), ok(1)}, "1", 1, ""},
		{"the latest version", []engine.Update{ok(2), ok(1)}, "2", 2, ""},
		{"previous", []engine.Update{ok(3), ok(2), ok(1)}, "previous", 2, ""},
		{"previous skips failed updates", []engine.Update{ok(4), failed, ok(2), ok(1)}, "previous", 2, ""},
		{"previous skips refreshes", []engine.Update{ok(3), refresh, ok(1)}, "previous", 1, ""},
		{"previous after a failed update is the last good one", []engine.Update{failed, ok(2), ok(1)}, "previous", 2, ""},
		{"previous after a rollback is the update it replaced", []engine.Update{ok(3), ok(2), ok(1)}, "previous", 2, ""},
		{"previous with one update", []engine.Update{ok(1)}, "previous", 0, "no successful update before the current state (version 1)"},
		{"previous with no history", nil, "previous", 0, "no updates to roll back to"},
		{"a failed version", []engine.Update{ok(4), failed, ok(2)}, "3", 0, "version 3 was a update that failed"},
		{"a refresh", []engine.Update{ok(3), refresh}, "2", 0, "version 2 was a refresh"},
		{"a missing version", []engine.Update{ok(2), ok(1)}, "7", 0, "version 7 is not in the stack history (versions 1 to 2 exist)"},
		{"no history", nil, "1", 0, "version 1 is not in the stack history"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := pickTarget(tt.hist, tt.to)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got.Version)
		})
	}
}

func TestRollback_AppliesTheRecordedConfigurationAndCommit(t *testing.T) {
	h := newHarness(t)
	h.event("workflow_dispatch", "workflow_dispatch.json", nil)
	h.inputs["command"] = "rollback"
	h.inputs["rollback-to"] = "1"
	h.inputs["config"] = "lambdaMemoryMb=1024"
	old := stacktest.Config(t, map[string]string{"lambdaMemoryMb": "256", "logRetentionDays": "30"})
	v1 := engine.Update{Version: 1, Kind: "update", Result: "succeeded",
		Config: stack.Record(old, stacktest.Packages(t, "old"), stack.Provenance{Commit: "cccccccccccccccccccccccccccccccccccccccc"})}
	v2 := engine.Update{Version: 2, Kind: "update", Result: "succeeded", Config: stack.Record(stacktest.Config(t, nil), stacktest.Packages(t, "a"), stack.Provenance{Commit: "dddd"})}
	h.stack.history = func(context.Context) ([]engine.Update, error) { return []engine.Update{v2, v1}, nil }

	require.NoError(t, h.run(), h.log())
	require.Len(t, h.opened, 2, "once to read the history, once with the recorded configuration")
	applied := h.opened[1].Config
	assert.Equal(t, "256", applied["tap:lambdaMemoryMb"], "the recorded value, not this run's input")
	assert.Equal(t, "30", applied["tap:logRetentionDays"])
	assert.Equal(t, "cccccccccccccccccccccccccccccccccccccccc", applied[stack.CommitKey])
	require.Len(t, h.stack.messages, 1)
	assert.Contains(t, h.stack.messages[0], "rollback to version 1 · tap-deploy · commit cccccccccccccccccccccccccccccccccccccccc")
	assert.Contains(t, h.summaryText(), "Preview before rollback to version 1")
	assert.Contains(t, h.summaryText(), "**Commit** `ccccccc`", "the report shows the restored commit")
}

func TestRollback_ToAVersionThatFailedChangesNothing(t *testing.T) {
	h := newHarness(t)
	h.event("workflow_dispatch", "workflow_dispatch.json", nil)
	h.inputs["command"] = "rollback"
	h.inputs["rollback-to"] = "2"
	h.stack.history = func(context.Context) ([]engine.Update, error) {
		return []engine.Update{{Version: 2, Kind: "update", Result: "failed"}, {Version: 1, Kind: "update", Result: "succeeded"}}, nil
	}
	require.ErrorIs(t, h.run(), ErrReported)
	assert.Contains(t, h.log(), "Cannot roll back: version 2 was a update that failed")
	assert.Empty(t, h.stack.messages)
	assert.Len(t, h.opened, 1)
}

func TestHistory_ListsTheNumberedUpdatesRollbackNames(t *testing.T) {
	h := newHarness(t)
	h.event("workflow_dispatch", "workflow_dispatch.json", nil)
	h.inputs["command"] = "history"
	first := stack.Record(stacktest.Config(t, nil), stacktest.Packages(t, "a"), stack.Provenance{Commit: "cccccccccccccccccccccccccccccccccccccccc", Actor: "alice", ActionVersion: "v1.2.0"})
	h.stack.history = func(context.Context) ([]engine.Update, error) {
		return []engine.Update{
			{Version: 3, Kind: "update", Result: "failed", StartTime: "2026-11-28T10:00:00Z", Message: "tap-deploy · commit dddd · by bob", Config: map[string]string{}},
			{Version: 2, Kind: "refresh", Result: "succeeded", StartTime: "2026-11-27T10:00:00Z"},
			{Version: 1, Kind: "update", Result: "succeeded", StartTime: "2026-11-26T10:00:00Z", Message: "tap-deploy · commit cccc", Config: first},
		}, nil
	}
	require.NoError(t, h.run(), h.log())
	summary := h.summaryText()
	assert.Contains(t, summary, "History of `tap` / `dev`: 3 update(s)")
	assert.Contains(t, summary, "| 1 | 2026-11-26T10:00:00Z | update | **succeeded** | `ccccccc` | alice | v1.2.0 |")
	assert.Contains(t, summary, "| 3 | 2026-11-28T10:00:00Z | update | failed |  | bob |", "the actor of an older update comes from its message")
	assert.Contains(t, h.log(), "version 1 · 2026-11-26T10:00:00Z · update succeeded · commit ccccccc · by alice")
	assert.Empty(t, h.stack.messages, "history changes nothing")
}

func TestRollback_ARestoredConfigurationThatLoosensARuleNeedsTheWorkflowToAskForIt(t *testing.T) {
	loose := stacktest.Config(t, map[string]string{"apiAuthorization": "NONE", "alarmEmail": "mallory@example.net"})
	v1 := engine.Update{Version: 1, Kind: "update", Result: "succeeded", Config: stack.Record(loose, stacktest.Packages(t, "a"), stack.Provenance{Commit: "cccc"})}
	v2 := engine.Update{Version: 2, Kind: "update", Result: "succeeded", Config: stack.Record(stacktest.Config(t, nil), stacktest.Packages(t, "a"), stack.Provenance{Commit: "dddd"})}
	rollback := func(config string) *harness {
		h := newHarness(t)
		h.event("workflow_dispatch", "workflow_dispatch.json", nil)
		h.inputs["command"] = "rollback"
		h.inputs["rollback-to"] = "1"
		h.inputs["config"] = config
		h.stack.history = func(context.Context) ([]engine.Update, error) { return []engine.Update{v2, v1}, nil }
		return h
	}

	refused := rollback("")
	require.ErrorIs(t, refused.run(), ErrReported)
	assert.Contains(t, refused.log(), "Refusing to roll back to version 1; nothing was changed")
	assert.Contains(t, refused.log(), "alarmEmail: (unset) → mallory@example.net; apiAuthorization: AWS_IAM → NONE")
	assert.Empty(t, refused.stack.ups)
	assert.Len(t, refused.opened, 1, "only to read the history")

	asked := rollback("apiAuthorization=NONE\nalarmEmail=mallory@example.net")
	require.NoError(t, asked.run(), asked.log())
	require.Len(t, asked.stack.ups, 1)
	assert.Contains(t, asked.summaryText(), "configuration restored: alarmEmail: (unset) → mallory@\u200bexample.net", "the escaped mention")
	assert.Contains(t, asked.summaryText(), "configuration restored: apiAuthorization: AWS\\_IAM → NONE")
}

// rollbackHarness rolls back to version 1 with v2 deployed now.
func rollbackHarness(t *testing.T, v1, v2 engine.Update) *harness {
	h := newHarness(t)
	h.event("workflow_dispatch", "workflow_dispatch.json", nil)
	h.inputs["command"] = "rollback"
	h.inputs["rollback-to"] = "1"
	h.stack.history = func(context.Context) ([]engine.Update, error) { return []engine.Update{v2, v1}, nil }
	return h
}

func recorded(t *testing.T, version int, cfg map[string]string, prov stack.Provenance) engine.Update {
	return engine.Update{Version: version, Kind: "update", Result: "succeeded", Config: stack.Record(stacktest.Config(t, cfg), stacktest.Packages(t, "a"), prov)}
}

// Attack (issue 31, item 3): the last update was made by v9.0.0; a
// rollback from an older build would run, record the older version and
// disarm every later downgrade check.
func TestRollback_AnOlderTapDeployThanTheOneThatMadeTheLastUpdateIsRefused(t *testing.T) {
	h := rollbackHarness(t, recorded(t, 1, nil, stack.Provenance{Commit: "cccc"}), recorded(t, 2, nil, stack.Provenance{Commit: "dddd", ActionVersion: "v9.0.0"}))
	h.version = "v1.2.0"
	require.ErrorIs(t, h.run(), ErrReported)
	assert.Contains(t, h.log(), "Refusing to roll back with an older tap-deploy: version 2 was deployed by tap-deploy v9.0.0 and this is v1.2.0")
	assert.Empty(t, h.stack.ups)
	assert.Len(t, h.opened, 1, "only to read the history")
}

// Attack (issue 31, item 3): re-running an old rollback.yml run replays
// its GITHUB_SHA, with that run's workflow, action pin and config.
func TestRollback_ARunWhoseOwnCommitIsBehindTheDeployedOneIsRefused(t *testing.T) {
	const old, deployedNow, rolledBackTo = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "dddddddddddddddddddddddddddddddddddddddd", "cccccccccccccccccccccccccccccccccccccccc"
	order := func(base, head string) (string, error) {
		if base == deployedNow && head == old {
			return "behind", nil
		}
		return "identical", nil
	}
	t.Run("a re-run of an old run", func(t *testing.T) {
		h := rollbackHarness(t, recorded(t, 1, nil, stack.Provenance{Commit: rolledBackTo}), recorded(t, 2, nil, stack.Provenance{Commit: deployedNow}))
		h.env["GITHUB_SHA"] = old
		h.gh.compare = order
		require.ErrorIs(t, h.run(), ErrReported)
		assert.Contains(t, h.log(), "Refusing to roll back from an older commit: this run is of aaaaaaa, behind ddddddd, which made version 2")
		assert.Empty(t, h.stack.ups)
	})
	t.Run("after a rollback, its run's commit is the one to be behind", func(t *testing.T) {
		// Version 2 rolled back to cccc from a run of dddd: the stack
		// runs the old commit, the order is the run's.
		h := rollbackHarness(t, recorded(t, 1, nil, stack.Provenance{Commit: rolledBackTo}), recorded(t, 2, nil, stack.Provenance{Commit: rolledBackTo, RunCommit: deployedNow}))
		h.env["GITHUB_SHA"] = old
		h.gh.compare = order
		require.ErrorIs(t, h.run(), ErrReported)
		assert.Contains(t, h.log(), "behind ddddddd, which made version 2")
	})
	t.Run("a run of the deployed commit rolls back and records its own commit", func(t *testing.T) {
		h := rollbackHarness(t, recorded(t, 1, nil, stack.Provenance{Commit: rolledBackTo}), recorded(t, 2, nil, stack.Provenance{Commit: deployedNow}))
		h.env["GITHUB_SHA"] = deployedNow
		require.NoError(t, h.run(), h.log())
		require.Len(t, h.stack.ups, 1)
		assert.Equal(t, rolledBackTo, h.opened[1].Config[stack.CommitKey])
		assert.Equal(t, deployedNow, h.opened[1].Config[stack.RunCommitKey])
	})
	t.Run("an order that cannot be told is refused under strict", func(t *testing.T) {
		h := rollbackHarness(t, recorded(t, 1, nil, stack.Provenance{Commit: rolledBackTo}), recorded(t, 2, nil, stack.Provenance{Commit: deployedNow}))
		h.env["GITHUB_SHA"] = old
		require.ErrorIs(t, h.run(), ErrReported)
		assert.Contains(t, h.log(), "Refusing to deploy: the commit order cannot be checked")
		assert.Empty(t, h.stack.ups)
	})
}

// Attack (issue 31, item 3): the run's config (an old run's, replayed) was
// the baseline of the loosens check; what is deployed now is.
func TestRollback_LoosensIsComparedWithWhatIsDeployedNowNotTheRunsConfig(t *testing.T) {
	h := rollbackHarness(t, recorded(t, 1, map[string]string{"logRetentionDays": "7"}, stack.Provenance{Commit: "cccc"}),
		recorded(t, 2, map[string]string{"logRetentionDays": "30"}, stack.Provenance{Commit: "dddd"}))
	h.inputs["config"] = "logRetentionDays=1"
	require.ErrorIs(t, h.run(), ErrReported)
	assert.Contains(t, h.log(), "version 1's configuration loosens what is deployed now (logRetentionDays: 30 → 7)")
	assert.Empty(t, h.stack.ups)
}
