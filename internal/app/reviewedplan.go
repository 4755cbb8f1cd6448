package app

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"strings"

	"github.com/org/tap-deploy/internal/comment"
	"github.com/org/tap-deploy/internal/engine"
	"github.com/org/tap-deploy/internal/github"
	"github.com/org/tap-deploy/internal/inputs"
	"github.com/org/tap-deploy/internal/outcome"
	"github.com/org/tap-deploy/internal/render"
	"github.com/org/tap-deploy/internal/reviewed"
	"github.com/org/tap-deploy/stack"
)

// reviewedPlanCheck is what a merge deploy knows of the plan its pull request
// reviewed, found before the deploy previews.
type reviewedPlanCheck struct {
	mode inputs.ReviewedPlan
	pr   *github.PullRequest
	// plan is the PR's recorded plan, read from its place in the action's
	// own comment; missing says why there is none.
	plan    *reviewed.Plan
	missing string
	// target is the comment's place; views are the texts reviewers read
	// that show the plan (the comment's body, and in the queued path its
	// merge-queue section); doubts are what makes the comment
	// untrustworthy (an edit by another account, an unreadable history,
	// text the action did not write).
	target comment.Target
	views  []shownView
	doubts []string
	// queued means the plan is the merge queue's preview of the pushed
	// commit (the comment's merge-queue section), not the pull request's
	// own preview.
	queued bool
	// configuration is the comment's configuration section, which the
	// deploy renders again and compares as it does the body; nil when no
	// body view is compared.
	configuration *shownConfiguration
}

// shownConfiguration is the configuration section of a pull request's
// comment as it stands, and the version of the state the preview that
// wrote it compared with (its plan's): the history up to that version
// renders it again.
type shownConfiguration struct {
	text         string
	present      bool
	stateVersion int
}

func configurationShown(l comment.Layout, p reviewed.Plan) *shownConfiguration {
	text, ok := l.Sections[configurationSection]
	return &shownConfiguration{text: text, present: ok, stateVersion: p.StateVersion}
}

// shownComparison renders what reviewers read again and compares it with
// what it stands for. It reaches the run's redaction, its configuration's
// layers, how the config input is spelled where the run happens, and how
// a shown report's meta is made ((*run).shownMeta).
type shownComparison struct {
	redact      func(string) string
	config      stack.Layered
	configInput string
	meta        func(title, sha string, cfg stack.Config, kind outcome.Kind, s reviewed.Shown, note string) render.Meta
}

// configurationDifference says how the comment's configuration section
// differs from its rendering from the configuration of who (this deploy,
// the merge queue's check) and the history up to the version the preview
// compared with, or "": a section anyone writing as the bot emptied, or
// whose values or "Set by" it changed, does not show what the deploy
// applies.
func (sc shownComparison) configurationDifference(c shownConfiguration, hist []engine.Update, cfg stack.Config, who string) string {
	const what = "the comment's configuration section"
	if !c.present {
		return what + " is missing (every preview writes it, empty when no key differs)"
	}
	var then []engine.Update
	for _, u := range hist {
		if u.Version <= c.stateVersion {
			then = append(then, u)
		}
	}
	view := configurationView(then, nil, cfg, sc.config, sc.configInput)
	want := sc.redact(configurationText(view, commentBody, sc.redact))
	if d := render.FirstDifference(what, strings.Trim(c.text, "\n"), strings.Trim(want, "\n")); d != "" {
		return fmt.Sprintf("%s does not show what %s would apply: %s", what, who, d)
	}
	return ""
}

// shownView is one text reviewers read that shows a plan: the pull
// request's comment body, or its merge-queue section. A deploy renders it
// again, whole, from its own preview and what the plan line pins (the
// run, the time), and compares the two: anything else in it (a heading
// or counts edited, rows folded into a collapsed <details>, HTML or notes
// added) is a difference.
type shownView struct {
	// what names the text; text is it as it stands (without the line
	// breaks that end it).
	what, text string
	// How it was rendered: title, marker, room, the plan and its line as
	// it stands there, the note under the heading, and the verdicts it may
	// carry (the queue's section says how the queue compared the plan
	// with the review; "" for none).
	title, marker string
	limit         int
	plan          reviewed.Plan
	line, note    string
	verdicts      []string
	// earlierState means the text was rendered against a state the
	// comparing run cannot see (a pull request's preview, for a merge
	// queue whose entries ahead deployed since): its unchanged count is
	// the one the plan line records.
	earlierState bool
}

