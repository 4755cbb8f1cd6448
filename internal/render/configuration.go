package render

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/org/tap-deploy/internal/outcome"
)

// ConfigurationLimit is the most a configuration section takes of a
// comment. The keys are few and each value is clipped (maxValue), so a
// section of every key changed stays well under it; the limit still
// holds if the keys ever grow.
const ConfigurationLimit = 4096

// Baseline is what a preview's configuration is compared with.
type Baseline int

const (
	// BaselineDeployed is the configuration the stack's latest successful
	// update recorded: what runs now, which the preview's resource changes
	// are computed against too.
	BaselineDeployed Baseline = iota
	// BaselineDefaults is the keys' defaults: the stack has no successful
	// update yet.
	BaselineDefaults
	// BaselineUnknown is a history that could not be read: nothing is
	// compared.
	BaselineUnknown
)

// Configuration is how a preview's configuration differs from the
// deployed one, key by key.
type Configuration struct {
	Baseline Baseline
	// Version is the update compared with (BaselineDeployed).
	Version int
	// File is the configuration file this run read, "" for none.
	File string
	// Input is how the report names the config input (config, --config).
	Input string
	// Why says why the history could not be read (BaselineUnknown).
	Why     string
	Changes []ConfigChange
}

// ConfigChange is one key that differs, or that the config input sets for
// this run only (then it may not differ).
type ConfigChange struct {
	Key string
	// Old is the value compared with; HasOld is false for a key the
	// update did not record (one made by an older tap-deploy).
	Old    string
	HasOld bool
	New    string
	// Source is what set New.
	Source ConfigSource
}

// ConfigSource is what set a key's value for this run.
type ConfigSource int

const (
	// SourceDefault is the key's default: neither the file nor the config
	// input sets it.
	SourceDefault ConfigSource = iota
	// SourceFile is the configuration file in the repository.
	SourceFile
	// SourceInput is the config input, which holds for one run only: the
	// next run without it goes back to the file's value or the default.
	SourceInput
)

// CompareConfiguration lists the keys of now (this run's values) whose
// value differs from old's, and every key the config input overrides,
// sorted by key; inFile are the keys the configuration file sets. A key in
// secret was recorded as a secret: its old and new values stay hidden
// (outcome.Secret) and it is shown as a change, since it cannot be compared.
func CompareConfiguration(old map[string]string, secret []string, now map[string]string, inFile, overridden []string) []ConfigChange {
	var out []ConfigChange
	for _, k := range slices.Sorted(maps.Keys(now)) {
		c := ConfigChange{Key: k, New: now[k]}
		switch {
		case slices.Contains(overridden, k):
			c.Source = SourceInput
		case slices.Contains(inFile, k):
			c.Source = SourceFile
		}
		c.Old, c.HasOld = old[k]
		hidden := slices.Contains(secret, k)
		if hidden {
			// Both sides: a key someone made a secret may carry one in
			// this run too (a config input from ${{ secrets.X }}, which
			// GitHub masks in logs but not in a comment).
			c.Old, c.HasOld, c.New = outcome.Secret, true, outcome.Secret
		}
		if !hidden && c.HasOld && c.Old == c.New && c.Source != SourceInput {
			continue
		}
		out = append(out, c)
	}
	return out
}

// Redacted is c with f applied to its free text and values.
func (c Configuration) Redacted(f func(string) string) Configuration {
	c.File, c.Why = f(c.File), f(c.Why)
	changes := make([]ConfigChange, len(c.Changes))
	for i, ch := range c.Changes {
		ch.Old, ch.New = f(ch.Old), f(ch.New)
		changes[i] = ch
	}
	c.Changes = changes
	return c
}

