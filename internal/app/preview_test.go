package app

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/comment"
	"github.com/org/tap-deploy/internal/engine"
	"github.com/org/tap-deploy/internal/outcome"
	"github.com/org/tap-deploy/internal/render"
	"github.com/org/tap-deploy/stack"
)

// local makes h a run on a laptop: flags, a terminal, no GitHub.
func local(h *harness) {
	h.actions = false
	delete(h.env, "GITHUB_ACTIONS")
}

func TestPreview_LocallyWithoutTheCLIFailsFirstNamingItsInstaller(t *testing.T) {
	for _, command := range []string{"preview", "up", "drift", "history"} {
		t.Run(command, func(t *testing.T) {
			h := newHarness(t)
			local(h)
			h.noCLI = true
			h.inputs["command"] = command
			require.ErrorIs(t, h.run(), ErrReported)
			assert.Equal(t, "error: Cannot run "+command+": "+engine.ErrNoCLI.Error()+"\n",
				h.stderr.String(), "nothing before it: no validation report, no outputs")
			assert.Empty(t, h.stdout.String())
			assert.Empty(t, h.opened)
		})
	}
}

func TestValidate_LocallyNeedsNoCLI(t *testing.T) {
	h := newHarness(t)
	local(h)
	h.noCLI = true
	h.inputs["command"] = "validate"
	require.NoError(t, h.run(), h.log())
	assert.Contains(t, h.log(), "output command=validate")
}

func TestPreview_AStackThatDoesNotExistIsPreviewedInAScratchBackend(t *testing.T) {
	h := newHarness(t)
	h.firstDeploy = true
	h.event("pull_request", "pull_request.opened.json", nil)
	require.NoError(t, h.run(), h.log())
	require.Len(t, h.opened, 1)
	opened := h.opened[0]
	assert.NotEqual(t, h.inputs["backend-url"], opened.BackendURL, "the environment's backend is not touched")
	assert.Contains(t, opened.BackendURL, "tap-deploy-first-deploy-")
	assert.Equal(t, "passphrase", opened.SecretsProvider, "no KMS key is used for a scratch state")
	assert.NoDirExists(t, strings.TrimPrefix(opened.BackendURL, "file://"), "the scratch backend goes with the run")
	assert.NoDirExists(t, filepath.Join(h.dir, "state"), "nor is the environment's state folder made")
	bodies := h.gh.bodies(2)
	require.Len(t, bodies, 1)
	assert.Contains(t, bodies[0], "Stack dev does not exist yet: this is its first deploy, previewed against an empty state (nothing was written to the backend).")
}

func TestPreview_AnExistingStackIsSelectedNeverCreated(t *testing.T) {
	h := newHarness(t)
	h.event("pull_request", "pull_request.opened.json", nil)
	require.NoError(t, h.run(), h.log())
	require.Len(t, h.opened, 1)
	assert.True(t, h.opened[0].MustExist)
	assert.Equal(t, h.inputs["backend-url"], h.opened[0].BackendURL)
	assert.NoDirExists(t, filepath.Join(h.dir, "state"), "a preview makes no state folder")
}

func TestDrift_AStackThatDoesNotExistHasNoDrift(t *testing.T) {
	h := newHarness(t)
	h.firstDeploy = true
	h.event("workflow_dispatch", "workflow_dispatch.json", nil)
	h.inputs["command"] = "drift"
	h.inputs["fail-on-drift"] = "true"
	require.NoError(t, h.run(), h.log())
	assert.Equal(t, "false", h.outputs()["drift"])
	assert.Contains(t, h.log(), "stack dev does not exist in the backend: nothing is deployed, so nothing can drift")
}

func TestDrift_WaitsForAnUpdateInProgress(t *testing.T) {
	h := newHarness(t)
	h.event("workflow_dispatch", "workflow_dispatch.json", nil)
	h.inputs["command"] = "drift"
	h.locks = [][]string{{"c6a3f1.json"}, {"c6a3f1.json"}}
	refreshed := 0
	h.stack.refresh = func(context.Context) (outcome.Result, error) {
		refreshed++
		return outcome.Result{Kind: outcome.KindRefresh, Counts: map[outcome.Op]int{}}, nil
	}
	require.NoError(t, h.run(), h.log())
	assert.Equal(t, []time.Duration{2 * time.Second, 4 * time.Second}, h.clock.slept)
	assert.Equal(t, 1, refreshed, "checked once the update ended")
	assert.Equal(t, "false", h.outputs()["drift"])
}

