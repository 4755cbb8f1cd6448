package github_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/github"
)

// now is the clock of every test: rate-limit resets are relative to it.
var now = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

// api is an httptest GitHub whose endpoints each test declares, with a
// client whose retries record their waits instead of sleeping.
type api struct {
	*http.ServeMux
	url   string
	mu    sync.Mutex
	calls map[string]int
	slept []time.Duration
}

// newAPI starts a server; prefix is the REST API's path ("/" on github.com,
// "/api/v3/" on GitHub Enterprise Server).
func newAPI(t *testing.T, prefix string) *api {
	t.Helper()
	a := &api{ServeMux: http.NewServeMux(), calls: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.calls[r.Method+" "+r.URL.Path]++
		a.mu.Unlock()
		a.ServeMux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	a.url = srv.URL + prefix
	return a
}

func (a *api) client(t *testing.T) *github.Client {
	t.Helper()
	c, err := github.New(a.url, "ghs_test_token", github.Retry{
		Attempts: 5, MaxWait: time.Minute, Base: time.Second, Now: func() time.Time { return now },
		Sleep: func(_ context.Context, d time.Duration) error {
			a.mu.Lock()
			defer a.mu.Unlock()
			a.slept = append(a.slept, d)
			return nil
		},
	})
	require.NoError(t, err)
	return c
}

func (a *api) count(call string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.calls[call]
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v) //nolint:errcheck // test server
}

// paged answers items per_page at a time with GitHub's Link header.
func paged(t *testing.T, items []map[string]any) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		perPage, err := strconv.Atoi(r.URL.Query().Get("per_page"))
		require.NoError(t, err, "the client asks for a page size")
		page := 1
		if p := r.URL.Query().Get("page"); p != "" {
			page, _ = strconv.Atoi(p)
		}
		last := (len(items) + perPage - 1) / perPage
		if page < last {
			u := *r.URL
			q := u.Query()
			q.Set("page", strconv.Itoa(page+1))
			u.RawQuery = q.Encode()
			w.Header().Set("Link", fmt.Sprintf(`<http://%s%s>; rel="next", <http://%s%s>; rel="last"`, r.Host, u.String(), r.Host, u.String()))
		}
		start, end := min((page-1)*perPage, len(items)), min(page*perPage, len(items))
		writeJSON(w, http.StatusOK, items[start:end])
	}
}

func TestListComments_FollowsTheLinkHeaderThroughEveryPage(t *testing.T) {
	a := newAPI(t, "/")
	var items []map[string]any
	for i := 1; i <= 250; i++ {
		items = append(items, map[string]any{"id": i, "body": fmt.Sprintf("comment %d", i), "user": map[string]any{"login": "octocat"}})
	}
	a.HandleFunc("GET /repos/o/r/issues/7/comments", paged(t, items))
	got, err := a.client(t).ListComments(context.Background(), "o", "r", 7)
	require.NoError(t, err)
	require.Len(t, got, 250)
	assert.Equal(t, github.Comment{ID: 250, Body: "comment 250", Author: "octocat"}, got[249])
	assert.Equal(t, 3, a.count("GET /repos/o/r/issues/7/comments"), "100 a page")
}

func TestListDeployments_FollowsEveryPage(t *testing.T) {
	a := newAPI(t, "/")
	var items []map[string]any
	for i := 1; i <= 120; i++ {
		items = append(items, map[string]any{"id": i, "ref": "abc", "environment": "dev", "payload": map[string]any{"tap-deploy": fmt.Sprint("key-", i)}})
	}
	a.HandleFunc("GET /repos/o/r/deployments", func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "abc", r.URL.Query().Get("sha"))
		assert.Equal(t, "dev", r.URL.Query().Get("environment"))
		paged(t, items)(w, r)
	})
	got, err := a.client(t).ListDeployments(context.Background(), "o", "r", "abc", "dev")
	require.NoError(t, err)
	require.Len(t, got, 120)
	assert.Equal(t, github.Deployment{ID: 120, Ref: "abc", Environment: "dev", Key: "key-120"}, got[119])
	assert.Equal(t, 2, a.count("GET /repos/o/r/deployments"))
}

func TestListOpenIssues_FollowsEveryPageAndLeavesPullRequestsOut(t *testing.T) {
	a := newAPI(t, "/")
	var items []map[string]any
	for i := 1; i <= 150; i++ {
		item := map[string]any{"number": i, "title": fmt.Sprint("issue ", i), "state": "open"}
		if i%2 == 0 {
			item["pull_request"] = map[string]any{"url": "https://api.github.com/repos/o/r/pulls/" + strconv.Itoa(i)}
		}
		items = append(items, item)
	}
	a.HandleFunc("GET /repos/o/r/issues", func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "open", r.URL.Query().Get("state"))
		assert.Equal(t, "drift,tap-deploy", r.URL.Query().Get("labels"))
		paged(t, items)(w, r)
	})
	got, err := a.client(t).ListOpenIssues(context.Background(), "o", "r", []string{"drift", "tap-deploy"})
	require.NoError(t, err)
	require.Len(t, got, 75, "the odd numbers: the even ones are pull requests")
	for _, i := range got {
		assert.Equal(t, 1, i.Number%2, i.Number)
	}
	assert.Equal(t, 2, a.count("GET /repos/o/r/issues"))
}