// ConfigurationMarkdown renders the configuration part of a preview's
// comment within limit bytes (at most ConfigurationLimit): "" when no key
// differs and nothing is overridden. Values are shown as property changes
// are (secrets hidden, long values shortened with a digest).
func ConfigurationMarkdown(c Configuration, limit int) string {
	limit = min(limit, ConfigurationLimit)
	input := code(c.Input)
	was := "Deployed"
	var open strings.Builder
	open.WriteString("#### ⚙️ Configuration\n\n")
	switch c.Baseline {
	case BaselineUnknown:
		line := "The deployed configuration could not be read, so no key is compared"
		if c.Why != "" {
			line += ": " + clip(inline(c.Why), 300)
		}
		open.WriteString(line + ".\n")
		if out := open.String(); len(out) <= limit {
			return out
		}
		return ""
	case BaselineDefaults:
		if len(c.Changes) == 0 {
			return ""
		}
		open.WriteString("Nothing is deployed yet: compared with the keys' defaults.\n")
		was = "Default"
	default:
		if len(c.Changes) == 0 {
			return ""
		}
		fmt.Fprintf(&open, "Compared with update %d, the one deployed now (the configuration it recorded).\n", c.Version)
	}
	file := "the configuration file"
	if c.File != "" {
		file = code(c.File)
	}
	fmt.Fprintf(&open, "\n| Key | %s → this run | Set by |\n|---|---|---|\n", was)
	var rows []string
	overrides := 0
	for _, ch := range c.Changes {
		by := "the key's default"
		switch ch.Source {
		case SourceFile:
			by = file
		case SourceInput:
			by = fmt.Sprintf("**%s input, this run only**", input)
			overrides++
		}
		// A key the update did not record reads (none), as a property
		// that was not there does.
		var was any
		if ch.HasOld {
			was = ch.Old
		}
		text := code(valueText(was, ch.HasOld)) + " → " + code(valueText(ch.New, true))
		if ch.HasOld && ch.Old == ch.New && ch.New != outcome.Secret {
			text = code(valueText(ch.New, true)) + " (unchanged)"
		}
		rows = append(rows, fmt.Sprintf("| %s | %s | %s |\n", code(ch.Key), text, by))
	}
	closing := ""
	if overrides > 0 {
		closing = fmt.Sprintf("\nA value the %s input sets holds for this run only: the next run without it goes back to %s's value or the key's default.\n", input, file)
	}
	b := &budget{limit: limit}
	b.section(section{open: open.String(), rows: rows, close: closing})
	if b.cut && b.Len() == 0 {
		return ""
	}
	return b.String()
}

// The lines a configuration section may hold, as ConfigurationMarkdown
// writes them: every value is in a code span (which shows no markdown),
// the history's error is escaped.
var (
	configHeading = "#### ⚙️ Configuration"
	codeSpan      = "`(?:[^`|\\n]|\\\\\\|)*`"
	configIntro   = []*regexp.Regexp{
		regexp.MustCompile(`^Compared with update \d+, the one deployed now \(the configuration it recorded\)\.$`),
		regexp.MustCompile(`^Nothing is deployed yet: compared with the keys' defaults\.$`),
	}
	configUnknown = regexp.MustCompile(`^The deployed configuration could not be read, so no key is compared(: (?:[^<>\[\]\\\n]|\\.)*)?\.$`)
	configTable   = regexp.MustCompile(`^\| Key \| (Deployed|Default) → this run \| Set by \|$`)
	configRow     = regexp.MustCompile("^\\| `[A-Za-z0-9]+` \\| " + codeSpan + "( → " + codeSpan + "| \\(unchanged\\)) \\| (" + codeSpan + "|the configuration file|the key's default|\\*\\*" + codeSpan + " input, this run only\\*\\*) \\|$")
	configCut     = regexp.MustCompile(`^\| … \d+ more \| \| \|$`)
	configClosing = regexp.MustCompile("^A value the " + codeSpan + " input sets holds for this run only: the next run without it goes back to (" + codeSpan + "|the configuration file)'s value or the key's default\\.$")
)

// CheckConfiguration says whether md is a configuration section as
// ConfigurationMarkdown renders one (without its last line break), or what
// in it is not: anyone with write access can edit the section, and a
// deploy under reviewed-plan: require accepts none of it but what this
// renderer writes.
func CheckConfiguration(md string) error {
	if md == "" {
		return nil
	}
	lines := strings.Split(md, "\n")
	if len(lines) < 3 || lines[0] != configHeading || lines[1] != "" {
		return fmt.Errorf("the configuration section does not start with %q", configHeading)
	}
	bad := func(line string) error {
		return fmt.Errorf("the configuration section holds text the action does not write: %q", clip(line, 120))
	}
	if configUnknown.MatchString(lines[2]) {
		if len(lines) > 3 {
			return bad(strings.Join(lines[3:], " "))
		}
		return nil
	}
	if !configIntro[0].MatchString(lines[2]) && !configIntro[1].MatchString(lines[2]) {
		return bad(lines[2])
	}
	rest := lines[3:]
	if len(rest) < 4 || rest[0] != "" || !configTable.MatchString(rest[1]) || rest[2] != "|---|---|---|" {
		return fmt.Errorf("the configuration section has no table of keys")
	}
	rest = rest[3:]
	rows := 0
	for len(rest) > 0 && configRow.MatchString(rest[0]) {
		rest, rows = rest[1:], rows+1
	}
	if len(rest) > 0 && configCut.MatchString(rest[0]) {
		rest = rest[1:]
	}
	if rows == 0 {
		return fmt.Errorf("the configuration section's table lists no key")
	}
	if len(rest) == 2 && rest[0] == "" && configClosing.MatchString(rest[1]) {
		return nil
	}
	if len(rest) > 0 {
		return bad(strings.Join(rest, " "))
	}
	return nil
}
