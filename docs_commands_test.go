package main

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// docCommands are the tap-deploy command lines the docs show in code
// blocks (README.md, CONTRIBUTING.md, docs/*.md), by file and line.
func docCommands(t *testing.T) map[string][]string {
	t.Helper()
	files, err := filepath.Glob("docs/*.md")
	require.NoError(t, err)
	files = append(files, "README.md", "CONTRIBUTING.md")
	out := map[string][]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		fenced := false
		for i, line := range strings.Split(string(b), "\n") {
			line = strings.TrimSpace(line)
			if strings.HasPrefix(line, "```") {
				fenced = !fenced
				continue
			}
			if !fenced {
				continue
			}
			line, _, _ = strings.Cut(line, " #")
			for _, prefix := range []string{"tap-deploy ", "bin/tap-deploy "} {
				if strings.HasPrefix(line, prefix) {
					where := f + ":" + strconv.Itoa(i+1)
					out[where] = strings.Fields(strings.TrimPrefix(line, prefix))
				}
			}
		}
	}
	return out
}

// quoted is a shell word in single quotes; the test reads it without the quotes the docs put around it.
var quoted = regexp.MustCompile(`^'(.*)'$`)

// Every command line a newcomer copies from the docs is one the binary
// takes: a known command, flags spelled as it spells them, values where a
// flag needs one (placeholders such as <account-id> stand in for values).
func TestDocs_EveryCommandLineShownIsOneTheBinaryTakes(t *testing.T) {
	commands := docCommands(t)
	require.NotEmpty(t, commands)
	for where, args := range commands {
		for i, a := range args {
			args[i] = quoted.ReplaceAllString(a, "$1")
		}
		if len(args) > 0 && args[0] == "bootstrap" {
			_, _, err := parseBootstrap(args[1:], func(string) string { return "" })
			if errors.Is(err, flag.ErrHelp) {
				continue
			}
			assert.NoError(t, err, "%s: tap-deploy %s", where, strings.Join(args, " "))
			continue
		}
		_, err := parseFlags(args)
		if errors.Is(err, flag.ErrHelp) || errors.Is(err, errVersion) {
			continue
		}
		assert.NoError(t, err, "%s: tap-deploy %s", where, strings.Join(args, " "))
	}
}

// The bootstrap flags table of docs/setup-and-bootstrap.md lists every flag
// bootstrap takes, each once, with the flag's own default.
func TestDocs_TheBootstrapFlagTableIsBootstrapsFlags(t *testing.T) {
	b, err := os.ReadFile("docs/setup-and-bootstrap.md")
	require.NoError(t, err)
	row := regexp.MustCompile("^\\| `--([a-z-]+)` \\|([^|]*)\\|")
	documented := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if m := row.FindStringSubmatch(line); m != nil {
			_, twice := documented[m[1]]
			assert.False(t, twice, "--%s is in the table twice", m[1])
			documented[m[1]] = strings.TrimSpace(m[2])
		}
	}
	fs, _ := bootstrapFlags()
	fs.VisitAll(func(f *flag.Flag) {
		def, ok := documented[f.Name]
		if !assert.True(t, ok, "docs/setup-and-bootstrap.md's bootstrap table has no row for --%s", f.Name) {
			return
		}
		delete(documented, f.Name)
		switch {
		case slices.Contains(bootstrapRequired, f.Name):
			assert.Equal(t, "required", def, "--%s", f.Name)
		case f.DefValue != "":
			assert.Equal(t, "`"+f.DefValue+"`", def, "--%s's default", f.Name)
		}
	})
	assert.Empty(t, documented, "the table lists flags bootstrap does not take")
}
