package actions_test

// Red team probe of how plain log lines are escaped. A failing test here
// is an injection that works today.

import (
	"strings"
	"testing"
	"unicode"

	"github.com/sethvargo/go-githubactions"
	"github.com/stretchr/testify/assert"

	"github.com/org/tap-deploy/internal/actions"
	"github.com/org/tap-deploy/internal/redact"
)

// runsAsCommand says whether the Actions runner acts on a line of a
// step's stdout (outside a ::stop-commands:: block), as
// src/Runner.Common/ActionCommand.cs parses it: TryParseV2 trims every
// Unicode white space (.NET's TrimStart) and looks for "::" at the start;
// failing that, TryParse looks for "##[" ANYWHERE in the line and reads
// the command up to "]".
func runsAsCommand(line string) bool {
	if strings.HasPrefix(strings.TrimLeftFunc(line, unicode.IsSpace), "::") {
		return true
	}
	i := strings.Index(line, "##[")
	return i >= 0 && strings.Contains(line[i:], "]")
}

// FINDING (plain lines still carry commands): Infof escapes line breaks
// and a leading "::" after spaces and tabs only. The runner also trims
// vertical tab, form feed, NEL, no-break and other Unicode spaces before
// "::", and runs the old format "##[command]data" found anywhere in a
// line: outside text in a plain line (a history message, a plan id read
// from a comment, a lock's owner, CodeDeploy's and AWS's messages) runs
// a workflow command: an annotation, add-mask, stop-commands (which
// silences the action's own annotations for the rest of the step),
// set-output, save-state.
//
// Fix: plainLine also breaks "##[" wherever it stands (say "##%5B"; the
// runner does not decode plain lines, readers still understand it), and
// trims with unicode.IsSpace before its "::" check.
func TestRedTeam_Infof_NoOutsideTextRunsAWorkflowCommand(t *testing.T) {
	for _, outside := range []string{
		"x ##[error]pwned",
		"x ##[add-mask]hide-this",
		"x ##[stop-commands]silence",
		"\v::error::pwned",
		"\u00a0::error::pwned",
		"\u2028::error::pwned",
	} {
		var stdout strings.Builder
		a := githubactions.New(githubactions.WithGetenv(func(string) string { return "" }), githubactions.WithWriter(&stdout))
		actions.NewGitHub(a, redact.New()).Infof("%s", outside)
		line := strings.TrimSuffix(stdout.String(), "\n")
		assert.False(t, runsAsCommand(line), "the runner runs %q", line)
	}
}
