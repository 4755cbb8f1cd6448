package shift_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/shift"
)

func TestParsePreference(t *testing.T) {
	p, err := shift.ParsePreference("canary10percent5minutes")
	require.NoError(t, err)
	assert.Equal(t, shift.Preference("Canary10Percent5Minutes"), p, "the SAM spelling, whatever the case given")
	assert.Equal(t, "CodeDeployDefault.LambdaCanary10Percent5Minutes", p.ConfigName())

	_, err = shift.ParsePreference("Canary50Percent1Minute")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "use one of AllAtOnce, Canary10Percent5Minutes")
}

func TestPreference_Plan(t *testing.T) {
	tests := []struct {
		pref     shift.Preference
		first    shift.Step
		steps    int
		duration time.Duration
	}{
		{"AllAtOnce", shift.Step{After: 0, Share: 100}, 1, 0},
		{"Canary10Percent5Minutes", shift.Step{After: 0, Share: 10}, 2, 5 * time.Minute},
		{"Canary10Percent30Minutes", shift.Step{After: 0, Share: 10}, 2, 30 * time.Minute},
		{"Linear10PercentEvery1Minute", shift.Step{After: 0, Share: 10}, 10, 9 * time.Minute},
		{"Linear10PercentEvery10Minutes", shift.Step{After: 0, Share: 10}, 10, 90 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(string(tt.pref), func(t *testing.T) {
			schedule := tt.pref.Schedule()
			require.Len(t, schedule, tt.steps)
			assert.Equal(t, tt.first, schedule[0])
			assert.Equal(t, 100, schedule[len(schedule)-1].Share, "every shift ends with all traffic on the new version")
			assert.Equal(t, tt.duration, schedule.Duration())
		})
	}
	for _, p := range shift.Preferences {
		assert.Equal(t, 100, p.Schedule()[len(p.Schedule())-1].Share, "%s has a schedule", p)
	}
}

func TestFunction_AppSpecNamesTheAliasAndBothVersions(t *testing.T) {
	f := shift.Function{Name: "tap-dev-api-handler", Alias: "live", DeploymentGroup: "g", Current: "3", Target: "4"}
	content, sha := f.AppSpec()
	var spec struct {
		Version   float64 `json:"version"`
		Resources []map[string]struct {
			Type       string
			Properties map[string]string
		}
	}
	require.NoError(t, json.Unmarshal([]byte(content), &spec))
	require.Len(t, spec.Resources, 1)
	res := spec.Resources[0]["tap-dev-api-handler"]
	assert.Equal(t, "AWS::Lambda::Function", res.Type)
	assert.Equal(t, map[string]string{"Name": "tap-dev-api-handler", "Alias": "live", "CurrentVersion": "3", "TargetVersion": "4"}, res.Properties)
	assert.Len(t, sha, 64)
	assert.True(t, f.Pending())
	f.Current = "4"
	assert.False(t, f.Pending())
}

func TestDeployment_AlarmsAreReadFromAnAlarmStop(t *testing.T) {
	d := shift.Deployment{Status: shift.Stopped, ErrorCode: "ALARM_ACTIVE",
		ErrorMessage: "One or more alarms have been activated according to the Amazon CloudWatch metrics you selected, and the affected deployments have been stopped. Activated alarms: b-errors, a-5xx"}
	assert.Equal(t, []string{"a-5xx", "b-errors"}, d.Alarms())
	assert.Empty(t, shift.Deployment{Status: shift.Failed, ErrorCode: "HEALTH_CONSTRAINTS", ErrorMessage: "Activated alarms: x"}.Alarms(), "only an alarm stop names alarms")
	assert.True(t, shift.Stopped.Done())
	assert.False(t, shift.Baking.Done())
}

func TestAlias_Share(t *testing.T) {
	during := shift.Alias{Version: "3", Weights: map[string]float64{"4": 0.1}}
	assert.Equal(t, 10, during.Share("4"))
	assert.Equal(t, 90, during.Share("3"))
	assert.Equal(t, 0, during.Share("2"))
	after := shift.Alias{Version: "4"}
	assert.Equal(t, 100, after.Share("4"))
}
