package build_test

import (
	"archive/zip"
	"bytes"
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/artifacts/build"
)

func TestAll_BuildsTwiceToIdenticalBytes(t *testing.T) {
	if testing.Short() {
		// Two cross-compilations of every function: 25 s warm, 2 minutes
		// cold. make test runs it; the fast tier is for what needs nothing.
		t.Skip("builds every function twice: make test runs it")
	}
	ctx := context.Background()
	first, err := build.All(ctx, t.TempDir())
	require.NoError(t, err)
	second, err := build.All(ctx, t.TempDir())
	require.NoError(t, err)
	require.Len(t, first, 3)
	for i := range first {
		assert.Equal(t, first[i].SHA256, second[i].SHA256, first[i].Function)
		assert.Len(t, first[i].SHA256, 64)
	}

	data, err := os.ReadFile(first[0].Path)
	require.NoError(t, err)
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	require.NoError(t, err)
	require.Len(t, zr.File, 1)
	f := zr.File[0]
	assert.Equal(t, "bootstrap", f.Name, "provided.al2023 runs a file named bootstrap")
	assert.Equal(t, os.FileMode(0o755), f.Mode().Perm())
	assert.True(t, f.Modified.Equal(time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)), "fixed timestamp, got %s", f.Modified)
	r, err := f.Open()
	require.NoError(t, err)
	head := make([]byte, 20)
	_, err = r.Read(head)
	require.NoError(t, err)
	assert.Equal(t, []byte("\x7fELF"), head[:4])
	assert.Equal(t, byte(0xb7), head[18], "ELF machine is aarch64")
}

func TestPack_IsDeterministic(t *testing.T) {
	a, err := build.Pack([]byte("exe"))
	require.NoError(t, err)
	b, err := build.Pack([]byte("exe"))
	require.NoError(t, err)
	assert.Equal(t, a, b)
}
