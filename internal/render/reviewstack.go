package render

import (
	"fmt"
	"regexp"
	"strings"
)

// safeURL is a URL that can be a link as it is.
var safeURL = regexp.MustCompile(`^https://[A-Za-z0-9.-]+(/[A-Za-z0-9._~/-]*)?$`)

// ReviewStackState is where a pull request's review stack stands.
type ReviewStackState string

// The states a review stack's section shows.
const (
	ReviewStackDeploying     ReviewStackState = "deploying"
	ReviewStackDeployed      ReviewStackState = "deployed"
	ReviewStackNotUpdated    ReviewStackState = "not-updated"
	ReviewStackFailed        ReviewStackState = "failed"
	ReviewStackDestroyed     ReviewStackState = "destroyed"
	ReviewStackDestroyFailed ReviewStackState = "destroy-failed"
)

// ReviewStack is the state of a pull request's review stack, for the
// section of its comment.
type ReviewStack struct {
	Stack  string
	State  ReviewStackState
	URL    string
	Commit string
	// Expires says when the stack goes away.
	Expires string
	Error   string
}

// ReviewStackMarkdown renders the review stack's section of a comment.
func ReviewStackMarkdown(r ReviewStack) string {
	var b strings.Builder
	fmt.Fprintf(&b, "#### 🧪 Review stack `%s`\n\n", inlineCode(r.Stack))
	switch r.State {
	case ReviewStackDeploying:
		fmt.Fprintf(&b, "⏳ **Deploying** commit `%s`…\n", inlineCode(short(r.Commit)))
	case ReviewStackNotUpdated:
		fmt.Fprintf(&b, "⏸️ **Not updated** to commit `%s`: its preview failed or breaks a mandatory policy rule. A review stack deployed earlier keeps running its older commit.\n", inlineCode(short(r.Commit)))
	case ReviewStackDeployed:
		fmt.Fprintf(&b, "✅ **Deployed** at commit `%s`", inlineCode(short(r.Commit)))
		switch {
		case safeURL.MatchString(r.URL):
			fmt.Fprintf(&b, " · API: [%s](%s)", r.URL, r.URL)
		case r.URL != "":
			fmt.Fprintf(&b, " · API: %s", code(r.URL))
		}
		b.WriteString("\n")
		if r.Expires != "" {
			b.WriteString("\n" + inline(r.Expires) + "\n")
		}
	case ReviewStackFailed:
		b.WriteString("❌ **The review stack's update failed**; the job summary has its report.\n")
	case ReviewStackDestroyed:
		b.WriteString("🗑️ **Destroyed**: nothing of it is left in the account or the backend.\n")
	case ReviewStackDestroyFailed:
		b.WriteString("⚠️ **Destroying it failed**; the scheduled sweep tries again.\n")
	}
	if r.Error != "" {
		// The section must stay small: the comment keeps room for it.
		b.WriteString("\n" + fence(clip(r.Error, 2000)))
	}
	return b.String()
}

// SweepAction is what a sweep did to one review stack.
type SweepAction string

// What a sweep does to a review stack.
const (
	SweepDestroyed SweepAction = "destroyed"
	SweepKept      SweepAction = "kept"
	SweepFailed    SweepAction = "failed"
)

// SweptStack is one review stack a sweep looked at.
type SweptStack struct {
	Stack  string
	PR     int
	Action SweepAction
	Why    string
}

// Sweep renders what a sweep did to the project's review stacks.
func Sweep(m Meta, rows []SweptStack, limit int) string {
	destroyed, failed := 0, 0
	for _, r := range rows {
		switch r.Action {
		case SweepDestroyed:
			destroyed++
		case SweepFailed:
			failed++
		}
	}
	icon := "🧹"
	if failed > 0 {
		icon = "❌"
	}
	var head strings.Builder
	fmt.Fprintf(&head, "### %s Review stack sweep of `%s` / `%s`: %d destroyed, %d failed, %d kept\n", icon,
		inlineCode(m.Project), inlineCode(m.Stack), destroyed, failed, len(rows)-destroyed-failed)
	head.WriteString(context(m))
	b := &budget{limit: limit}
	b.add(head.String())
	if len(rows) == 0 {
		b.add("\nNo review stacks of this stack in the backend.\n")
	}
	s := section{open: "\n| Review stack | Pull request | Action | Why |\n|---|---:|---|---|\n"}
	for _, r := range rows {
		action := string(r.Action)
		if r.Action != SweepKept {
			action = "**" + action + "**"
		}
		s.rows = append(s.rows, fmt.Sprintf("| %s | #%d | %s | %s |\n", code(r.Stack), r.PR, action, cell(r.Why)))
	}
	if len(rows) > 0 {
		b.section(s)
	}
	out := b.String()
	if m.Footer != "" {
		out += "\n---\n<sub>" + inline(m.Footer) + "</sub>\n"
	}
	return out
}

