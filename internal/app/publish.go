package app

import (
	"context"
	"fmt"

	"github.com/org/tap-deploy/internal/actions"
	"github.com/org/tap-deploy/internal/comment"
	"github.com/org/tap-deploy/internal/github"
	"github.com/org/tap-deploy/internal/inputs"
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
// (connect); commands report to it and never ask where they run. Every
// byte it sends is redacted twice: the raw text before rendering, and the
// rendered document as a last line of defence.
type publisher interface {
	// report publishes a result: in full to the job summary, within
	// GitHub's limit to the sticky comment of pull request pr (0: none),
	// or once to a terminal.
	report(ctx context.Context, pr int, doc document) error
	// note adds to the job summary what only the summary keeps (a failure,
	// the preview before an update); a terminal already showed it as log
	// lines and drops it.
	note(doc document)
	// section replaces one named section of pull request pr's comment and
	// keeps the rest (the review stack's status, written apart from the
	// preview); it goes to the job summary too.
	section(ctx context.Context, pr int, name string, doc document) error
}

// A comment's room: the body (a preview) leaves room for the sections
// later runs write into it (a review stack's status, a merge's deploy).
const (
	commentBody    = render.CommentLimit - render.CommentLimit/4
	commentSection = render.CommentLimit / 8
)

// earlyPublisher reports failures that happen before the inputs and the
// event are known (connect then chooses for the run).
func earlyPublisher(rt actions.Runtime) publisher {
	if rt.Local() {
		return terminalPublisher{rt: rt}
	}
	return summaryPublisher{rt: rt}
}

// connect makes the run's one GitHub client and chooses its publisher.
func (r *run) connect() error {
	if !r.Runtime.Local() && r.in.GitHubToken != "" {
		gh, err := r.NewGitHub(r.Getenv("GITHUB_API_URL"), r.in.GitHubToken)
		if err != nil {
			return err
		}
		r.github = gh
	}
	r.publish = choosePublisher(r.Runtime, r.github, r.in, r.decision, r.repository(), r.setOutputs)
	return nil
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

func (p actionsPublisher) report(ctx context.Context, pr int, doc document) error {
	addSummary(p.rt, doc)
	if pr == 0 {
		return nil
	}
	target := comment.Target{Owner: p.repo.Owner, Repo: p.repo.Name, Number: pr, Project: p.project, Stack: p.stack}
	// Room is left for a section the comment keeps (see comment.Section).
	body := p.rt.Redact(doc(target.Marker(), commentBody, p.rt.Redact))
	res, err := comment.Upsert(ctx, p.gh, target, body)
	if err != nil {
		if github.IsPermission(err) {
			return err
		}
		return fmt.Errorf("updating the comment on #%d: %w", pr, err)
	}
	verb := "updated"
	if res.Created {
		verb = "created"
	}
	p.rt.Infof("%s comment %d on #%d", verb, res.Comment.ID, pr)
	return p.setOutputs(map[string]string{OutCommentID: fmt.Sprint(res.Comment.ID)})
}

func (p actionsPublisher) section(ctx context.Context, pr int, name string, doc document) error {
	addSummary(p.rt, doc)
	if pr == 0 {
		return nil
	}
	target := comment.Target{Owner: p.repo.Owner, Repo: p.repo.Name, Number: pr, Project: p.project, Stack: p.stack}
	_, err := comment.UpdateSection(ctx, p.gh, target, name, p.rt.Redact(doc("", commentSection, p.rt.Redact)))
	return err
}

// summaryPublisher writes the job summary only; why says, once a comment
// was due, why there is none.
type summaryPublisher struct {
	rt   actions.Runtime
	why  string
	warn bool
}

func (p summaryPublisher) note(doc document) { addSummary(p.rt, doc) }

func (p summaryPublisher) section(ctx context.Context, pr int, _ string, doc document) error {
	return p.report(ctx, pr, doc)
}

func (p summaryPublisher) report(_ context.Context, pr int, doc document) error {
	addSummary(p.rt, doc)
	switch {
	case pr == 0 || p.why == "":
	case p.warn:
		p.rt.Warningf("%s", p.why)
	default:
		p.rt.Infof("%s", p.why)
	}
	return nil
}

// terminalPublisher prints each result once: what the pull request would
// get when there is one, else the full report. A terminal has no job
// summary.
type terminalPublisher struct{ rt actions.Runtime }

func (terminalPublisher) note(document) {}

func (p terminalPublisher) section(ctx context.Context, pr int, _ string, doc document) error {
	return p.report(ctx, pr, doc)
}

func (p terminalPublisher) report(_ context.Context, pr int, doc document) error {
	limit := render.SummaryLimit
	if pr != 0 {
		limit = render.CommentLimit
	}
	p.rt.Print(doc("", limit, p.rt.Redact)) // Print redacts the document again
	return nil
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
