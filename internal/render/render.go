// Package render turns an outcome.Result into the markdown of the PR comment and
// the job summary. It is pure: same input, same bytes, golden-tested.
package render

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/org/tap-deploy/internal/outcome"
	"github.com/org/tap-deploy/internal/redact"
)

// CommentLimit is GitHub's limit on an issue comment body.
const CommentLimit = 65536

// SummaryLimit is GitHub's limit on a step's job summary.
const SummaryLimit = 1 << 20

// Meta says what the result is about.
type Meta struct {
	Title       string // "Preview", "Deploy", "Drift check", "Validation"
	Project     string
	Stack       string
	Environment string
	Region      string
	SHA         string
	RunURL      string
	// Marker is a hidden line that identifies the comment; it is placed
	// first so it survives any truncation.
	Marker string
	// Note is a line shown under the heading (e.g. why only validation ran).
	Note string
	// Footer is the last line (a timestamp in real runs).
	Footer string
	// Exceptions are the policy exceptions in effect; every report shows
	// them near the top.
	Exceptions Exceptions
	// Verdict is what the report says about the reviewed plan.
	Verdict Verdict
	// Traffic is what an update's report says about how its new versions
	// took traffic.
	Traffic Traffic
}

// Traffic is how an update's new function versions took traffic.
type Traffic struct {
	// Summary heads the notice ("" renders nothing); Lines say what
	// happened to each function.
	Summary string
	Lines   []string
	// Stopped shows the notice as a caution: a shift stopped and traffic
	// went back to the old versions.
	Stopped bool
	// GoesOn says that some of a stopped release's shifts could not be
	// stopped: their new versions may take traffic.
	GoesOn bool
}

// trafficNote renders how traffic moved within room bytes, or "".
func trafficNote(t Traffic, room int) string {
	if t.Summary == "" {
		return ""
	}
	kind := "NOTE"
	if t.Stopped {
		kind = "CAUTION"
	}
	return callout(kind, t.Summary, t.Lines, room)
}

// callout renders a GitHub alert with a bold title and a list, within
// room bytes: the lines that do not fit are counted.
func callout(kind, title string, lines []string, room int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n> [!%s]\n> **%s**\n", kind, clip(inline(title), 400))
	for i, l := range lines {
		line := "> - " + clip(inline(l), 400) + "\n"
		if b.Len()+len(line)+40 > room {
			fmt.Fprintf(&b, "> - … %d more\n", len(lines)-i)
			break
		}
		b.WriteString(line)
	}
	return b.String()
}

// Verdict is a report's part about the reviewed plan.
type Verdict struct {
	// Metadata is the hidden line carrying a preview's plan
	// (reviewed.Plan.Encode); it follows the marker, so it survives any
	// truncation.
	Metadata string
	// PlanID is the plan's short id, shown for reviewers to refer to.
	PlanID string
	// Says is a deploy's comparison with the reviewed plan; Lines say
	// what differs and how the update was constrained.
	Says  string
	Lines []string
	// Warn shows the verdict as a warning.
	Warn bool
}

// reviewedPlanNote renders a deploy's verdict on the reviewed plan within
// room bytes (the job summary has room for every line), or "".
func reviewedPlanNote(r Verdict, room int) string {
	if r.Says == "" {
		return ""
	}
	kind := "NOTE"
	if r.Warn {
		kind = "WARNING"
	}
	return callout(kind, r.Says, r.Lines, room)
}

// Exceptions is what a run's settings switch off.
type Exceptions struct {
	// Disabled and Lowered are rule IDs that policy-overrides disabled or
	// lowered to advisory.
	Disabled []string
	Lowered  []string
	// PublicAPI means apiAuthorization=NONE: the API takes unsigned calls.
	PublicAPI bool
}

// exceptionsNote is the notice that lists the exceptions, or "".
func exceptionsNote(e Exceptions) string {
	var lines []string
	if len(e.Disabled) > 0 {
		lines = append(lines, "Rules disabled by `policy-overrides`: "+codeList(e.Disabled))
	}
	if len(e.Lowered) > 0 {
		lines = append(lines, "Rules lowered to advisory by `policy-overrides`: "+codeList(e.Lowered))
	}
	if e.PublicAPI {
		lines = append(lines, "The API is public: `apiAuthorization=NONE` lets anyone call it without signing")
	}
	if len(lines) == 0 {
		return ""
	}
	return "\n> [!IMPORTANT]\n> **Policy exceptions in effect**\n> - " + strings.Join(lines, "\n> - ") + "\n"
}

