package main

import (
	"context"
	"flag"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/org/tap-deploy/internal/bootstrap"
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
	assert.Contains(t, stdout.String(), "\n  tap-deploy bootstrap --environment dev,staging,prod --aws-region REGION --repository OWNER/REPO [flags]\n")
	assert.Contains(t, stdout.String(), "\n  tap-deploy bootstrap --environment dev,staging,prod --aws-region eu-west-1 --repository owner/repo > bootstrap.yaml\n")
	assert.Contains(t, stdout.String(), "aws cloudformation deploy --region eu-west-1 --template-file bootstrap.yaml --stack-name tap-bootstrap --capabilities CAPABILITY_NAMED_IAM\n")
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

func TestParseBootstrap(t *testing.T) {
	env := map[string]string{"AWS_DEFAULT_REGION": "us-west-2"}
	getenv := func(k string) string { return env[k] }
	tests := []struct {
		name    string
		args    []string
		want    bootstrap.Options
		wantErr string
	}{
		{"defaults", []string{"--environment", "dev, staging ,prod", "--aws-region", "eu-west-1", "--repository", "owner/repo"},
			bootstrap.Options{Project: "tap", Environments: []string{"dev", "staging", "prod"}, Region: "eu-west-1", Repository: "owner/repo",
				CreateOIDCProvider: true, APIGatewayAccount: "template", ReviewEnvironment: "dev"}, ""},
		{"every flag", []string{"--environment=qa", "--repository=o/r", "--project-name=shop", "--state-bucket=my-state",
			"--create-oidc-provider=false", "--api-gateway-account=qa", "--review-environment=none", "--merge-queue"},
			bootstrap.Options{Project: "shop", Environments: []string{"qa"}, Region: "us-west-2", Repository: "o/r", StateBucket: "my-state",
				APIGatewayAccount: "qa", ReviewEnvironment: "none", MergeQueue: true}, ""},
		{"an action input is not a bootstrap flag", []string{"--environment", "dev", "--backend-url", "s3://x"}, bootstrap.Options{},
			"flag provided but not defined: -backend-url (tap-deploy --help lists bootstrap's flags)"},
		{"no positional arguments", []string{"--environment", "dev", "up"}, bootstrap.Options{}, `bootstrap takes flags only, not "up"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseBootstrap(tt.args, getenv)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseFlags_BootstrapMustComeFirst(t *testing.T) {
	_, err := parseFlags([]string{"--environment", "dev", "bootstrap"})
	require.Error(t, err)
	assert.Equal(t, "bootstrap takes flags of its own and comes first: tap-deploy bootstrap --environment dev,staging,prod --aws-region REGION --repository OWNER/REPO", err.Error())
}

func TestRun_BootstrapPrintsATemplateAndRefusesToRunInActions(t *testing.T) {
	args := []string{"bootstrap", "--environment", "dev", "--aws-region", "eu-west-1", "--repository", "owner/repo"}

	var stdout, stderr strings.Builder
	require.NoError(t, run(context.Background(), args, func(string) string { return "" }, &stdout, &stderr))
	assert.Empty(t, stderr.String(), "it fits aws cloudformation deploy: no warning")
	var doc struct {
		Format    string         `yaml:"AWSTemplateFormatVersion"`
		Resources map[string]any `yaml:"Resources"`
	}
	require.NoError(t, yaml.Unmarshal([]byte(stdout.String()), &doc))
	assert.Equal(t, "2010-09-09", doc.Format)
	assert.Contains(t, doc.Resources, "StateBucket")
	assert.Contains(t, doc.Resources, "DeployRoleDev")

	stdout.Reset()
	inActions := func(k string) string { return map[string]string{"GITHUB_ACTIONS": "true"}[k] }
	err := run(context.Background(), args, inActions, &stdout, io.Discard)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "an administrator runs it on their machine and deploys the template, never a workflow")
	assert.Empty(t, stdout.String(), "nothing is printed in Actions")

	err = run(context.Background(), []string{"bootstrap", "--environment", "Dev"}, func(string) string { return "" }, &stdout, io.Discard)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `--environment: "Dev" must start with a lowercase letter`)
	assert.Contains(t, err.Error(), "--repository:")
	assert.Empty(t, stdout.String(), "a mistake prints no template")
}

func TestRun_BootstrapWarnsWhenTheTemplateNeedsAnS3Bucket(t *testing.T) {
	args := []string{"bootstrap", "--environment", "dev,qa,test,uat,staging,preprod,prod", "--aws-region", "eu-west-1", "--repository", "owner/repo"}
	var stdout, stderr strings.Builder
	require.NoError(t, run(context.Background(), args, func(string) string { return "" }, &stdout, &stderr))
	require.Greater(t, stdout.Len(), bootstrap.DeployFileLimit)
	assert.Contains(t, stderr.String(), "add --s3-bucket <a bucket of the account in eu-west-1> to deploy it")
}
