// Package oidcrole exchanges the job's GitHub OIDC token for an AWS role's
// temporary credentials (STS AssumeRoleWithWebIdentity), the way
// aws-actions/configure-aws-credentials does, for a run that must read
// another account than its own: a promotion's source (promote-from-role-arn).
// The credentials it returns are used for that read only; the run's own
// stay in the environment.
package oidcrole

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Audience is the OIDC token's audience AWS's roles trust
// (token.actions.githubusercontent.com:aud), as configure-aws-credentials
// asks for it.
const Audience = "sts.amazonaws.com"

// The environment variables the runner sets for a job with
// `permissions: id-token: write`.
const (
	EnvRequestURL   = "ACTIONS_ID_TOKEN_REQUEST_URL"
	EnvRequestToken = "ACTIONS_ID_TOKEN_REQUEST_TOKEN"
)

// Credentials are an assumed role's temporary credentials.
type Credentials struct {
	AccessKeyID, SecretAccessKey, SessionToken string
	// Expires is when AWS stops taking them.
	Expires time.Time
}

// Env is what gives a process these credentials, and only these: the
// static variables, which the AWS SDKs take before anything else, and the
// others the SDKs would prefer or fall back to, emptied (a profile wins
// over static variables in the Go SDK v2).
func (c Credentials) Env() map[string]string {
	return map[string]string{
		"AWS_ACCESS_KEY_ID":           c.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY":       c.SecretAccessKey,
		"AWS_SESSION_TOKEN":           c.SessionToken,
		"AWS_PROFILE":                 "",
		"AWS_DEFAULT_PROFILE":         "",
		"AWS_ROLE_ARN":                "",
		"AWS_WEB_IDENTITY_TOKEN_FILE": "",
	}
}

// IDToken asks the runner's token service for the job's OIDC token for
// audience (GitHub's documented request: GET the request URL with an
// audience parameter, the request token as a bearer token).
func IDToken(ctx context.Context, client *http.Client, requestURL, requestToken, audience string) (string, error) {
	u, err := url.Parse(requestURL)
	if err != nil {
		return "", fmt.Errorf("%s is not a URL: %w", EnvRequestURL, err)
	}
	q := u.Query()
	q.Set("audience", audience)
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "bearer "+requestToken)
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		// The URL is the runner's, and holds no secret; the error may
		// repeat it.
		return "", fmt.Errorf("requesting the job's OIDC token: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("reading the job's OIDC token: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		// The service's message, unless it carries a token after all (a
		// proxy answering 2xx): nothing that could be one is repeated.
		msg := strings.TrimSpace(string(body))
		if resp.StatusCode/100 == 2 || strings.Contains(msg, `"value"`) || strings.Contains(msg, "eyJ") {
			msg = "(its body is left out: it may hold a token)"
		}
		return "", fmt.Errorf("the runner's token service answered HTTP %d: %.200s", resp.StatusCode, msg)
	}
	var out struct {
		Value string `json:"value"`
	}
	if err := json.Unmarshal(body, &out); err != nil || out.Value == "" {
		return "", errors.New("the runner's token service answered without a token")
	}
	return out.Value, nil
}

// Assume exchanges token for roleARN's credentials (STS
// AssumeRoleWithWebIdentity, which is not signed: no credentials are
// needed, and none of the environment's are sent). The endpoint is the
// region's STS, or AWS_ENDPOINT_URL_STS.
func Assume(ctx context.Context, region, roleARN, session, token string, duration time.Duration) (Credentials, error) {
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region), config.WithCredentialsProvider(aws.AnonymousCredentials{}))
	if err != nil {
		return Credentials{}, fmt.Errorf("loading the AWS configuration: %w", err)
	}
	in := &sts.AssumeRoleWithWebIdentityInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String(session), WebIdentityToken: aws.String(token)}
	if duration > 0 {
		in.DurationSeconds = aws.Int32(int32(duration / time.Second))
	}
	out, err := sts.NewFromConfig(cfg).AssumeRoleWithWebIdentity(ctx, in)
	if err != nil {
		return Credentials{}, fmt.Errorf("sts:AssumeRoleWithWebIdentity: %w", err)
	}
	c := out.Credentials
	if c == nil || c.AccessKeyId == nil || c.SecretAccessKey == nil || c.SessionToken == nil {
		return Credentials{}, errors.New("sts:AssumeRoleWithWebIdentity answered without credentials")
	}
	creds := Credentials{AccessKeyID: *c.AccessKeyId, SecretAccessKey: *c.SecretAccessKey, SessionToken: *c.SessionToken}
	if c.Expiration != nil {
		creds.Expires = *c.Expiration
	}
	return creds, nil
}
