package render

import (
	"fmt"
	"strings"

	"github.com/org/tap-deploy/internal/outcome"
)

// Validation is the offline validation's outcome, for the job summary and
// the PR comment of a run that only validates.
type Validation struct {
	Resources int
	Rules     int
	Findings  []outcome.Finding
	// Problems are configuration errors found before the graph was built.
	Problems []string
}

// ValidationMarkdown renders a validation report.
func ValidationMarkdown(m Meta, v Validation, limit int) string {
	mandatory := countLevel(v.Findings, "mandatory")
	var b strings.Builder
	if m.Marker != "" {
		b.WriteString(m.Marker + "\n")
	}
	icon, status := "✅", fmt.Sprintf("%d resources pass %d rules", v.Resources, v.Rules)
	switch {
	case len(v.Problems) > 0:
		icon, status = "❌", "invalid configuration"
	case mandatory > 0:
		icon, status = "⛔", fmt.Sprintf("%d mandatory policy violation(s)", mandatory)
	case len(v.Findings) > 0:
		icon, status = "⚠️", fmt.Sprintf("%d advisory finding(s)", len(v.Findings))
	}
	fmt.Fprintf(&b, "### %s %s of `%s` / `%s`: %s\n", icon, m.Title, inlineCode(m.Project), inlineCode(m.Stack), status)
	b.WriteString(context(m))
	if m.Note != "" {
		b.WriteString("\n> " + inline(m.Note) + "\n")
	}
	if len(v.Problems) > 0 {
		b.WriteString("\n")
		for _, p := range v.Problems {
			b.WriteString("- " + inline(p) + "\n")
		}
	}
	b.WriteString(exceptionsNote(m.Exceptions))
	bud := &budget{limit: limit}
	bud.add(b.String())
	bud.section(findingsSection(v.Findings))
	out := bud.String()
	if m.Footer != "" {
		out += "\n---\n<sub>" + inline(m.Footer) + "</sub>\n"
	}
	return out
}

func codeList(items []string) string {
	out := make([]string, len(items))
	for i, s := range items {
		out[i] = code(s)
	}
	return strings.Join(out, ", ")
}

// Failure renders a run that stopped before there was a result to show:
// the title and each problem, escaped like every other untrusted text.
func Failure(title string, problems []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### ❌ tap-deploy: %s\n\n", inline(title))
	for _, p := range problems {
		b.WriteString("- " + inline(p) + "\n")
	}
	return b.String()
}

// Redacted returns the report with f applied to every text in it, raw,
// before rendering escapes it.
func (v Validation) Redacted(f func(string) string) Validation {
	out := v
	out.Findings = make([]outcome.Finding, len(v.Findings))
	for i, fd := range v.Findings {
		fd.RuleID, fd.URN, fd.Resource, fd.Message = f(fd.RuleID), f(fd.URN), f(fd.Resource), f(fd.Message)
		out.Findings[i] = fd
	}
	out.Problems = make([]string, len(v.Problems))
	for i, p := range v.Problems {
		out.Problems[i] = f(p)
	}
	return out
}
