// Package actions is the adapter over where a run reports: the GitHub
// Actions runtime (workflow commands, GITHUB_OUTPUT, the job summary) or a
// terminal. Every string passes through the run's redactor first.
package actions

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
	"unicode"

	"github.com/sethvargo/go-githubactions"

	"github.com/org/tap-deploy/internal/redact"
)

// Runtime is what the run reports through.
type Runtime interface {
	Infof(format string, args ...any)
	Noticef(format string, args ...any)
	Warningf(format string, args ...any)
	Errorf(format string, args ...any)
	// Group folds fn's output under a title.
	Group(title string, fn func() error) error
	// Untrusted prints text that may hold workflow commands (engine logs,
	// PR titles) without any of them being run.
	Untrusted(text string)
	// UntrustedWriter is Untrusted as a stream, for engine progress: it
	// redacts whole lines (a secret split across two writes is still
	// found) and ends the untrusted block when closed.
	UntrustedWriter() io.WriteCloser
	SetOutput(name, value string) error
	AddSummary(markdown string) error
	// Mask registers a secret: redacted here and masked by the runner.
	Mask(secret string)
	// Redact removes every registered secret from s; for text that is
	// escaped or encoded before it leaves (markdown), redact it first.
	Redact(s string) string
	// Print writes a document (the PR comment, a JSON report) to stdout.
	Print(text string)
	Local() bool
}

// GitHub reports through the Actions runtime.
type GitHub struct {
	a   *githubactions.Action
	red *redact.Redactor
	mu  sync.Mutex
}

// NewGitHub wraps a go-githubactions Action.
func NewGitHub(a *githubactions.Action, red *redact.Redactor) *GitHub {
	return &GitHub{a: a, red: red}
}

var _ Runtime = (*GitHub)(nil)

// Infof prints one plain log line. The runner reads every stdout line that
// starts with "::" as a workflow command, so text from outside (a history
// message, an actor's name, an engine error) must never start a line:
// line breaks are escaped as the runner escapes command data (%25, %0D,
// %0A), and a line that would still start with "::" gets its first colon
// escaped. Annotations (Noticef...) are commands whose data the library
// escapes already.
func (g *GitHub) Infof(f string, args ...any) {
	g.a.Infof("%s", plainLine(g.red.Redact(fmt.Sprintf(f, args...))))
}

// lineEscaper keeps outside text on one log line and out of the runner's
// old command format, "##[command]data", which the runner acts on wherever
// it stands in a line (ActionCommand.TryParse searches with IndexOf). The
// runner decodes %-escapes only in workflow commands, so a plain line
// keeps its percent signs as they are and "##%5B" is shown as written.
var lineEscaper = strings.NewReplacer("\r", "%0D", "\n", "%0A", "##[", "##%5B")

// plainLine makes outside text a line the runner only prints: one line, no
// old-format command anywhere, and no "::" at its start after the white
// space .NET's TrimStart removes (every Unicode space, not only blanks).
func plainLine(s string) string {
	s = lineEscaper.Replace(s)
	if trimmed := strings.TrimLeftFunc(s, unicode.IsSpace); strings.HasPrefix(trimmed, "::") {
		s = "%3A" + trimmed[1:]
	}
	return s
}

func (g *GitHub) Noticef(f string, args ...any) {
	g.a.Noticef("%s", g.red.Redact(fmt.Sprintf(f, args...)))
}
func (g *GitHub) Warningf(f string, args ...any) {
	g.a.Warningf("%s", g.red.Redact(fmt.Sprintf(f, args...)))
}
func (g *GitHub) Errorf(f string, args ...any) {
	g.a.Errorf("%s", g.red.Redact(fmt.Sprintf(f, args...)))
}
func (g *GitHub) Local() bool       { return false }
func (g *GitHub) Print(text string) { g.Untrusted(text) }

func (g *GitHub) Group(title string, fn func() error) error {
	g.a.Group(g.red.Redact(title))
	defer g.a.EndGroup()
	return fn()
}

func (g *GitHub) Untrusted(text string) {
	w := g.UntrustedWriter()
	io.WriteString(w, text) //nolint:errcheck // stdout
	w.Close()
}

func (g *GitHub) UntrustedWriter() io.WriteCloser {
	token := randomToken()
	g.a.IssueCommand(&githubactions.Command{Name: "stop-commands", Message: token})
	return &lineWriter{emit: func(line string) { g.a.Infof("%s", g.red.Redact(line)) },
		close: func() { g.a.IssueCommand(&githubactions.Command{Name: token}) }}
}

