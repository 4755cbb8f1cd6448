// Package stacktest holds what tests of the stack share: a configuration and
// fake Lambda packages that need no build.
package stacktest

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/org/tap-deploy/stack"
)

// Config is a valid configuration for tests.
func Config(t testing.TB, overrides map[string]string) stack.Config {
	t.Helper()
	cfg, err := stack.NewConfig(stack.Base{Project: "tap", Environment: "dev", Region: "eu-west-1"}, overrides)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// Packages writes a small zip-like file per function into a temporary
// directory, different per seed, and returns them as the stack's code.
func Packages(t testing.TB, seed string) stack.Packages {
	t.Helper()
	dir := t.TempDir()
	out := stack.Packages{}
	for _, f := range stack.Functions {
		body := []byte("fake deployment package of " + f.Key + " " + seed)
		sum := sha256.Sum256(body)
		path := filepath.Join(dir, f.Key+".zip")
		if err := os.WriteFile(path, body, 0o644); err != nil {
			t.Fatal(err)
		}
		out[f.Key] = stack.Package{SHA256: hex.EncodeToString(sum[:]), Path: path}
	}
	return out
}
