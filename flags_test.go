package main

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
		{"unknown flag", []string{"--region", "x"}, nil, "flag provided but not defined: -region"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseFlags(tt.args, io.Discard)
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

func TestRun_HelpPrintsUsageAndSucceeds(t *testing.T) {
	var stderr strings.Builder
	err := run(context.Background(), []string{"--help"}, func(string) string { return "" }, io.Discard, &stderr)
	require.NoError(t, err)
	assert.Contains(t, stderr.String(), "usage: tap-deploy [auto|validate|preview|up|rollback|drift|history|sweep] --environment NAME")
	assert.Contains(t, stderr.String(), "-aws-region")
}
