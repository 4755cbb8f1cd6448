// Package packaging checks that what ships agrees with itself: the image's
// pinned versions with go.mod, action.yml with the code and the README, the
// layout table of CONTRIBUTING.md with the packages, and every workflow
// with actionlint and the pinning rules.
package packaging_test

import (
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
	"golang.org/x/mod/modfile"

	"github.com/org/tap-deploy/internal/app"
	"github.com/org/tap-deploy/internal/engine"
	"github.com/org/tap-deploy/internal/inputs"
	"github.com/org/tap-deploy/internal/policy"
	"github.com/org/tap-deploy/stack"
	"github.com/org/tap-deploy/test/enginetest"
	"github.com/org/tap-deploy/test/requires"
	"github.com/org/tap-deploy/test/sandbox"
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

// dockerfile returns the Dockerfile's instructions.
func dockerfile(t *testing.T) []*parser.Node {
	t.Helper()
	res, err := parser.Parse(strings.NewReader(string(read(t, "Dockerfile"))))
	require.NoError(t, err)
	return res.AST.Children
}

func TestCLI_IsPinnedToTheSDK(t *testing.T) {
	_, versions := moduleVersions(t, "go.mod")
	_, tools := moduleVersions(t, "tools/go.mod")
	sdk := versions["github.com/pulumi/pulumi/sdk/v3"]
	require.NotEmpty(t, sdk)
	assert.Equal(t, sdk, tools["github.com/pulumi/pulumi/sdk/v3"], "the tools module builds the CLI of the SDK the action uses")
	assert.Equal(t, sdk, tools["github.com/pulumi/pulumi/pkg/v3"])
	makefile := string(read(t, "Makefile"))
	assert.Contains(t, makefile, "AWS_VERSION    := $(shell $(GO) list -m -f '{{.Version}}' github.com/pulumi/pulumi-aws/sdk/v6)",
		"the image's aws plugin version comes from go.mod")
	assert.Contains(t, makefile, "plugins/resource-aws-$(AWS_VERSION)")
	aws := versions["github.com/pulumi/pulumi-aws/sdk/v6"]
	assert.Equal(t, aws, "v"+engine.AWSPluginVersion, "a local run looks for the aws plugin the stack asks for")
	assert.Equal(t, aws, "v"+sandbox.Version, "the sandbox stands in for that plugin")
}

func TestDockerfile_OnlyCopiesTheStagedBinariesOntoItsBase(t *testing.T) {
	var from, entrypoint, env string
	var copies []string
	for _, n := range dockerfile(t) {
		switch strings.ToLower(n.Value) {
		case "from":
			assert.Empty(t, from, "one stage: the binaries are built outside, by make image-context")
			from = n.Next.Value
		case "copy":
			copies = append(copies, n.Next.Value)
		case "entrypoint":
			entrypoint = n.Original
		case "env":
			env += n.Original
		case "arg":
		case "run":
			t.Errorf("no RUN: the image has no shell and the build needs none (%s)", n.Original)
		case "user":
			t.Errorf("no USER: the runner needs root for the workspace")
		case "workdir":
			t.Errorf("no WORKDIR: GitHub sets the working directory")
		default:
			t.Errorf("unexpected instruction %s", n.Original)
		}
	}
	assert.Equal(t, "${BASE_IMAGE}", from, "the base is a build argument (the release resolves it to a digest)")
	assert.Equal(t, []string{"dist/image/bin/", "dist/image/plugins/"}, copies)
	assert.Contains(t, entrypoint, `["/usr/local/bin/tap-deploy"]`)
	assert.Contains(t, env, "PULUMI_HOME=/pulumi")
	assert.Contains(t, env, "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true")
	assert.Equal(t, []string{"*", "!dist/image/"}, nonComment(string(read(t, ".dockerignore"))),
		"the build context holds dist/image only")
}

func nonComment(text string) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	return out
}

func TestReleaseWorkflow_PinsTheImageBeforeAnyTagPointsAtIt(t *testing.T) {
	text := string(read(t, ".github/workflows/release.yml"))
	steps := []string{
		"make image-context",
		"uses: docker/build-push-action@",
		`go run ./cmd/pin-action-image -image "$IMAGE@$DIGEST" action.yml`,
		"go run ./cmd/pin-action-image -check action.yml",
		`git tag "$TAG"`,
		`git tag -f "$MAJOR"`,
	}
	last := -1
	for _, step := range steps {
		i := strings.Index(text, step)
		require.GreaterOrEqual(t, i, 0, "release.yml has no %q", step)
		assert.Greater(t, i, last, "%q comes after the step before it", step)
		last = i
	}
	assert.NotContains(t, text, "tags: [", "a pushed tag does not start a release: the version tag is made on the pinned commit")
}

