package app

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/engine"
	"github.com/org/tap-deploy/internal/outcome"
	"github.com/org/tap-deploy/internal/shift"
	"github.com/org/tap-deploy/stack"
	"github.com/org/tap-deploy/test/stacktest"
)

// shipped is the packages the promoting deploy ships in these tests.
var shipped = stack.Packages{
	stack.APIHandler.Key:      {SHA256: strings.Repeat("a", 64)},
	stack.FileProcessor.Key:   {SHA256: strings.Repeat("b", 64)},
	stack.StreamProcessor.Key: {SHA256: strings.Repeat("c", 64)},
}

// ranPackages records packages as an update does (stack.Record).
func ranPackages(code stack.Packages) string {
	return stack.Record(stack.Config{}, code, stack.Provenance{})[stack.PackagesKey]
}

func stagingUpdate(version int, result, commit, action string) *engine.Update {
	return &engine.Update{Version: version, Kind: "update", Result: result,
		Config: map[string]string{stack.CommitKey: commit, stack.ActionVersionKey: action, stack.PackagesKey: ranPackages(shipped)}}
}

// rolledBack is staging rolled back, by this release, to an update an
// older release made: the commit and the action version the rollback
// records are this deploy's, its api-handler package is not.
func rolledBack(sha, version string) *engine.Update {
	u := stagingUpdate(16, "succeeded", sha, version)
	older := stack.Packages{}
	for k, v := range shipped {
		older[k] = v
	}
	older[stack.APIHandler.Key] = stack.Package{SHA256: strings.Repeat("9", 64)}
	u.Config[stack.PackagesKey] = ranPackages(older)
	return u
}

func TestPromotionProblems(t *testing.T) {
	const sha, version = "6113728f27ae82c7b1a177c8d03f9e96e0adf246", "v1.4.0"
	live := func(name, current, target, running string) functionTraffic {
		return functionTraffic{Function: shift.Function{Name: name, Current: current, Target: target}, running: running}
	}
	tests := []struct {
		name string
		src  promotionSource
		want []string
	}{
		{"the same update, fully shifted", promotionSource{latest: stagingUpdate(14, "succeeded", sha, version), traffic: []functionTraffic{live("api", "4", "4", "")}}, nil},
		{"no update yet", promotionSource{}, []string{"stack staging has no update yet: deploy it first"}},
		{"another commit", promotionSource{latest: stagingUpdate(14, "succeeded", "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", version)},
			[]string{"a different commit: staging runs 0d1a26e (version 14), this deploy is of 6113728"}},
		{"another action", promotionSource{latest: stagingUpdate(14, "succeeded", sha, "v1.3.9")},
			[]string{"a different tap-deploy: staging was deployed by v1.3.9 (version 14), this is v1.4.0"}},
		{"a failed update", promotionSource{latest: stagingUpdate(15, "failed", sha, version)},
			[]string{"the latest update of staging (version 15) failed: promote only what succeeded there"}},
		{"an update in progress", promotionSource{latest: stagingUpdate(14, "succeeded", sha, version), pending: 2},
			[]string{"an update of staging is in progress or was interrupted (2 unfinished operation(s) in its state)"}},
		{"a shift that stopped", promotionSource{latest: stagingUpdate(14, "succeeded", sha, version), traffic: []functionTraffic{live("tap-staging-api-handler", "3", "4", "")}},
			[]string{"tap-staging-api-handler: staging serves version 3, not version 4 of its latest update: the traffic shift did not complete"}},
		{"a shift still running", promotionSource{latest: stagingUpdate(14, "succeeded", sha, version), traffic: []functionTraffic{live("tap-staging-api-handler", "3", "4", "d-RUNNING")}},
			[]string{"tap-staging-api-handler: a traffic shift is still running in staging (CodeDeploy deployment d-RUNNING)"}},
		{"a rollback to code an older release built", promotionSource{latest: rolledBack(sha, version)},
			[]string{"api-handler: staging runs package sha256:999999999999 (version 16), this deploy ships sha256:aaaaaaaaaaaa"}},
		{"packages not recorded", promotionSource{latest: &engine.Update{Version: 3, Kind: "update", Result: "succeeded", Config: map[string]string{stack.CommitKey: sha, stack.ActionVersionKey: version}}},
			[]string{"the latest update of staging (version 3) recorded no package digests"}},
		{"unreadable traffic", promotionSource{latest: stagingUpdate(14, "succeeded", sha, version), unread: "lambda:GetAlias: AccessDenied"},
			[]string{"the traffic of staging could not be checked: lambda:GetAlias: AccessDenied"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.src.stack = "staging"
			got := promotionProblems(tt.src, sha, version, shipped)
			require.Len(t, got, len(tt.want), "%q", got)
			for i := range tt.want {
				assert.Contains(t, got[i], tt.want[i])
			}
		})
	}
}

