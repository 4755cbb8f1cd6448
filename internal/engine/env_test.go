package engine_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/engine"
	"github.com/org/tap-deploy/internal/oidcrole"
)

// The Pulumi CLI a stack is opened with runs with the settings' Env over
// the process environment: a promotion's source in another account is
// read with its role's credentials, not the run's own (internal/app gives
// them to that stack only). A stand-in `pulumi` on PATH records the
// environment it was started with and answers as the CLI does for a stack
// that is not there.
func TestOpen_StartsTheCLIWithTheSettingsCredentialsOverTheProcesses(t *testing.T) {
	dir := t.TempDir()
	record := filepath.Join(dir, "env")
	script := "#!/bin/sh\nenv > '" + record + "'\necho \"error: no stack named 'staging' found\" >&2\nexit 255\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "pulumi"), []byte(script), 0o755))
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("AWS_ACCESS_KEY_ID", "ASIATARGETPRODACCOUNT")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "target-secret")
	t.Setenv("AWS_SESSION_TOKEN", "target-session")
	t.Setenv("AWS_PROFILE", "prod-admin")

	source := oidcrole.Credentials{AccessKeyID: "ASIASOURCESTAGING", SecretAccessKey: "source-secret", SessionToken: "source-session"}
	s := engine.Settings{Project: "tap", Stack: "staging", BackendURL: "s3://tap-pulumi-state-111111111111-eu-west-1/tap?region=eu-west-1",
		SecretsProvider: "passphrase", PulumiHome: t.TempDir(), Env: source.Env(), MustExist: true}
	_, err := engine.Open(context.Background(), s, nil)
	require.ErrorIs(t, err, engine.ErrNoStack)

	b, err := os.ReadFile(record)
	require.NoError(t, err, "the CLI was started")
	got := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			got[k] = v
		}
	}
	assert.Equal(t, "ASIASOURCESTAGING", got["AWS_ACCESS_KEY_ID"])
	assert.Equal(t, "source-secret", got["AWS_SECRET_ACCESS_KEY"])
	assert.Equal(t, "source-session", got["AWS_SESSION_TOKEN"])
	assert.Empty(t, got["AWS_PROFILE"], "no profile of the run's can win over them")
	assert.Equal(t, s.BackendURL, got["PULUMI_BACKEND_URL"])
}
