// Package enginetest sets up what an engine test needs: the Pulumi CLI from
// ./bin on PATH, a temporary PULUMI_HOME with the sandbox cloud installed as
// the aws plugin, and a temporary file backend.
package enginetest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/org/tap-deploy/internal/engine"
	"github.com/org/tap-deploy/test/requires"
	"github.com/org/tap-deploy/test/sandbox"
)

// Env is one test's isolated Pulumi environment.
type Env struct {
	PulumiHome string
	BackendURL string
	CloudPath  string
	// Env is passed to the CLI and the plugins; tests add fault injection.
	Env map[string]string
}

// RepoRoot is the repository's root directory.
func RepoRoot() string { return requires.Root() }

// UseRepoCLI puts ./bin first on PATH. Without bin/pulumi the test skips,
// naming `make tools` (and fails when CI is set: see package requires).
func UseRepoCLI(t testing.TB) {
	t.Helper()
	bin := filepath.Dir(requires.PulumiCLI(t))
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	if _, err := exec.LookPath("pulumi"); err != nil {
		t.Fatal(err)
	}
}

// New prepares an isolated environment with the sandbox cloud installed.
func New(t testing.TB) *Env {
	t.Helper()
	UseRepoCLI(t)
	dir := t.TempDir()
	e := &Env{
		PulumiHome: filepath.Join(dir, "pulumi-home"),
		BackendURL: "file://" + filepath.Join(dir, "state"),
		CloudPath:  filepath.Join(dir, "cloud.json"),
	}
	if err := os.MkdirAll(filepath.Join(dir, "state"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := sandbox.Install(context.Background(), e.PulumiHome); err != nil {
		t.Fatal(err)
	}
	if err := (sandbox.Store{Path: e.CloudPath}).Bootstrap("eu-west-1"); err != nil {
		t.Fatal(err)
	}
	e.Env = map[string]string{
		"PULUMI_CONFIG_PASSPHRASE": "test-passphrase",
		sandbox.EnvState:           e.CloudPath,
	}
	return e
}

// Settings returns engine settings for a stack in this environment.
func (e *Env) Settings(project, stack string) engine.Settings {
	return engine.Settings{
		Project:         project,
		Stack:           stack,
		BackendURL:      e.BackendURL,
		SecretsProvider: "passphrase",
		PulumiHome:      e.PulumiHome,
		Env:             e.Env,
	}
}

// Cloud reads the sandbox cloud.
func (e *Env) Cloud(t testing.TB) sandbox.State {
	t.Helper()
	st, err := sandbox.Store{Path: e.CloudPath}.Load()
	if err != nil {
		t.Fatal(err)
	}
	return st
}