// commentSections are the sections the action writes into a pull
// request's comment.
var commentSections = []string{configurationSection, reviewStackSection, mergeQueueSection, deploySection}

// commentLayout reads the action's comment on a pull request, whose
// review stack is stackOfPR, as the action writes it, and names what in it
// the action did not write.
func commentLayout(body, stackOfPR string) (comment.Layout, []string) {
	l, err := comment.Split(body, commentSections...)
	if err != nil {
		return l, []string{err.Error()}
	}
	if text, ok := l.Sections[reviewStackSection]; ok {
		if err := render.CheckReviewStack(text, stackOfPR); err != nil {
			return l, []string{err.Error()}
		}
	}
	if text, ok := l.Sections[configurationSection]; ok {
		if err := render.CheckConfiguration(text); err != nil {
			return l, []string{err.Error()}
		}
	}
	return l, nil
}

// bodyView is the comment's body as the pull request's preview rendered
// it, with the plan recorded after its marker.
func bodyView(l comment.Layout, marker, stackName string, p reviewed.Plan) shownView {
	return shownView{what: "the comment", text: l.Body, title: "Preview", marker: marker, limit: previewBodyLimit(commentBody),
		plan: p, line: strings.SplitN(l.Body, "\n", 3)[1], note: previewNote(stackName, p.Shown.FirstDeploy), verdicts: []string{""}}
}

// renderView renders v again from res, a preview of the same plan.
func (sc shownComparison) renderView(v shownView, verdict string, res outcome.Result, cfg stack.Config) string {
	shown := res
	shown.Outputs = nil
	if v.earlierState {
		shown.Counts = maps.Clone(res.Counts)
		shown.Counts[outcome.OpSame] = v.plan.Shown.Unchanged
	}
	meta := sc.meta(v.title, v.plan.Head, cfg, res.Kind, v.plan.Shown, v.note)
	meta.Verdict = render.Verdict{Metadata: v.line, PlanID: v.plan.ID, Says: verdict}
	doc := sc.redact(resultDoc(meta, shown)(v.marker, v.limit, sc.redact))
	return strings.TrimRight(doc, "\n")
}

// viewDifference says how v differs from its rendering from res, or "":
// who ran res (this deploy, the merge queue's check) says what it is.
func (sc shownComparison) viewDifference(v shownView, res outcome.Result, cfg stack.Config, who string) string {
	first := ""
	for _, verdict := range v.verdicts {
		d := render.FirstDifference(v.what, v.text, sc.renderView(v, verdict, res, cfg))
		if d == "" {
			return ""
		}
		first = cmp.Or(first, d)
	}
	return fmt.Sprintf("%s does not show what %s would apply: %s", v.what, who, first)
}

// findReview finds the plan a merge deploy should apply. A deploy from
// workflow_dispatch or schedule has no pull request and no such check.
func (r *run) findReviewedPlan(ctx context.Context, pr *github.PullRequest) *reviewedPlanCheck {
	mode := r.in.ReviewedPlan
	switch {
	case mode == inputs.ReviewedPlanOff:
		return nil
	case r.decision.Event != "push":
		r.Runtime.Noticef("a %s deploy has no pull request: the reviewed-plan check does not apply", cmp.Or(r.decision.Event, "local"))
		return nil
	}
	rv := &reviewedPlanCheck{mode: mode, pr: pr}
	repo := r.decision.Repository
	switch {
	case pr == nil:
		rv.missing = fmt.Sprintf("the push to %s merged no pull request (a direct push): nothing was reviewed", strings.TrimPrefix(r.decision.Ref, "refs/heads/"))
		return rv
	case r.github == nil:
		rv.missing = fmt.Sprintf("there is no github-token to read pull request #%d's reviewed plan", pr.Number)
		return rv
	}
	rv.target = comment.Target{Owner: repo.Owner, Repo: repo.Name, Number: pr.Number, Project: r.in.ProjectName, Stack: r.in.StackName}
	c, err := comment.Find(ctx, r.github, rv.target)
	switch {
	case err != nil:
		rv.missing = fmt.Sprintf("pull request #%d's comments cannot be read: %v", pr.Number, err)
		return rv
	case c == nil:
		rv.missing = fmt.Sprintf("pull request #%d has no preview comment by this action", pr.Number)
		return rv
	}
	binding := reviewed.Binding{Repo: repo.FullName(), PR: pr.Number, Stack: r.in.StackName}
	rv.doubts = append(rv.doubts, editDoubts(ctx, r.github, c)...)
	layout, unwritten := commentLayout(c.Body, reviewStackName(r.in.StackName, pr.Number))
	rv.doubts = append(rv.doubts, unwritten...)
	if r.queuedPlan(rv, c.Body, layout, binding) {
		return rv
	}
	p, err := reviewed.DecodeComment(c.Body, rv.target.Marker())
	if err == nil {
		err = p.Check(binding)
	}
	if err != nil {
		rv.missing = fmt.Sprintf("pull request #%d's comment holds no reviewed plan of its own (%v)", pr.Number, err)
		return rv
	}
	rv.plan = &p
	rv.views = []shownView{bodyView(layout, rv.target.Marker(), r.in.StackName, p)}
	rv.configuration = configurationShown(layout, p)
	return rv
}

