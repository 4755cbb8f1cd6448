package github_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/github"
)

// answer is one refusal or failure the server gives before it succeeds.
type answer struct {
	status  int
	headers map[string]string
}

// refuseThenServe answers each of first in turn, then serve.
func refuseThenServe(first []answer, serve http.HandlerFunc) http.HandlerFunc {
	var mu sync.Mutex
	n := 0
	return func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		i := n
		n++
		mu.Unlock()
		if i >= len(first) {
			serve(w, r)
			return
		}
		for k, v := range first[i].headers {
			w.Header().Set(k, v)
		}
		writeJSON(w, first[i].status, map[string]any{"message": http.StatusText(first[i].status)})
	}
}

func TestRetry(t *testing.T) {
	comment := func(t *testing.T) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			var in struct{ Body string }
			assert.NoError(t, json.NewDecoder(r.Body).Decode(&in))
			assert.Equal(t, "hello", in.Body, "a retried request sends its body again")
			writeJSON(w, http.StatusCreated, map[string]any{"id": 1, "body": in.Body})
		}
	}
	pull := func(*testing.T) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, http.StatusOK, map[string]any{"number": 5, "state": "open"})
		}
	}
	create := func(c *github.Client) error {
		_, err := c.CreateComment(context.Background(), "o", "r", 5, "hello")
		return err
	}
	read := func(c *github.Client) error {
		_, err := c.PullRequest(context.Background(), "o", "r", 5)
		return err
	}
	const (
		commentsPath = "POST /repos/o/r/issues/5/comments"
		pullPath     = "GET /repos/o/r/pulls/5"
	)
	tests := []struct {
		name    string
		pattern string
		serve   func(*testing.T) http.HandlerFunc
		call    func(*github.Client) error
		answers []answer
		calls   int
		slept   []time.Duration
		wantErr string
	}{
		{"429 waits its Retry-After, for a POST too: the request was refused, not done",
			commentsPath, comment, create,
			[]answer{{429, map[string]string{"Retry-After": "7"}}},
			2, []time.Duration{7 * time.Second}, ""},
		{"403 with no quota left waits until the reset",
			pullPath, pull, read,
			[]answer{{403, map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": strconv.FormatInt(now.Add(30*time.Second).Unix(), 10)}}},
			2, []time.Duration{31 * time.Second}, ""},
		{"403 of a secondary rate limit waits its Retry-After",
			pullPath, pull, read,
			[]answer{{403, map[string]string{"Retry-After": "3"}}},
			2, []time.Duration{3 * time.Second}, ""},
		{"a rate limit that lifts later than MaxWait is not waited for",
			pullPath, pull, read,
			[]answer{{429, map[string]string{"Retry-After": "3600"}}},
			1, nil, "GitHub kept rate-limiting the request to read pull request #5 (HTTP 429); try again later"},
		{"403 without a rate limit is a permission to grant, not retried",
			commentsPath, comment, create,
			[]answer{{403, nil}},
			1, nil, `GitHub refused to comment on #5 (HTTP 403: Forbidden): the token needs "pull-requests: write"`},
		{"5xx on a GET is retried with a doubling backoff",
			pullPath, pull, read,
			[]answer{{502, nil}, {503, nil}, {500, nil}},
			4, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}, ""},
		{"5xx on a GET gives up after Attempts",
			pullPath, pull, read,
			[]answer{{503, nil}, {503, nil}, {503, nil}, {503, nil}, {503, nil}},
			5, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}, "GitHub failed to read pull request #5 (HTTP 503: Service Unavailable)"},
		{"5xx on a POST is not retried: the comment may have been written",
			commentsPath, comment, create,
			[]answer{{502, nil}},
			1, nil, "GitHub failed to comment on #5 (HTTP 502: Bad Gateway)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAPI(t, "/")
			a.HandleFunc(tt.pattern, refuseThenServe(tt.answers, tt.serve(t)))
			err := tt.call(a.client(t))
			if tt.wantErr == "" {
				assert.NoError(t, err)
			} else {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
			}
			assert.Equal(t, tt.calls, a.count(tt.pattern), "requests sent")
			assert.Equal(t, tt.slept, a.slept, "waits")
		})
	}
}

func TestRetry_APOSTWhoseAnswerWasLostMayHaveBeenDone(t *testing.T) {
	a := newAPI(t, "/")
	a.HandleFunc("POST /repos/o/r/issues/5/comments", refuseThenServe([]answer{{502, nil}}, nil))
	_, err := a.client(t).CreateComment(context.Background(), "o", "r", 5, "hello")
	require.Error(t, err)
	assert.True(t, github.MaybeDone(err), "the caller must look before posting again")
	var se *github.StatusError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, 502, se.Status)
}

// dropFirst closes the connection of the first request without answering
// (a network failure), then serves.
func dropFirst(t *testing.T, serve http.HandlerFunc) http.HandlerFunc {
	var once sync.Once
	return func(w http.ResponseWriter, r *http.Request) {
		dropped := false
		once.Do(func() {
			conn, _, err := http.NewResponseController(w).Hijack()
			require.NoError(t, err)
			conn.Close()
			dropped = true
		})
		if !dropped {
			serve(w, r)
		}
	}
}

func TestRetry_ANetworkFailureIsRetriedForAGETOnly(t *testing.T) {
	a := newAPI(t, "/")
	a.HandleFunc("GET /repos/o/r/pulls/5", dropFirst(t, func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"number": 5, "state": "open", "head": map[string]any{"sha": "abc"}})
	}))
	a.HandleFunc("POST /repos/o/r/issues/5/comments", dropFirst(t, func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusCreated, map[string]any{"id": 1})
	}))
	c := a.client(t)

	pr, err := c.PullRequest(context.Background(), "o", "r", 5)
	require.NoError(t, err)
	assert.Equal(t, github.PullRequest{Number: 5, HeadSHA: "abc", State: "open"}, pr)
	assert.Equal(t, 2, a.count("GET /repos/o/r/pulls/5"))
	assert.Equal(t, []time.Duration{time.Second}, a.slept)

	_, err = c.CreateComment(context.Background(), "o", "r", 5, "hello")
	require.Error(t, err)
	assert.Equal(t, 1, a.count("POST /repos/o/r/issues/5/comments"), "a POST that may have been done is not sent again")
	assert.True(t, github.MaybeDone(err))
}
