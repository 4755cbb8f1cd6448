package stack_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/org/tap-deploy/stack"
	"github.com/org/tap-deploy/test/stacktest"
)

func TestConfigChanges_NameWhatChangesAndWhatRelaxesARule(t *testing.T) {
	now := stacktest.Config(t, map[string]string{"logRetentionDays": "30", "alarmEmail": "ops@example.com"})
	restored := stacktest.Config(t, map[string]string{"apiAuthorization": "NONE", "alarmEmail": "mallory@example.net", "logRetentionDays": "7", "lambdaMemoryMb": "512"})
	var lines []string
	var relaxed []string
	for _, c := range stack.ConfigChanges(now, restored) {
		lines = append(lines, c.String())
		if c.Relaxes {
			relaxed = append(relaxed, c.Key)
		}
	}
	assert.Equal(t, []string{"logRetentionDays: 30 → 7", "lambdaMemoryMb: 256 → 512", "alarmEmail: ops@example.com → mallory@example.net", "apiAuthorization: AWS_IAM → NONE"}, lines)
	assert.Equal(t, []string{"logRetentionDays", "alarmEmail", "apiAuthorization"}, relaxed)
	assert.Empty(t, stack.ConfigChanges(now, now))
	for _, c := range stack.ConfigChanges(restored, now) {
		assert.Equal(t, c.Key == "alarmEmail", c.Relaxes, "tightening is not relaxing: %s", c)
	}
}