// queuedPlan takes the merge queue's plan from the comment's merge-queue
// section when it is of the pushed commit: the queue previewed exactly
// what landed, against the state the merge met, after comparing it with
// the reviewed plan. A section of another commit (an earlier queue
// attempt) is not this push's.
func (r *run) queuedPlan(rv *reviewedPlanCheck, body string, layout comment.Layout, binding reviewed.Binding) bool {
	text, ok := comment.SectionText(body, mergeQueueSection)
	if !ok {
		return false
	}
	p, err := reviewed.DecodeFirstLine(text)
	if err != nil || p.Check(binding) != nil || p.Head != r.decision.SHA {
		return false
	}
	rv.plan, rv.queued = &p, true
	// The section says how the queue's check compared this plan with the
	// review, but under the check's own mode (warn lets a difference
	// land) and in text anyone with write access can edit: the deploy
	// compares the two plans itself, and the comment's body (what the
	// pull request's reviewers read) with its own preview.
	reviewedPlan, differences := againstReview(body, rv.target.Marker(), binding, rv.pr.HeadSHA, p)
	for _, d := range differences {
		rv.doubts = append(rv.doubts, "the merge queue's plan against the reviewed one: "+d)
	}
	section := shownView{what: "the merge queue's section", text: text, title: mergeQueueTitle, limit: commentSection,
		plan: p, line: strings.SplitN(text, "\n", 2)[0], note: queueNote(r.in.StackName, strings.TrimPrefix(r.decision.Ref, "refs/heads/"), binding.PR, p.Shown.FirstDeploy),
		verdicts: []string{""}}
	if reviewedPlan != nil {
		body := bodyView(layout, rv.target.Marker(), r.in.StackName, *reviewedPlan)
		body.earlierState = true
		rv.views = append(rv.views, body)
		rv.configuration = configurationShown(layout, *reviewedPlan)
		section.verdicts = []string{queueVerdict(binding.PR, reviewedPlan.ID, p.ID), ""}
	}
	rv.views = append(rv.views, section)
	r.Runtime.Infof("pull request #%d's merge queue previewed the pushed commit %s: comparing with that plan (%s)", binding.PR, short(p.Head), p.ID)
	return true
}

// editDoubts reads the comment's whole edit history: anyone with write
// access can edit it, and its author stays the action's account. An edit
// by any other account, at any time (a later edit by the action, such as
// a section it writes, does not undo it), or a history that cannot be
// read, is a doubt. The next preview replaces such a comment.
func editDoubts(ctx context.Context, gh GitHub, c *github.Comment) []string {
	viewer, err := gh.Viewer(ctx)
	if err != nil {
		return []string{fmt.Sprintf("the action's account cannot be told (%v), so the comment's edits cannot be checked", err)}
	}
	editors, err := comment.ForeignEditors(ctx, gh, c, viewer)
	switch {
	case err != nil:
		return []string{fmt.Sprintf("the comment's edit history cannot be read (%v)", err)}
	case len(editors) > 0:
		return []string{fmt.Sprintf("the comment was edited by %s, not by this action (%s); a new preview replaces it", strings.Join(editors, ", "), viewer)}
	}
	return nil
}

