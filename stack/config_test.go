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

func TestConfig_AlarmEmailIsAPlainASCIIAddress(t *testing.T) {
	base := stack.Base{Project: "tap", Environment: "dev", Region: "eu-west-1"}
	for addr, ok := range map[string]bool{
		"ops@example.com":         true,
		"ops+alerts@example.com":  true,
		"ops@cοrp.example":        false, // a Greek omicron
		"оps@example.com":         false, // a Cyrillic o
		"Ops <ops@example.com>":   false,
		"ops@example.com, x@y.io": false,
	} {
		_, err := stack.NewConfig(base, map[string]string{"alarmEmail": addr})
		if ok {
			assert.NoError(t, err, addr)
		} else {
			assert.Error(t, err, addr)
		}
	}
}
