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