// promotionHarness deploys prod, promoted from a staging stack whose
// latest update the test decides.
func promotionHarness(t *testing.T, latest *engine.Update) *harness {
	h := pushHarness(t)
	h.inputs["environment"] = "prod"
	h.inputs["promote-from"] = "staging"
	h.inputs["commit-order"] = "warn"
	staging := &fakeStack{
		history: func(context.Context) ([]engine.Update, error) {
			if latest == nil {
				return nil, nil
			}
			return []engine.Update{{Version: latest.Version + 1, Kind: "refresh", Result: "succeeded"}, *latest}, nil
		},
		state: func(context.Context) (engine.State, error) {
			return engine.State{Digest: "staging", Outputs: withTraffic(changes("update"), "4").Outputs}, nil
		},
	}
	h.others = map[string]*fakeStack{"staging": staging}
	for _, f := range stack.FunctionNames(stack.Config{Base: stack.Base{Project: "tap", Region: "eu-west-1"}, EnvironmentSuffix: "dev"}) {
		h.traffic.aliases[f] = shift.Alias{Version: "4"}
	}
	return h
}

func TestDeploy_APromotionOfStagingsUpdateIsRecorded(t *testing.T) {
	latest := stagingUpdate(14, "succeeded", pushedSHA, "v1.0.0-test")
	latest.Config[stack.PackagesKey] = ranPackages(stacktest.Packages(t, "a")) // the harness's packages
	h := promotionHarness(t, latest)
	require.NoError(t, h.run(), h.log())
	require.Len(t, h.stack.ups, 1)
	assert.Contains(t, h.stack.messages[0], "promoted from staging, update 14 · tap-deploy · commit "+pushedSHA)
	var prodOpened engine.Settings
	for _, s := range h.opened {
		if s.Stack == "prod" {
			prodOpened = s
		}
	}
	assert.Equal(t, "staging@14", prodOpened.Config[stack.PromotedFromKey], "the update records where it came from")
	assert.Contains(t, h.summaryText(), "Deploy (promoted from staging, update 14) of `tap` / `prod`")
	assert.Contains(t, h.log(), "promoted from staging, update 14: the same commit 6113728, tap-deploy v1.0.0-test and Lambda packages, its traffic fully shifted")
}

func TestDeploy_APromotionThatDiffersChangesNothing(t *testing.T) {
	h := promotionHarness(t, stagingUpdate(14, "succeeded", "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", "v1.0.0-test"))
	require.ErrorIs(t, h.run(), ErrReported)
	assert.Contains(t, h.log(), "Refusing to promote from staging; nothing was changed")
	assert.Contains(t, h.log(), "a different commit: staging runs 0d1a26e (version 14), this deploy is of 6113728")
	assert.Empty(t, h.stack.ups)
	for _, s := range h.opened {
		assert.NotEqual(t, "prod", s.Stack, "a refused promotion does not even open the stack it would deploy")
	}
}

func TestDeploy_APromotionFromAStackThatDoesNotExistIsRefused(t *testing.T) {
	h := promotionHarness(t, nil)
	h.others = nil
	require.ErrorIs(t, h.run(), ErrReported)
	assert.Contains(t, h.log(), "Refusing to promote from staging; nothing was changed")
	assert.Contains(t, h.log(), "stack staging does not exist in this run's backend: deploy it there before promoting from it")
	assert.Empty(t, h.stack.ups)
}

func TestPromoteFrom_IsValidated(t *testing.T) {
	for value, want := range map[string]string{
		"dev":       `"dev" is this run's own stack`,
		"bad name!": `may hold letters, digits`,
	} {
		h := pushHarness(t)
		h.inputs["promote-from"] = value
		require.ErrorIs(t, h.run(), ErrReported)
		assert.Contains(t, h.log(), want)
	}
	h := newHarness(t)
	h.event("workflow_dispatch", "workflow_dispatch.json", nil)
	h.inputs["command"] = "rollback"
	h.inputs["rollback-to"] = "1"
	h.inputs["promote-from"] = "staging"
	require.ErrorIs(t, h.run(), ErrReported)
	assert.Contains(t, h.log(), "applies to deploys (command up), not to command rollback")
}

// Attack (issue 31, item 4): the source is checked before the target waits
// for its lock (up to lock-timeout); staging rolled back meanwhile must not
// let prod deploy what staging no longer runs.
func TestDeploy_APromotionWhoseSourceIsRolledBackDuringTheLockWaitChangesNothing(t *testing.T) {
	latest := stagingUpdate(14, "succeeded", pushedSHA, "v1.0.0-test")
	latest.Config[stack.PackagesKey] = ranPackages(stacktest.Packages(t, "a"))
	h := promotionHarness(t, latest)
	h.inputs["lock-timeout"] = "1m"
	staging := h.others["staging"]
	locked := true
	h.stack.up = func(context.Context, string) (outcome.Result, error) {
		if locked {
			// While prod waits for its lock, staging is rolled back to
			// an update of another commit.
			locked = false
			staging.history = func(context.Context) ([]engine.Update, error) {
				return []engine.Update{*rolledBack("0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", "v1.0.0-test"), *latest}, nil
			}
			return outcome.Result{Kind: outcome.KindUpdate}, lockedErr()
		}
		return changes(outcome.KindUpdate), nil
	}
	require.ErrorIs(t, h.run(), ErrReported)
	assert.Contains(t, h.log(), "The promotion's source no longer runs what this deploy repeats; nothing was changed")
	assert.Contains(t, h.log(), "checked again under the lock of prod, right before the update, staging: its latest update is now version 16, not the checked version 14")
	assert.Contains(t, h.log(), "a different commit: staging runs 0d1a26e (version 16)")
	assert.Len(t, h.stack.ups, 2, "the locked attempt, then the one the check stopped before any change")
}
