package main

import (
	"context"
	"flag"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/inputs"
)

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    map[string]string
		wantErr string
	}{
		{"command first", []string{"preview", "--environment", "dev", "--aws-region", "eu-west-1"},
			map[string]string{"command": "preview", "environment": "dev", "aws-region": "eu-west-1"}, ""},
		{"command after flags", []string{"--environment=dev", "validate"}, map[string]string{"command": "validate", "environment": "dev"}, ""},
		{"multi-line inputs", []string{"up", "--environment", "dev", "--config", "logRetentionDays=30;lambdaMemoryMb=512", "--policy-overrides", `CKV_AWS_59=disabled\nCKV_AWS_115=advisory`},
			map[string]string{"command": "up", "config": "logRetentionDays=30\nlambdaMemoryMb=512", "policy-overrides": "CKV_AWS_59=disabled\nCKV_AWS_115=advisory"}, ""},
		{"two commands", []string{"preview", "up"}, nil, "only one command may be given: preview, up"},
		{"command twice", []string{"preview", "--command", "up"}, nil, `the command is given twice: "preview" and --command "up"`},
		{"unknown flag", []string{"--region", "x"}, nil, "flag provided but not defined: -region (tap-deploy --help lists the commands and flags)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseFlags(tt.args)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			for k, v := range tt.want {
				assert.Equal(t, v, got[k], k)
			}
		})
	}
}

func TestParseFlags_HelpAndVersionAreAskedForNotRun(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}, {"preview", "--help"}} {
		_, err := parseFlags(args)
		assert.ErrorIs(t, err, flag.ErrHelp, "%v", args)
	}
	for _, args := range [][]string{{"--version"}, {"preview", "--environment", "dev", "--version"}} {
		_, err := parseFlags(args)
		assert.ErrorIs(t, err, errVersion, "%v", args)
	}
}

func TestRun_HelpPrintsUsageOnStdoutAndSucceeds(t *testing.T) {
	var stdout, stderr strings.Builder
	err := run(context.Background(), []string{"--help"}, func(string) string { return "" }, &stdout, &stderr)
	require.NoError(t, err)
	assert.Empty(t, stderr.String())
	for _, c := range inputs.Commands {
		if c != inputs.Auto {
			assert.Contains(t, stdout.String(), "\n  tap-deploy "+string(c)+" --environment NAME", "a usage line for %s", c)
		}
	}
	assert.Contains(t, stdout.String(), "\n  tap-deploy auto --environment NAME [flags]\n")
	assert.Contains(t, stdout.String(), "\n  tap-deploy --help | --version\n")
	assert.Contains(t, stdout.String(), "\nExamples:\n  # The program and its policy, offline")
	assert.Contains(t, stdout.String(), "\n  --aws-region\n      AWS region of the stack.")
}

func TestRun_VersionPrintsTheBuildsVersion(t *testing.T) {
	var stdout strings.Builder
	require.NoError(t, run(context.Background(), []string{"--version"}, func(string) string { return "" }, &stdout, io.Discard))
	assert.Equal(t, "tap-deploy dev\n", stdout.String(), "make build sets main.version; a plain go build says dev")
}

func TestRun_AFlagMistakeSaysWhereTheFlagsAreListed(t *testing.T) {
	var stdout strings.Builder
	err := run(context.Background(), []string{"preview", "--region", "eu-west-1"}, func(string) string { return "" }, &stdout, io.Discard)
	require.Error(t, err)
	assert.Equal(t, "flag provided but not defined: -region (tap-deploy --help lists the commands and flags)", err.Error())
	assert.Empty(t, stdout.String())
}
