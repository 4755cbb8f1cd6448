package main

import (
	"context"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

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
	err := invoke(context.Background(), []string{"--help"}, func(string) string { return "" }, &stdout, &stderr)
	require.NoError(t, err)
	assert.Empty(t, stderr.String())
	for _, c := range inputs.Commands {
		if c != inputs.Auto {
			assert.Contains(t, stdout.String(), "\n  tap-deploy "+string(c)+" --environment NAME", "a usage line for %s", c)
		}
	}
	assert.Contains(t, stdout.String(), "\n  tap-deploy auto --environment NAME [flags]\n")
	assert.Contains(t, stdout.String(), "\n  tap-deploy bootstrap --environment dev,staging,prod --aws-region REGION --repository OWNER/REPO [flags]\n")
	assert.Contains(t, stdout.String(), "\n  tap-deploy bootstrap --environment dev,staging,prod --aws-region eu-west-1 --repository owner/repo --out-dir bootstrap\n")
	assert.Contains(t, stdout.String(), "aws cloudformation deploy --region eu-west-1 --stack-name tap-bootstrap --capabilities CAPABILITY_NAMED_IAM --template-file bootstrap/account.yaml\n")
	assert.Contains(t, stdout.String(), "\n  tap-deploy --help | --version\n")
	assert.Contains(t, stdout.String(), "\nExamples:\n  # The program and its policy, offline")
	assert.Contains(t, stdout.String(), "\n  --aws-region\n      AWS region of the stack.")
}

func TestRun_VersionPrintsTheBuildsVersion(t *testing.T) {
	var stdout strings.Builder
	require.NoError(t, invoke(context.Background(), []string{"--version"}, func(string) string { return "" }, &stdout, io.Discard))
	assert.Equal(t, "tap-deploy dev\n", stdout.String(), "make build sets main.version; a plain go build says dev")
}

func TestRun_AFlagMistakeSaysWhereTheFlagsAreListed(t *testing.T) {
	var stdout strings.Builder
	err := invoke(context.Background(), []string{"preview", "--region", "eu-west-1"}, func(string) string { return "" }, &stdout, io.Discard)
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
		wantDir string
		wantErr string
	}{
		{"defaults", []string{"--environment", "dev, staging ,prod", "--aws-region", "eu-west-1", "--repository", "owner/repo"},
			bootstrap.Options{Project: "tap", Environments: []string{"dev", "staging", "prod"}, Region: "eu-west-1", Repository: "owner/repo",
				CreateOIDCProvider: true, APIGatewayLogging: "none", ReviewEnvironment: "dev"}, "bootstrap", ""},
		{"every flag", []string{"--environment=qa", "--repository=o/r", "--repository-id=123", "--project-name=shop", "--state-bucket=my-state",
			"--create-oidc-provider=false", "--api-gateway-logging=qa", "--review-environment=none", "--merge-queue",
			"--promotion", "qa:prod, qa:uat", "--out-dir", "cfn"},
			bootstrap.Options{Project: "shop", Environments: []string{"qa"}, Region: "us-west-2", Repository: "o/r", RepositoryID: "123", StateBucket: "my-state",
				APIGatewayLogging: "qa", ReviewEnvironment: "none", MergeQueue: true,
				Promotions: []bootstrap.Promotion{{From: "qa", To: "prod"}, {From: "qa", To: "uat"}}}, "cfn", ""},
		// A boolean takes its value as the next argument too, as every
		// other flag does.
		{"a boolean's value after a space", []string{"--environment", "qa", "--repository", "o/r", "--create-oidc-provider", "false", "--merge-queue", "true"},
			bootstrap.Options{Project: "tap", Environments: []string{"qa"}, Region: "us-west-2", Repository: "o/r",
				APIGatewayLogging: "none", ReviewEnvironment: "qa", MergeQueue: true}, "bootstrap", ""},
		{"a boolean alone before another flag", []string{"--merge-queue", "--environment", "qa", "--repository", "o/r"},
			bootstrap.Options{Project: "tap", Environments: []string{"qa"}, Region: "us-west-2", Repository: "o/r",
				CreateOIDCProvider: true, APIGatewayLogging: "none", ReviewEnvironment: "qa", MergeQueue: true}, "bootstrap", ""},
		{"an action input is not a bootstrap flag", []string{"--environment", "dev", "--backend-url", "s3://x"}, bootstrap.Options{}, "",
			"flag provided but not defined: -backend-url (tap-deploy --help lists bootstrap's flags)"},
		{"no positional arguments", []string{"--environment", "dev", "up"}, bootstrap.Options{}, "", `bootstrap takes flags only, not "up"`},
		{"an empty output directory", []string{"--environment", "dev", "--out-dir", " "}, bootstrap.Options{}, "", "--out-dir: must name a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, dir, err := parseBootstrap(tt.args, getenv)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, tt.wantDir, dir)
		})
	}
}

