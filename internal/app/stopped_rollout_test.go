package app

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/shift"
)

// A rollout's shifts end within moments of each other: an alarm that
// fires on one function in the last step of a linear shift can find
// another's shift already succeeded. That function goes back to its old
// version too (SECURITY.md: a shift an alarm stops returns all traffic to
// the old version), and the report never says the new versions take no
// traffic while one does.
func TestDeploy_AnAlarmReturnsEvenAShiftThatAlreadySucceeded(t *testing.T) {
	h := pushHarness(t)
	h.inputs["deployment-preference"] = "Linear10PercentEvery1Minute"
	h.publishes("2")
	h.traffic.script[apiFunction] = []look{{status: shift.InProgress, share: 90}, {status: shift.Stopped, alarm: "tap-dev-api-handler-live-errors"}}
	h.traffic.script["tap-dev-file-processor"] = []look{{status: shift.InProgress, share: 90}, {status: shift.Succeeded, share: 100}}
	h.traffic.script["tap-dev-stream-processor"] = []look{{status: shift.InProgress, share: 90}}

	require.ErrorIs(t, h.run(), ErrReported)
	assert.Contains(t, h.log(), "The traffic shift stopped: alarm tap-dev-api-handler-live-errors fired")
	for _, f := range []string{apiFunction, "tap-dev-file-processor", "tap-dev-stream-processor"} {
		assert.Equal(t, shift.Alias{Version: "1"}, h.traffic.aliases[f], "%s serves the old version after the alarm stopped the rollout", f)
	}
	assert.Contains(t, h.summaryText(), "tap-dev-file-processor: version 1 → 2 had already succeeded; moved back to version 1 (CodeDeploy deployment")
	require.Len(t, h.traffic.started, 4, "three shifts and one all-at-once return")
	assert.Equal(t, started{"tap-dev-file-processor", "CodeDeployDefault.LambdaAllAtOnce", "tap-deploy: the release's traffic shift was stopped", "2", "1"}, h.traffic.started[3])
	if h.traffic.aliases["tap-dev-file-processor"].Version == "2" {
		assert.NotContains(t, h.summaryText(), "take no traffic", "a function serves its new version")
	}
}