// Redacted returns the meta with f applied to every text it shows, raw,
// before the renderer escapes it (an escaped secret, s3cr3t\_pass, no
// longer matches its registered form): the note quotes event data such as
// a fork's name, and the reviewed plan's verdict and lines quote GitHub's
// and the engine's errors. The hidden plan line (Metadata) is the
// action's own encoding, redacted with the rendered document.
func (m Meta) Redacted(f func(string) string) Meta {
	m.Title, m.Note, m.Footer, m.RunURL = f(m.Title), f(m.Note), f(m.Footer), f(m.RunURL)
	m.Project, m.Stack, m.Environment, m.Region, m.SHA = f(m.Project), f(m.Stack), f(m.Environment), f(m.Region), f(m.SHA)
	m.Traffic.Summary = f(m.Traffic.Summary)
	m.Traffic.Lines = redact.All(m.Traffic.Lines, f)
	m.Verdict.Says, m.Verdict.PlanID = f(m.Verdict.Says), f(m.Verdict.PlanID)
	m.Verdict.Lines = redact.All(m.Verdict.Lines, f)
	m.Exceptions.Disabled = redact.All(m.Exceptions.Disabled, f)
	m.Exceptions.Lowered = redact.All(m.Exceptions.Lowered, f)
	return m
}

// EscapeMarkdown is untrusted text as the renderer escapes it for a
// table cell or a line: a secret's escaped form is registered with the
// secret, so that the last pass over a rendered document finds it too.
func EscapeMarkdown(s string) string { return escapeMarkdown(s) }

// Markdown renders res within limit bytes. Heading, counts and warnings are
// always kept; per-resource details are added until the budget ends, then a
// line says where the full preview is. Values (old → new, document diffs)
// are the first thing given up: a comment that would not fit with them is
// rendered with property names only.
func Markdown(m Meta, res outcome.Result, limit int) string {
	if out, cut := markdown(m, res, limit, true); !cut {
		return out
	}
	out, _ := markdown(m, res, limit, false)
	return out
}

func markdown(m Meta, res outcome.Result, limit int, values bool) (string, bool) {
	// pinned is the same in every rendering of one plan (the comment's
	// marker and the plan line); varying differs between two runs.
	var pinned, varying strings.Builder
	if m.Marker != "" {
		pinned.WriteString(m.Marker + "\n")
	}
	if m.Verdict.Metadata != "" {
		pinned.WriteString(m.Verdict.Metadata + "\n")
	}
	footer := "\n---\n<sub>" + inline(m.Footer) + "</sub>\n"
	if m.Footer == "" {
		footer = ""
	}
	truncated := "\n> [!NOTE]\n> Truncated to fit GitHub's comment limit — the full preview is in the job summary" + runLink(m.RunURL) + ".\n"
	// What varies gets a fixed allowance, so that the reviewed part's room
	// depends only on the pinned lines and the limit: a merge deploy then
	// renders that part exactly as the pull request's comment did.
	allowance := min(outsideAllowance, limit/4)
	varying.WriteString(heading(m, res))
	varying.WriteString(context(m))
	if m.Note != "" {
		varying.WriteString("\n> " + clip(inline(m.Note), 600) + "\n")
	}
	varying.WriteString(reviewedPlanNote(m.Verdict, allowance-varying.Len()-len(footer)-len(truncated)-len(ReviewedEnd)-8))
	varying.WriteString(trafficNote(m.Traffic, allowance-varying.Len()-len(footer)-len(truncated)-len(ReviewedEnd)-8))

	// What reviewers read of the plan, between two hidden lines: a merge
	// deploy renders the same part from its own preview and compares it
	// with the pull request's comment byte for byte. What legitimately
	// differs between two runs (times, run links, notes about the run,
	// diagnostics) is outside it.
	var head strings.Builder
	head.WriteString("\n" + ReviewedStart + "\n")
	head.WriteString(exceptionsNote(m.Exceptions))
	if res.Error != "" {
		head.WriteString("\n**What failed**\n\n" + fence(res.Error) + "\n")
		if failed := res.Failed(); len(failed) > 0 {
			head.WriteString("\n| Resource | Type | Error |\n|---|---|---|\n")
			for _, s := range failed {
				head.WriteString(fmt.Sprintf("| %s | %s | %s |\n", code(s.Name), code(shortType(s.Type)), cell(firstLine(s.Error))))
			}
		}
	}
	if res.Destructive() {
		head.WriteString(fmt.Sprintf("\n> [!WARNING]\n> **%s.** Check for data loss before merging.\n", destructiveSummary(res)))
	}
	head.WriteString("\n" + countsTable(res))
	head.WriteString(pulumiNote(res))
	if mandatory := countLevel(res.Findings, "mandatory"); mandatory > 0 {
		head.WriteString(fmt.Sprintf("\n> [!CAUTION]\n> **%d mandatory policy violation(s)** block this change.\n", mandatory))
	}

	reviewed := &budget{limit: limit - pinned.Len() - allowance}
	reviewed.add(head.String())
	reviewed.section(findingsSection(res.Findings))
	var changing []outcome.Step
	for _, op := range outcome.ChangingOps {
		steps := res.ByOp(op)
		changing = append(changing, steps...)
		reviewed.section(stepsSection(op, steps, values))
	}
	if values {
		reviewed.section(documentsSection(changing))
	}
	out := pinned.String() + varying.String() + reviewed.String() + ReviewedEnd + "\n"
	// The rest has what room is left.
	rest := &budget{limit: limit - len(out) - len(footer) - len(truncated)}
	rest.section(diagnosticsSection(res.Diagnostics))
	rest.section(outputsSection(res.Outputs, res.SecretOutputs))
	out += rest.String()
	if reviewed.cut || rest.cut {
		out += truncated
	}
	return out + footer, reviewed.cut
}

