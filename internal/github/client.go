// Package github is the adapter over the GitHub REST API (go-github v60). It
// returns the project's own types, retries what is safe to retry, and turns
// refusals into errors that name the missing permission.
package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	gh "github.com/google/go-github/v60/github"
)

// Comment is an issue or pull request comment.
type Comment struct {
	ID     int64
	Body   string
	Author string
	URL    string
	// NodeID is the comment's GraphQL id.
	NodeID string
}

// Client talks to one GitHub (github.com or Enterprise) with one token.
type Client struct {
	gh *gh.Client
}

// New returns a client for apiURL (GITHUB_API_URL; empty means
// https://api.github.com/) authenticated with token.
func New(apiURL, token string, retry Retry) (*Client, error) {
	httpClient := &http.Client{Transport: &transport{base: http.DefaultTransport, retry: retry}}
	c := gh.NewClient(httpClient).WithAuthToken(token)
	if apiURL != "" {
		if !strings.HasSuffix(apiURL, "/") {
			apiURL += "/"
		}
		u, err := url.Parse(apiURL)
		if err != nil {
			return nil, fmt.Errorf("GITHUB_API_URL %q is not a URL: %w", apiURL, err)
		}
		c.BaseURL = u
	}
	return &Client{gh: c}, nil
}

// Viewer is the login the token acts as, so that only comments it wrote
// are ever edited. A personal token reads it from /user. Installation
// tokens (the workflow's GITHUB_TOKEN, a GitHub App's from
// actions/create-github-app-token) may not read /user; GraphQL's viewer
// names their bot (github-actions[bot], my-app[bot]). When neither answers
// the identity is unknown, and guessing would either post a new comment on
// every push or edit someone else's: it is an error.
func (c *Client) Viewer(ctx context.Context) (string, error) {
	u, resp, err := c.gh.Users.Get(ctx, "")
	if err == nil {
		return u.GetLogin(), nil
	}
	if resp == nil || (resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusNotFound) {
		return "", classify(err, "read the token's user", "")
	}
	login, gqlErr := c.graphQLViewer(ctx)
	if gqlErr != nil {
		return "", fmt.Errorf("cannot tell which account the token acts as (GET /user: HTTP %d; GraphQL viewer: %v), so no comment is written or edited", resp.StatusCode, gqlErr)
	}
	return login, nil
}

