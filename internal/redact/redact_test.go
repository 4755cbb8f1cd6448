package redact_test

import (
	"encoding/base64"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/org/tap-deploy/internal/redact"
)

func TestRedact(t *testing.T) {
	r := redact.New()
	r.Add("ghs_supersecrettoken123")
	r.Add("correct horse battery staple")
	r.Add("true") // too short to be a secret

	tests := []struct{ in, notWant string }{
		{"token ghs_supersecrettoken123 leaked", "ghs_supersecrettoken123"},
		{"b64 " + base64.StdEncoding.EncodeToString([]byte("ghs_supersecrettoken123")), base64.StdEncoding.EncodeToString([]byte("ghs_supersecrettoken123"))[:20]},
		{"b64 inside " + base64.StdEncoding.EncodeToString([]byte("x:ghs_supersecrettoken123:y")), "c3VwZXJzZWNyZXR0b2tlbjEy"},
		{"url " + base64.URLEncoding.EncodeToString([]byte("ab"+"correct horse battery staple")), "Y29ycmVjdCBob3JzZSBiYXR0ZXJ5IHN0YXBsZQ"},
	}
	for _, tt := range tests {
		got := r.Redact(tt.in)
		assert.Contains(t, got, redact.Mask, tt.in)
		assert.NotContains(t, got, tt.notWant, tt.in)
	}
	assert.Equal(t, "keep true here", r.Redact("keep true here"))
}

func TestRedact_EveryOffsetOfABase64Embedding(t *testing.T) {
	secret := "pulumi-passphrase-42"
	r := redact.New()
	r.Add(secret)
	for _, prefix := range []string{"", "a", "ab", "abc", "abcd"} {
		enc := base64.StdEncoding.EncodeToString([]byte(prefix + secret + "suffix"))
		got := r.Redact(enc)
		assert.Contains(t, got, redact.Mask, "prefix %q: %s", prefix, enc)
	}
}
