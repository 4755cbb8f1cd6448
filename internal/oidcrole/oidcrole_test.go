package oidcrole

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIDToken_AsksForTheAudienceWithTheRequestToken(t *testing.T) {
	var asked url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "bearer request-token" {
			http.Error(w, `{"message":"Unauthorized"}`, http.StatusUnauthorized)
			return
		}
		asked = r.URL.Query()
		w.Write([]byte(`{"count":1,"value":"eyJ.id.token"}`))
	}))
	defer srv.Close()
	tok, err := IDToken(context.Background(), srv.Client(), srv.URL+"/_apis/token?api-version=2.0", "request-token", Audience)
	require.NoError(t, err)
	assert.Equal(t, "eyJ.id.token", tok)
	assert.Equal(t, "sts.amazonaws.com", asked.Get("audience"))
	assert.Equal(t, "2.0", asked.Get("api-version"), "the runner's own parameters stay")

	_, err = IDToken(context.Background(), srv.Client(), srv.URL+"/_apis/token", "wrong", Audience)
	require.ErrorContains(t, err, "HTTP 401")
}

// An answer that is not 200 is named by its status; its body is repeated
// only when it cannot hold a token (a proxy answering 203 with one must
// not print it before it is masked).
func TestIDToken_AnAnswerThatMayHoldATokenIsNotRepeated(t *testing.T) {
	tests := []struct {
		status   int
		body     string
		repeated bool
	}{
		{http.StatusUnauthorized, `{"message":"Unauthorized"}`, true},
		{http.StatusNonAuthoritativeInfo, `{"count":1,"value":"eyJhbGciOi.payload.sig"}`, false},
		{http.StatusInternalServerError, `upstream said eyJhbGciOi.payload.sig`, false},
		{http.StatusBadGateway, `{"value":"x"}`, false},
	}
	for _, tt := range tests {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(tt.status)
			w.Write([]byte(tt.body))
		}))
		_, err := IDToken(context.Background(), srv.Client(), srv.URL+"/_apis/token", "request-token", Audience)
		srv.Close()
		require.Error(t, err)
		assert.Contains(t, err.Error(), fmt.Sprintf("HTTP %d", tt.status))
		if tt.repeated {
			assert.Contains(t, err.Error(), tt.body)
		} else {
			assert.NotContains(t, err.Error(), "eyJ")
			assert.NotContains(t, err.Error(), `"value"`)
		}
	}
}

// fakeSTS answers AssumeRoleWithWebIdentity for one role and one token,
// as STS does (an unsigned Query request, an XML answer).
func fakeSTS(t *testing.T, role, token string) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.NoError(t, r.ParseForm())
		if r.Header.Get("Authorization") != "" {
			t.Errorf("AssumeRoleWithWebIdentity was signed: %q", r.Header.Get("Authorization"))
		}
		if r.Form.Get("Action") != "AssumeRoleWithWebIdentity" || r.Form.Get("RoleArn") != role || r.Form.Get("WebIdentityToken") != token || r.Form.Get("RoleSessionName") == "" {
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code>` +
				`<Message>Not authorized to perform sts:AssumeRoleWithWebIdentity</Message></Error><RequestId>1</RequestId></ErrorResponse>`))
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		w.Write([]byte(`<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult>` +
			`<Credentials><AccessKeyId>ASIASOURCE</AccessKeyId><SecretAccessKey>source-secret</SecretAccessKey><SessionToken>source-session</SessionToken>` +
			`<Expiration>2026-12-07T16:00:00Z</Expiration></Credentials></AssumeRoleWithWebIdentityResult><ResponseMetadata><RequestId>2</RequestId></ResponseMetadata></AssumeRoleWithWebIdentityResponse>`))
	}))
}

func TestAssume_ExchangesTheTokenForTheRolesCredentials(t *testing.T) {
	const role = "arn:aws:iam::111111111111:role/tap-staging-drift-eu-west-1"
	srv := fakeSTS(t, role, "eyJ.id.token")
	defer srv.Close()
	t.Setenv("AWS_ENDPOINT_URL_STS", srv.URL)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIATARGET")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "target-secret")
	c, err := Assume(context.Background(), "eu-west-1", role, "tap-deploy-promote", "eyJ.id.token", time.Hour)
	require.NoError(t, err)
	assert.Equal(t, Credentials{AccessKeyID: "ASIASOURCE", SecretAccessKey: "source-secret", SessionToken: "source-session",
		Expires: time.Date(2026, 12, 7, 16, 0, 0, 0, time.UTC)}, c)

	_, err = Assume(context.Background(), "eu-west-1", role, "tap-deploy-promote", "another-token", time.Hour)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "AccessDenied")
	assert.Contains(t, err.Error(), "sts:AssumeRoleWithWebIdentity")
}

func TestCredentials_EnvGivesOnlyThem(t *testing.T) {
	env := Credentials{AccessKeyID: "ASIA", SecretAccessKey: "s", SessionToken: "t"}.Env()
	assert.Equal(t, "ASIA", env["AWS_ACCESS_KEY_ID"])
	for _, k := range []string{"AWS_PROFILE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"} {
		v, set := env[k]
		assert.True(t, set && v == "", "%s is emptied: %v", k, strings.TrimSpace(v))
	}
}
