package github_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// graphQLViewer answers GraphQL's viewer query as login.
func graphQLViewer(t *testing.T, login string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Query string }
		require.NoError(t, json.NewDecoder(r.Body).Decode(&in))
		assert.Contains(t, in.Query, "viewer { login }")
		writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"viewer": map[string]any{"login": login}}})
	}
}

func forbidden(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusForbidden, map[string]any{"message": "Resource not accessible by integration"})
}

func TestViewer_APersonalTokenReadsUser(t *testing.T) {
	a := newAPI(t, "/")
	a.HandleFunc("GET /user", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"login": "octocat"})
	})
	login, err := a.client(t).Viewer(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "octocat", login)
	assert.Zero(t, a.count("POST /graphql"))
}

func TestViewer_AnInstallationTokenFallsBackToGraphQL(t *testing.T) {
	a := newAPI(t, "/")
	a.HandleFunc("GET /user", forbidden)
	a.HandleFunc("POST /graphql", graphQLViewer(t, "tap-deployer[bot]"))
	login, err := a.client(t).Viewer(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "tap-deployer[bot]", login)
	assert.Equal(t, 1, a.count("GET /user"), "a 403 without a rate limit is not retried")
}

func TestViewer_OnGitHubEnterpriseGraphQLIsBesideTheRESTAPI(t *testing.T) {
	a := newAPI(t, "/api/v3/")
	a.HandleFunc("GET /api/v3/user", forbidden)
	a.HandleFunc("POST /api/graphql", graphQLViewer(t, "github-actions[bot]"))
	login, err := a.client(t).Viewer(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "github-actions[bot]", login)
	assert.Equal(t, 1, a.count("POST /api/graphql"), "/api/graphql, not /api/v3/graphql")
}

func TestViewer_WhenNeitherAnswersNoCommentIsWritten(t *testing.T) {
	tests := []struct {
		name    string
		graphql http.HandlerFunc
		says    string
	}{
		{"GraphQL refuses too", forbidden, "Resource not accessible by integration"},
		{"GraphQL answers an error", func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, http.StatusOK, map[string]any{"errors": []map[string]any{{"message": "Field 'viewer' doesn't exist"}}})
		}, "Field 'viewer' doesn't exist"},
		{"GraphQL names no login", func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"viewer": map[string]any{}}})
		}, "the answer names no login"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAPI(t, "/")
			a.HandleFunc("GET /user", forbidden)
			a.HandleFunc("POST /graphql", tt.graphql)
			_, err := a.client(t).Viewer(context.Background())
			require.Error(t, err)
			assert.Contains(t, err.Error(), "cannot tell which account the token acts as (GET /user: HTTP 403; GraphQL viewer: ")
			assert.Contains(t, err.Error(), tt.says)
			assert.Contains(t, err.Error(), "so no comment is written or edited")
		})
	}
}

func TestViewer_AServerErrorOnUserIsNotAnIdentityQuestion(t *testing.T) {
	a := newAPI(t, "/")
	a.HandleFunc("GET /user", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusInternalServerError, map[string]any{"message": "boom"})
	})
	_, err := a.client(t).Viewer(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "GitHub failed to read the token's user (HTTP 500: boom)")
	assert.Zero(t, a.count("POST /graphql"), "GraphQL is asked only when /user is refused")
	assert.Equal(t, 5, a.count("GET /user"), "retried like any GET")
}
