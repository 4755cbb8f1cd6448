package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/sethvargo/go-githubactions"

	"github.com/org/tap-deploy/internal/actions"
	"github.com/org/tap-deploy/internal/app"
	"github.com/org/tap-deploy/internal/artifacts"
	"github.com/org/tap-deploy/internal/awsaccount"
	"github.com/org/tap-deploy/internal/awstraffic"
	"github.com/org/tap-deploy/internal/clock"
	"github.com/org/tap-deploy/internal/engine"
	"github.com/org/tap-deploy/internal/github"
	"github.com/org/tap-deploy/internal/oidcrole"
	"github.com/org/tap-deploy/internal/redact"
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
		Backend: engine.Backend{},
		NewGitHub: func(apiURL, token string) (app.GitHub, error) {
			return github.New(apiURL, token, github.DefaultRetry)
		},
		AWSAccount: func(ctx context.Context, region string) (app.Account, error) {
			return awsaccount.New(ctx, region)
		},
		Traffic: func(ctx context.Context, region string) (app.Traffic, error) {
			return awstraffic.New(ctx, region)
		},
		TrafficAs: func(ctx context.Context, region string, c oidcrole.Credentials) (app.Traffic, error) {
			return awstraffic.NewWithCredentials(ctx, region, c.AccessKeyID, c.SecretAccessKey, c.SessionToken)
		},
		IDToken: func(ctx context.Context, requestURL, requestToken, audience string) (string, error) {
			return oidcrole.IDToken(ctx, &http.Client{Timeout: 30 * time.Second}, requestURL, requestToken, audience)
		},
		AssumeRole: func(ctx context.Context, region, roleARN, session, token string) (oidcrole.Credentials, error) {
			// STS's default, an hour: the check under the lock comes
			// after at most lock-timeout (30m), and credentials about to
			// expire are taken again.
			return oidcrole.Assume(ctx, region, roleARN, session, token, 0)
		},
		Packages: artifacts.Load,
		Version:  version,
		Sleep:    clock.Sleep,
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
	values, err := parseFlags(args)
	if err != nil {
		return app.Deps{}, err
	}
	d.Runtime = actions.NewTerminal(stdout, stderr, red)
	d.Input = func(name string) string { return values[name] }
	return d, nil
}
