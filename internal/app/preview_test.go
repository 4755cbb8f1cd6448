package app

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// local makes h a run on a laptop: flags, a terminal, no GitHub.
func local(h *harness) {
	h.actions = false
	delete(h.env, "GITHUB_ACTIONS")
}

func TestPreview_LocallyWithoutTheCLIFailsFirstNamingMakeTools(t *testing.T) {
	for _, command := range []string{"preview", "up", "drift", "history"} {
		t.Run(command, func(t *testing.T) {
			h := newHarness(t)
			local(h)
			h.noCLI = true
			h.inputs["command"] = command
			require.ErrorIs(t, h.run(), ErrReported)
			assert.Equal(t, "error: Cannot run "+command+": the Pulumi CLI was not found on PATH: run `make tools` and put ./bin first on PATH (the action's image ships it)\n",
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
