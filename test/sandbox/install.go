package sandbox

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
)

// PluginDir is where the engine looks for the aws plugin under PULUMI_HOME.
func PluginDir(pulumiHome string) string {
	return filepath.Join(pulumiHome, "plugins", "resource-aws-v"+Version)
}

var (
	buildOnce sync.Once
	built     string
	buildErr  error
)

// Build compiles the plugin (static) once per process (the Go build cache makes
// repeated builds cheap) and returns the binary's path.
func Build(ctx context.Context) (string, error) {
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "tap-sandbox-plugin-")
		if err != nil {
			buildErr = err
			return
		}
		built = filepath.Join(dir, "pulumi-resource-aws")
		_, file, _, _ := runtime.Caller(0)
		cmd := exec.CommandContext(ctx, "go", "build", "-o", built, "./cmd/pulumi-resource-aws")
		cmd.Dir = filepath.Dir(file)
		// Static, so the same binary also runs in the image test's
		// scratch-based container.
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("building the sandbox plugin: %w\n%s", err, out)
		}
	})
	return built, buildErr
}

// Install puts the sandbox plugin into pulumiHome as resource-aws v6.83.4.
func Install(ctx context.Context, pulumiHome string) error {
	bin, err := Build(ctx)
	if err != nil {
		return err
	}
	return InstallBinary(bin, pulumiHome)
}

// InstallBinary copies an already built plugin binary into pulumiHome.
func InstallBinary(bin, pulumiHome string) error {
	dir := PluginDir(pulumiHome)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	src, err := os.Open(bin)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(filepath.Join(dir, "pulumi-resource-aws"), os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}