// The lines a review stack's section may hold after its heading, as
// ReviewStackMarkdown writes them (commits are short shas, the expiry's
// free text is escaped).
var (
	reviewStackStatus = []*regexp.Regexp{
		regexp.MustCompile("^⏳ \\*\\*Deploying\\*\\* commit `[0-9a-f]{0,7}`…$"),
		regexp.MustCompile("^⏸️ \\*\\*Not updated\\*\\* to commit `[0-9a-f]{0,7}`: its preview failed or breaks a mandatory policy rule\\. A review stack deployed earlier keeps running its older commit\\.$"),
		regexp.MustCompile("^✅ \\*\\*Deployed\\*\\* at commit `[0-9a-f]{0,7}`( · API: \\[(https://[A-Za-z0-9.-]+(/[A-Za-z0-9._~/-]*)?)\\]\\(https://[A-Za-z0-9.-]+(/[A-Za-z0-9._~/-]*)?\\)| · API: `[^`|\\n]*`)?$"),
		regexp.MustCompile("^❌ \\*\\*The review stack's update failed\\*\\*; the job summary has its report\\.$"),
		regexp.MustCompile("^🗑️ \\*\\*Destroyed\\*\\*: nothing of it is left in the account or the backend\\.$"),
		regexp.MustCompile("^⚠️ \\*\\*Destroying it failed\\*\\*; the scheduled sweep tries again\\.$"),
	}
	reviewStackExpires = regexp.MustCompile(`^Destroyed when the pull request closes( or loses the label [^<>\[\]\n]*)?, or by the scheduled sweep once it has gone [0-9a-z ]+ without an update \(after \d{4}-\d\d-\d\d \d\d:\d\d UTC\)\.$`)
	fenceOpen          = regexp.MustCompile("^(`{3,})text$")
)

// CheckReviewStack says whether md is a review stack section as
// ReviewStackMarkdown renders one for stack (without its last line
// break), or what in it is not: anyone with write access can edit the
// section, and a deploy under reviewed-plan: require reads none of it but
// what this renderer writes.
func CheckReviewStack(md, stack string) error {
	head := fmt.Sprintf("#### 🧪 Review stack `%s`", inlineCode(stack))
	lines := strings.Split(md, "\n")
	if len(lines) < 3 || lines[0] != head || lines[1] != "" {
		return fmt.Errorf("the review stack's section does not start with %q", head)
	}
	status := lines[2]
	known := false
	for _, re := range reviewStackStatus {
		known = known || re.MatchString(status)
	}
	if !known {
		return fmt.Errorf("the review stack's section says what the action does not write: %q", clip(status, 120))
	}
	rest := lines[3:]
	if strings.HasPrefix(status, "✅") && len(rest) >= 2 && rest[0] == "" && reviewStackExpires.MatchString(rest[1]) {
		rest = rest[2:]
	}
	if len(rest) == 0 {
		return nil
	}
	// The error, in a fence its text cannot close.
	if len(rest) >= 3 && rest[0] == "" {
		if m := fenceOpen.FindStringSubmatch(rest[1]); m != nil && rest[len(rest)-1] == m[1] &&
			!strings.Contains(strings.Join(rest[2:len(rest)-1], "\n"), m[1]) {
			return nil
		}
	}
	return fmt.Errorf("the review stack's section holds text the action does not write: %q", clip(strings.Join(rest, " "), 120))
}
