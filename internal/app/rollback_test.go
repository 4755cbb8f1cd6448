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
		Config: stack.Record(old, stacktest.Artifacts(t, "old"), stack.Provenance{Commit: "cccccccccccccccccccccccccccccccccccccccc"})}
	v2 := engine.Update{Version: 2, Kind: "update", Result: "succeeded", Config: stack.Record(stacktest.Config(t, nil), stacktest.Artifacts(t, "a"), stack.Provenance{Commit: "dddd"})}
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
	first := stack.Record(stacktest.Config(t, nil), stacktest.Artifacts(t, "a"), stack.Provenance{Commit: "cccccccccccccccccccccccccccccccccccccccc", Actor: "alice", ActionVersion: "v1.2.0"})
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
	v1 := engine.Update{Version: 1, Kind: "update", Result: "succeeded", Config: stack.Record(loose, stacktest.Artifacts(t, "a"), stack.Provenance{Commit: "cccc"})}
	v2 := engine.Update{Version: 2, Kind: "update", Result: "succeeded", Config: stack.Record(stacktest.Config(t, nil), stacktest.Artifacts(t, "a"), stack.Provenance{Commit: "dddd"})}
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
