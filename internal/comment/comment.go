// Package comment keeps one pull request comment per (PR, project, stack)
// up to date: found again by a hidden marker on any page, edited only when
// the action's own token wrote it, and never posted twice.
package comment

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/org/tap-deploy/internal/github"
)

// Issues is what the sticky comment needs from GitHub.
type Issues interface {
	Viewer(ctx context.Context) (string, error)
	ListComments(ctx context.Context, owner, repo string, number int) ([]github.Comment, error)
	CreateComment(ctx context.Context, owner, repo string, number int, body string) (github.Comment, error)
	EditComment(ctx context.Context, owner, repo string, id int64, body string) (github.Comment, error)
	DeleteComment(ctx context.Context, owner, repo string, id int64) error
	Edits(ctx context.Context, nodeID string) ([]github.CommentEdit, error)
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
	// Replaced says why Upsert replaced the comment with a new one instead
	// of editing it ("" when it did not): edits by other accounts, or an
	// edit history it could not read.
	Replaced string
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
		replaced := ""
		if existing != nil {
			editedBy, err := ForeignEditors(ctx, gh, existing, viewer)
			switch {
			case err != nil:
				replaced = fmt.Sprintf("its edit history cannot be read: %v", err)
			case len(editedBy) > 0:
				replaced = "it was edited by " + strings.Join(editedBy, ", ")
			default:
				c, err := gh.EditComment(ctx, t.Owner, t.Repo, existing.ID, keepSections(existing.Body, body))
				return Result{Comment: c}, err
			}
			// A history with someone else's edit, or one that cannot be
			// read, makes every later reader doubt the plan this body
			// records, and the old sections may be someone else's. A new
			// comment starts clean.
			if err := gh.DeleteComment(ctx, t.Owner, t.Repo, existing.ID); err != nil {
				return Result{}, fmt.Errorf("replacing the comment (%s): %w", replaced, err)
			}
		}
		c, err := gh.CreateComment(ctx, t.Owner, t.Repo, t.Number, body)
		if err == nil {
			return Result{Comment: c, Created: true, Replaced: replaced}, nil
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

// ForeignEditors lists the accounts other than viewer in c's whole edit
// history ("an account that no longer exists" for a deleted one): anyone
// with write access can edit any comment, and its author stays the same.
func ForeignEditors(ctx context.Context, gh Issues, c *github.Comment, viewer string) ([]string, error) {
	edits, err := gh.Edits(ctx, c.NodeID)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	for _, e := range edits {
		who := e.Editor
		if who == "" {
			who = "an account that no longer exists"
		}
		if strings.EqualFold(who, viewer) || seen[who] {
			continue
		}
		seen[who] = true
		out = append(out, fmt.Sprintf("%s at %s", who, e.At))
	}
	return out, nil
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

// A section is a part of the comment that one kind of run owns (the review
// stack's status, written by the run that deploys or destroys it). A new
// body without a section keeps the one the comment had, so that a preview
// does not erase what the review stack's last run said, nor the reverse.
var sectionRe = regexp.MustCompile(`(?s)<!-- tap-deploy:section ([a-z-]+) -->\n.*?<!-- /tap-deploy:section ([a-z-]+) -->\n?`)

// Section wraps markdown as the named section of a comment.
func Section(name, markdown string) string {
	return fmt.Sprintf("<!-- tap-deploy:section %s -->\n%s\n<!-- /tap-deploy:section %s -->\n", name, strings.TrimRight(markdown, "\n"), name)
}

// SectionText is the markdown of the named section of a comment's body;
// false when the body has none, or more than one (a copy pasted in by
// whoever can edit the comment is not told apart from the original).
func SectionText(body, name string) (string, bool) {
	var found []string
	for _, m := range sectionRe.FindAllStringSubmatch(body, -1) {
		if m[1] == name && m[2] == name {
			found = append(found, m[0])
		}
	}
	if len(found) != 1 {
		return "", false
	}
	text := strings.TrimPrefix(found[0], fmt.Sprintf("<!-- tap-deploy:section %s -->\n", name))
	text = strings.TrimSuffix(strings.TrimSuffix(text, "\n"), fmt.Sprintf("<!-- /tap-deploy:section %s -->", name))
	return strings.TrimSuffix(text, "\n"), true
}

// keepSections appends to body the sections of old that body lacks.
func keepSections(old, body string) string {
	have := map[string]bool{}
	for _, m := range sectionRe.FindAllStringSubmatch(body, -1) {
		have[m[1]] = true
	}
	for _, m := range sectionRe.FindAllStringSubmatch(old, -1) {
		if !have[m[1]] && m[1] == m[2] {
			body = strings.TrimRight(body, "\n") + "\n\n" + m[0]
		}
	}
	return body
}

// UpdateSection replaces one section of the target's comment, keeping the
// rest; with no comment yet it creates one holding only the section.
func UpdateSection(ctx context.Context, gh Issues, t Target, name, markdown string) (Result, error) {
	if err := t.valid(); err != nil {
		return Result{}, err
	}
	section := Section(name, markdown)
	existing, err := Find(ctx, gh, t)
	if err != nil {
		return Result{}, err
	}
	if existing == nil {
		return Upsert(ctx, gh, t, t.Marker()+"\n"+section)
	}
	replaced := false
	body := sectionRe.ReplaceAllStringFunc(existing.Body, func(m string) string {
		if sub := sectionRe.FindStringSubmatch(m); sub[1] == name {
			replaced = true
			return section
		}
		return m
	})
	if !replaced {
		body = strings.TrimRight(body, "\n") + "\n\n" + section
	}
	c, err := gh.EditComment(ctx, t.Owner, t.Repo, existing.ID, body)
	return Result{Comment: c}, err
}

// Layout is a comment as the action writes it: its body (the preview;
// without the line breaks that end it, which show nothing), then the
// sections later runs own, nothing else.
type Layout struct {
	Body     string
	Sections map[string]string
}

const (
	sectionStart = "<!-- tap-deploy:section "
	sectionEnd   = "<!-- /tap-deploy:section "
)

var leadingSection = regexp.MustCompile(`(?s)^<!-- tap-deploy:section ([a-z-]+) -->\n(.*?)\n?<!-- /tap-deploy:section ([a-z-]+) -->(?:\n|$)`)

// Split reads body as the action writes a comment: the body up to the
// first section, then only sections whose names are in known, each once,
// separated by blank lines. Anything else (a section of another name or
// twice, text or HTML after the sections, a section inside another) is
// refused, naming it: anyone with write access can add it, and the
// action's own account would be the author.
func Split(body string, known ...string) (Layout, error) {
	l := Layout{Body: body, Sections: map[string]string{}}
	rest := ""
	if strings.HasPrefix(body, sectionStart) {
		l.Body, rest = "", body
	} else if i := strings.Index(body, "\n"+sectionStart); i >= 0 {
		l.Body, rest = body[:i+1], body[i+1:]
	}
	l.Body = strings.TrimRight(l.Body, "\n")
	if strings.Contains(l.Body, sectionEnd) {
		return l, fmt.Errorf("the comment closes a section it never opened")
	}
	for {
		rest = strings.TrimLeft(rest, "\n")
		if rest == "" {
			return l, nil
		}
		m := leadingSection.FindStringSubmatch(rest)
		switch {
		case m == nil:
			return l, fmt.Errorf("the comment holds text the action did not write after its sections: %q", clip(firstLine(rest), 120))
		case m[1] != m[3]:
			return l, fmt.Errorf("the comment's section %q is closed as %q", m[1], m[3])
		case !slices.Contains(known, m[1]):
			return l, fmt.Errorf("the comment holds a section the action does not write: %q", m[1])
		case strings.Contains(m[2], sectionStart) || strings.Contains(m[2], sectionEnd):
			return l, fmt.Errorf("the comment's section %q holds another section", m[1])
		}
		if _, twice := l.Sections[m[1]]; twice {
			return l, fmt.Errorf("the comment holds the section %q twice", m[1])
		}
		l.Sections[m[1]] = m[2]
		rest = rest[len(m[0]):]
	}
}

func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}

// clip shortens s to at most n bytes without splitting a character.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
