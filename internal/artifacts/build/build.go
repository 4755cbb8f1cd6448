// Package build cross-compiles the Lambda functions for provided.al2023 on
// arm64 and packs each as a reproducible zip: the same source gives the same
// bytes, so a second deploy of unchanged code shows no change.
package build

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"

	"github.com/org/tap-deploy/stack"
)

// Package is one built Lambda package.
type Package struct {
	Function string // the stack's FunctionSpec.Component
	Path     string
	SHA256   string
	Size     int
}

// epoch is the fixed timestamp of every zip entry (the zip format's first
// representable date).
var epoch = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// RepoRoot is the module root, where the function sources live.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

// All builds every function of the stack into outDir as <component>.zip.
func All(ctx context.Context, outDir string) ([]Package, error) {
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, err
	}
	var out []Package
	for _, f := range stack.Functions {
		z, err := One(ctx, f.Component, outDir)
		if err != nil {
			return nil, err
		}
		out = append(out, z)
	}
	return out, nil
}

// One builds lambda/cmd/<component> into outDir/<component>.zip.
func One(ctx context.Context, component, outDir string) (Package, error) {
	tmp, err := os.MkdirTemp("", "tap-lambda-build-")
	if err != nil {
		return Package{}, err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "bootstrap")
	cmd := exec.CommandContext(ctx, "go", "build",
		"-trimpath", "-buildvcs=false", "-tags", "lambda.norpc",
		"-ldflags", "-s -w -buildid=",
		"-o", bin, "./lambda/cmd/"+component)
	cmd.Dir = RepoRoot()
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return Package{}, fmt.Errorf("building %s: %w\n%s", component, err, out)
	}
	exe, err := os.ReadFile(bin)
	if err != nil {
		return Package{}, err
	}
	data, err := Pack(exe)
	if err != nil {
		return Package{}, err
	}
	path := filepath.Join(outDir, component+".zip")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return Package{}, err
	}
	sum := sha256.Sum256(data)
	return Package{Function: component, Path: path, SHA256: hex.EncodeToString(sum[:]), Size: len(data)}, nil
}

// Pack zips an executable as "bootstrap" with fixed metadata.
func Pack(exe []byte) ([]byte, error) {
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	hdr := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate, Modified: epoch}
	hdr.SetMode(0o755)
	f, err := w.CreateHeader(hdr)
	if err != nil {
		return nil, err
	}
	if _, err := f.Write(exe); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
