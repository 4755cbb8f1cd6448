package e2e_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/engine"
)

// TestValidate_RunsWithoutPulumiHomeOrNetwork runs validate the way a fork
// PR or a laptop would: no pulumi on PATH, an empty HOME, no credentials,
// and (where the kernel allows) no network at all.
func TestValidate_RunsWithoutPulumiHomeOrNetwork(t *testing.T) {
	needBinary(t)
	unshare, err := exec.LookPath("unshare")
	if err != nil || exec.Command(unshare, "-rn", "true").Run() != nil {
		t.Skip("unshare -rn is not available here, so the no-network part cannot be proven; the rest is covered by the other validate runs")
	}
	home := t.TempDir()
	runDir := t.TempDir()
	cmd := exec.Command(unshare, "-rn", binary)
	cmd.Dir = runDir
	cmd.Env = []string{
		"PATH=/nonexistent", "HOME=" + home,
		"GITHUB_ACTIONS=true", "GITHUB_EVENT_NAME=pull_request",
		"GITHUB_EVENT_PATH=" + fixture(t, "pull_request.opened.json"),
		"GITHUB_OUTPUT=" + filepath.Join(runDir, "out"), "GITHUB_STEP_SUMMARY=" + filepath.Join(runDir, "summary"),
		"INPUT_COMMAND=validate", "INPUT_ENVIRONMENT=prod", "INPUT_AWS-REGION=eu-central-1",
		"INPUT_BACKEND-URL=s3://unreachable-state-bucket/tap", "INPUT_OUTPUT=json",
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	assert.Contains(t, stdout.String(), "validation: 84 resources pass 33 rules (3 advisory findings)")
	entries, err := os.ReadDir(home)
	require.NoError(t, err)
	assert.Empty(t, entries, "nothing was written to HOME (no ~/.pulumi)")

	// --output json gives machines the graph and the report.
	start := bytes.IndexByte(stdout.Bytes(), '{')
	end := bytes.LastIndexByte(stdout.Bytes(), '}')
	require.True(t, start >= 0 && end > start)
	var doc struct {
		Resources []map[string]any `json:"resources"`
		Report    struct {
			Violations []map[string]any `json:"violations"`
		} `json:"report"`
	}
	require.NoError(t, json.Unmarshal(bytes.ReplaceAll(stdout.Bytes()[start:end+1], []byte("\n::"), []byte("\n")), &doc), stdout.String())
	assert.Greater(t, len(doc.Resources), 60)
	assert.Len(t, doc.Report.Violations, 3, "the three reserved-concurrency advisories")
}

func TestValidate_MandatoryViolationFailsBeforeAnyPreview(t *testing.T) {
	e := newEnv(t)
	res := e.run("pull_request", fixture(t, "pull_request.opened.json"), map[string]string{"policy-overrides": "CKV_AWS_1234=disabled"})
	assert.Equal(t, 1, res.Exit, res.String())
	assert.Contains(t, res.Stdout, "policy-overrides names CKV_AWS_1234, which is not a rule")
	assert.NotContains(t, res.Stdout, "::group::Pulumi preview")
	comments := e.GitHub.Comments(2)
	require.Len(t, comments, 1, "the PR hears why nothing was previewed")
	assert.Contains(t, comments[0].Body, "mandatory policy violation")
}

func TestValidate_OverridesAreReported(t *testing.T) {
	e := newEnv(t)
	res := e.run("pull_request", fixture(t, "pull_request.opened.json"), map[string]string{
		"command": "validate", "policy-overrides": "CKV_AWS_115=disabled\nCKV_AWS_28=advisory",
	})
	require.Equal(t, 0, res.Exit, res.String())
	assert.Contains(t, res.Summary, "Rules disabled by `policy-overrides`: `CKV_AWS_115`")
	assert.Contains(t, res.Summary, "Rules lowered to advisory by `policy-overrides`: `CKV_AWS_28`")
	assert.NotContains(t, res.Stdout, "CKV_AWS_115 [advisory]")
}

// TestPreview_NeedsNoNetwork runs the whole PR path (validate, engine
// preview, render) in a network namespace where only loopback is up: the
// Automation API reaches the engine over 127.0.0.1 and nothing else.
func TestPreview_NeedsNoNetwork(t *testing.T) {
	unshare, err := exec.LookPath("unshare")
	if err != nil || exec.Command(unshare, "-rn", "true").Run() != nil {
		t.Skip("unshare -rn is not available here; `make bench` reports the same check")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("ip (iproute2) is needed to bring up loopback in the namespace")
	}
	e := newEnv(t)
	runDir := t.TempDir()
	cmd := exec.Command(unshare, "-rn", "sh", "-c", `ip link set lo up && exec "$0" "$@"`, binary,
		"preview", "--environment", "dev", "--aws-region", "eu-west-1", "--backend-url", "file://"+e.state)
	require.NoError(t, os.MkdirAll(e.state, 0o755))
	cmd.Dir = runDir
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + e.dir, "PULUMI_HOME=" + e.pulumiHome,
		"PULUMI_CONFIG_PASSPHRASE=" + passphrase, "TAP_SANDBOX_STATE=" + e.cloud,
		"GITHUB_EVENT_NAME=pull_request", "GITHUB_EVENT_PATH=" + fixture(t, "pull_request.opened.json"),
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "stderr:\n%s", stderr.String())
	assert.Contains(t, stdout.String(), "### 📝 Preview of `tap` / `dev`: 82 to create", "the comment is printed locally")
}

// TestPreview_LocallyWithoutTheToolsFailsFirstNamingTheirInstallers runs
// the binary as a newcomer would after `go install`: the first and only
// thing it says is what is missing (the Pulumi CLI, the aws plugin) and
// the command that installs each.
func TestPreview_LocallyWithoutTheToolsFailsFirstNamingTheirInstallers(t *testing.T) {
	needBinary(t)
	home := t.TempDir()
	cmd := exec.Command(binary, "preview", "--environment", "dev", "--aws-region", "eu-west-1")
	cmd.Dir = t.TempDir()
	cmd.Env = []string{"PATH=/nonexistent", "HOME=" + home, "PULUMI_CONFIG_PASSPHRASE=" + passphrase}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit)
	assert.Equal(t, 1, exit.ExitCode())
	assert.Empty(t, stdout.String())
	assert.Equal(t, "error: Cannot run preview (2 problems):\n"+
		"  the Pulumi CLI was not found on PATH: install it with Pulumi's installer, `curl -fsSL https://get.pulumi.com | sh` (in a clone of tap-deploy, `make tools` builds the pinned one into ./bin: put it first on PATH); the action's image ships it\n"+
		"  the Pulumi aws plugin v"+engine.AWSPluginVersion+" is not installed: "+filepath.Join(home, ".pulumi", "plugins", "resource-aws-v"+engine.AWSPluginVersion)+
		" was not found: install it with `pulumi plugin install resource aws "+engine.AWSPluginVersion+"`\n", stderr.String())
	entries, err := os.ReadDir(cmd.Dir)
	require.NoError(t, err)
	assert.Empty(t, entries, "no .tap/state was made")
}
