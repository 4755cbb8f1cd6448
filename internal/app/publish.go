package app

import (
	"context"
	"fmt"

	"github.com/org/tap-deploy/internal/actions"
	"github.com/org/tap-deploy/internal/comment"
	"github.com/org/tap-deploy/internal/inputs"
	"github.com/org/tap-deploy/internal/issue"
	"github.com/org/tap-deploy/internal/outcome"
	"github.com/org/tap-deploy/internal/render"
	"github.com/org/tap-deploy/internal/route"
)

// document renders one report for the place it goes to: marker is the
// sticky comment's hidden marker ("" elsewhere), limit the size budget,
// and redact is applied to the report's raw text before it is rendered
// (escaping would hide a secret from redaction after the fact).
type document func(marker string, limit int, redact func(string) string) string

// publisher is where a run's results go. It is chosen once per run
// (choosePublisher, in start); commands report to it and never ask where
// they run. Every byte it sends is redacted twice: the raw text before
// rendering, and the rendered document as a last line of defence. It owns its failures, with
// one rule: a report that cannot be published is a warning, never the
// run's failure (the job summary and the log keep it).
type publisher interface {
	// report publishes a result: in full to the job summary, within
	// GitHub's limit to the sticky comment of pull request pr (0: none),
	// or once to a terminal.
	report(ctx context.Context, pr int, doc document)
	// note adds to the job summary what only the summary keeps (a failure,
	// the preview before an update); a terminal already showed it as log
	// lines and drops it.
	note(doc document)
	// section replaces one named section of pull request pr's comment and
	// keeps the rest (a review stack's status, a merge's deploy, written
	// apart from the preview); it goes to the job summary too.
	section(ctx context.Context, pr int, name string, doc document)
	// data writes a machine-readable report (validate's JSON) to stdout.
	data(text string)
	// issue keeps one issue open while open is true, updated on later runs,
	// closed with closing once it is false (drift-issue).
	issue(ctx context.Context, t issue.Target, open bool, title string, body document, closing string)
}

// A comment's room: the body (a preview) leaves room for the sections
// later runs write into it (a review stack's status, a merge's deploy).
const (
	commentBody    = render.CommentLimit - render.CommentLimit/4
	commentSection = render.CommentLimit / 8
)

// earlyPublisher reports failures that happen before the inputs and the
// event are known (start then chooses for the run: choosePublisher).
func earlyPublisher(rt actions.Runtime) publisher {
	if rt.Local() {
		return terminalPublisher{rt: rt}
	}
	return summaryPublisher{rt: rt}
}

// gitHubClient makes the run's one GitHub client: none (nil) locally or
// without a github-token.
func gitHubClient(rt actions.Runtime, newGitHub func(apiURL, token string) (GitHub, error), apiURL, token string) (GitHub, error) {
	if rt.Local() || token == "" {
		return nil, nil
	}
	return newGitHub(apiURL, token)
}

// choosePublisher decides where results go: a terminal locally; the job
// summary only for a fork PR (read-only token), with comment-on-pr off or
// without a token; otherwise the job summary and the sticky comment.
func choosePublisher(rt actions.Runtime, gh GitHub, in inputs.Inputs, d route.Decision, repo route.Repository, setOutputs func(map[string]string) error) publisher {
	switch {
	case rt.Local():
		return terminalPublisher{rt: rt}
	case d.PullRequest != nil && d.PullRequest.Fork:
		return summaryPublisher{rt: rt, why: "fork pull request: no comment (read-only token); the result is in the job summary"}
	case !in.CommentOnPR:
		return summaryPublisher{rt: rt}
	case gh == nil:
		return summaryPublisher{rt: rt, why: "no github-token input: the result is in the job summary only", warn: true}
	}
	return actionsPublisher{rt: rt, gh: gh, repo: repo, project: in.ProjectName, stack: in.StackName, setOutputs: setOutputs}
}

// actionsPublisher writes the job summary and keeps one sticky comment per
// pull request, project and stack.
type actionsPublisher struct {
	rt             actions.Runtime
	gh             GitHub
	repo           route.Repository
	project, stack string
	setOutputs     func(map[string]string) error
}

func (p actionsPublisher) note(doc document) { addSummary(p.rt, doc) }

func (p actionsPublisher) report(ctx context.Context, pr int, doc document) {
	addSummary(p.rt, doc)
	if pr == 0 {
		return
	}
	target := comment.Target{Owner: p.repo.Owner, Repo: p.repo.Name, Number: pr, Project: p.project, Stack: p.stack}
	// Room is left for a section the comment keeps (see comment.Section).
	body := p.rt.Redact(doc(target.Marker(), commentBody, p.rt.Redact))
	res, err := comment.Upsert(ctx, p.gh, target, body)
	if err != nil {
		p.rt.Warningf("could not update the comment on #%d (the result is in the job summary): %v", pr, err)
		return
	}
	verb := "updated"
	if res.Created {
		verb = "created"
	}
	if res.Replaced != "" {
		p.rt.Warningf("a new comment replaces the one on #%d (%s), so that deploys can trust the plan it records", pr, res.Replaced)
	}
	p.rt.Infof("%s comment %d on #%d", verb, res.Comment.ID, pr)
	if err := p.setOutputs(map[string]string{OutCommentID: fmt.Sprint(res.Comment.ID)}); err != nil {
		p.rt.Warningf("could not write the comment-id output: %v", err)
	}
}