// A teammate with write access can run any branch's workflows, and every
// adopter pinned to @v1 runs what the release tags: the release runs only
// from the default branch, in the release environment (required
// reviewers), and pushes its tags with that environment's token, not the
// GITHUB_TOKEN any branch's workflow gets.
func TestReleaseWorkflow_ReleasesOnlyFromTheDefaultBranchThroughTheReleaseEnvironment(t *testing.T) {
	b := read(t, ".github/workflows/release.yml")
	var wf struct {
		On   map[string]any
		Jobs map[string]struct {
			Environment string
			Permissions map[string]string
			Steps       []struct {
				Name string
				Uses string
				Run  string
				With map[string]string
			}
		}
	}
	require.NoError(t, yaml.Unmarshal(b, &wf))
	assert.Equal(t, []string{"workflow_dispatch"}, slices.Collect(maps.Keys(wf.On)), "released by hand, never by a push or a tag")
	job, ok := wf.Jobs["release"]
	require.True(t, ok)
	assert.Equal(t, "release", job.Environment, "its reviewers approve every release")
	assert.Equal(t, "read", job.Permissions["contents"], "the GITHUB_TOKEN cannot push tags")
	require.NotEmpty(t, job.Steps)
	assert.Contains(t, job.Steps[0].Run, `if [[ "$REF" != "refs/heads/$DEFAULT_BRANCH" ]]; then`, "the first step refuses another branch")
	for _, s := range job.Steps {
		if strings.HasPrefix(s.Uses, "actions/checkout@") {
			assert.Equal(t, "${{ secrets.RELEASE_TOKEN }}", s.With["token"], "the tags are pushed with the release environment's token")
		}
	}
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

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

func TestActionYML_MatchesTheCode(t *testing.T) {
	a := action(t)
	assert.Equal(t, sorted(inputs.Names), slices.Sorted(maps.Keys(a.Inputs)), "inputs the code reads = inputs action.yml declares")
	assert.Equal(t, sorted(app.Outputs), slices.Sorted(maps.Keys(a.Outputs)), "outputs the code sets = outputs action.yml declares")
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
	assert.Regexp(t, `^docker://ghcr\.io/`, a.Runs.Image, "the action runs the prebuilt image, never a Dockerfile")
	assert.NotEmpty(t, a.Branding["icon"])
	assert.NotEmpty(t, a.Description)
}

// table reads the first markdown table after a heading: first column → row.
func table(t *testing.T, doc, heading string) map[string][]string {
	t.Helper()
	i := strings.Index(doc, "\n"+heading+"\n")
	require.GreaterOrEqual(t, i, 0, "no %q section", heading)
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

func TestReference_TablesMatchActionYMLAndTheConfigKeys(t *testing.T) {
	doc := string(read(t, "docs/reference.md"))
	a := action(t)
	in := table(t, doc, "## Inputs")
	// An input may be documented instead in an "## Inputs" table of the
	// docs page of its job (docs/teardown.md...): every input in one table.
	pages, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	require.NoError(t, err)
	for _, page := range pages {
		if filepath.Base(page) == "reference.md" {
			continue // read above
		}
		text := string(read(t, filepath.Join("docs", filepath.Base(page))))
		if !strings.Contains(text, "\n## Inputs\n") {
			continue
		}
		for name, row := range table(t, text, "## Inputs") {
			_, dup := in[name]
			assert.False(t, dup, "input %s is documented twice (%s)", name, filepath.Base(page))
			in[name] = row
		}
	}
	assert.Equal(t, slices.Sorted(maps.Keys(a.Inputs)), slices.Sorted(maps.Keys(in)))
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
	assert.Equal(t, slices.Sorted(maps.Keys(a.Outputs)), slices.Sorted(maps.Keys(out)))

	keys := table(t, doc, "## Configuration keys")
	var names []string
	for _, k := range stack.Keys {
		names = append(names, k.Name)
		if row, ok := keys[k.Name]; ok {
			assert.Equal(t, k.Default, row[0], "default of %s", k.Name)
		}
	}
	assert.Equal(t, sorted(names), slices.Sorted(maps.Keys(keys)))
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
	bin := requires.Actionlint(t)
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
				assert.Regexp(t, pinnedSHA, ref, "actions are pinned to a full commit SHA (this one too: a moved tag changes nothing)")
				if strings.HasPrefix(ref, "org/tap-deploy@") {
					assert.Regexp(t, `(?m)uses: org/tap-deploy@[0-9a-f]{40} # v\d+\.\d+\.\d+$`, text, "the release's version as a comment")
				}
			}
			assert.NotContains(t, text, "write-all")
			type concurrency struct {
				Group            string
				CancelInProgress bool `yaml:"cancel-in-progress"`
			}
			var wf struct {
				Permissions map[string]string
				Concurrency concurrency
				Jobs        map[string]struct {
					Concurrency concurrency
				}
			}
			require.NoError(t, yaml.Unmarshal(b, &wf))
			assert.NotEmpty(t, wf.Permissions, "top-level permissions are explicit")
			// A workflow queues as a whole, or (promote.yml) each job in
			// its environment's group.
			groups := []concurrency{wf.Concurrency}
			if wf.Concurrency.Group == "" {
				groups = nil
				for name, job := range wf.Jobs {
					assert.NotEmpty(t, job.Concurrency.Group, "job %s has a concurrency group", name)
					groups = append(groups, job.Concurrency)
				}
			}
			for _, c := range groups {
				assert.NotEmpty(t, c.Group, "a concurrency group")
				switch filepath.Base(path) {
				case "deploy.yml", "rollback.yml", "release.yml", "review-stack.yml", "promote.yml":
					assert.False(t, c.CancelInProgress, "deploys and destroys are never cancelled")
				case "preview.yml", "merge-queue.yml":
					assert.True(t, c.CancelInProgress, "a newer preview replaces an older one")
				}
			}
		})
	}
}

