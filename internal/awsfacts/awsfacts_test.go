package awsfacts_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/org/tap-deploy/internal/awsfacts"
)

func TestName_Check(t *testing.T) {
	tests := []struct {
		name    string
		rule    awsfacts.Name
		value   string
		wantErr string
	}{
		{"bucket fits", awsfacts.BucketName, "tap-dev-files-eu-west-1", ""},
		{"bucket with dotted labels", awsfacts.BucketName, "tap.dev.files", ""},
		{"bucket too short", awsfacts.BucketName, "ab", "shorter than the 3 characters"},
		{"bucket too long", awsfacts.BucketName, strings.Repeat("a", 64), "is 64 characters; AWS allows 63"},
		{"bucket uppercase", awsfacts.BucketName, "Files", "must be lowercase"},
		{"bucket underscore", awsfacts.BucketName, "files_bucket", `holds '_'`},
		{"bucket ends with a dash", awsfacts.BucketName, "files-", "start and end with a letter or digit"},
		{"bucket two dots", awsfacts.BucketName, "a..b", "no '..'"},
		{"bucket dash next to a dot", awsfacts.BucketName, "a-.b", "no '-' next to a '.'"},
		{"function at the limit", awsfacts.FunctionName, strings.Repeat("f", 64), ""},
		{"function over the limit", awsfacts.FunctionName, strings.Repeat("f", 65), "AWS allows 64"},
		{"role with a slash", awsfacts.RoleName, "a/b", `holds '/'`},
		{"alarm with spaces", awsfacts.AlarmName, "api 5xx alarm", ""},
		{"table too short", awsfacts.TableName, "ab", "shorter than"},
		{"queue over 80", awsfacts.QueueName, strings.Repeat("q", 81), "AWS allows 80"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.rule.Check(tt.value)
			if tt.wantErr == "" {
				assert.Empty(t, got)
				return
			}
			assert.Contains(t, got, tt.wantErr)
		})
	}
}

func TestTypes_EveryNameHasItsKey(t *testing.T) {
	for token, facts := range awsfacts.Types {
		assert.Equal(t, facts.Name != nil, facts.NameKey != "", token)
		if facts.UniqueName {
			assert.NotNil(t, facts.Name, token)
		}
	}
	assert.False(t, awsfacts.Of("aws:ec2/vpc:Vpc").Taggable, "unknown types have no facts")
}
