package app

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/engine"
	"github.com/org/tap-deploy/internal/outcome"
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