// outsideAllowance is the room kept for what differs between two
// renderings of one plan (heading, run link, notes, footer).
const outsideAllowance = 4096

// The hidden lines around the part of a result that reviewers read.
const (
	ReviewedStart = "<!-- tap-deploy:reviewed -->"
	ReviewedEnd   = "<!-- /tap-deploy:reviewed -->"
)

// FirstDifference says where two renderings first differ, line by line,
// quoting both lines; "" when they are the same. what names the first
// (the text as it stands).
func FirstDifference(what, shown, now string) string {
	a, b := strings.Split(shown, "\n"), strings.Split(now, "\n")
	for i := 0; i < max(len(a), len(b)); i++ {
		var x, y string
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			return fmt.Sprintf("line %d of %s shows %q, a fresh rendering of the plan has %q", i+1, what, clip(x, 160), clip(y, 160))
		}
	}
	return ""
}

// pulumiNote says what the counts leave out: Pulumi's own resources
// (components group resources, providers configure them) create nothing
// in the cloud.
func pulumiNote(res outcome.Result) string {
	var parts []string
	for _, op := range []outcome.Op{outcome.OpCreate, outcome.OpUpdate, outcome.OpReplace, outcome.OpDelete} {
		if n := res.Pulumi[op]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d to %s", n, op))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return fmt.Sprintf("\n<sub>Not counted: Pulumi's own components and providers (%s), which create nothing in the cloud.</sub>\n", strings.Join(parts, ", "))
}

// budget collects blocks while they fit.
type budget struct {
	strings.Builder
	limit int
	cut   bool
}

func (b *budget) add(s string) bool {
	if b.cut || b.Len()+len(s) > b.limit {
		b.cut = true
		return false
	}
	b.WriteString(s)
	return true
}

// section adds a section's opening, as many rows as fit, and its closing;
// rows are never split, so no table, fence or character is cut in half.
func (b *budget) section(s section) {
	if len(s.rows) == 0 || b.cut {
		return
	}
	if b.Len()+len(s.open)+len(s.close) > b.limit {
		b.cut = true
		return
	}
	b.WriteString(s.open)
	for i, row := range s.rows {
		if b.Len()+len(row)+len(s.close) > b.limit {
			b.cut = true
			b.WriteString(fmt.Sprintf("| … %d more | | |\n", len(s.rows)-i))
			break
		}
		b.WriteString(row)
	}
	b.WriteString(s.close)
}

type section struct {
	open  string
	rows  []string
	close string
}

func heading(m Meta, res outcome.Result) string {
	icon, status := "✅", "no changes"
	switch {
	case res.Error != "":
		icon, status = "❌", "failed"
	case countLevel(res.Findings, "mandatory") > 0:
		icon, status = "⛔", "blocked by policy"
	case res.HasChanges():
		icon, status = "📝", changeSummary(res)
		if res.Kind == outcome.KindUpdate {
			status = "deployed: " + status
		}
	}
	if m.Traffic.Stopped && res.Error == "" {
		icon, status = "❌", "applied, but the new versions take no traffic: "+changeSummary(res)
		if m.Traffic.GoesOn {
			status = "applied, but its traffic shift could not be stopped everywhere: " + changeSummary(res)
		}
	}
	if res.Kind == outcome.KindRefresh && res.Error == "" {
		icon, status = "✅", "no drift"
		if res.HasChanges() {
			icon, status = "⚠️", "drift found: "+changeSummary(res)
		}
	}
	return fmt.Sprintf("### %s %s of `%s` / `%s`: %s\n", icon, m.Title, inlineCode(m.Project), inlineCode(m.Stack), status)
}

func context(m Meta) string {
	parts := []string{fmt.Sprintf("**Environment** `%s`", inlineCode(m.Environment)), fmt.Sprintf("**Region** `%s`", inlineCode(m.Region))}
	if m.SHA != "" {
		parts = append(parts, fmt.Sprintf("**Commit** `%s`", inlineCode(short(m.SHA))))
	}
	if m.Verdict.PlanID != "" {
		parts = append(parts, fmt.Sprintf("**Plan** `%s`", inlineCode(m.Verdict.PlanID)))
	}
	if m.RunURL != "" {
		parts = append(parts, fmt.Sprintf("[workflow run](%s)", m.RunURL))
	}
	return "\n" + strings.Join(parts, " · ") + "\n"
}

func runLink(url string) string {
	if url == "" {
		return ""
	}
	return " of the [workflow run](" + url + ")"
}

var opLabels = map[outcome.Op]string{
	outcome.OpCreate: "Create", outcome.OpUpdate: "Update", outcome.OpReplace: "Replace", outcome.OpDelete: "Delete", outcome.OpSame: "Unchanged",
}

func countsTable(res outcome.Result) string {
	ops := []outcome.Op{outcome.OpCreate, outcome.OpUpdate, outcome.OpReplace, outcome.OpDelete, outcome.OpSame}
	var h, sep, v []string
	for _, op := range ops {
		h = append(h, opLabels[op])
		sep = append(sep, "---:")
		v = append(v, fmt.Sprint(res.Counts[op]))
	}
	return "| " + strings.Join(h, " | ") + " |\n|" + strings.Join(sep, "|") + "|\n| " + strings.Join(v, " | ") + " |\n"
}

func changeSummary(res outcome.Result) string {
	var parts []string
	for _, op := range []outcome.Op{outcome.OpCreate, outcome.OpUpdate, outcome.OpReplace, outcome.OpDelete} {
		if n := res.Counts[op]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d to %s", n, op))
		}
	}
	if res.Kind == outcome.KindUpdate {
		parts = parts[:0]
		for _, op := range []outcome.Op{outcome.OpCreate, outcome.OpUpdate, outcome.OpReplace, outcome.OpDelete} {
			if n := res.Counts[op]; n > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", n, pastTense[op]))
			}
		}
	}
	return strings.Join(parts, ", ")
}

