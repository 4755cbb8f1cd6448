package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/blang/semver"
	sdk "github.com/pulumi/pulumi/sdk/v3"

	"github.com/org/tap-deploy/internal/problems"
)

// CancelGrace is how long a cancelled operation's CLI has between SIGINT
// and being killed. GitHub gives a cancelled step 7.5 s after SIGINT and
// 2.5 s more after SIGTERM before it kills everything; this leaves the run
// time to report.
const CancelGrace = 8 * time.Second

// cli runs the Pulumi CLI for the Automation API as the SDK's own runner
// does (non-interactive, SIGINT on cancel), but with a grace that fits the
// runner's, noting when it had to kill the CLI, and without the SDK's
// `pulumi version` probe at start: each CLI start costs about 0.3 s, and
// the CLI is pinned to the SDK's version (the image is built so, and a test
// checks the pins).
type cli struct {
	path    string
	version semver.Version
	grace   time.Duration
	// killed is set when a cancelled CLI did not stop within the grace.
	killed *atomic.Bool
}

// FindTools says what a local run lacks of what the engine runs: the
// Pulumi CLI on PATH (ErrNoCLI) and the aws plugin of AWSPluginVersion in
// pulumiHome (empty: ~/.pulumi, as the CLI's default) (ErrNoAWSPlugin),
// each with the command that installs it, so that the run can stop before
// it does anything else. The image ships both; the engine never downloads
// a plugin (see quietEnv), and takes none from PATH.
func FindTools(pulumiHome string) error {
	var found problems.List
	if _, err := newCLI(0); err != nil {
		found = append(found, err.Error())
	}
	if pulumiHome == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return errors.Join(found.Err(), fmt.Errorf("finding the aws plugin: %w", err))
		}
		pulumiHome = filepath.Join(home, ".pulumi")
	}
	dir := AWSPluginDir(pulumiHome)
	if info, err := os.Stat(filepath.Join(dir, "pulumi-resource-aws")); err != nil || info.IsDir() {
		found = append(found, fmt.Sprintf("%s: %s was not found: install it with `pulumi plugin install resource aws %s`", ErrNoAWSPlugin, dir, AWSPluginVersion))
	}
	if len(found) == 1 && found[0] == ErrNoCLI.Error() {
		return ErrNoCLI
	}
	return found.Err()
}

// AWSPluginDir is where the CLI keeps the aws plugin the stack asks for.
func AWSPluginDir(pulumiHome string) string {
	return filepath.Join(pulumiHome, "plugins", "resource-aws-v"+AWSPluginVersion)
}

func newCLI(grace time.Duration) (cli, error) {
	path, err := exec.LookPath("pulumi")
	if err != nil {
		return cli{}, ErrNoCLI
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	if grace <= 0 {
		grace = CancelGrace
	}
	return cli{path: path, version: sdk.Version, grace: grace, killed: &atomic.Bool{}}, nil
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
	// cleanly and releases the lock; it is killed when it has not stopped
	// within the grace (an AWS call in flight can take longer).
	cmd.Cancel = func() error {
		if err := cmd.Process.Signal(os.Interrupt); err != nil {
			return cmd.Process.Kill()
		}
		return nil
	}
	cmd.WaitDelay = c.grace
	err := cmd.Run()
	if ctx.Err() != nil && cmd.ProcessState != nil {
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			c.killed.Store(true)
		}
	}
	code := -2
	if exit, ok := err.(*exec.ExitError); ok {
		code = exit.ExitCode()
	} else if err == nil {
		code = 0
	}
	return stdout.String(), stderr.String(), code, err
}