// verdict compares the deploy's own preview with the reviewed plan: the
// fingerprints (now), and what the comment shows reviewers with its
// rendering from this preview (shown: each difference). It returns what
// the report says, and an error when the deploy must stop.
func (rv *reviewedPlanCheck) verdict(now reviewed.Plan, shown []string, drift []string) (render.Verdict, error) {
	out := render.Verdict{PlanID: now.ID}
	if rv.plan == nil {
		out.Says, out.Warn = "No reviewed plan: "+rv.missing, true
		if rv.mode == inputs.ReviewedPlanRequire {
			return out, fmt.Errorf("reviewed-plan is require and %s. Nothing was changed: deploy through a pull request whose preview ran, or dispatch a deploy (command: up) to apply unreviewed changes on purpose", rv.missing)
		}
		return out, nil
	}
	lines := append([]string(nil), rv.doubts...)
	if !rv.queued && rv.plan.Head != rv.pr.HeadSHA {
		lines = append(lines, fmt.Sprintf("the pull request's last preview was of %s, its final head is %s: the last commits were never previewed", short(rv.plan.Head), short(rv.pr.HeadSHA)))
	}
	diff := reviewed.Compare(*rv.plan, now)
	lines = append(lines, diff.Lines()...)
	if !diff.State && len(drift) > 0 {
		lines = append(lines, "a different starting state: resources changed outside Pulumi since the review")
	}
	lines = append(lines, drift...)
	lines = append(lines, shown...)
	if len(lines) == 0 {
		out.Says = fmt.Sprintf("Applying the reviewed plan %s of pull request #%d.", rv.plan.ID, rv.pr.Number)
		if rv.queued {
			out.Says = fmt.Sprintf("Applying the plan %s the merge queue previewed for pull request #%d.", rv.plan.ID, rv.pr.Number)
		}
		return out, nil
	}
	out.Lines, out.Warn = lines, true
	if rv.mode == inputs.ReviewedPlanRequire {
		out.Says = fmt.Sprintf("Not deployed: the plan differs from the one reviewed on pull request #%d (%s, now %s).", rv.pr.Number, rv.plan.ID, now.ID)
		return out, fmt.Errorf("the plan differs from the one reviewed on pull request #%d: %s. Nothing was changed. Re-run the pull request's preview (re-run its workflow) and then this deploy, or dispatch a deploy (command: up) to apply it unreviewed",
			rv.pr.Number, strings.Join(lines, "; "))
	}
	out.Says = fmt.Sprintf("Deploying a plan that differs from the one reviewed on pull request #%d (%s, now %s).", rv.pr.Number, rv.plan.ID, now.ID)
	return out, nil
}

// driftLines runs a refresh preview (it changes nothing) and names the
// resources that changed outside Pulumi: neither preview refreshes, so
// this is how a change made in the console since the review is found.
func driftLines(ctx context.Context, st Stack) []string {
	res, err := st.PreviewRefresh(ctx)
	if err != nil {
		return []string{fmt.Sprintf("the cloud could not be compared with the state (%v)", firstLine(err.Error()))}
	}
	res = res.WithoutChangesOf(stack.ManagedByCodeDeploy)
	var out []string
	for _, op := range outcome.ChangingOps {
		for _, s := range res.ByOp(op) {
			line := fmt.Sprintf("changed outside Pulumi: %s %s", s.Type, s.Name)
			if op == outcome.OpDelete {
				line = fmt.Sprintf("gone from the cloud: %s %s", s.Type, s.Name)
			} else if len(s.Changed) > 0 {
				line += " (" + strings.Join(s.Changed, ", ") + ")"
			}
			out = append(out, line)
		}
	}
	return out
}

func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}

// queueNote is what the merge queue's section says under its heading.
func queueNote(stackName, base string, pr int, firstDeploy bool) string {
	note := fmt.Sprintf("The commit that lands on %s when the queue merges pull request #%d, previewed against stack %s as the merge will find it.", base, pr, stackName)
	if firstDeploy {
		note += fmt.Sprintf(" Stack %s does not exist yet: this is its first deploy.", stackName)
	}
	return note
}