var pastTense = map[outcome.Op]string{outcome.OpCreate: "created", outcome.OpUpdate: "updated", outcome.OpReplace: "replaced", outcome.OpDelete: "deleted"}

func destructiveSummary(res outcome.Result) string {
	var parts []string
	if n := res.Counts[outcome.OpReplace]; n > 0 {
		parts = append(parts, fmt.Sprintf("%d resource(s) will be replaced", n))
	}
	if n := res.Counts[outcome.OpDelete]; n > 0 {
		parts = append(parts, fmt.Sprintf("%d resource(s) will be deleted", n))
	}
	return strings.Join(parts, " and ")
}

func findingsSection(fs []outcome.Finding) section {
	if len(fs) == 0 {
		return section{}
	}
	sorted := append([]outcome.Finding(nil), fs...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Level == "mandatory" && sorted[j].Level != "mandatory" })
	s := section{
		open:  "\n#### Policy\n\n| Rule | Level | Resource | What to change |\n|---|---|---|---|\n",
		close: "",
	}
	for _, f := range sorted {
		level := f.Level
		if level == "mandatory" {
			level = "**mandatory**"
		}
		s.rows = append(s.rows, fmt.Sprintf("| %s | %s | %s | %s |\n", code(f.RuleID), level, code(f.Resource), cell(f.Message)))
	}
	return s
}

func stepsSection(op outcome.Op, steps []outcome.Step, values bool) section {
	if len(steps) == 0 {
		return section{}
	}
	open := ""
	if op == outcome.OpDelete || op == outcome.OpReplace {
		open = " open"
	}
	s := section{
		open:  fmt.Sprintf("\n<details%s><summary><b>%s (%d)</b></summary>\n\n| Resource | Type | Changed properties |\n|---|---|---|\n", open, opLabels[op], len(steps)),
		close: "\n</details>\n",
	}
	for _, st := range steps {
		props := properties(st)
		if values && (op == outcome.OpUpdate || op == outcome.OpReplace) && len(st.Changes) > 0 {
			props = changesText(st.Changes)
		}
		s.rows = append(s.rows, fmt.Sprintf("| %s | %s | %s |\n", code(st.Name), code(shortType(st.Type)), props))
	}
	return s
}

