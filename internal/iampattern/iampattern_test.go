package iampattern

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The one wildcard matcher takes time linear in its inputs: a pattern of
// many stars against a long name that almost matches is where a naive
// backtracking matcher takes exponential time.
func TestMatch_IAMWildcardsInLinearTime(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true},
		{"", "", true},
		{"", "a", false},
		{"a*", "a", true},
		{"a*b", "axxb", true},
		{"a*b", "axxbc", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"arn:aws:lambda:*:function:tap-*", "arn:aws:lambda:eu-west-1:1:function:tap-dev-x", true},
		{"API-Gateway-Execution-Logs_??????????/tap-dev", "API-Gateway-Execution-Logs_abcdefghij/tap-dev", true},
		{"API-Gateway-Execution-Logs_??????????/tap-dev", "API-Gateway-Execution-Logs_abc/x/tap-dev", false},
		{"*a*a*a*a*a*a*a*a*a*a*a*a*b", strings.Repeat("a", 5000), false},
		// A pattern against a pattern: whether one covers the other.
		{"role/tap-dev-pr-*-eu-west-1", "role/tap-dev-pr-*-api-eu-west-1", true},
		{"function:tap-dev-pr-*", "function:tap-dev-pr-*:*", true},
		{"role/tap-dev-pr-*-api", "role/tap-dev-pr-*", false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, Match(tt.pattern, tt.s), "%s ~ %.40s", tt.pattern, tt.s)
	}
}

func TestOverlap_SomeStringMatchesBoth(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"log-group:*:log-stream:*", "log-group:/aws/lambda/x:*", true},
		{"function:*:*", "function:tap-dev-api", false},
		{"function:*", "function:tap-dev-api", true},
		{"tap-*-deploy", "tap-dev-*", true},
		{"tap-dev-*", "tap-prod-*", false},
		{"a?c", "*b*", true},
		{"", "*", true},
		{"", "a", false},
		{strings.Repeat("*a", 200), strings.Repeat("a*", 200), true},
		{strings.Repeat("*a", 200), strings.Repeat("a*", 200) + "b", false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, Overlap(tt.a, tt.b), "%s ∩ %.30s", tt.a, tt.b)
		assert.Equal(t, tt.want, Overlap(tt.b, tt.a), "%.30s ∩ %s", tt.b, tt.a)
	}
}
