package bootstrap

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/org/tap-deploy/internal/iampattern"
)

func TestReplaceWord_ReplacesTheEnvironmentAsAWordOfNames(t *testing.T) {
	tests := []struct{ s, word, want string }{
		{"tap-dev-items", "dev", "tap-X-items"},
		{"arn:aws:s3:::b/tap/.pulumi/stacks/tap/dev.json", "dev", "arn:aws:s3:::b/tap/.pulumi/stacks/tap/X.json"},
		{"tap-devices-dev", "dev", "tap-devices-X"},
		{"arn:aws:lambda:eu-west-1:1:function:tap-lambda-x", "lambda", "arn:aws:lambda:eu-west-1:1:function:tap-X-x"},
		{"dev", "dev", "X"},
		{"tapdev", "dev", "tapdev"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, replaceWord(tt.s, tt.word, "X"), tt.s)
	}
}

func TestCollapse_FoldsNamesAfterTheMarkerKeepingWhatTheyShare(t *testing.T) {
	never := func(string) bool { return false }
	tests := []struct {
		name    string
		in      []string
		refused func(string) bool
		want    []string
	}{
		{"roles keep their common end", []string{"arn:aws:iam::1:role/tap-dev-pr-*-api-eu-west-1", "arn:aws:iam::1:role/tap-dev-pr-*-worker-eu-west-1"}, never,
			[]string{"arn:aws:iam::1:role/tap-dev-pr-*-eu-west-1"}},
		{"qualifiers fall under the name pattern", []string{"arn:aws:lambda:r:1:function:tap-dev-pr-*-a", "arn:aws:lambda:r:1:function:tap-dev-pr-*-a:*",
			"arn:aws:lambda:r:1:function:tap-dev-pr-*-b", "arn:aws:lambda:r:1:function:tap-dev-pr-*-b:*"}, never,
			[]string{"arn:aws:lambda:r:1:function:tap-dev-pr-*"}},
		{"keys stay apart", []string{"arn:aws:s3:::tap-dev-pr-*-code-1-r/lambda/a/*", "arn:aws:s3:::tap-dev-pr-*-code-1-r/lambda/b/*"}, never,
			[]string{"arn:aws:s3:::tap-dev-pr-*-code-1-r/lambda/a/*", "arn:aws:s3:::tap-dev-pr-*-code-1-r/lambda/b/*"}},
		{"one name stays as it is", []string{"arn:aws:sqs:r:1:tap-dev-pr-*-dlq"}, never, []string{"arn:aws:sqs:r:1:tap-dev-pr-*-dlq"}},
		{"without the marker", []string{"arn:aws:kms:r:1:key/*", "arn:aws:apigateway:r::/restapis/*"}, never,
			[]string{"arn:aws:kms:r:1:key/*", "arn:aws:apigateway:r::/restapis/*"}},
		{"what another matches goes", []string{"*", "arn:aws:kms:r:1:key/*"}, never, []string{"*"}},
		{"refused patterns are not made", []string{"arn:aws:iam::1:role/tap-dev-pr-*-api-eu-west-1", "arn:aws:iam::1:role/tap-dev-pr-*-worker-eu-west-1"},
			func(p string) bool { return strings.HasSuffix(p, "pr-*-eu-west-1") },
			[]string{"arn:aws:iam::1:role/tap-dev-pr-*-api-eu-west-1", "arn:aws:iam::1:role/tap-dev-pr-*-worker-eu-west-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := collapse(tt.in, "tap-dev-pr-*", tt.refused)
			assert.Equal(t, tt.want, got)
			for _, r := range tt.in {
				assert.True(t, slicesAny(got, func(p string) bool { return iampattern.Match(p, r) }), "%s is still allowed", r)
			}
		})
	}
}

func slicesAny(list []string, f func(string) bool) bool {
	for _, s := range list {
		if f(s) {
			return true
		}
	}
	return false
}
