package redact_test

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/redact"
)

func TestRedact(t *testing.T) {
	r := redact.New()
	r.Add("ghs_supersecrettoken123")
	r.Add("correct horse battery staple")
	short := r.Add("s3cr") // short, and still a secret
	assert.Equal(t, []string{"s3cr"}, short, "the runner masks the whole value; its encodings are too short to register")

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
	assert.Equal(t, "keep *** here", r.Redact("keep s3cr here"))
	assert.Equal(t, "keep "+base64.StdEncoding.EncodeToString([]byte("s3cr"))+" here", r.Redact("keep "+base64.StdEncoding.EncodeToString([]byte("s3cr"))+" here"))
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

func TestRedact_TheFormsASecretTakesInOutput(t *testing.T) {
	const secret = `wJal_rXUt*nFEMI/K7M+DENG<b>"q"&x@y`
	r := redact.New()
	added := r.Add(secret)
	jsonHTML, _ := json.Marshal(secret)
	var plainJSON strings.Builder
	enc := json.NewEncoder(&plainJSON)
	enc.SetEscapeHTML(false)
	require.NoError(t, enc.Encode(secret))
	for name, form := range map[string]string{
		"raw":              secret,
		"query escaped":    url.QueryEscape(secret),
		"path escaped":     url.PathEscape(secret),
		"JSON (HTML-safe)": strings.Trim(string(jsonHTML), `"`),
		"JSON":             strings.Trim(strings.TrimSpace(plainJSON.String()), `"`),
		"base64":           base64.StdEncoding.EncodeToString([]byte(secret)),
	} {
		t.Run(name, func(t *testing.T) {
			got := r.Redact("before " + form + " after")
			assert.NotContains(t, got, form)
			assert.Contains(t, got, redact.Mask)
			assert.True(t, strings.HasPrefix(got, "before ") && strings.HasSuffix(got, " after"), got)
		})
	}
	assert.Contains(t, added, url.QueryEscape(secret), "every form is returned for the runner's masks")
}