func (p actionsPublisher) section(ctx context.Context, pr int, name string, doc document) {
	addSummary(p.rt, doc)
	if pr == 0 {
		return
	}
	target := comment.Target{Owner: p.repo.Owner, Repo: p.repo.Name, Number: pr, Project: p.project, Stack: p.stack}
	if _, err := comment.UpdateSection(ctx, p.gh, target, name, p.rt.Redact(doc("", commentSection, p.rt.Redact))); err != nil {
		p.rt.Warningf("could not update the comment on #%d (the result is in the job summary): %v", pr, err)
	}
}

func (p actionsPublisher) data(text string) { p.rt.Print(text) }

func (p actionsPublisher) issue(ctx context.Context, t issue.Target, open bool, title string, body document, closing string) {
	got, err := issue.Sync(ctx, p.gh, t, open, title, p.rt.Redact(body("", render.CommentLimit-200, p.rt.Redact)), closing)
	switch {
	case err != nil:
		p.rt.Warningf("could not update the %s issue: %v", t.Subject, err)
	case got.Created:
		p.rt.Noticef("opened %s issue #%d", t.Subject, got.Issue.Number)
	case got.Updated:
		p.rt.Noticef("updated %s issue #%d", t.Subject, got.Issue.Number)
	case got.Closed:
		p.rt.Noticef("closed %s issue #%d: no %s", t.Subject, got.Issue.Number, t.Subject)
	}
}

// summaryPublisher writes the job summary only; why says, once a comment
// was due, why there is none.
type summaryPublisher struct {
	rt   actions.Runtime
	why  string
	warn bool
}

func (p summaryPublisher) note(doc document) { addSummary(p.rt, doc) }

func (p summaryPublisher) section(ctx context.Context, pr int, _ string, doc document) {
	p.report(ctx, pr, doc)
}

func (p summaryPublisher) report(_ context.Context, pr int, doc document) {
	addSummary(p.rt, doc)
	switch {
	case pr == 0 || p.why == "":
	case p.warn:
		p.rt.Warningf("%s", p.why)
	default:
		p.rt.Infof("%s", p.why)
	}
}

func (p summaryPublisher) data(text string) { p.rt.Print(text) }

func (p summaryPublisher) issue(_ context.Context, t issue.Target, _ bool, _ string, _ document, _ string) {
	p.rt.Warningf("the %s issue needs a github-token with `issues: write`; no issue was updated", t.Subject)
}

// terminalPublisher prints each result once: what the pull request would
// get when there is one, else the full report. A terminal has no job
// summary.
type terminalPublisher struct{ rt actions.Runtime }

func (terminalPublisher) note(document) {}

func (p terminalPublisher) section(ctx context.Context, pr int, _ string, doc document) {
	p.report(ctx, pr, doc)
}

func (p terminalPublisher) report(_ context.Context, pr int, doc document) {
	limit := render.SummaryLimit
	if pr != 0 {
		limit = render.CommentLimit
	}
	p.rt.Print(doc("", limit, p.rt.Redact)) // Print redacts the document again
}

func (p terminalPublisher) data(text string) { p.rt.Print(text) }

func (p terminalPublisher) issue(_ context.Context, t issue.Target, _ bool, _ string, _ document, _ string) {
	p.rt.Infof("%s issues are kept from GitHub Actions only; the report above is the check's result", t.Subject)
}

// addSummary appends a document to the job summary (AddSummary redacts
// the rendered markdown again).
func addSummary(rt actions.Runtime, doc document) {
	if err := rt.AddSummary(doc("", render.SummaryLimit, rt.Redact)); err != nil {
		rt.Warningf("%v", err)
	}
}

// resultDoc renders an engine result.
func resultDoc(m render.Meta, res outcome.Result) document {
	return func(marker string, limit int, redact func(string) string) string {
		m := m.Redacted(redact)
		m.Marker = marker
		return render.Markdown(m, res.Redacted(redact), limit)
	}
}

// validationDoc renders an offline validation report.
func validationDoc(m render.Meta, v render.Validation) document {
	return func(marker string, limit int, redact func(string) string) string {
		m := m.Redacted(redact)
		m.Marker = marker
		return render.ValidationMarkdown(m, v.Redacted(redact), limit)
	}
}

// withSection appends section to a document as its part name (see
// comment.Section); the section is short and gets no limit of its own.
func withSection(doc document, name string, section document) document {
	return func(marker string, limit int, redact func(string) string) string {
		return doc(marker, limit, redact) + "\n" + comment.Section(name, section("", limit, redact))
	}
}

// failureDoc renders a run that stopped before it had a result.
func failureDoc(title string, problems []string) document {
	return func(_ string, _ int, redact func(string) string) string {
		redacted := make([]string, len(problems))
		for i, p := range problems {
			redacted[i] = redact(p)
		}
		return render.Failure(redact(title), redacted)
	}
}