func TestDrift_AStackLockedPastTheTimeoutIsNotReportedAsDrift(t *testing.T) {
	h := newHarness(t)
	h.event("workflow_dispatch", "workflow_dispatch.json", nil)
	h.inputs["command"] = "drift"
	h.inputs["lock-timeout"] = "5s"
	h.inputs["fail-on-drift"] = "true"
	h.locks = [][]string{{"a.json"}, {"a.json"}, {"a.json"}, {"a.json"}}
	h.stack.refresh = func(context.Context) (outcome.Result, error) {
		t.Fatal("no refresh while an update holds the lock")
		return outcome.Result{}, nil
	}
	require.NoError(t, h.run(), h.log())
	assert.Equal(t, "unknown", h.outputs()["drift"])
	assert.Contains(t, h.log(), "drift was not checked, since what an update is changing would read as drift")
}

func TestPreview_TheCommentListsEveryConfigurationKeyThatDiffersFromTheDeployedOne(t *testing.T) {
	h := newHarness(t)
	require.NoError(t, os.WriteFile(filepath.Join(h.dir, "Pulumi.dev.yaml"), []byte("config:\n  tap:lambdaMemoryMb: 512\n  tap:apiThrottleRate: 50\n"), 0o644))
	h.inputs["config"] = "logRetentionDays=30"
	deployed := stack.Record(mustConfig(t, map[string]string{"apiThrottleRate": "50"}), nil, stack.Provenance{Commit: "abc"})
	h.stack.history = func(context.Context) ([]engine.Update, error) {
		return []engine.Update{
			{Version: 8, Kind: "update", Result: "failed", Config: map[string]string{"tap:lambdaMemoryMb": "1024"}},
			{Version: 7, Kind: "update", Result: "succeeded", Config: deployed, Secret: []string{"tap:alarmEmail"}},
		}, nil
	}
	h.event("pull_request", "pull_request.opened.json", nil)
	require.NoError(t, h.run(), h.log())
	bodies := h.gh.bodies(2)
	require.Len(t, bodies, 1)
	section, ok := comment.SectionText(bodies[0], configurationSection)
	require.True(t, ok, bodies[0])
	assert.Contains(t, section, "Compared with update 7, the one deployed now", "the newest successful update, not the failed one after it")
	assert.Contains(t, section, "| `lambdaMemoryMb` | `\"256\"` → `\"512\"` | `Pulumi.dev.yaml` |")
	assert.Contains(t, section, "| `logRetentionDays` | `\"14\"` → `\"30\"` | **`config` input, this run only** |")
	assert.Contains(t, section, "| `alarmEmail` | `[secret]` → `[secret]` |", "a recorded secret is never shown, old or new")
	assert.NotContains(t, section, "apiThrottleRate", "a key the deploy already has is not listed")
}

func TestPreview_NoConfigurationChangeLeavesTheSectionEmpty(t *testing.T) {
	h := newHarness(t)
	deployed := stack.Record(mustConfig(t, nil), nil, stack.Provenance{Commit: "abc"})
	h.stack.history = func(context.Context) ([]engine.Update, error) {
		return []engine.Update{{Version: 3, Kind: "update", Result: "succeeded", Config: deployed}}, nil
	}
	h.event("pull_request", "pull_request.opened.json", nil)
	require.NoError(t, h.run(), h.log())
	bodies := h.gh.bodies(2)
	require.Len(t, bodies, 1)
	section, ok := comment.SectionText(bodies[0], configurationSection)
	require.True(t, ok, "written empty, so that an earlier preview's section does not stay")
	assert.Empty(t, section)
}

