package app

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRun_ABadConfigurationFailsBeforeAnyPreviewAndSaysSoOnThePR(t *testing.T) {
	h := newHarness(t)
	h.event("pull_request", "pull_request.opened.json", nil)
	h.inputs["config"] = "memory=1"
	require.ErrorIs(t, h.run(), ErrReported)
	assert.Empty(t, h.opened, "no stack was opened")
	require.Len(t, h.gh.bodies(fixturePR), 1, "the PR does not keep an older green comment")
	assert.Contains(t, h.gh.bodies(fixturePR)[0], "invalid configuration")
	assert.Contains(t, h.gh.bodies(fixturePR)[0], "memory")
	assert.Contains(t, h.summaryText(), "The stack configuration is not valid")
}

func TestRun_InvalidInputsAndConfigKeysAreReportedTogether(t *testing.T) {
	h := newHarness(t)
	h.event("pull_request", "pull_request.opened.json", nil)
	h.inputs["command"] = "explode"
	h.inputs["config"] = "memory=1\nlogRetentionDays=13"
	require.ErrorIs(t, h.run(), ErrReported)
	log := h.log()
	assert.Contains(t, log, `command: "explode" is not a command`)
	assert.Contains(t, log, `config key "memory" is unknown`)
	assert.Contains(t, log, "logRetentionDays")
	assert.Empty(t, h.opened)
	assert.Empty(t, h.gh.bodies(fixturePR), "nothing is known about the run yet: no comment")
}

func TestRun_AMandatoryViolationStopsThePreviewAndCommentsWhy(t *testing.T) {
	h := newHarness(t)
	h.event("pull_request", "pull_request.opened.json", nil)
	h.inputs["policy-overrides"] = "CKV_AWS_9999=disabled"
	require.ErrorIs(t, h.run(), ErrReported)
	assert.Empty(t, h.opened)
	require.Len(t, h.gh.bodies(fixturePR), 1)
	assert.Contains(t, h.gh.bodies(fixturePR)[0], "mandatory policy violation")
	assert.Equal(t, "1", h.outputs()["policy-violations"])
}

func TestRun_AValidateRunBesideAPreviewNeverTakesTheComment(t *testing.T) {
	h := newHarness(t)
	h.event("pull_request", "pull_request.opened.json", nil)
	h.inputs["command"] = "validate"
	require.NoError(t, h.run(), h.log())
	assert.Empty(t, h.gh.bodies(fixturePR))
	assert.Contains(t, h.summaryText(), "Validation of `tap` / `dev`")
}

func TestRun_AnEventThatNeedsNothingSetsCommandNone(t *testing.T) {
	h := newHarness(t)
	h.event("pull_request", "pull_request.closed.json", nil)
	require.NoError(t, h.run())
	assert.Equal(t, "none", h.outputs()["command"])
	assert.Zero(t, h.clients)
}

func TestRun_InputProblemsComeOneALineNamingTheFlagLocally(t *testing.T) {
	h := newHarness(t)
	local(h)
	h.inputs["aws-region"] = "eu-west-1a"
	h.inputs["command"] = "explode"
	h.inputs["config"] = "memory=1"
	require.ErrorIs(t, h.run(), ErrReported)
	lines := strings.Split(h.stderr.String(), "\n")
	require.GreaterOrEqual(t, len(lines), 4, h.stderr.String())
	assert.Equal(t, []string{
		"error: The inputs are not valid (3 problems):",
		`  --command: "explode" is not a command; use one of auto, validate, preview, up, rollback, drift, history, sweep, destroy`,
		`  --aws-region: "eu-west-1a" is not an AWS region name (like eu-west-1)`,
	}, lines[:3])
	assert.True(t, strings.HasPrefix(lines[3], `  --config key "memory" is unknown; known keys: `), lines[3])
}

func TestRun_InputProblemsAreOneAnnotationEachInActions(t *testing.T) {
	h := newHarness(t)
	h.event("pull_request", "pull_request.opened.json", nil)
	h.inputs["aws-region"] = "eu-west-1a"
	h.inputs["command"] = "explode"
	require.ErrorIs(t, h.run(), ErrReported)
	var annotations []string
	for _, line := range strings.Split(h.stdout.String(), "\n") {
		if strings.HasPrefix(line, "::error::") {
			annotations = append(annotations, line)
		}
	}
	assert.Equal(t, []string{
		`::error::The inputs are not valid: command: "explode" is not a command; use one of auto, validate, preview, up, rollback, drift, history, sweep, destroy`,
		`::error::The inputs are not valid: aws-region: "eu-west-1a" is not an AWS region name (like eu-west-1)`,
	}, annotations)
}

func TestRun_ABadConfigKeyNamesTheFlagLocally(t *testing.T) {
	h := newHarness(t)
	local(h)
	h.inputs["config"] = "logRetentionDays=13"
	require.ErrorIs(t, h.run(), ErrReported)
	assert.Contains(t, h.stderr.String(), "error: The stack configuration is not valid: --config logRetentionDays: must be one of")
	assert.Empty(t, h.opened)
}

func TestRun_AnUnknownRegionOfAWSFormIsAWarningAndTheRunGoesOn(t *testing.T) {
	h := newHarness(t)
	local(h)
	h.inputs["aws-region"] = "ap-southeast-9"
	h.inputs["command"] = "validate"
	require.NoError(t, h.run(), h.log())
	assert.Contains(t, h.stderr.String(), `--aws-region: "ap-southeast-9" is not a region this release of tap-deploy knows; it is used as given (partition aws)`)
	assert.Contains(t, h.log(), "output command=validate")
}

func TestRun_AnUnknownRegionIsAWarningAnnotationInActions(t *testing.T) {
	h := newHarness(t)
	h.event("pull_request", "pull_request.opened.json", nil)
	h.inputs["aws-region"] = "ap-southeast-9"
	h.inputs["command"] = "validate"
	require.NoError(t, h.run(), h.log())
	assert.Contains(t, h.stdout.String(), `::warning::aws-region: "ap-southeast-9" is not a region this release of tap-deploy knows`)
}
