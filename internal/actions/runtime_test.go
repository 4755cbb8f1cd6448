package actions_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"github.com/sethvargo/go-githubactions"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/actions"
	"github.com/org/tap-deploy/internal/redact"
)

func TestTerminal_RedactsAndPrintsOutputs(t *testing.T) {
	var out, errOut strings.Builder
	term := actions.NewTerminal(&out, &errOut, redact.New())
	term.Mask("super-secret-value")
	require.NoError(t, term.SetOutput("stack-outputs", `{"password":"super-secret-value"}`))
	term.Warningf("leaked super-secret-value?")
	term.Print("comment with super-secret-value")
	assert.Contains(t, errOut.String(), `output stack-outputs={"password":"***"}`)
	assert.Contains(t, errOut.String(), "warning: leaked ***?")
	assert.Equal(t, "comment with ***\n", out.String())
}

func TestGitHub_MasksFirstFencesUntrustedTextAndWritesFiles(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"GITHUB_OUTPUT": filepath.Join(dir, "out"), "GITHUB_STEP_SUMMARY": filepath.Join(dir, "summary")}
	var stdout strings.Builder
	a := githubactions.New(githubactions.WithGetenv(func(k string) string { return env[k] }), githubactions.WithWriter(&stdout))
	gh := actions.NewGitHub(a, redact.New())

	gh.Mask("ghs_token_value_1234")
	gh.Untrusted("::set-output name=x::ghs_token_value_1234")
	require.NoError(t, gh.SetOutput("comment-id", "42"))
	require.NoError(t, gh.AddSummary("### ghs_token_value_1234"))

	lines := strings.Split(stdout.String(), "\n")
	assert.Equal(t, "::add-mask::ghs_token_value_1234", lines[0], "the mask comes first")
	require.True(t, strings.HasPrefix(lines[len(lines)-4], "::stop-commands::"), stdout.String())
	token := strings.TrimPrefix(lines[len(lines)-4], "::stop-commands::")
	assert.Equal(t, "::set-output name=x::***", lines[len(lines)-3], "untrusted text is redacted and not run")
	assert.Equal(t, "::"+token+"::", lines[len(lines)-2], "commands resume with the same token")
	summary, err := os.ReadFile(env["GITHUB_STEP_SUMMARY"])
	require.NoError(t, err)
	assert.Equal(t, "### ***\n", string(summary))
	output, err := os.ReadFile(env["GITHUB_OUTPUT"])
	require.NoError(t, err)
	assert.Contains(t, string(output), "comment-id<<")
}

func TestGitHub_OutputAndSummaryFailuresAreErrors(t *testing.T) {
	env := map[string]string{"GITHUB_OUTPUT": "/nonexistent/dir/out", "GITHUB_STEP_SUMMARY": "/nonexistent/dir/summary"}
	a := githubactions.New(githubactions.WithGetenv(func(k string) string { return env[k] }), githubactions.WithWriter(&strings.Builder{}))
	gh := actions.NewGitHub(a, redact.New())
	assert.Error(t, gh.SetOutput("x", "y"), "the library panics; the adapter returns an error")
	assert.Error(t, gh.AddSummary("x"))
}

func TestUntrustedWriter_RedactsASecretSplitAcrossWrites(t *testing.T) {
	var stdout strings.Builder
	a := githubactions.New(githubactions.WithGetenv(func(string) string { return "" }), githubactions.WithWriter(&stdout))
	gh := actions.NewGitHub(a, redact.New())
	gh.Mask("split-secret-value-99")
	w := gh.UntrustedWriter()
	for _, part := range []string{"error: key split-sec", "ret-value-99 was refused\nnext line split-secret", "-value-99"} {
		_, err := w.Write([]byte(part))
		require.NoError(t, err)
	}
	require.NoError(t, w.Close())
	_, fenced, _ := strings.Cut(stdout.String(), "::stop-commands::")
	assert.NotContains(t, fenced, "split-sec", "only the ::add-mask:: lines carry the secret")
	assert.Contains(t, fenced, "error: key *** was refused\nnext line ***\n")

	var out, errOut strings.Builder
	term := actions.NewTerminal(&out, &errOut, redact.New())
	term.Mask("split-secret-value-99")
	tw := term.UntrustedWriter()
	tw.Write([]byte("a split-secr"))    //nolint:errcheck // test
	tw.Write([]byte("et-value-99 b\n")) //nolint:errcheck // test
	require.NoError(t, tw.Close())
	assert.Equal(t, "a *** b\n", errOut.String())
}