func TestConfigurationView_ComparesWithWhatIsDeployedOrSaysWhyNot(t *testing.T) {
	cfg := mustConfig(t, map[string]string{"lambdaMemoryMb": "512"})
	layered := stack.Layer(stack.FileConfig{Path: "Pulumi.dev.yaml", Values: map[string]string{"lambdaMemoryMb": "512"}}, nil)
	deployed512 := stack.Record(cfg, nil, stack.Provenance{})
	tests := []struct {
		name    string
		hist    []engine.Update
		err     error
		want    render.Baseline
		version int
		changed []string
	}{
		{"no update yet: the defaults", nil, nil, render.BaselineDefaults, 0, []string{"lambdaMemoryMb"}},
		{"only failed updates: the defaults", []engine.Update{{Version: 1, Kind: "update", Result: "failed", Config: deployed512}}, nil, render.BaselineDefaults, 0, []string{"lambdaMemoryMb"}},
		{"a refresh is not a deploy", []engine.Update{{Version: 2, Kind: "refresh", Result: "succeeded"}, {Version: 1, Kind: "update", Result: "succeeded", Config: deployed512}}, nil, render.BaselineDeployed, 1, nil},
		{"the history cannot be read", nil, errors.New("reading the stack history: gone"), render.BaselineUnknown, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			view := configurationView(tt.hist, tt.err, cfg, layered, "config")
			assert.Equal(t, tt.want, view.Baseline)
			assert.Equal(t, tt.version, view.Version)
			var keys []string
			for _, c := range view.Changes {
				keys = append(keys, c.Key)
				assert.Equal(t, render.SourceFile, c.Source, "%s is the file's", c.Key)
			}
			assert.Equal(t, tt.changed, keys)
		})
	}
}

func mustConfig(t *testing.T, values map[string]string) stack.Config {
	t.Helper()
	cfg, err := stack.NewConfig(stack.Base{Project: "tap", Environment: "dev", Region: "eu-west-1"}, values)
	require.NoError(t, err)
	return cfg
}

// A preview too big for the comment is cut to leave the configuration
// section its room, and a merge deploy renders the body within the same
// limit, so the two still compare byte for byte.
func TestWithConfiguration_KeepsTheCommentWithinItsRoomAndTheBodyAsADeployRendersIt(t *testing.T) {
	res := outcome.Result{Kind: outcome.KindPreview, Counts: map[outcome.Op]int{}}
	for i := 0; i < 3000; i++ {
		name := "fn-" + strings.Repeat("x", 40) + "-" + strconv.Itoa(i)
		res.Steps = append(res.Steps, outcome.Step{URN: "urn:pulumi:dev::tap::aws:lambda/function:Function::" + name, Type: "aws:lambda/function:Function", Name: name, Op: outcome.OpUpdate, Custom: true, Changed: []string{"memorySize"}})
		res.Counts[outcome.OpUpdate]++
	}
	var changes []render.ConfigChange
	for i := 0; i < 12; i++ {
		changes = append(changes, render.ConfigChange{Key: "key" + strconv.Itoa(i), Old: strings.Repeat("o", 300), HasOld: true, New: strings.Repeat("n", 300), Source: render.SourceInput})
	}
	view := render.Configuration{Baseline: render.BaselineDeployed, Version: 9, File: "Pulumi.dev.yaml", Input: "config", Changes: changes}
	meta := render.Meta{Title: "Preview", Project: "tap", Stack: "dev", Footer: "tap-deploy"}
	same := func(s string) string { return s }
	got := withConfiguration(resultDoc(meta, res), view)("<!-- marker -->", commentBody, same)
	assert.LessOrEqual(t, len(got), commentBody, "the body and its configuration section fit the body's room")
	l, err := comment.Split(got, commentSections...)
	require.NoError(t, err)
	assert.Equal(t, strings.TrimRight(resultDoc(meta, res)("<!-- marker -->", previewBodyLimit(commentBody), same), "\n"), l.Body,
		"the body is what a merge deploy renders within previewBodyLimit")
	assert.Contains(t, l.Body, "Truncated to fit GitHub's comment limit")
	assert.NoError(t, render.CheckConfiguration(l.Sections[configurationSection]))
	assert.Contains(t, l.Sections[configurationSection], "`key11`", "every key fits its room")

	// A section that fills its room still leaves the comment within it.
	for i := 12; i < 300; i++ {
		view.Changes = append(view.Changes, render.ConfigChange{Key: "key" + strconv.Itoa(i), Old: strings.Repeat("o", 300), HasOld: true, New: strings.Repeat("n", 300)})
	}
	full := withConfiguration(resultDoc(meta, res), view)("<!-- marker -->", commentBody, same)
	assert.LessOrEqual(t, len(full), commentBody)
	l, err = comment.Split(full, commentSections...)
	require.NoError(t, err)
	assert.Greater(t, len(l.Sections[configurationSection]), render.ConfigurationLimit-300, "the section used its room")
	assert.NoError(t, render.CheckConfiguration(l.Sections[configurationSection]))
}
