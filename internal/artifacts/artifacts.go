// Package artifacts holds the Lambda packages compiled into the action binary,
// so a run builds and downloads nothing.
package artifacts

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/org/tap-deploy/program"
	"github.com/org/tap-deploy/stack"
)

// zips holds <component>.zip for each function; `make build` fills it
// before the action binary is compiled. README.md keeps the folder present
// so the binary compiles without them (and says so when asked for them).
//
//go:embed zips
var zips embed.FS

// ErrMissing means the binary was compiled without the Lambda packages.
var ErrMissing = errors.New("this binary was built without the Lambda artifacts: build it with `make build` (the image does)")

// EnvDir names a folder of <component>.zip files to deploy instead of the
// embedded ones, for developing the functions without rebuilding the
// action. It replaces the code that reaches AWS, so the action refuses it
// in GitHub Actions (see internal/app).
const EnvDir = "TAP_LAMBDA_ZIPS_DIR"

// Load writes the embedded zips into dir, a folder private to the run that
// the caller removes afterwards, and returns them as the stack's code.
func Load(dir string) (stack.Packages, error) {
	return load(zips, "zips/", dir, ErrMissing)
}

// LoadDir is Load for the Lambda packages in folder src (EnvDir).
func LoadDir(src, dir string) (stack.Packages, error) {
	return load(os.DirFS(src), "", dir, fmt.Errorf("%s names %s, which lacks a function's zip", EnvDir, src))
}

func load(source fs.FS, prefix, dir string, missing error) (stack.Packages, error) {
	out := stack.Packages{}
	for _, f := range stack.Functions {
		data, err := fs.ReadFile(source, prefix+f.Component+".zip")
		if errors.Is(err, fs.ErrNotExist) {
			if missing == ErrMissing {
				return nil, ErrMissing
			}
			return nil, fmt.Errorf("%w: no %s.zip", missing, f.Component)
		}
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(data)
		digest := hex.EncodeToString(sum[:])
		// Written fresh into the run's own folder: nothing another process
		// left in a shared path is ever trusted.
		path := filepath.Join(dir, f.Component+"-"+digest+".zip")
		if err := writeFresh(path, data); err != nil {
			return nil, fmt.Errorf("writing the %s package: %w", f.Component, err)
		}
		out[f.Key] = stack.Package{SHA256: digest, Path: path}
	}
	return out, nil
}

// Placeholder stands in for missing zips where only the resource graph
// matters (offline validation of a binary built with plain `go build`).
func Placeholder() stack.Packages {
	out := stack.Packages{}
	for _, f := range stack.Functions {
		sum := sha256.Sum256([]byte("placeholder " + f.Component))
		out[f.Key] = stack.Package{SHA256: hex.EncodeToString(sum[:])}
	}
	return out
}

// writeFresh writes data to a new file (mode 0600) and renames it to path,
// replacing whatever was there.
func writeFresh(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".zip-")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// Declared is the embedded zips as the public program model declares
// packages: one per function, read from the binary. A binary built without
// them fails program.Program.Validate, naming each missing zip.
func Declared() []program.Package {
	out := make([]program.Package, 0, len(stack.Functions))
	for _, f := range stack.Functions {
		out = append(out, program.Package{Function: f.Key, FS: zips, Path: "zips/" + f.Component + ".zip"})
	}
	return out
}
