package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/sethvargo/go-githubactions"

	"github.com/org/tap-deploy/internal/actions"
	"github.com/org/tap-deploy/internal/app"
	"github.com/org/tap-deploy/internal/engine"
	"github.com/org/tap-deploy/internal/github"
	"github.com/org/tap-deploy/internal/inputs"
	"github.com/org/tap-deploy/internal/redact"
	"github.com/org/tap-deploy/lambda/artifacts"
)

// newDeps wires the run's edges for the place it runs in.
func newDeps(args []string, getenv func(string) string, stdout, stderr io.Writer) (app.Deps, error) {
	red := redact.New()
	wd, err := os.Getwd()
	if err != nil {
		return app.Deps{}, err
	}
	d := app.Deps{
		Getenv:  getenv,
		WorkDir: wd,
		Now:     time.Now,
		OpenStack: func(ctx context.Context, s engine.Settings, p pulumi.RunFunc) (app.Stack, error) {
			return engine.Open(ctx, s, p)
		},
		NewGitHub: func(apiURL, token string) (app.GitHub, error) {
			return github.New(apiURL, token, github.DefaultRetry)
		},
		Artifacts: artifacts.Load,
		Version:   version,
	}
	if getenv("GITHUB_ACTIONS") == "true" {
		a := githubactions.New(githubactions.WithGetenv(getenv), githubactions.WithWriter(stdout))
		d.Runtime = actions.NewGitHub(a, red)
		d.Input = a.GetInput
		d.InActions = true
		if wsp := getenv("GITHUB_WORKSPACE"); wsp != "" {
			d.WorkDir = wsp
		}
		return d, nil
	}
	values, err := parseFlags(args, stderr)
	if err != nil {
		return app.Deps{}, err
	}
	d.Runtime = actions.NewTerminal(stdout, stderr, red)
	d.Input = func(name string) string { return values[name] }
	return d, nil
}

// parseFlags reads `[command] --input value ...`: every action input is a
// flag of the same name.
func parseFlags(args []string, stderr io.Writer) (map[string]string, error) {
	fs := flag.NewFlagSet("tap-deploy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	values := map[string]*string{}
	for _, name := range inputs.Names {
		values[name] = fs.String(name, "", "the "+name+" input")
	}
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: tap-deploy [%s] --environment NAME [flags]\n\n", commandList())
		fmt.Fprintln(stderr, "Runs the action locally; every action input is a flag. Multi-line inputs (config,")
		fmt.Fprintln(stderr, "policy-overrides) take '\\n'-separated or repeated key=value pairs separated by ';'.")
		fs.PrintDefaults()
	}
	var positional []string
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) > 0 {
			positional = append(positional, args[0])
			args = args[1:]
		}
	}
	out := map[string]string{}
	for k, v := range values {
		out[k] = *v
	}
	for _, multi := range []string{inputs.NameConfig, inputs.NamePolicyOverrides} {
		out[multi] = strings.NewReplacer(";", "\n", `\n`, "\n").Replace(out[multi])
	}
	switch len(positional) {
	case 0:
	case 1:
		if out[inputs.NameCommand] != "" && out[inputs.NameCommand] != positional[0] {
			return nil, fmt.Errorf("the command is given twice: %q and --command %q", positional[0], out[inputs.NameCommand])
		}
		out[inputs.NameCommand] = positional[0]
	default:
		return nil, errors.New("only one command may be given: " + strings.Join(positional, ", "))
	}
	return out, nil
}

func commandList() string {
	s := make([]string, len(inputs.Commands))
	for i, c := range inputs.Commands {
		s[i] = string(c)
	}
	return strings.Join(s, "|")
}
