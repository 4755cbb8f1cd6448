// Package artifacts holds the Lambda zips compiled into the action binary,
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

	"github.com/org/tap-deploy/stack"
)

// zips holds <component>.zip for each function; `make build` fills it
// before the action binary is compiled. README.md keeps the folder present
// so the binary compiles without them (and says so when asked for them).
//
//go:embed zips
var zips embed.FS

// ErrMissing means the binary was compiled without the zips.
var ErrMissing = errors.New("this binary was built without the Lambda artifacts: build it with `make build` (the image does)")

// EnvDir names a folder of <component>.zip files to deploy instead of the
// embedded ones: for developing the functions without rebuilding the action.
const EnvDir = "TAP_LAMBDA_ZIPS_DIR"

// Load returns the embedded zips (or those in $TAP_LAMBDA_ZIPS_DIR) as the
// stack's code, written once to a content-addressed cache folder for the
// engine to read.
func Load() (stack.Artifacts, error) {
	var source fs.FS = zips
	prefix := "zips/"
	if dir := os.Getenv(EnvDir); dir != "" {
		source, prefix = os.DirFS(dir), ""
	}
	out := stack.Artifacts{}
	dir := filepath.Join(os.TempDir(), "tap-deploy-artifacts")
	for _, f := range stack.Functions {
		data, err := fs.ReadFile(source, prefix+f.Component+".zip")
		if errors.Is(err, fs.ErrNotExist) && prefix == "" {
			return nil, fmt.Errorf("%s names %s, which has no %s.zip", EnvDir, os.Getenv(EnvDir), f.Component)
		}
		if errors.Is(err, fs.ErrNotExist) {
			return nil, ErrMissing
		}
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(data)
		digest := hex.EncodeToString(sum[:])
		path := filepath.Join(dir, f.Component+"-"+digest+".zip")
		if err := writeOnce(path, data); err != nil {
			return nil, fmt.Errorf("writing the %s package: %w", f.Component, err)
		}
		out[f.Key] = stack.Code{SHA256: digest, Path: path}
	}
	return out, nil
}

// Placeholder stands in for missing zips where only the resource graph
// matters (offline validation of a binary built with plain `go build`).
func Placeholder() stack.Artifacts {
	out := stack.Artifacts{}
	for _, f := range stack.Functions {
		sum := sha256.Sum256([]byte("placeholder " + f.Component))
		out[f.Key] = stack.Code{SHA256: hex.EncodeToString(sum[:])}
	}
	return out
}

func writeOnce(path string, data []byte) error {
	if st, err := os.Stat(path); err == nil && st.Size() == int64(len(data)) {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
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
		return err
	}
	return os.Rename(tmp.Name(), path)
}
