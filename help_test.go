package main

import (
	"flag"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/bootstrap"
	"github.com/org/tap-deploy/internal/inputs"
)

// declared reads action.yml from the repository: the embedded copy is the
// same file, and this test proves the help is built from it.
func declared(t *testing.T) []actionInput {
	t.Helper()
	doc, err := os.ReadFile("action.yml")
	require.NoError(t, err)
	require.Equal(t, string(doc), string(actionYML), "the binary embeds action.yml as it is")
	ins, err := actionInputs(doc)
	require.NoError(t, err)
	return ins
}

func TestInputNames_AreActionYMLsInputsInItsOrder(t *testing.T) {
	var names []string
	for _, in := range declared(t) {
		names = append(names, in.Name)
	}
	assert.Equal(t, names, inputs.Names)
}

func TestHelp_ShowsEveryInputWithActionYMLsDescriptionAndDefault(t *testing.T) {
	var b strings.Builder
	require.NoError(t, printHelp(&b))
	text := b.String()
	// The action's inputs come before bootstrap's own flags, some of which
	// share a name (--aws-region, --project-name).
	before, _, found := strings.Cut(text, "\nBootstrap (tap-deploy bootstrap only):\n")
	require.True(t, found)
	text = before
	// Descriptions are wrapped: compare them word for word.
	words := strings.Join(strings.Fields(text), " ")
	for _, in := range declared(t) {
		require.NotEmpty(t, in.Description, in.Name)
		header := "\n  --" + in.Name
		switch {
		case in.Required:
			header += " (required)\n"
		case in.Name == inputs.NameGitHubToken:
			header += " (default in Actions: ${{ github.token }})\n"
		case in.Default != "":
			header += " (default: " + in.Default + ")\n"
		default:
			header += "\n"
		}
		assert.Equal(t, 1, strings.Count(text, header), "%s appears once, as %q", in.Name, header)
		entry := strings.Join(strings.Fields(header+" "+in.Description), " ")
		assert.True(t, strings.Contains(words, entry), "the help shows %q", entry)
	}
}

func TestHelp_GroupsEveryInputOnce(t *testing.T) {
	seen := map[string]string{}
	for _, g := range inputGroups {
		for _, name := range g.names {
			assert.Empty(t, seen[name], "%s is in %q and %q", name, seen[name], g.title)
			seen[name] = g.title
		}
	}
	for _, in := range declared(t) {
		assert.NotEmpty(t, seen[in.Name], "%s is in no group", in.Name)
		delete(seen, in.Name)
	}
	assert.Empty(t, seen, "groups name inputs action.yml does not declare")
}

func TestHelp_HasAUsageLineForEveryCommand(t *testing.T) {
	var got []inputs.Command
	for _, u := range commandUsage {
		got = append(got, u.command)
	}
	assert.ElementsMatch(t, append(append([]inputs.Command(nil), inputs.Commands...), inputs.LocalCommands...), got)
}

func TestHelp_ListsEveryBootstrapFlagWithItsDefault(t *testing.T) {
	var b strings.Builder
	require.NoError(t, printHelp(&b))
	text := b.String()
	i := strings.Index(text, "\nBootstrap (tap-deploy bootstrap only):\n")
	require.GreaterOrEqual(t, i, 0)
	section := text[i:]
	fs, _ := bootstrapFlags()
	n := 0
	fs.VisitAll(func(f *flag.Flag) {
		n++
		header := "\n  --" + f.Name
		switch {
		case slices.Contains(bootstrapRequired, f.Name):
			header += " (required)"
		case f.DefValue != "":
			header += " (default: " + f.DefValue + ")"
		}
		assert.Contains(t, section, header+"\n", f.Name)
		assert.Contains(t, strings.Join(strings.Fields(section), " "), strings.Join(strings.Fields(f.Usage), " "), f.Name)
	})
	assert.Equal(t, 12, n, "environment, aws-region, repository, repository-id, project-name, state-bucket, create-oidc-provider, api-gateway-logging, review-environment, merge-queue, promotion, out-dir")
}

func TestWrap_KeepsLinesWithinTheWidthAndEveryWord(t *testing.T) {
	text := strings.Repeat("word ", 60) + "end"
	var b strings.Builder
	wrap(&b, text, "      ")
	for _, line := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
		assert.LessOrEqual(t, len(line), 100)
		assert.True(t, strings.HasPrefix(line, "      w") || strings.HasPrefix(line, "      e"), line)
	}
	assert.Equal(t, strings.Fields(text), strings.Fields(b.String()))
}

// The help's bootstrap example ends where the template's header does: the
// administrator's one login to the backend the template's flags name.
func TestHelp_TheBootstrapExampleCreatesTheBackendTheTemplateNames(t *testing.T) {
	var b strings.Builder
	require.NoError(t, printHelp(&b))
	o, dir, err := parseBootstrap([]string{"--environment", "dev,staging,prod", "--aws-region", "eu-west-1", "--repository", "owner/repo", "--out-dir", "bootstrap"},
		func(string) string { return "" })
	require.NoError(t, err)
	assert.Contains(t, b.String(), "\n  pulumi login '"+bootstrap.LoginURL(o)+"'\n")
	// Its deploy commands are the ones bootstrap prints for those files.
	files, err := bootstrap.Generate(o)
	require.NoError(t, err)
	for _, f := range files[:2] {
		assert.Contains(t, b.String(), "\n  "+bootstrap.DeployCommand(o, f, dir)+"\n", f.Name)
	}
}