// changesText lists a step's changes with their values, one per line of
// the cell.
func changesText(changes []outcome.PropertyChange) string {
	const max = 12
	var parts []string
	for i, c := range changes {
		if i == max {
			parts = append(parts, fmt.Sprintf("… %d more", len(changes)-max))
			break
		}
		parts = append(parts, changeText(c))
	}
	return strings.Join(parts, "<br>")
}

func properties(st outcome.Step) string {
	if len(st.Changed) == 0 && len(st.ReplaceReasons) == 0 {
		return ""
	}
	replace := map[string]bool{}
	for _, k := range st.ReplaceReasons {
		replace[k] = true
	}
	var parts []string
	const max = 12
	for i, k := range st.Changed {
		if i == max {
			parts = append(parts, fmt.Sprintf("… %d more", len(st.Changed)-max))
			break
		}
		p := code(k)
		if replace[k] {
			p += " (forces replacement)"
		}
		parts = append(parts, p)
	}
	if len(st.Changed) == 0 {
		for _, k := range st.ReplaceReasons {
			parts = append(parts, code(k)+" (forces replacement)")
		}
	}
	return strings.Join(parts, ", ")
}

func diagnosticsSection(ds []outcome.Diagnostic) section {
	var rows []string
	for _, d := range ds {
		if d.Severity != "warning" && d.Severity != "error" {
			continue
		}
		rows = append(rows, fmt.Sprintf("\n**%s**%s\n%s", d.Severity, urnLabel(d.URN), fence(d.Message)))
	}
	if len(rows) == 0 {
		return section{}
	}
	return section{open: fmt.Sprintf("\n<details><summary><b>Diagnostics (%d)</b></summary>\n", len(rows)), rows: rows, close: "\n</details>\n"}
}

func urnLabel(urn string) string {
	if urn == "" {
		return ""
	}
	if i := strings.LastIndex(urn, "::"); i >= 0 {
		return " on " + code(urn[i+2:])
	}
	return ""
}

func countLevel(fs []outcome.Finding, level string) int {
	n := 0
	for _, f := range fs {
		if f.Level == level {
			n++
		}
	}
	return n
}

// shortType drops the provider and module prefix that repeats on every row:
// aws:s3/bucketV2:BucketV2 → s3.BucketV2.
func shortType(t string) string {
	parts := strings.Split(t, ":")
	if len(parts) == 3 {
		mod := parts[1]
		if i := strings.Index(mod, "/"); i >= 0 {
			mod = mod[:i]
		}
		if mod == "index" {
			return parts[0] + "." + parts[2]
		}
		return mod + "." + parts[2]
	}
	return t
}

// code renders untrusted text as inline code inside a table cell. Backticks
// and pipes would end the span or the cell; newlines would end the row.
func code(s string) string {
	return "`" + clip(codeEscaper.Replace(s), 200) + "`"
}

var (
	codeEscaper       = strings.NewReplacer("`", "'", "|", "\\|", "\n", " ", "\r", " ")
	inlineCodeEscaper = strings.NewReplacer("`", "'", "\n", " ")
)

func inlineCode(s string) string { return inlineCodeEscaper.Replace(s) }

// cell renders untrusted text as a table cell: markdown and HTML are
// escaped so an engine message cannot inject links, images or mentions.
func cell(s string) string {
	return clip(escapeMarkdown(strings.Join(strings.Fields(s), " ")), 500)
}

func inline(s string) string { return escapeMarkdown(strings.Join(strings.Fields(s), " ")) }

var mdEscaper = strings.NewReplacer(
	"\\", "\\\\", "|", "\\|", "<", "&lt;", ">", "&gt;", "[", "\\[", "]", "\\]",
	"*", "\\*", "_", "\\_", "`", "\\`", "@", "@\u200b", "!", "\\!",
)

func escapeMarkdown(s string) string { return mdEscaper.Replace(s) }

// fence puts text in a code block whose fence is longer than any run of
// backticks inside it, so the text cannot close it.
func fence(s string) string { return fenceAs("text", s) }

// fenceAs is fence with a language for the block's highlighting.
func fenceAs(lang, s string) string {
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			if run > longest {
				longest = run
			}
		} else {
			run = 0
		}
	}
	f := strings.Repeat("`", max(3, longest+1))
	return f + lang + "\n" + clip(strings.TrimRight(s, "\n"), 4000) + "\n" + f + "\n"
}

// clip shortens s to at most n bytes without splitting a UTF-8 character.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}
