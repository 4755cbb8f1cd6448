// Package comment keeps one pull request comment per (PR, project, stack)
// up to date: found again by a hidden marker on any page, edited only when
// the action's own token wrote it, and never posted twice.
package comment

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/org/tap-deploy/internal/github"
)

// Issues is what the sticky comment needs from GitHub.
type Issues interface {
	Viewer(ctx context.Context) (string, error)
	ListComments(ctx context.Context, owner, repo string, number int) ([]github.Comment, error)
	CreateComment(ctx context.Context, owner, repo string, number int, body string) (github.Comment, error)
	EditComment(ctx context.Context, owner, repo string, id int64, body string) (github.Comment, error)
}

var _ Issues = (*github.Client)(nil)

// Target is the comment's place and identity.
type Target struct {
	Owner   string
	Repo    string
	Number  int
	Project string
	Stack   string
}

var markerValue = regexp.MustCompile(`^[A-Za-z0-9_.\-/]+$`)

// Marker is the hidden first line that identifies the comment. The values
// are validated inputs, so they cannot close the HTML comment.
func (t Target) Marker() string {
	return fmt.Sprintf("<!-- tap-deploy:comment repo=%s/%s pr=%d project=%s stack=%s -->", t.Owner, t.Repo, t.Number, t.Project, t.Stack)
}

func (t Target) valid() error {
	for _, v := range []string{t.Owner, t.Repo, t.Project, t.Stack} {
		if !markerValue.MatchString(v) {
			return fmt.Errorf("cannot mark a comment with %q", v)
		}
	}
	if t.Number <= 0 {
		return fmt.Errorf("no pull request number")
	}
	return nil
}

// Result says what Upsert did.
type Result struct {
	Comment github.Comment
	Created bool
}

// createAttempts bounds how often a lost POST is tried again.
const createAttempts = 3

// Upsert writes body (which must start with t.Marker()) to the target's
// comment, creating it if there is none.
func Upsert(ctx context.Context, gh Issues, t Target, body string) (Result, error) {
	if err := t.valid(); err != nil {
		return Result{}, err
	}
	if !strings.HasPrefix(body, t.Marker()) {
		return Result{}, fmt.Errorf("comment body does not start with its marker")
	}
	viewer, err := gh.Viewer(ctx)
	if err != nil {
		return Result{}, err
	}
	for attempt := 1; ; attempt++ {
		existing, err := findBy(ctx, gh, t, viewer)
		if err != nil {
			return Result{}, err
		}
		if existing != nil {
			c, err := gh.EditComment(ctx, t.Owner, t.Repo, existing.ID, body)
			return Result{Comment: c}, err
		}
		c, err := gh.CreateComment(ctx, t.Owner, t.Repo, t.Number, body)
		if err == nil {
			return Result{Comment: c, Created: true}, nil
		}
		// GitHub may have created the comment although the answer was an
		// error: look again (the loop does) before posting again.
		if !github.MaybeDone(err) || attempt >= createAttempts {
			return Result{}, err
		}
	}
}

// Find returns the target's comment written by the token's own account, or
// nil: only what the action wrote is trusted (anyone can copy a marker).
func Find(ctx context.Context, gh Issues, t Target) (*github.Comment, error) {
	if err := t.valid(); err != nil {
		return nil, err
	}
	viewer, err := gh.Viewer(ctx)
	if err != nil {
		return nil, err
	}
	return findBy(ctx, gh, t, viewer)
}

// findBy returns the oldest comment with the marker written by viewer.
func findBy(ctx context.Context, gh Issues, t Target, viewer string) (*github.Comment, error) {
	comments, err := gh.ListComments(ctx, t.Owner, t.Repo, t.Number)
	if err != nil {
		return nil, err
	}
	marker := t.Marker()
	for i := range comments {
		c := comments[i]
		if strings.HasPrefix(c.Body, marker) && strings.EqualFold(c.Author, viewer) {
			return &c, nil
		}
	}
	return nil, nil
}
