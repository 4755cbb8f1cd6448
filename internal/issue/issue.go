// Package issue keeps one GitHub issue per (repository, project, stack) and
// subject up to date: opened when there is something to report (drift),
// edited on later runs instead of opening another, and closed with a
// comment when the report is clear again. It is found by a hidden marker
// and edited only if the token's own account wrote it.
package issue

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/org/tap-deploy/internal/github"
)

// API is what the issue needs from GitHub.
type API interface {
	Viewer(ctx context.Context) (string, error)
	ListOpenIssues(ctx context.Context, owner, repo string, labels []string) ([]github.Issue, error)
	CreateIssue(ctx context.Context, owner, repo, title, body string, labels []string) (github.Issue, error)
	UpdateIssue(ctx context.Context, owner, repo string, number int, title, body string) (github.Issue, error)
	CloseIssue(ctx context.Context, owner, repo string, number int) error
	CreateComment(ctx context.Context, owner, repo string, number int, body string) (github.Comment, error)
}

var _ API = (*github.Client)(nil)

// Target is the issue's place and identity.
type Target struct {
	Owner, Repo    string
	Subject        string // "drift"
	Project, Stack string
	// Labels are put on a new issue; the first is how open issues are
	// listed.
	Labels []string
}

var markerValue = regexp.MustCompile(`^[A-Za-z0-9_.\-/]+$`)

// Marker is the hidden first line that identifies the issue.
func (t Target) Marker() string {
	return fmt.Sprintf("<!-- tap-deploy:%s repo=%s/%s project=%s stack=%s -->", t.Subject, t.Owner, t.Repo, t.Project, t.Stack)
}

// Result says what Sync did.
type Result struct {
	Issue   github.Issue
	Created bool
	Updated bool
	Closed  bool
}

// Sync opens or updates the issue with title and body when open is true,
// and closes an open one with closing as its last comment when open is
// false.
func Sync(ctx context.Context, api API, t Target, open bool, title, body, closing string) (Result, error) {
	for _, v := range []string{t.Owner, t.Repo, t.Subject, t.Project, t.Stack} {
		if !markerValue.MatchString(v) {
			return Result{}, fmt.Errorf("cannot mark an issue with %q", v)
		}
	}
	body = t.Marker() + "\n" + body
	existing, err := find(ctx, api, t)
	if err != nil {
		return Result{}, err
	}
	switch {
	case open && existing == nil:
		i, err := api.CreateIssue(ctx, t.Owner, t.Repo, title, body, t.Labels)
		return Result{Issue: i, Created: err == nil}, err
	case open:
		i, err := api.UpdateIssue(ctx, t.Owner, t.Repo, existing.Number, title, body)
		return Result{Issue: i, Updated: err == nil}, err
	case existing == nil:
		return Result{}, nil
	}
	if _, err := api.CreateComment(ctx, t.Owner, t.Repo, existing.Number, closing); err != nil {
		return Result{Issue: *existing}, err
	}
	err = api.CloseIssue(ctx, t.Owner, t.Repo, existing.Number)
	return Result{Issue: *existing, Closed: err == nil}, err
}

// find returns the oldest open issue with the marker written by the token's
// own account.
func find(ctx context.Context, api API, t Target) (*github.Issue, error) {
	viewer, err := api.Viewer(ctx)
	if err != nil {
		return nil, err
	}
	var labels []string
	if len(t.Labels) > 0 {
		labels = t.Labels[:1]
	}
	issues, err := api.ListOpenIssues(ctx, t.Owner, t.Repo, labels)
	if err != nil {
		return nil, err
	}
	var found *github.Issue
	for i := range issues {
		is := issues[i]
		if strings.HasPrefix(is.Body, t.Marker()) && strings.EqualFold(is.Author, viewer) && (found == nil || is.Number < found.Number) {
			found = &is
		}
	}
	return found, nil
}
