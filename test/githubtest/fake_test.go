package githubtest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/test/githubtest"
)

// do sends one request with the workflow's token and returns the status,
// the Link header and the body.
func do(t *testing.T, method, url, token, body string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header.Get("Link"), string(b)
}

func TestFake_CountsCallsByTheNameOfTheirRoute(t *testing.T) {
	fake := githubtest.New()
	defer fake.Close()
	base := fake.URL + "/repos/o/r"
	status, _, _ := do(t, "POST", base+"/issues/7/comments", githubtest.Token, `{"body":"hello"}`)
	assert.Equal(t, http.StatusCreated, status)
	id := fake.Comments(7)[0].ID
	status, _, _ = do(t, "PATCH", base+"/issues/comments/"+strconv.FormatInt(id, 10), githubtest.Token, `{"body":"edited"}`)
	assert.Equal(t, http.StatusOK, status)
	status, _, _ = do(t, "GET", base+"/pulls/7", githubtest.Token, "")
	assert.Equal(t, http.StatusNotFound, status, "a pull request the test did not set")
	status, _, _ = do(t, "DELETE", base+"/hooks/1", githubtest.Token, "")
	assert.Equal(t, http.StatusNotFound, status)
	status, _, _ = do(t, "GET", base+"/pulls/7", "ghp_unknown", "")
	assert.Equal(t, http.StatusUnauthorized, status)

	assert.Equal(t, 1, fake.Calls("POST comments"))
	assert.Equal(t, 1, fake.Calls("PATCH comment"))
	assert.Equal(t, 1, fake.Calls("GET pull"), "the unauthenticated call reached no endpoint")
	assert.Equal(t, 1, fake.Calls("DELETE /repos/o/r/hooks/1"), "an unknown path is counted by its path")
	assert.Equal(t, 5, fake.Total())
	assert.Equal(t, "edited", fake.Comments(7)[0].Body)
	assert.Empty(t, fake.Comments(8), "comments are kept per issue")
}

func TestFake_PagesWithLinkHeadersUnderGitHubEnterprisesPrefixToo(t *testing.T) {
	fake := githubtest.New()
	defer fake.Close()
	for i := 0; i < 5; i++ {
		fake.AddComment(3, "someone", "comment")
	}
	for _, prefix := range []string{"", "/api/v3"} {
		status, link, body := do(t, "GET", fake.URL+prefix+"/repos/o/r/issues/3/comments?per_page=2&page=2", githubtest.Token, "")
		require.Equal(t, http.StatusOK, status, prefix)
		var page []map[string]any
		require.NoError(t, json.Unmarshal([]byte(body), &page))
		assert.Len(t, page, 2, prefix)
		assert.Contains(t, link, `<`+fake.URL+prefix+`/repos/o/r/issues/3/comments?page=3&per_page=2>; rel="next"`)
		assert.Contains(t, link, `page=3&per_page=2>; rel="last"`)
		assert.Contains(t, link, `page=1&per_page=2>; rel="first"`)
		assert.Contains(t, link, `page=1&per_page=2>; rel="prev"`)
	}
	assert.Equal(t, 2, fake.Calls("GET comments"))
}

func TestFake_GraphQLAnswersAtGitHubsAndGitHubEnterprisesPathsOnly(t *testing.T) {
	fake := githubtest.New()
	defer fake.Close()
	query := `{"query":"query { viewer { login } }"}`
	for _, path := range []string{"/graphql", "/api/graphql"} {
		status, _, body := do(t, "POST", fake.URL+path, githubtest.AppToken, query)
		assert.Equal(t, http.StatusOK, status, path)
		assert.JSONEq(t, `{"data":{"viewer":{"login":"tap-deployer[bot]"}}}`, body, path)
	}
	status, _, _ := do(t, "POST", fake.URL+"/api/v3/graphql", githubtest.AppToken, query)
	assert.Equal(t, http.StatusNotFound, status, "GitHub Enterprise's GraphQL is not under /api/v3")
	assert.Equal(t, 2, fake.Calls("POST graphql"))
}

func TestFake_AFaultAnswersOnceBeforeOrAfterTheWrite(t *testing.T) {
	fake := githubtest.New()
	defer fake.Close()
	url := fake.URL + "/repos/o/r/issues/4/comments"
	fake.Fail(githubtest.Fault{Method: "POST", Path: "comments$", Status: 429, RetryAfter: "7"})
	status, _, body := do(t, "POST", url, githubtest.Token, `{"body":"one"}`)
	assert.Equal(t, http.StatusTooManyRequests, status)
	assert.Contains(t, body, "Too Many Requests")
	assert.Empty(t, fake.Comments(4), "answered before the write")

	fake.Fail(githubtest.Fault{Method: "POST", Path: "comments$", Status: 502, AfterWrite: true})
	status, _, _ = do(t, "POST", url, githubtest.Token, `{"body":"two"}`)
	assert.Equal(t, http.StatusBadGateway, status)
	require.Len(t, fake.Comments(4), 1, "the write happened; its answer was lost")

	status, _, _ = do(t, "POST", url, githubtest.Token, `{"body":"three"}`)
	assert.Equal(t, http.StatusCreated, status, "a fault answers once")
	assert.Equal(t, 3, fake.Calls("POST comments"))
}
