// Package testfixtures finds the real GitHub webhook payloads kept in the
// shared fixtures folder beside the repository, for tests of any package.
package testfixtures

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Dir is the folder holding the real GitHub event payloads. TAP_FIXTURES
// overrides it; by default it is ../shared/fixtures/github-events next to the
// repository root.
func Dir(t testing.TB) string {
	t.Helper()
	if dir := os.Getenv("TAP_FIXTURES"); dir != "" {
		return dir
	}
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	dir := filepath.Join(root, "..", "shared", "fixtures", "github-events")
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("GitHub event fixtures not found at %s (set TAP_FIXTURES): %v", dir, err)
	}
	return dir
}

// Path is the path of one fixture file, such as "push.json".
func Path(t testing.TB, name string) string {
	t.Helper()
	return filepath.Join(Dir(t), name)
}

// Read returns one fixture's bytes.
func Read(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(Path(t, name))
	if err != nil {
		t.Fatalf("reading fixture %s: %v", name, err)
	}
	return b
}