func TestParseFlags_BootstrapMustComeFirst(t *testing.T) {
	_, err := parseFlags([]string{"--environment", "dev", "bootstrap"})
	require.Error(t, err)
	assert.Equal(t, "bootstrap takes flags of its own and comes first: tap-deploy bootstrap --environment dev,staging,prod --aws-region REGION --repository OWNER/REPO", err.Error())
}

// bootstrap writes its templates, whole, into --out-dir and prints how to
// deploy each; in Actions it refuses, and a mistake writes nothing.
func TestRun_BootstrapWritesItsTemplatesAndRefusesToRunInActions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cfn")
	args := []string{"bootstrap", "--environment", "dev,prod", "--aws-region", "eu-west-1", "--repository", "owner/repo", "--out-dir", dir}

	var stdout, stderr strings.Builder
	require.NoError(t, invoke(context.Background(), args, func(string) string { return "" }, &stdout, &stderr))
	assert.Empty(t, stderr.String())
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.Equal(t, []string{"account.yaml", "dev.yaml", "prod.yaml"}, names, "no temporary file is left")
	for name, resource := range map[string]string{"account.yaml": "StateBucket", "dev.yaml": "DeployRole", "prod.yaml": "DeployRole"} {
		body, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		assert.Less(t, len(body), bootstrap.Headroom, name)
		var doc struct {
			Format    string         `yaml:"AWSTemplateFormatVersion"`
			Resources map[string]any `yaml:"Resources"`
		}
		require.NoError(t, yaml.Unmarshal(body, &doc), name)
		assert.Equal(t, "2010-09-09", doc.Format)
		assert.Contains(t, doc.Resources, resource, name)
		assert.Contains(t, stdout.String(), "--template-file "+filepath.Join(dir, name)+"\n", "the summary says how to deploy %s", name)
	}

	stdout.Reset()
	other := filepath.Join(t.TempDir(), "other")
	inActions := func(k string) string { return map[string]string{"GITHUB_ACTIONS": "true"}[k] }
	err = invoke(context.Background(), append(args[:len(args)-1:len(args)-1], other), inActions, &stdout, io.Discard)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "an administrator runs it on their machine and deploys them, never a workflow")
	assert.Empty(t, stdout.String(), "nothing is printed in Actions")
	assert.NoDirExists(t, other)

	err = invoke(context.Background(), []string{"bootstrap", "--environment", "Dev", "--out-dir", other}, func(string) string { return "" }, &stdout, io.Discard)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `--environment: "Dev" must start with a lowercase letter`)
	assert.Contains(t, err.Error(), "--repository:")
	assert.Empty(t, stdout.String(), "a mistake prints nothing")
	assert.NoDirExists(t, other, "a mistake writes no template")
}

// Many environments are many templates, each far under what aws
// cloudformation deploy sends: no bucket is needed to deploy them.
func TestRun_BootstrapOfManyEnvironmentsNeedsNoBucketToDeploy(t *testing.T) {
	dir := t.TempDir()
	args := []string{"bootstrap", "--environment", "dev,qa,test,uat,staging,preprod,prod", "--aws-region", "eu-west-1", "--repository", "owner/repo", "--out-dir", dir}
	var stdout, stderr strings.Builder
	require.NoError(t, invoke(context.Background(), args, func(string) string { return "" }, &stdout, &stderr))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 8)
	for _, e := range entries {
		info, err := e.Info()
		require.NoError(t, err)
		assert.Less(t, info.Size(), int64(bootstrap.Headroom), e.Name())
	}
	assert.NotContains(t, stdout.String()+stderr.String(), "--s3-bucket")
}

// A region AWS opened after this release is taken: the templates are
// written, and the administrator is told that the name is not known.
func TestRun_BootstrapInAnUnknownRegionWarnsAndWritesTheTemplates(t *testing.T) {
	dir := t.TempDir()
	args := []string{"bootstrap", "--environment", "dev", "--aws-region", "ap-southeast-9", "--repository", "owner/repo", "--out-dir", dir}
	var stdout, stderr strings.Builder
	require.NoError(t, invoke(context.Background(), args, func(string) string { return "" }, &stdout, &stderr))
	assert.Equal(t, `warning: --aws-region: "ap-southeast-9" is not a region this release of tap-deploy knows; it is used as given (partition aws): if it is a typo, the first call to AWS fails`+"\n", stderr.String())
	assert.FileExists(t, filepath.Join(dir, "account.yaml"))
	assert.Contains(t, stdout.String(), "--region ap-southeast-9 ")
}
