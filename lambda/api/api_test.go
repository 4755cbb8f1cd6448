package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/lambda/api"
	"github.com/org/tap-deploy/lambda/items"
	"github.com/org/tap-deploy/test/dynalite"
)

// request starts from AWS's sample API Gateway event and sets the route.
func request(t *testing.T, method, resource, id, body string, query map[string]string) events.APIGatewayProxyRequest {
	t.Helper()
	b, err := os.ReadFile("../testdata/apigw-request.json")
	require.NoError(t, err)
	var req events.APIGatewayProxyRequest
	require.NoError(t, json.Unmarshal(b, &req))
	req.HTTPMethod, req.Resource, req.Body = method, resource, body
	req.PathParameters = map[string]string{}
	if id != "" {
		req.PathParameters["id"] = id
	}
	req.QueryStringParameters = query
	return req
}

// memStore is a fake Store with the real store's semantics.
type memStore struct {
	mu    sync.Mutex
	items map[string]items.Item
	fail  error
}

func (m *memStore) Create(_ context.Context, it items.Item) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	if _, ok := m.items[it.ID]; ok {
		return items.ErrExists
	}
	m.items[it.ID] = it
	return nil
}

func (m *memStore) Get(_ context.Context, id string) (items.Item, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return items.Item{}, m.fail
	}
	it, ok := m.items[id]
	if !ok {
		return items.Item{}, items.ErrNotFound
	}
	return it, nil
}

func (m *memStore) Replace(_ context.Context, it items.Item, expected int) (items.Item, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, ok := m.items[it.ID]
	switch {
	case !ok:
		return items.Item{}, items.ErrNotFound
	case cur.Version != expected:
		return items.Item{}, items.ErrConflict
	}
	it.Version = expected + 1
	m.items[it.ID] = it
	return it, nil
}

func (m *memStore) Delete(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.items[id]; !ok {
		return items.ErrNotFound
	}
	delete(m.items, id)
	return nil
}

func (m *memStore) List(_ context.Context, limit int, cursor string) ([]items.Item, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if cursor == "bogus" {
		return nil, "", items.ErrCursor
	}
	var ids []string
	for id := range m.items {
		if id > cursor {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	next := ""
	if len(ids) > limit {
		ids, next = ids[:limit], ids[limit-1]
	}
	out := []items.Item{}
	for _, id := range ids {
		out = append(out, m.items[id])
	}
	return out, next, nil
}

func handler(store api.Store) *api.Handler {
	n := 0
	return &api.Handler{
		Store: store,
		Log:   slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Now:   func() time.Time { return time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC) },
		NewID: func() string { n++; return fmt.Sprintf("id-%03d", n) },
	}
}

func decodeBody(t *testing.T, resp events.APIGatewayProxyResponse) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(resp.Body), &m), resp.Body)
	return m
}

func TestHandle_ValidationAndRouting(t *testing.T) {
	store := &memStore{items: map[string]items.Item{"known": {ID: "known", Name: "n", Version: 3}}}
	tests := []struct {
		name    string
		req     events.APIGatewayProxyRequest
		status  int
		message string
	}{
		{"create needs a name", request(t, "POST", "/items", "", `{"description":"x"}`, nil), 400, "name is required"},
		{"create rejects unknown fields", request(t, "POST", "/items", "", `{"name":"a","colour":"red"}`, nil), 400, `unknown field "colour"`},
		{"create rejects malformed JSON", request(t, "POST", "/items", "", `{"name":`, nil), 400, "body is not a valid item"},
		{"create rejects wrong types", request(t, "POST", "/items", "", `{"name":5}`, nil), 400, `field "name" must be string`},
		{"create rejects two values", request(t, "POST", "/items", "", `{"name":"a"} {}`, nil), 400, "more than one JSON value"},
		{"create rejects long names", request(t, "POST", "/items", "", `{"name":"`+strings.Repeat("é", 201)+`"}`, nil), 400, "longer than 200"},
		{"body size limit", request(t, "POST", "/items", "", `{"name":"`+strings.Repeat("a", api.MaxBodyBytes)+`"}`, nil), 413, "the limit is 16384"},
		{"get missing", request(t, "GET", "/items/{id}", "nope", "", nil), 404, "no item nope"},
		{"bad id", request(t, "GET", "/items/{id}", "../etc", "", nil), 400, "id must be"},
		{"list limit", request(t, "GET", "/items", "", "", map[string]string{"limit": "500"}), 400, "limit must be a whole number from 1 to 100"},
		{"list cursor", request(t, "GET", "/items", "", "", map[string]string{"cursor": "bogus"}), 400, "cursor is not one this API returned"},
		{"update needs version", request(t, "PUT", "/items/{id}", "known", `{"name":"b"}`, nil), 400, "version is required"},
		{"update stale version", request(t, "PUT", "/items/{id}", "known", `{"name":"b","version":2}`, nil), 409, "has changed since version 2"},
		{"update missing", request(t, "PUT", "/items/{id}", "nope", `{"name":"b","version":1}`, nil), 404, "no item nope"},
		{"delete missing", request(t, "DELETE", "/items/{id}", "nope", "", nil), 404, "no item nope"},
		{"method not allowed", request(t, "PATCH", "/items", "", "", nil), 405, "use GET or POST"},
		{"unknown route", request(t, "GET", "/{proxy+}", "", "", nil), 404, "no such route"},
	}
	h := handler(store)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := h.Handle(context.Background(), tt.req)
			require.NoError(t, err)
			assert.Equal(t, tt.status, resp.StatusCode, resp.Body)
			assert.Contains(t, decodeBody(t, resp)["error"], tt.message)
			assert.Equal(t, "application/json", resp.Headers["Content-Type"])
			assert.NotEmpty(t, resp.Headers["X-Request-Id"])
		})
	}
}

