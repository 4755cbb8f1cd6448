package github

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/org/tap-deploy/internal/clock"
)

// Retry is the retry policy for GitHub API calls.
type Retry struct {
	// Attempts is the most tries of one request, the first included.
	Attempts int
	// MaxWait caps one wait (a rate-limit reset an hour away is not waited
	// for: the job would time out anyway).
	MaxWait time.Duration
	// Base is the first backoff after a server error; it doubles.
	Base time.Duration
	// Sleep waits; tests replace it to run instantly.
	Sleep func(context.Context, time.Duration) error
	// Now is the clock used for rate-limit resets.
	Now func() time.Time
}

// DefaultRetry suits a CI job: a few tries, never more than a minute per wait.
var DefaultRetry = Retry{Attempts: 5, MaxWait: 60 * time.Second, Base: time.Second, Sleep: clock.Sleep, Now: time.Now}

// transport retries what is safe to retry:
//   - rate limits (429, or 403 with Retry-After or no remaining quota): the
//     request was refused, not processed, so any method may be sent again;
//   - server errors and network failures, for idempotent methods only. A
//     POST that failed this way may have been carried out: the caller must
//     look before trying again (see comment.Upsert).
type transport struct {
	base  http.RoundTripper
	retry Retry
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body.Close()
	}
	idempotent := req.Method != http.MethodPost
	backoff := t.retry.Base
	for attempt := 1; ; attempt++ {
		if body != nil {
			req.Body = io.NopCloser(bytes.NewReader(body))
		}
		resp, err := t.base.RoundTrip(req)
		last := attempt >= t.retry.Attempts
		var wait time.Duration
		switch {
		case err != nil:
			if !idempotent || last || req.Context().Err() != nil {
				return nil, err
			}
			wait = backoff
		case isRateLimited(resp):
			if last {
				return resp, nil
			}
			wait = t.rateLimitWait(resp, backoff)
			if wait > t.retry.MaxWait {
				return resp, nil
			}
		case resp.StatusCode >= 500:
			if !idempotent || last {
				return resp, nil
			}
			wait = backoff
		default:
			return resp, nil
		}
		if resp != nil {
			io.Copy(io.Discard, resp.Body) //nolint:errcheck // draining for connection reuse
			resp.Body.Close()
		}
		if err := t.retry.Sleep(req.Context(), min(wait, t.retry.MaxWait)); err != nil {
			return nil, err
		}
		backoff *= 2
	}
}

func isRateLimited(resp *http.Response) bool {
	switch resp.StatusCode {
	case http.StatusTooManyRequests:
		return true
	case http.StatusForbidden:
		return resp.Header.Get("Retry-After") != "" || resp.Header.Get("X-RateLimit-Remaining") == "0"
	}
	return false
}

// rateLimitWait honours Retry-After (secondary limits, 429), then the
// primary limit's reset time, else backs off.
func (t *transport) rateLimitWait(resp *http.Response, backoff time.Duration) time.Duration {
	if s := resp.Header.Get("Retry-After"); s != "" {
		if secs, err := strconv.Atoi(strings.TrimSpace(s)); err == nil {
			return time.Duration(secs) * time.Second
		}
		if at, err := http.ParseTime(s); err == nil {
			return at.Sub(t.retry.Now())
		}
	}
	if resp.Header.Get("X-RateLimit-Remaining") == "0" {
		if reset, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64); err == nil {
			return time.Unix(reset, 0).Sub(t.retry.Now()) + time.Second
		}
	}
	return backoff
}

// PermissionError is GitHub refusing the token: retrying cannot help, the
// workflow's permissions must change.
type PermissionError struct {
	Status     int
	Operation  string
	Permission string
	Message    string
}

func (e *PermissionError) Error() string {
	return fmt.Sprintf("GitHub refused to %s (HTTP %d: %s): the token needs %q; add `permissions: %s` to the job",
		e.Operation, e.Status, e.Message, e.Permission, e.Permission)
}

// IsPermission reports whether err is a PermissionError.
func IsPermission(err error) bool {
	var pe *PermissionError
	return errors.As(err, &pe)
}
