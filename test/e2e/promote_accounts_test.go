package e2e_test

// Promotion across accounts, end to end: staging lives in another
// account's S3 backend (moto, behind a gate that admits only the
// credentials of staging's drift role); prod's run gets the job's OIDC
// token from the runner's token service, exchanges it with STS for the
// role's credentials and reads staging with them, and deploys prod with
// its own.

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/test/moto"
)

const (
	sourceRole   = "arn:aws:iam::111111111111:role/tap-staging-drift-eu-west-1"
	sourceKey    = "ASIASTAGINGDRIFTROLE"
	sourceSecret = "staging-drift-secret-do-not-print"
	sourceToken  = "staging-drift-session-do-not-print"
	idToken      = "eyJ.job-oidc-token-do-not-print.sig"
	requestToken = "runner-request-token-do-not-print"
)

// sourceAccount is the staging account as prod's job reaches it.
type sourceAccount struct {
	backend string
	// admitted and refused count the backend's requests by whether they
	// carried the role's credentials.
	mu                sync.Mutex
	admitted, refused int
	tokenURL, stsURL  string
	tokens, assumed   int
}

func newSourceAccount(t *testing.T) *sourceAccount {
	endpoint := moto.Start(t)
	const bucket = "tap-pulumi-state-111111111111-eu-west-1"
	c := s3.NewFromConfig(moto.Config(endpoint, "eu-west-1"), func(o *s3.Options) { o.UsePathStyle = true })
	_, err := c.CreateBucket(moto.Context(t), &s3.CreateBucketInput{Bucket: aws.String(bucket),
		CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraintEuWest1}})
	require.NoError(t, err)
	a := &sourceAccount{}
	target, err := url.Parse(endpoint)
	require.NoError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(target)
	gate := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		defer a.mu.Unlock()
		if !strings.Contains(r.Header.Get("Authorization"), "Credential="+sourceKey+"/") {
			a.refused++
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>1</RequestId></Error>`)
			return
		}
		a.admitted++
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(gate.Close)
	a.backend = "s3://" + bucket + "/tap?region=eu-west-1&endpoint=" + url.QueryEscape(strings.TrimPrefix(gate.URL, "http://")) + "&disable_https=true&use_path_style=true"

	// GitHub's token service: the job's token for the request token only.
	tokens := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "bearer "+requestToken || r.URL.Query().Get("audience") != "sts.amazonaws.com" {
			http.Error(w, `{"message":"Unauthorized"}`, http.StatusUnauthorized)
			return
		}
		a.mu.Lock()
		a.tokens++
		a.mu.Unlock()
		io.WriteString(w, `{"count":1,"value":"`+idToken+`"}`)
	}))
	t.Cleanup(tokens.Close)
	a.tokenURL = tokens.URL + "/_apis/pipelines/1/runs/4242/idtoken?api-version=2.0"

	// STS: the role's credentials for the job's token only.
	sts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.Form.Get("Action") != "AssumeRoleWithWebIdentity" ||
			r.Form.Get("RoleArn") != sourceRole || r.Form.Get("WebIdentityToken") != idToken {
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>Not authorized to perform sts:AssumeRoleWithWebIdentity</Message></Error></ErrorResponse>`)
			return
		}
		a.mu.Lock()
		a.assumed++
		a.mu.Unlock()
		w.Header().Set("Content-Type", "text/xml")
		io.WriteString(w, `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult><Credentials>`+
			`<AccessKeyId>`+sourceKey+`</AccessKeyId><SecretAccessKey>`+sourceSecret+`</SecretAccessKey><SessionToken>`+sourceToken+`</SessionToken>`+
			`<Expiration>2099-01-01T00:00:00Z</Expiration></Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>`)
	}))
	t.Cleanup(sts.Close)
	a.stsURL = sts.URL
	return a
}

func TestPromote_AcrossAccountsReadsStagingInItsAccountWithItsRole(t *testing.T) {
	e := newEnv(t)
	src := newSourceAccount(t)

	// The staging account deploys staging into its backend, with the
	// credentials its backend takes.
	own := e.Vars["AWS_ACCESS_KEY_ID"]
	e.Vars["AWS_ACCESS_KEY_ID"], e.Vars["AWS_SECRET_ACCESS_KEY"], e.Vars["AWS_SESSION_TOKEN"] = sourceKey, sourceSecret, sourceToken
	st := e.run("push", fixture(t, "push.with-new-branch.json"), staging(map[string]string{"backend-url": src.backend}))
	require.Equal(t, 0, st.Exit, st.String())
	e.Vars["AWS_ACCESS_KEY_ID"], e.Vars["AWS_SECRET_ACCESS_KEY"] = own, "prod-own-secret"
	delete(e.Vars, "AWS_SESSION_TOKEN")

	// Prod's job: its own credentials (which the staging account refuses),
	// the runner's token service, STS.
	src.mu.Lock()
	src.admitted, src.refused = 0, 0
	src.mu.Unlock()
	e.Vars["ACTIONS_ID_TOKEN_REQUEST_URL"] = src.tokenURL
	e.Vars["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] = requestToken
	e.Vars["AWS_ENDPOINT_URL_STS"] = src.stsURL
	prod := e.run("push", fixture(t, "push.with-new-branch.json"), promoteToProd(map[string]string{
		"promote-from-backend-url": src.backend, "promote-from-role-arn": sourceRole}))
	require.Equal(t, 0, prod.Exit, prod.String())
	assert.Contains(t, prod.Stdout, "reading staging in its own account as "+sourceRole)
	assert.Contains(t, prod.Stdout, "promoted from staging, update 1: the same commit 6113728")
	assert.Contains(t, prod.Stdout, "still holds under the lock of prod")
	src.mu.Lock()
	assert.Positive(t, src.admitted, "staging was read in its account")
	assert.Zero(t, src.refused, "nothing reached the staging account with prod's own credentials")
	assert.Equal(t, 1, src.assumed, "one session: the check under the lock reuses it")
	src.mu.Unlock()
	for _, line := range strings.Split(prod.Stdout+prod.Stderr, "\n") {
		if strings.HasPrefix(line, "::add-mask::") {
			continue
		}
		for _, secret := range []string{sourceSecret, sourceToken, idToken, requestToken} {
			assert.NotContains(t, line, secret)
		}
	}
	assert.NotContains(t, prod.Summary, sourceSecret)

	// Without the OIDC permission the runner gives no token: refused,
	// naming it, nothing deployed.
	delete(e.Vars, "ACTIONS_ID_TOKEN_REQUEST_URL")
	delete(e.Vars, "ACTIONS_ID_TOKEN_REQUEST_TOKEN")
	refused := e.run("push", fixture(t, "push.with-new-branch.json"), promoteToProd(map[string]string{
		"promote-from-backend-url": src.backend, "promote-from-role-arn": sourceRole}))
	assert.Equal(t, 1, refused.Exit, refused.String())
	assert.Contains(t, refused.Stdout, "`permissions: id-token: write`")
}
