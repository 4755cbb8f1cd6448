package render

import (
	"fmt"
	"strings"
)

// HistoryEntry is one update of the stack, numbered as rollback-to names it.
type HistoryEntry struct {
	Version       int
	Kind          string
	Result        string
	Time          string
	Commit        string
	Actor         string
	ActionVersion string
	// PromotedFrom is the stack and update a promotion repeated
	// ("staging@14").
	PromotedFrom string
	Message      string
}

// History renders the stack's updates, newest first, within limit bytes.
func History(m Meta, entries []HistoryEntry, limit int) string {
	var head strings.Builder
	fmt.Fprintf(&head, "### 📜 History of `%s` / `%s`: %d update(s)\n", inlineCode(m.Project), inlineCode(m.Stack), len(entries))
	head.WriteString(context(m))
	head.WriteString("\nRoll back with `command: rollback` and `rollback-to:` one of these versions, or `previous` " +
		"(the last successful update before the newest one).\n")
	b := &budget{limit: limit}
	b.add(head.String())
	s := section{open: "\n| Version | Time | Kind | Result | Commit | Actor | tap-deploy | Promoted from | Message |\n|---:|---|---|---|---|---|---|---|---|\n"}
	for _, e := range entries {
		result := e.Result
		if e.Kind == "update" && e.Result == "succeeded" {
			result = "**succeeded**"
		}
		s.rows = append(s.rows, fmt.Sprintf("| %d | %s | %s | %s | %s | %s | %s | %s | %s |\n", e.Version, cell(e.Time), cell(e.Kind), result,
			codeOrEmpty(short(e.Commit)), cell(e.Actor), cell(e.ActionVersion), cell(e.PromotedFrom), cell(e.Message)))
	}
	b.section(s)
	out := b.String()
	if m.Footer != "" {
		out += "\n---\n<sub>" + inline(m.Footer) + "</sub>\n"
	}
	return out
}

func codeOrEmpty(s string) string {
	if s == "" {
		return ""
	}
	return code(s)
}
