// Package packaging checks that what ships agrees with itself: the image's
// pinned versions with go.mod, action.yml with the code and the README, and
// every workflow with actionlint and the pinning rules.
package packaging_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/modfile"
	"gopkg.in/yaml.v3"

	"github.com/org/tap-deploy/internal/app"
	"github.com/org/tap-deploy/internal/enginetest"
	"github.com/org/tap-deploy/internal/inputs"
	"github.com/org/tap-deploy/stack"
)

var root = enginetest.RepoRoot()

func read(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, rel))
	require.NoError(t, err)
	return b
}

func moduleVersions(t *testing.T, rel string) (goVersion string, versions map[string]string) {
	t.Helper()
	f, err := modfile.Parse(rel, read(t, rel), nil)
	require.NoError(t, err)
	versions = map[string]string{}
	for _, r := range f.Require {
		versions[r.Mod.Path] = r.Mod.Version
	}
	return f.Go.Version, versions
}

// dockerfile returns the ARG defaults and the instructions of each stage.
func dockerfile(t *testing.T) (args map[string]string, stages [][]*parser.Node) {
	t.Helper()
	res, err := parser.Parse(strings.NewReader(string(read(t, "Dockerfile"))))
	require.NoError(t, err)
	args = map[string]string{}
	for _, n := range res.AST.Children {
		switch strings.ToLower(n.Value) {
		case "arg":
			for a := n.Next; a != nil; a = a.Next {
				if k, v, ok := strings.Cut(a.Value, "="); ok {
					args[k] = v
				}
			}
		case "from":
			stages = append(stages, nil)
		}
		if len(stages) > 0 {
			stages[len(stages)-1] = append(stages[len(stages)-1], n)
		}
	}
	return args, stages
}

func TestDockerfile_PinsEqualGoMod(t *testing.T) {
	goVersion, versions := moduleVersions(t, "go.mod")
	_, tools := moduleVersions(t, "tools/go.mod")
	args, _ := dockerfile(t)

	assert.Equal(t, versions["github.com/pulumi/pulumi/sdk/v3"], args["PULUMI_VERSION"], "CLI = pulumi/sdk/v3")
	assert.Equal(t, tools["github.com/pulumi/pulumi/sdk/v3"], args["PULUMI_VERSION"], "the tools module builds the same CLI")
	assert.Equal(t, tools["github.com/pulumi/pulumi/pkg/v3"], args["PULUMI_VERSION"])
	assert.Equal(t, versions["github.com/pulumi/pulumi-aws/sdk/v6"], args["PULUMI_AWS_VERSION"], "plugin = pulumi-aws/sdk/v6")
	assert.True(t, strings.HasPrefix(args["GO_VERSION"], "1.26"), "the image builds with the module's Go (%s): %s", goVersion, args["GO_VERSION"])
}

func TestDockerfile_FollowsTheContainerActionRules(t *testing.T) {
	_, stages := dockerfile(t)
	require.GreaterOrEqual(t, len(stages), 2, "multi-stage")
	final := stages[len(stages)-1]
	var entrypoint, env string
	for _, stage := range stages {
		for _, n := range stage {
			assert.NotEqual(t, "user", strings.ToLower(n.Value), "no USER: the runner needs root for the workspace")
		}
	}
	for _, n := range final {
		switch strings.ToLower(n.Value) {
		case "entrypoint":
			entrypoint = n.Original
		case "env":
			env += n.Original
		case "workdir":
			t.Errorf("no WORKDIR in the final stage: GitHub sets the working directory")
		}
	}
	assert.Contains(t, entrypoint, `["/usr/local/bin/tap-deploy"]`)
	assert.Contains(t, env, "PULUMI_HOME=/pulumi")
	assert.Contains(t, env, "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true")
}

type actionFile struct {
	Name        string
	Description string
	Branding    map[string]string
	Inputs      map[string]struct {
		Description string
		Required    bool
		Default     *string
	}
	Outputs map[string]struct{ Description string }
	Runs    struct {
		Using string
		Image string
	}
}

