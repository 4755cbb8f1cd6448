// Command tap-deploy is the GitHub Action: on a pull request it validates
// offline and previews, on a push to the default branch it deploys, and from
// workflow_dispatch it rolls back or checks drift. Outside Actions the same
// inputs are flags: tap-deploy preview --environment dev (tap-deploy --help
// describes each from action.yml).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/org/tap-deploy/internal/app"
	"github.com/org/tap-deploy/internal/bootstrap"
	"github.com/org/tap-deploy/internal/inputs"
)

// version is set at build time (-ldflags "-X main.version=...").
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := invoke(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, app.ErrReported) {
			fmt.Fprintln(os.Stderr, "error:", err)
		}
		os.Exit(1)
	}
}

// invoke runs one invocation of the binary: bootstrap, or the run its inputs
// and event decide (app.Run), with the edges wired for where it runs.
func invoke(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == string(inputs.Bootstrap) {
		return runBootstrap(args[1:], getenv, stdout, stderr)
	}
	deps, err := newDeps(args, getenv, stdout, stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return printHelp(stdout)
	case errors.Is(err, errVersion):
		_, err := fmt.Fprintf(stdout, "tap-deploy %s\n", version)
		return err
	case err != nil:
		return err
	}
	return app.Run(ctx, deps)
}

// runBootstrap writes the CloudFormation templates that prepare an AWS
// account, and says how to deploy them. It is for an administrator's
// machine: a workflow that could write its own roles would defeat them.
// Bad flags write nothing.
func runBootstrap(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if getenv("GITHUB_ACTIONS") == "true" {
		return errors.New("tap-deploy bootstrap writes the CloudFormation templates that prepare an AWS account; an administrator runs it on their machine and deploys them, never a workflow")
	}
	opts, dir, err := parseBootstrap(args, getenv)
	if errors.Is(err, flag.ErrHelp) {
		return printHelp(stdout)
	}
	if err != nil {
		return err
	}
	files, err := bootstrap.Generate(opts)
	if err != nil {
		return err
	}
	for _, w := range opts.Warnings() {
		fmt.Fprintln(stderr, "warning:", w)
	}
	for _, f := range files {
		if len(f.Body) > bootstrap.DeployFileLimit {
			return fmt.Errorf("the template %s would be %d bytes, more than the %d aws cloudformation deploy sends from --template-file; nothing was written. Report this: bootstrap keeps every template under %d", f.Name, len(f.Body), bootstrap.DeployFileLimit, bootstrap.Headroom)
		}
	}
	if err := writeFiles(dir, files); err != nil {
		return err
	}
	_, err = io.WriteString(stdout, bootstrap.Summary(opts, files, dir))
	return err
}

// writeFiles writes every template into dir, each whole or not at all.
func writeFiles(dir string, files []bootstrap.File) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("--out-dir: %w", err)
	}
	for _, f := range files {
		tmp, err := os.CreateTemp(dir, "."+f.Name+".*")
		if err != nil {
			return fmt.Errorf("--out-dir: %w", err)
		}
		_, werr := tmp.Write(f.Body)
		cerr := tmp.Close()
		if err := errors.Join(werr, cerr); err != nil {
			os.Remove(tmp.Name()) //nolint:errcheck // the write failed already
			return fmt.Errorf("writing %s: %w", f.Name, err)
		}
		if err := os.Chmod(tmp.Name(), 0o644); err != nil {
			return err
		}
		if err := os.Rename(tmp.Name(), filepath.Join(dir, f.Name)); err != nil {
			return fmt.Errorf("writing %s: %w", f.Name, err)
		}
	}
	return nil
}