func TestGitHub_OutsideTextNeverBecomesAWorkflowCommand(t *testing.T) {
	var stdout strings.Builder
	a := githubactions.New(githubactions.WithGetenv(func(string) string { return "" }), githubactions.WithWriter(&stdout))
	gh := actions.NewGitHub(a, redact.New())
	gh.Infof("version 3 · by %s", "mallory\n::error::pwned\r\n::add-mask::x")
	gh.Infof("%s", "::warning::starts a line")
	gh.Infof("100%% done")
	gh.Warningf("drift: %s", "x\n::error::pwned")
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		if strings.HasPrefix(line, "::") {
			assert.True(t, strings.HasPrefix(line, "::warning::"), "only the action's own annotation is a command: %q", line)
			assert.NotContains(t, line, "\n")
		}
	}
	assert.Contains(t, stdout.String(), "version 3 · by mallory%0A::error::pwned%0D%0A::add-mask::x\n")
	assert.Contains(t, stdout.String(), "%3A:warning::starts a line\n")
	assert.Contains(t, stdout.String(), "100% done\n", "a plain line is shown as written: the runner decodes only commands")
	assert.Contains(t, stdout.String(), "::warning::drift: x%0A::error::pwned\n")
}

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

// Outside text in a plain line (a history message, a lock's owner,
// CodeDeploy's and AWS's messages) must not run the old command format or
// a command after any Unicode space: either would let it annotate, mask,
// stop-commands the action's own annotations, or set outputs.
func TestGitHub_OutsideTextRunsNoOldFormatCommandNorOneAfterUnicodeSpace(t *testing.T) {
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

// Attack (issue 31, item 8): a step output is written to GITHUB_OUTPUT as
// name<<DELIMITER, the value, DELIMITER; a value with a line break would
// trust that the library's delimiter is never in it, and one that held it
// would set any other output. No output of the action has a line break:
// one that does is refused, and nothing is written.
func TestOutputs_AValueWithALineBreakIsRefusedNotWritten(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"GITHUB_OUTPUT": filepath.Join(dir, "out"), "GITHUB_STEP_SUMMARY": filepath.Join(dir, "summary")}
	a := githubactions.New(githubactions.WithGetenv(func(k string) string { return env[k] }), githubactions.WithWriter(&strings.Builder{}))
	gh := actions.NewGitHub(a, redact.New())
	var out, errOut strings.Builder
	term := actions.NewTerminal(&out, &errOut, redact.New())
	for _, value := range []string{"x\nhas-changes=false", "x\r\nhas-changes=false", "x\rhas-changes=false", "x\nghadelimiter_0\nhas-changes<<EOF\nfalse\nEOF"} {
		for name, rt := range map[string]actions.Runtime{"actions": gh, "terminal": term} {
			err := rt.SetOutput("review-stack-url", value)
			require.Error(t, err, name)
			assert.Contains(t, err.Error(), "output review-stack-url holds a line break")
		}
	}
	assert.Error(t, gh.SetOutput("x<<EOF", "y"), "a name is a plain name")
	_, err := os.Stat(env["GITHUB_OUTPUT"])
	assert.True(t, os.IsNotExist(err), "nothing was written")
	assert.Empty(t, errOut.String())
	require.NoError(t, gh.SetOutput("stack-outputs", `{"a":"one\\ntwo"}`), "JSON keeps its line breaks escaped")
}