func action(t *testing.T) actionFile {
	t.Helper()
	var a actionFile
	require.NoError(t, yaml.Unmarshal(read(t, "action.yml"), &a))
	return a
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

func TestActionYML_MatchesTheCode(t *testing.T) {
	a := action(t)
	assert.Equal(t, sorted(inputs.Names), sortedKeys(a.Inputs), "inputs the code reads = inputs action.yml declares")
	assert.Equal(t, sorted(app.Outputs), sortedKeys(a.Outputs), "outputs the code sets = outputs action.yml declares")
	for name, in := range a.Inputs {
		assert.NotEmpty(t, in.Description, name)
		if !in.Required {
			assert.NotNil(t, in.Default, "optional input %s has a default", name)
		}
	}
	for name, out := range a.Outputs {
		assert.NotEmpty(t, out.Description, name)
	}
	assert.True(t, a.Inputs["environment"].Required)
	assert.Equal(t, "docker", a.Runs.Using)
	assert.Regexp(t, `^docker://ghcr\.io/.+:v\d+$`, a.Runs.Image, "releases run the prebuilt image")
	assert.NotEmpty(t, a.Branding["icon"])
	assert.NotEmpty(t, a.Description)
}

// table reads the first markdown table after a heading: first column → row.
func table(t *testing.T, doc, heading string) map[string][]string {
	t.Helper()
	i := strings.Index(doc, "\n"+heading+"\n")
	require.GreaterOrEqual(t, i, 0, "README has no %q section", heading)
	rows := map[string][]string{}
	started, header := false, true
	for _, line := range strings.Split(doc[i+len(heading)+2:], "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "|") {
			if started {
				break
			}
			continue
		}
		started = true
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for j := range cells {
			cells[j] = strings.Trim(strings.TrimSpace(cells[j]), "`")
		}
		if header || strings.HasPrefix(cells[0], "---") {
			header = false
			continue
		}
		rows[cells[0]] = cells[1:]
	}
	return rows
}

func TestREADME_TablesMatchActionYMLAndTheConfigKeys(t *testing.T) {
	doc := string(read(t, "README.md"))
	a := action(t)
	in := table(t, doc, "## Inputs")
	assert.Equal(t, sortedKeys(a.Inputs), sortedKeys(in))
	for name, row := range in {
		def := ""
		if d := a.Inputs[name].Default; d != nil {
			def = *d
		}
		if a.Inputs[name].Required {
			def = "required"
		}
		require.NotEmpty(t, row, name)
		assert.Equal(t, def, row[0], "default of %s", name)
	}
	out := table(t, doc, "## Outputs")
	assert.Equal(t, sortedKeys(a.Outputs), sortedKeys(out))

	keys := table(t, doc, "## Configuration keys")
	var names []string
	for _, k := range stack.Keys {
		names = append(names, k.Name)
		if row, ok := keys[k.Name]; ok {
			assert.Equal(t, k.Default, row[0], "default of %s", k.Name)
		}
	}
	assert.Equal(t, sorted(names), sortedKeys(keys))
}

func workflows(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, pattern := range []string{".github/workflows/*.yml", "examples/workflows/*.yml"} {
		m, err := filepath.Glob(filepath.Join(root, pattern))
		require.NoError(t, err)
		files = append(files, m...)
	}
	require.GreaterOrEqual(t, len(files), 6)
	return files
}

func TestWorkflows_ActionlintIsClean(t *testing.T) {
	bin := filepath.Join(root, "bin", "actionlint")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("bin/actionlint is missing: run `make tools` (make test does): %v", err)
	}
	cmd := exec.Command(bin, append([]string{"-no-color"}, workflows(t)...)...)
	out, err := cmd.CombinedOutput()
	assert.NoError(t, err, "actionlint:\n%s", out)
}

var (
	usesLine  = regexp.MustCompile(`(?m)^\s*-?\s*uses:\s*(\S+)`)
	pinnedSHA = regexp.MustCompile(`^[\w.-]+/[\w./-]+@[0-9a-f]{40}$`)
)

func TestWorkflows_PinnedLeastPrivilegeAndQueued(t *testing.T) {
	for _, path := range workflows(t) {
		name := filepath.Base(filepath.Dir(filepath.Dir(path))) + "/" + filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			text := string(b)
			for _, m := range usesLine.FindAllStringSubmatch(text, -1) {
				ref := m[1]
				if ref == "org/tap-deploy@v1" {
					continue // this action itself, by its release tag
				}
				assert.Regexp(t, pinnedSHA, ref, "third-party actions are pinned to a full commit SHA")
			}
			assert.NotContains(t, text, "write-all")
			var wf struct {
				Permissions map[string]string
				Concurrency struct {
					Group            string
					CancelInProgress bool `yaml:"cancel-in-progress"`
				}
			}
			require.NoError(t, yaml.Unmarshal(b, &wf))
			assert.NotEmpty(t, wf.Permissions, "top-level permissions are explicit")
			assert.NotEmpty(t, wf.Concurrency.Group, "a concurrency group")
			switch filepath.Base(path) {
			case "deploy.yml", "rollback.yml", "release.yml":
				assert.False(t, wf.Concurrency.CancelInProgress, "deploys are never cancelled")
			case "preview.yml":
				assert.True(t, wf.Concurrency.CancelInProgress, "a newer preview replaces an older one")
			}
		})
	}
}
