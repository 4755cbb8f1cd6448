package render

import (
	"fmt"
	"strings"
)

// Teardown is what a destroy of an environment did: the resources it
// removed, and those it left in the account, each with why.
type Teardown struct {
	// Refused says why nothing was destroyed ("" when the destroy ran).
	Refused string
	// Removed are the resources deleted, as "type name".
	Removed []string
	// Kept are the resources left in the account, as "type name: why".
	Kept []string
	// Failed is the destroy's error, when it stopped part-way.
	Failed string
}

// TeardownMarkdown renders a teardown's report within limit bytes.
func TeardownMarkdown(m Meta, t Teardown, limit int) string {
	var head strings.Builder
	verdict := fmt.Sprintf("destroyed (%d removed, %d kept)", len(t.Removed), len(t.Kept))
	switch {
	case t.Refused != "":
		verdict = "refused, nothing was changed"
	case t.Failed != "":
		verdict = "failed part-way"
	}
	fmt.Fprintf(&head, "### 🧹 Teardown of `%s` / `%s`: %s\n", inlineCode(m.Project), inlineCode(m.Stack), verdict)
	head.WriteString(context(m))
	if m.Note != "" {
		head.WriteString("\n" + inline(m.Note) + "\n")
	}
	if t.Refused != "" {
		head.WriteString("\n> [!CAUTION]\n> " + inline(t.Refused) + "\n")
	}
	if t.Failed != "" {
		head.WriteString("\n> [!CAUTION]\n> The destroy stopped: " + inline(firstLine(t.Failed)) + "\n")
	}
	b := &budget{limit: limit}
	b.add(head.String())
	if len(t.Kept) > 0 {
		title := "Kept in the account (out of the stack; they still cost and hold data)"
		if t.Refused != "" {
			title = "Protected: these keep the teardown from running"
		}
		s := section{open: "\n**" + title + "**\n\n"}
		for _, k := range t.Kept {
			s.rows = append(s.rows, "- "+inline(k)+"\n")
		}
		b.section(s)
	}
	if len(t.Removed) > 0 {
		s := section{open: "\n<details><summary>Removed (" + fmt.Sprint(len(t.Removed)) + ")</summary>\n\n", close: "\n</details>\n"}
		for _, r := range t.Removed {
			s.rows = append(s.rows, "- "+inline(r)+"\n")
		}
		b.section(s)
	}
	out := b.String()
	if m.Footer != "" {
		out += "\n---\n<sub>" + inline(m.Footer) + "</sub>\n"
	}
	return out
}
