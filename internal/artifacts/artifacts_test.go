package artifacts_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/artifacts"
	"github.com/org/tap-deploy/stack"
)

func TestLoadDir_WritesFreshPrivateCopiesNamedByDigest(t *testing.T) {
	src, dir := t.TempDir(), t.TempDir()
	for _, f := range stack.Functions {
		require.NoError(t, os.WriteFile(filepath.Join(src, f.Component+".zip"), []byte("zip of "+f.Component), 0o644))
	}
	// A file of the right name and size planted where a run writes is
	// replaced, never trusted.
	planted := []byte("zip of api-handleR")
	sum := sha256.Sum256([]byte("zip of api-handler"))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "api-handler-"+hex.EncodeToString(sum[:])+".zip"), planted, 0o644))

	code, err := artifacts.LoadDir(src, dir)
	require.NoError(t, err)
	for _, f := range stack.Functions {
		c := code[f.Key]
		data, err := os.ReadFile(c.Path)
		require.NoError(t, err)
		got := sha256.Sum256(data)
		assert.Equal(t, c.SHA256, hex.EncodeToString(got[:]), "%s: the file holds what its digest says", f.Key)
		info, err := os.Stat(c.Path)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	}
}

func TestLoadDir_NamesTheMissingZip(t *testing.T) {
	_, err := artifacts.LoadDir(t.TempDir(), t.TempDir())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "TAP_LAMBDA_ZIPS_DIR names")
	assert.Contains(t, err.Error(), "no api-handler.zip")
}

// The embedded packages, as the public model declares them, carry the
// digests the engine's Load deploys; a binary without them fails
// validation naming each zip, never with a placeholder.
func TestDeclared_AgreesWithLoadOrNamesEachMissingZip(t *testing.T) {
	p := stack.Declared(artifacts.Declared())
	loaded, err := artifacts.Load(t.TempDir())
	if errors.Is(err, artifacts.ErrMissing) {
		err := p.Validate()
		require.Error(t, err)
		for _, f := range stack.Functions {
			assert.Contains(t, err.Error(), `function "`+f.Key+`": the package zips/`+f.Component+`.zip is missing from the binary`)
		}
		return
	}
	require.NoError(t, err)
	require.NoError(t, p.Validate())
	for _, pkg := range p.Packages {
		d, err := pkg.Digest()
		require.NoError(t, err)
		assert.Equal(t, loaded[pkg.Function].SHA256, d, pkg.Function)
	}
}
