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
	"syscall"

	"github.com/org/tap-deploy/internal/app"
	"github.com/org/tap-deploy/internal/bootstrap"
	"github.com/org/tap-deploy/internal/inputs"
)

// version is set at build time (-ldflags "-X main.version=...").
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, app.ErrReported) {
			fmt.Fprintln(os.Stderr, "error:", err)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
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

// runBootstrap prints the CloudFormation template that prepares an AWS
// account. It is for an administrator's machine: a workflow that could
// write its own roles would defeat them.
func runBootstrap(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if getenv("GITHUB_ACTIONS") == "true" {
		return errors.New("tap-deploy bootstrap prints the CloudFormation template that prepares an AWS account; an administrator runs it on their machine and deploys the template, never a workflow")
	}
	opts, err := parseBootstrap(args, getenv)
	if errors.Is(err, flag.ErrHelp) {
		return printHelp(stdout)
	}
	if err != nil {
		return err
	}
	template, err := bootstrap.Template(opts)
	if err != nil {
		return err
	}
	if len(template) > bootstrap.DeployFileLimit {
		fmt.Fprintf(stderr, "warning: the template is %d bytes; aws cloudformation deploy reads at most %d from --template-file alone: add --s3-bucket <a bucket of the account in %s> to deploy it\n",
			len(template), bootstrap.DeployFileLimit, opts.Region)
	}
	_, err = stdout.Write(template)
	return err
}
