package e2e_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/test/requires"
)

// The README's quick start, typed as an adopter types it: its bootstrap
// command runs with the built binary in an empty directory, and every
// `aws cloudformation deploy` and `pulumi login` line of the README is one
// that bootstrap printed, word for word. (The moto test deploys those
// commands; this one keeps the README from drifting from them.)
func TestQuickStart_TheREADMEsBootstrapCommandsAreTheOnesBootstrapPrints(t *testing.T) {
	needBinary(t)
	readme, err := os.ReadFile(filepath.Join(requires.Root(), "README.md"))
	require.NoError(t, err)
	var bootstrap string
	var deploys []string
	login := ""
	for _, line := range strings.Split(string(readme), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "tap-deploy bootstrap "):
			bootstrap = line
		case strings.HasPrefix(line, "aws cloudformation deploy "):
			deploys = append(deploys, line)
		case strings.HasPrefix(line, "pulumi login "):
			login, _, _ = strings.Cut(line, "   #")
			login = strings.TrimSpace(login)
		}
	}
	require.NotEmpty(t, bootstrap, "the quick start runs bootstrap")
	require.NotEmpty(t, deploys, "the quick start deploys what bootstrap writes")
	require.NotEmpty(t, login, "the quick start creates the backend")

	args := strings.Fields(strings.TrimPrefix(bootstrap, "tap-deploy "))
	for i, a := range args {
		if a == "OWNER/REPO" {
			args[i] = "owner/repo" // what the adopter types in its place
		}
	}
	dir := t.TempDir()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s\n%s", bootstrap, out)
	printed := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		printed[strings.TrimSpace(line)] = true
	}
	for _, d := range deploys {
		assert.True(t, printed[d], "the README says %q; bootstrap printed:\n%s", d, out)
		file := d[strings.LastIndex(d, " ")+1:]
		assert.FileExists(t, filepath.Join(dir, file), "the README deploys %s", file)
	}
	assert.True(t, printed[login], "the README's backend login %q is the one bootstrap prints:\n%s", login, out)
}
