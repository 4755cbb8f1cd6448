package bootstrap

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/test/requires"
)

// AWS's CloudFormation linter finds nothing, error or warning, in the
// templates of the reference command and of the largest inputs.
func TestTemplates_PassCfnLint(t *testing.T) {
	lint := requires.CFNLint(t)
	inputs := map[string]Options{"reference": referenceOptions, "largest": largestOptions()}
	for name, o := range inputs {
		t.Run(name, func(t *testing.T) {
			files, err := Generate(o)
			require.NoError(t, err)
			dir := t.TempDir()
			var paths []string
			for _, f := range files {
				p := filepath.Join(dir, f.Name)
				require.NoError(t, os.WriteFile(p, f.Body, 0o644))
				paths = append(paths, p)
			}
			cmd := exec.Command(lint, append([]string{"--format", "json", "--regions", o.Region, "--"}, paths...)...)
			out, err := cmd.Output()
			var found []struct {
				Level, Message string
				Rule           struct{ ID string } `json:"Rule"`
				Filename       string
			}
			require.NoError(t, json.Unmarshal(out, &found), "cfn-lint's output: %s (%v)", out, err)
			for _, f := range found {
				t.Errorf("%s %s %s: %s", filepath.Base(f.Filename), f.Level, f.Rule.ID, f.Message)
			}
			assert.NoError(t, err, "cfn-lint exits 0")
			t.Logf("cfn-lint %s: %d files, %d findings", name, len(paths), len(found))
		})
	}
}
