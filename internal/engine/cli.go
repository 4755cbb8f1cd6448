package engine

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"time"

	"github.com/blang/semver"
	sdk "github.com/pulumi/pulumi/sdk/v3"
)

// cli runs the Pulumi CLI for the Automation API exactly as the SDK's own
// runner does (non-interactive, SIGINT on cancel, 10 s grace), but without
// the SDK's `pulumi version` probe at start: each CLI start costs about
// 0.3 s, and the CLI is pinned to the SDK's version (the image is built so,
// and a test checks the pins).
type cli struct {
	path    string
	version semver.Version
}

func newCLI() (cli, error) {
	path, err := exec.LookPath("pulumi")
	if err != nil {
		return cli{}, ErrNoCLI
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	return cli{path: path, version: sdk.Version}, nil
}

func (c cli) Version() semver.Version { return c.version }

func (c cli) Run(ctx context.Context, workdir string, stdin io.Reader, additionalOutput, additionalErrorOutput []io.Writer,
	additionalEnv []string, args ...string,
) (string, string, int, error) {
	flags := args
	if i := slices.Index(args, "--"); i >= 0 {
		flags = args[:i]
	}
	if !slices.Contains(flags, "--non-interactive") {
		args = append([]string{"--non-interactive"}, args...)
	}
	cmd := exec.CommandContext(ctx, c.path, args...)
	cmd.Dir = workdir
	cmd.Env = append(append(os.Environ(), additionalEnv...), "PULUMI_AUTOMATION_API=true")
	var stdout, stderr bytes.Buffer
	cmd.Stdout = io.MultiWriter(append(additionalOutput, &stdout)...)
	cmd.Stderr = io.MultiWriter(append(additionalErrorOutput, &stderr)...)
	cmd.Stdin = stdin
	// A cancelled workflow interrupts the CLI, which stops the update
	// cleanly and releases the lock; it is killed only if it hangs.
	cmd.Cancel = func() error {
		if err := cmd.Process.Signal(os.Interrupt); err != nil {
			return cmd.Process.Kill()
		}
		return nil
	}
	cmd.WaitDelay = 10 * time.Second
	err := cmd.Run()
	code := -2
	if exit, ok := err.(*exec.ExitError); ok {
		code = exit.ExitCode()
	} else if err == nil {
		code = 0
	}
	return stdout.String(), stderr.String(), code, err
}