// graphQLViewer asks the GraphQL API who the token is.
func (c *Client) graphQLViewer(ctx context.Context) (string, error) {
	req, err := c.gh.NewRequest(http.MethodPost, c.graphQLURL(), map[string]string{"query": "query { viewer { login } }"})
	if err != nil {
		return "", err
	}
	var out struct {
		Data struct {
			Viewer struct {
				Login string `json:"login"`
			} `json:"viewer"`
		} `json:"data"`
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	if _, err := c.gh.Do(ctx, req, &out); err != nil {
		return "", classify(err, "ask GraphQL for the token's account", "")
	}
	switch {
	case len(out.Errors) > 0:
		return "", errors.New(out.Errors[0].Message)
	case out.Data.Viewer.Login == "":
		return "", errors.New("the answer names no login")
	}
	return out.Data.Viewer.Login, nil
}

// graphQLURL is the GraphQL endpoint beside the REST base URL:
// api.github.com/graphql, or <host>/api/graphql on GitHub Enterprise
// Server (whose REST API is <host>/api/v3/).
func (c *Client) graphQLURL() string {
	base := *c.gh.BaseURL
	if rest, ok := strings.CutSuffix(base.Path, "/api/v3/"); ok {
		base.Path = rest + "/api/graphql"
	} else {
		base.Path = strings.TrimSuffix(base.Path, "/") + "/graphql"
	}
	return base.String()
}

// ListComments returns every comment on an issue or pull request, following
// the Link header through all pages.
func (c *Client) ListComments(ctx context.Context, owner, repo string, number int) ([]Comment, error) {
	opts := &gh.IssueListCommentsOptions{ListOptions: gh.ListOptions{PerPage: 100}}
	var out []Comment
	for {
		page, resp, err := c.gh.Issues.ListComments(ctx, owner, repo, number, opts)
		if err != nil {
			return nil, classify(err, fmt.Sprintf("list the comments of #%d", number), "pull-requests: read")
		}
		for _, cm := range page {
			out = append(out, toComment(cm))
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

// CreateComment posts a new comment.
func (c *Client) CreateComment(ctx context.Context, owner, repo string, number int, body string) (Comment, error) {
	cm, _, err := c.gh.Issues.CreateComment(ctx, owner, repo, number, &gh.IssueComment{Body: gh.String(body)})
	if err != nil {
		return Comment{}, classify(err, fmt.Sprintf("comment on #%d", number), "pull-requests: write")
	}
	return toComment(cm), nil
}

// EditComment replaces a comment's body.
func (c *Client) EditComment(ctx context.Context, owner, repo string, id int64, body string) (Comment, error) {
	cm, _, err := c.gh.Issues.EditComment(ctx, owner, repo, id, &gh.IssueComment{Body: gh.String(body)})
	if err != nil {
		return Comment{}, classify(err, fmt.Sprintf("edit comment %d", id), "pull-requests: write")
	}
	return toComment(cm), nil
}

// DeleteComment deletes a comment the token's account wrote.
func (c *Client) DeleteComment(ctx context.Context, owner, repo string, id int64) error {
	if _, err := c.gh.Issues.DeleteComment(ctx, owner, repo, id); err != nil {
		return classify(err, fmt.Sprintf("delete comment %d", id), "pull-requests: write")
	}
	return nil
}

// PullRequest is what a deploy needs to know of a pull request.
type PullRequest struct {
	Number int
	// HeadSHA is the PR's head commit: the last one its preview should be
	// of.
	HeadSHA string
	Merged  bool
	// State is open or closed.
	State string
	// BaseRef is the branch it merges into; MergeCommitSHA the commit it
	// was merged as (for an open one, GitHub's test merge).
	BaseRef        string
	MergeCommitSHA string
}

// PullRequest reads one pull request.
func (c *Client) PullRequest(ctx context.Context, owner, repo string, number int) (PullRequest, error) {
	pr, _, err := c.gh.PullRequests.Get(ctx, owner, repo, number)
	if err != nil {
		return PullRequest{}, classify(err, fmt.Sprintf("read pull request #%d", number), "pull-requests: read")
	}
	return toPullRequest(pr), nil
}

// PullRequestsForCommit returns the pull requests a commit belongs to (for
// a merge commit: the merged PR).
func (c *Client) PullRequestsForCommit(ctx context.Context, owner, repo, sha string) ([]PullRequest, error) {
	prs, _, err := c.gh.PullRequests.ListPullRequestsWithCommit(ctx, owner, repo, sha, &gh.ListOptions{PerPage: 20})
	if err != nil {
		return nil, classify(err, "find the pull request of commit "+sha, "pull-requests: read")
	}
	var out []PullRequest
	for _, pr := range prs {
		out = append(out, toPullRequest(pr))
	}
	return out, nil
}

func toPullRequest(pr *gh.PullRequest) PullRequest {
	return PullRequest{Number: pr.GetNumber(), HeadSHA: pr.GetHead().GetSHA(), Merged: pr.GetMerged() || pr.MergedAt != nil, State: pr.GetState(),
		BaseRef: pr.GetBase().GetRef(), MergeCommitSHA: pr.GetMergeCommitSHA()}
}

// CommentEdit is one entry of a comment's edit history: who made it and
// when. Editor is "" for an account that no longer exists.
type CommentEdit struct {
	Editor string
	At     string
}

// actor is a GraphQL Actor.
type actor struct {
	Typename string `json:"__typename"`
	Login    string `json:"login"`
}

// restLogin is the login as REST and the viewer query give it: GraphQL
// names a Bot without the "[bot]" suffix ("github-actions"), so the
// action's own edits would read as another account's; a User named like
// the bot stays apart. "" for an account that no longer exists.
func (a *actor) restLogin() string {
	switch {
	case a == nil:
		return ""
	case a.Typename == "Bot" && !strings.HasSuffix(a.Login, "[bot]"):
		return a.Login + "[bot]"
	}
	return a.Login
}

// maxEditPages bounds how much of an edit history is read (100 a page).
const maxEditPages = 50

// Edits reads a comment's whole edit history from GraphQL
// (userContentEdits; an entry whose revision was deleted from the history
// keeps its editor, and its deleter is listed too). REST reports the
// author only, anyone with write access can edit any comment, and the
// last editor alone hides every edit made before the action's own.
func (c *Client) Edits(ctx context.Context, nodeID string) ([]CommentEdit, error) {
	const query = `query($id: ID!, $after: String) { node(id: $id) { ... on IssueComment {
  userContentEdits(first: 100, after: $after) { pageInfo { hasNextPage endCursor } nodes { editedAt editor { __typename login } deletedAt deletedBy { __typename login } } } } } }`
	var edits []CommentEdit
	var after *string
	for page := 0; page < maxEditPages; page++ {
		req, err := c.gh.NewRequest(http.MethodPost, c.graphQLURL(), map[string]any{"query": query, "variables": map[string]any{"id": nodeID, "after": after}})
		if err != nil {
			return nil, err
		}
		var out struct {
			Data struct {
				Node *struct {
					UserContentEdits *struct {
						PageInfo struct {
							HasNextPage bool   `json:"hasNextPage"`
							EndCursor   string `json:"endCursor"`
						} `json:"pageInfo"`
						Nodes []struct {
							EditedAt  string  `json:"editedAt"`
							Editor    *actor  `json:"editor"`
							DeletedAt *string `json:"deletedAt"`
							DeletedBy *actor  `json:"deletedBy"`
						} `json:"nodes"`
					} `json:"userContentEdits"`
				} `json:"node"`
			} `json:"data"`
			Errors []struct {
				Message string `json:"message"`
			} `json:"errors"`
		}
		if _, err := c.gh.Do(ctx, req, &out); err != nil {
			return nil, classify(err, "read the comment's edit history (GraphQL)", "pull-requests: read")
		}
		switch {
		case len(out.Errors) > 0:
			return nil, fmt.Errorf("reading the comment's edit history: %s", out.Errors[0].Message)
		case out.Data.Node == nil || out.Data.Node.UserContentEdits == nil:
			return nil, errors.New("reading the comment's edit history: GraphQL knows no such comment")
		}
		history := out.Data.Node.UserContentEdits
		for _, n := range history.Nodes {
			edits = append(edits, CommentEdit{Editor: n.Editor.restLogin(), At: n.EditedAt})
			if n.DeletedAt != nil {
				edits = append(edits, CommentEdit{Editor: n.DeletedBy.restLogin(), At: *n.DeletedAt})
			}
		}
		if !history.PageInfo.HasNextPage {
			return edits, nil
		}
		after = &history.PageInfo.EndCursor
	}
	return nil, fmt.Errorf("reading the comment's edit history: more than %d edits", maxEditPages*100)
}

// CompareCommits says how head relates to base: "ahead", "behind",
// "identical" or "diverged".
func (c *Client) CompareCommits(ctx context.Context, owner, repo, base, head string) (string, error) {
	cmp, _, err := c.gh.Repositories.CompareCommits(ctx, owner, repo, base, head, &gh.ListOptions{PerPage: 1})
	if err != nil {
		return "", classify(err, fmt.Sprintf("compare %s with %s", short(base), short(head)), "contents: read")
	}
	return cmp.GetStatus(), nil
}

func toComment(cm *gh.IssueComment) Comment {
	return Comment{ID: cm.GetID(), Body: cm.GetBody(), Author: cm.GetUser().GetLogin(), URL: cm.GetHTMLURL(), NodeID: cm.GetNodeID()}
}

// classify turns go-github errors into errors a user can act on.
func classify(err error, op, permission string) error {
	var er *gh.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		switch code := er.Response.StatusCode; code {
		case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
			if permission == "" {
				permission = "contents: read"
			}
			return &PermissionError{Status: code, Operation: op, Permission: permission, Message: er.Message}
		}
		return &StatusError{Status: er.Response.StatusCode, Operation: op, Message: er.Message}
	}
	var rl *gh.RateLimitError
	if errors.As(err, &rl) {
		return fmt.Errorf("GitHub's rate limit stopped the request to %s; it resets at %s", op, rl.Rate.Reset.Time.Format("15:04:05 MST"))
	}
	return fmt.Errorf("could not %s: %w", op, err)
}

// StatusError is any other refusal or failure GitHub answered with.
type StatusError struct {
	Status    int
	Operation string
	Message   string
}

func (e *StatusError) Error() string {
	switch e.Status {
	case http.StatusUnprocessableEntity:
		return fmt.Sprintf("GitHub rejected the request to %s (HTTP 422: %s)", e.Operation, e.Message)
	case http.StatusTooManyRequests:
		return fmt.Sprintf("GitHub kept rate-limiting the request to %s (HTTP 429); try again later", e.Operation)
	}
	return fmt.Sprintf("GitHub failed to %s (HTTP %d: %s)", e.Operation, e.Status, e.Message)
}

// MaybeDone reports whether a failed request may still have been carried
// out: a server error or a broken connection, where the answer was lost.
func MaybeDone(err error) bool {
	if err == nil || IsPermission(err) {
		return false
	}
	var se *StatusError
	if errors.As(err, &se) {
		return se.Status >= 500
	}
	return true
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}