func TestHandle_InternalErrorsAreNotLeaked(t *testing.T) {
	store := &memStore{items: map[string]items.Item{}, fail: errors.New("AccessDeniedException: arn:aws:dynamodb:secret-table")}
	var logs strings.Builder
	h := handler(store)
	h.Log = slog.New(slog.NewJSONHandler(&logs, nil))
	resp, err := h.Handle(context.Background(), request(t, "GET", "/items/{id}", "x", "", nil))
	require.NoError(t, err)
	assert.Equal(t, 500, resp.StatusCode)
	assert.NotContains(t, resp.Body, "secret-table")
	assert.Contains(t, logs.String(), "secret-table", "the cause is logged")
	assert.Contains(t, logs.String(), `"requestId":"deef4878-7910-11e6-8f14-25afc3e9ae33"`)
}

// lifecycle drives create → get → update → conflicting update → list →
// delete, against any store.
func lifecycle(t *testing.T, h *api.Handler) {
	ctx := context.Background()
	do := func(req events.APIGatewayProxyRequest, want int) map[string]any {
		t.Helper()
		resp, err := h.Handle(ctx, req)
		require.NoError(t, err)
		require.Equal(t, want, resp.StatusCode, resp.Body)
		if resp.Body == "" {
			return nil
		}
		return decodeBody(t, resp)
	}
	created := do(request(t, "POST", "/items", "", `{"name":" widget ","description":"first"}`, nil), http.StatusCreated)
	id := created["id"].(string)
	assert.Equal(t, "widget", created["name"], "names are trimmed")
	assert.EqualValues(t, 1, created["version"])

	got := do(request(t, "GET", "/items/{id}", id, "", nil), http.StatusOK)
	assert.Equal(t, "first", got["description"])

	updated := do(request(t, "PUT", "/items/{id}", id, `{"name":"widget","description":"second","version":1}`, nil), http.StatusOK)
	assert.EqualValues(t, 2, updated["version"])
	do(request(t, "PUT", "/items/{id}", id, `{"name":"widget","description":"lost update","version":1}`, nil), http.StatusConflict)

	for i := 0; i < 4; i++ {
		do(request(t, "POST", "/items", "", fmt.Sprintf(`{"name":"n%d"}`, i), nil), http.StatusCreated)
	}
	seen := map[string]bool{}
	cursor := ""
	for pages := 0; ; pages++ {
		require.Less(t, pages, 10)
		q := map[string]string{"limit": "2"}
		if cursor != "" {
			q["cursor"] = cursor
		}
		page := do(request(t, "GET", "/items", "", "", q), http.StatusOK)
		for _, it := range page["items"].([]any) {
			seen[it.(map[string]any)["id"].(string)] = true
		}
		cursor, _ = page["nextCursor"].(string)
		if cursor == "" {
			break
		}
	}
	assert.Len(t, seen, 5, "pagination returns every item once")

	do(request(t, "DELETE", "/items/{id}", id, "", nil), http.StatusNoContent)
	do(request(t, "GET", "/items/{id}", id, "", nil), http.StatusNotFound)
}

func TestHandle_LifecycleWithFakeStore(t *testing.T) {
	lifecycle(t, handler(&memStore{items: map[string]items.Item{}}))
}

func TestHandle_LifecycleAgainstDynamoDB(t *testing.T) {
	db := dynalite.Client(dynalite.Start(t))
	dynalite.CreateItemsTable(t, db, "tap-test-items")
	lifecycle(t, handler(items.Store{DB: db, Table: "tap-test-items"}))
}