func (g *GitHub) Redact(s string) string { return g.red.Redact(s) }

// lineWriter hands complete lines to emit and keeps a partial line until
// the rest arrives, so that redaction sees every secret whole.
type lineWriter struct {
	mu      sync.Mutex
	pending []byte
	emit    func(line string)
	close   func()
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.pending = append(w.pending, p...)
	for {
		i := bytes.IndexByte(w.pending, '\n')
		if i < 0 {
			return len(p), nil
		}
		w.emit(string(w.pending[:i]))
		w.pending = w.pending[i+1:]
	}
}

func (w *lineWriter) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.pending) > 0 {
		w.emit(string(w.pending))
		w.pending = nil
	}
	if w.close != nil {
		w.close()
	}
	return nil
}

// SetOutput writes a step output; the library panics when GITHUB_OUTPUT
// cannot be written, which becomes an error here.
func (g *GitHub) SetOutput(name, value string) (err error) {
	if err := checkOutput(name, value); err != nil {
		return err
	}
	defer recoverInto(&err, "writing output "+name)
	g.a.SetOutput(name, g.red.Redact(value))
	return nil
}

var outputName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)

// checkOutput refuses an output the file of GITHUB_OUTPUT could not hold
// as one value: the library writes `name<<DELIMITER`, the value and the
// delimiter, and a value with a line break would rely on that delimiter
// never being in it (a value that held it could set other outputs). No
// output of the action has a line break (JSON is written on one line).
func checkOutput(name, value string) error {
	switch {
	case !outputName.MatchString(name):
		return fmt.Errorf("output name %q is not a plain name", name)
	case strings.ContainsAny(value, "\r\n"):
		return fmt.Errorf("output %s holds a line break, which a step output is never given: not written", name)
	}
	return nil
}

func (g *GitHub) AddSummary(markdown string) (err error) {
	defer recoverInto(&err, "writing the job summary")
	g.mu.Lock()
	defer g.mu.Unlock()
	g.a.AddStepSummary(g.red.Redact(markdown))
	return nil
}

func (g *GitHub) Mask(secret string) {
	for _, form := range g.red.Add(secret) {
		g.a.AddMask(form)
	}
}

func recoverInto(err *error, what string) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%s: %v", what, r)
	}
}

func randomToken() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// Terminal reports to a terminal: plain lines on errOut, documents (the PR
// comment, a JSON report) on out, outputs as "output name=value" lines.
type Terminal struct {
	out, err io.Writer
	red      *redact.Redactor
	mu       sync.Mutex
}

// NewTerminal reports to out (documents) and errOut (messages).
func NewTerminal(out, errOut io.Writer, red *redact.Redactor) *Terminal {
	return &Terminal{out: out, err: errOut, red: red}
}

var _ Runtime = (*Terminal)(nil)

func (t *Terminal) line(prefix, f string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	fmt.Fprintln(t.err, prefix+t.red.Redact(fmt.Sprintf(f, args...)))
}

func (t *Terminal) Infof(f string, args ...any)    { t.line("", f, args...) }
func (t *Terminal) Noticef(f string, args ...any)  { t.line("notice: ", f, args...) }
func (t *Terminal) Warningf(f string, args ...any) { t.line("warning: ", f, args...) }
func (t *Terminal) Errorf(f string, args ...any)   { t.line("error: ", f, args...) }
func (t *Terminal) Local() bool                    { return true }

func (t *Terminal) Group(title string, fn func() error) error {
	t.line("", "── %s", title)
	return fn()
}

func (t *Terminal) Untrusted(text string) { t.line("", "%s", strings.TrimSuffix(text, "\n")) }

func (t *Terminal) UntrustedWriter() io.WriteCloser {
	return &lineWriter{emit: func(line string) { t.line("", "%s", line) }}
}

func (t *Terminal) Redact(s string) string { return t.red.Redact(s) }

func (t *Terminal) SetOutput(name, value string) error {
	if err := checkOutput(name, value); err != nil {
		return err
	}
	t.line("output ", "%s=%s", name, value)
	return nil
}

// AddSummary drops the job summary: locally the comment, which carries the
// same result, is printed instead.
func (t *Terminal) AddSummary(string) error { return nil }

func (t *Terminal) Mask(secret string) { t.red.Add(secret) }

func (t *Terminal) Print(text string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	fmt.Fprintln(t.out, t.red.Redact(strings.TrimSuffix(text, "\n")))
}
