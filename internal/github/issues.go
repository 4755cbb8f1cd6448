package github

import (
	"context"
	"fmt"

	gh "github.com/google/go-github/v60/github"
)

// Issue is a GitHub issue (never a pull request).
type Issue struct {
	Number int
	Title  string
	Body   string
	State  string
	Author string
	URL    string
}

// ListOpenIssues returns the open issues that carry every label, following
// every page; pull requests, which the same endpoint lists, are left out.
func (c *Client) ListOpenIssues(ctx context.Context, owner, repo string, labels []string) ([]Issue, error) {
	opts := &gh.IssueListByRepoOptions{State: "open", Labels: labels, ListOptions: gh.ListOptions{PerPage: 100}}
	var out []Issue
	for {
		page, resp, err := c.gh.Issues.ListByRepo(ctx, owner, repo, opts)
		if err != nil {
			return nil, classify(err, "list the open issues", "issues: read")
		}
		for _, i := range page {
			if !i.IsPullRequest() {
				out = append(out, toIssue(i))
			}
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

// CreateIssue opens an issue.
func (c *Client) CreateIssue(ctx context.Context, owner, repo, title, body string, labels []string) (Issue, error) {
	i, _, err := c.gh.Issues.Create(ctx, owner, repo, &gh.IssueRequest{Title: gh.String(title), Body: gh.String(body), Labels: &labels})
	if err != nil {
		return Issue{}, classify(err, "open an issue", "issues: write")
	}
	return toIssue(i), nil
}

// UpdateIssue replaces an issue's title and body.
func (c *Client) UpdateIssue(ctx context.Context, owner, repo string, number int, title, body string) (Issue, error) {
	i, _, err := c.gh.Issues.Edit(ctx, owner, repo, number, &gh.IssueRequest{Title: gh.String(title), Body: gh.String(body)})
	if err != nil {
		return Issue{}, classify(err, fmt.Sprintf("update issue #%d", number), "issues: write")
	}
	return toIssue(i), nil
}

// CloseIssue closes an issue as completed.
func (c *Client) CloseIssue(ctx context.Context, owner, repo string, number int) error {
	if _, _, err := c.gh.Issues.Edit(ctx, owner, repo, number, &gh.IssueRequest{State: gh.String("closed"), StateReason: gh.String("completed")}); err != nil {
		return classify(err, fmt.Sprintf("close issue #%d", number), "issues: write")
	}
	return nil
}

func toIssue(i *gh.Issue) Issue {
	return Issue{Number: i.GetNumber(), Title: i.GetTitle(), Body: i.GetBody(), State: i.GetState(), Author: i.GetUser().GetLogin(), URL: i.GetHTMLURL()}
}