func TestPolicyRulesDoc_ListsEveryRuleTheGateRuns(t *testing.T) {
	doc := string(read(t, "docs/POLICY-RULES.md"))
	idPattern := regexp.MustCompile(`^(CKV2?_AWS_\d+|ES\d+|S3\.\d+|TAP_[A-Z_]+)`)
	documented := map[string]bool{}
	for _, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(line, "| ") {
			continue
		}
		cell := strings.TrimSpace(strings.Split(line, "|")[1])
		// Cells abbreviate: "CKV_AWS_116 / 115", "CKV_AWS_76, CKV2_AWS_4", "CKV_AWS_53–56".
		prefix := ""
		for _, part := range regexp.MustCompile(`\s*(?:/|,)\s*`).Split(cell, -1) {
			part = strings.Fields(part + " ")[0]
			from, to, isRange := strings.Cut(part, "–")
			if m := regexp.MustCompile(`^(.*_)(\d+)$`).FindStringSubmatch(from); m != nil {
				prefix = m[1]
			} else if regexp.MustCompile(`^\d+$`).MatchString(from) {
				from = prefix + from
			}
			if idPattern.MatchString(from) {
				documented[from] = true
			}
			if isRange {
				lo, _ := strconv.Atoi(strings.TrimPrefix(from, prefix))
				hi, _ := strconv.Atoi(to)
				for n := lo; n <= hi; n++ {
					documented[prefix+strconv.Itoa(n)] = true
				}
			}
		}
	}
	require.NotEmpty(t, documented)
	for _, id := range policy.RuleIDs() {
		assert.True(t, documented[id], "rule %s runs but docs/POLICY-RULES.md does not list it", id)
	}
}

// The layout table is for contributors: it lives in CONTRIBUTING.md.
func TestContributing_LayoutNamesEveryPackage(t *testing.T) {
	doc := string(read(t, "CONTRIBUTING.md"))
	i := strings.Index(doc, "\n## Layout\n")
	require.GreaterOrEqual(t, i, 0, "CONTRIBUTING.md has no Layout section")
	layout := doc[i:]
	if j := strings.Index(layout[1:], "\n## "); j >= 0 {
		layout = layout[:j+1]
	}
	for _, parent := range []string{"internal", "test", "cmd"} {
		entries, err := os.ReadDir(filepath.Join(root, parent))
		require.NoError(t, err)
		for _, e := range entries {
			if !e.IsDir() || e.Name() == "node_modules" {
				continue
			}
			name := parent + "/" + e.Name()
			if parent == "test" {
				assert.Contains(t, layout, "`"+e.Name()+"`", "the layout table names %s", name)
				continue
			}
			assert.Contains(t, layout, "`"+name+"`", "the layout table names %s", name)
		}
	}
	for _, m := range regexp.MustCompile("`((?:internal|cmd)/[a-z/-]+)`").FindAllStringSubmatch(layout, -1) {
		assert.DirExists(t, filepath.Join(root, m[1]), "the layout table names %s, which does not exist", m[1])
	}
}

func TestCI_RunsTheFastTierFirstThenEverything(t *testing.T) {
	var wf struct {
		Jobs map[string]struct {
			Needs any
			Steps []struct{ Run string }
		}
	}
	require.NoError(t, yaml.Unmarshal(read(t, ".github/workflows/ci.yml"), &wf))
	runs := func(job string) []string {
		var out []string
		for _, s := range wf.Jobs[job].Steps {
			out = append(out, strings.TrimSpace(s.Run))
		}
		return out
	}
	assert.Contains(t, runs("check"), "make check")
	assert.Contains(t, runs("test"), "make test")
	assert.Equal(t, "check", wf.Jobs["test"].Needs, "the full suite waits for the fast tier")
	makefile := string(read(t, "Makefile"))
	assert.Contains(t, makefile, "\ncheck: ")
	assert.Contains(t, makefile, "$(GO) test -short ", "make check runs the fast tier: every test that needs a tool skips")
}
