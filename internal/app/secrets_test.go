package app

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/outcome"
)

// echoed is what a provider error that quotes the run's credentials says.
func echoed(secrets ...string) string {
	return "InvalidClientTokenId: the request signed with " + strings.Join(secrets, " and ") + " was refused"
}

func TestSecrets_AnEchoedCredentialLeavesNowhere(t *testing.T) {
	credentials := map[string]string{
		"AWS_ACCESS_KEY_ID":        "AKIA5EXAMPLE7KEYID42",
		"AWS_SECRET_ACCESS_KEY":    "wJal_rXUt*nFEMI/K7M@DENG+bPxRfi_CY",
		"AWS_SESSION_TOKEN":        "IQoJb3JpZ2luX2VjE_session*token@42",
		"PULUMI_ACCESS_TOKEN":      "pul-0123_4567*89ab@cdef",
		"PULUMI_CONFIG_PASSPHRASE": "my_db_pass_*with@marks",
	}
	h := newHarness(t)
	h.event("pull_request", "pull_request.opened.json", nil)
	h.inputs["backend-url"] = "s3://state/tap"
	var all []string
	for k, v := range credentials {
		h.env[k] = v
		all = append(all, v)
	}
	passphraseFile := filepath.Join(h.dir, "passphrase")
	require.NoError(t, os.WriteFile(passphraseFile, []byte("file_pass*phrase@1\n"), 0o600))
	h.env["PULUMI_CONFIG_PASSPHRASE_FILE"] = passphraseFile
	all = append(all, "file_pass*phrase@1", h.inputs["github-token"])

	h.stack.preview = func(context.Context) (outcome.Result, error) {
		res := changes(outcome.KindPreview, outcome.Step{URN: "urn:x", Type: "aws:lambda/function:Function", Name: "api-handler", Op: outcome.OpCreate, Error: echoed(all...)})
		res.Error = echoed(all...)
		res.Diagnostics = []outcome.Diagnostic{{Severity: "error", Message: echoed(all...)}}
		res.Outputs = map[string]any{"nested": map[string]any{"key": echoed(all...)}}
		return res, errors.New(echoed(all...))
	}
	require.ErrorIs(t, h.run(), ErrReported)

	require.Len(t, h.gh.bodies(fixturePR), 1)
	places := map[string]string{"comment": h.gh.bodies(fixturePR)[0], "summary": h.summaryText()}
	outputs, _ := os.ReadFile(h.outputPath)
	places["outputs"] = string(outputs)
	var log []string
	for _, line := range strings.Split(h.stdout.String(), "\n") {
		if !strings.HasPrefix(line, "::add-mask::") {
			log = append(log, line)
		}
	}
	places["log and annotations"] = strings.Join(log, "\n")
	for where, text := range places {
		for _, secret := range all {
			escaped := strings.NewReplacer("_", `\_`, "*", `\*`, "@", "@\u200b", "+", "+").Replace(secret)
			assert.NotContains(t, text, secret, "%s holds a credential", where)
			assert.NotContains(t, text, escaped, "%s holds a credential, markdown-escaped", where)
		}
	}
	assert.Contains(t, places["comment"], "InvalidClientTokenId: the request signed with \\*\\*\\* and \\*\\*\\*", "the error is still shown, masked")
}

func TestRun_RefusesReplacementLambdaCodeInActions(t *testing.T) {
	h := pushHarness(t)
	h.env["TAP_LAMBDA_ZIPS_DIR"] = t.TempDir()
	require.ErrorIs(t, h.run(), ErrReported)
	assert.Contains(t, h.log(), "TAP_LAMBDA_ZIPS_DIR is set: it replaces the Lambda code this action deploys and is for local development only")
	assert.Empty(t, h.opened)
}
