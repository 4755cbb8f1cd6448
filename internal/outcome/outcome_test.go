package outcome_test

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/outcome"
)

const tableURN = "urn:pulumi:dev::tap::tap:data:Data$aws:dynamodb/table:Table::items"

func pre(op apitype.OpType, urn, typ string, keys []string, diff ...string) apitype.EngineEvent {
	dd := map[string]apitype.PropertyDiff{}
	for _, k := range diff {
		dd[k] = apitype.PropertyDiff{Kind: apitype.DiffUpdate}
	}
	return apitype.EngineEvent{ResourcePreEvent: &apitype.ResourcePreEvent{Metadata: apitype.StepEventMetadata{
		Op: op, URN: urn, Type: typ, Keys: keys, DetailedDiff: dd,
		New: &apitype.StepEventStateMetadata{URN: urn, Type: typ, Custom: true, Inputs: map[string]any{"name": "x"}},
	}}}
}

// The events below are built by hand only where the recorded streams
// (replay_test.go) cannot show the case.

// The engine runs the CLI with --color never, so no recorded stream holds
// colour tags or escapes; a message may still carry them (a provider's own
// ANSI codes), and none reaches a reader.
func TestFromEvents_FailureCarriesTheProvidersErrorWithoutColour(t *testing.T) {
	evs := []apitype.EngineEvent{
		pre(apitype.OpCreate, tableURN, "aws:dynamodb/table:Table", nil),
		{DiagnosticEvent: &apitype.DiagnosticEvent{URN: tableURN, Severity: "error", Message: "<{%fg 1%}>creating table: \x1b[31mLimitExceeded<{%reset%}>\n"}},
		{ResOpFailedEvent: &apitype.ResOpFailedEvent{Metadata: apitype.StepEventMetadata{Op: apitype.OpCreate, URN: tableURN, Type: "aws:dynamodb/table:Table"}}},
	}
	r := outcome.FromEvents(outcome.KindUpdate, evs)
	failed := r.Failed()
	require.Len(t, failed, 1)
	assert.Equal(t, "creating table: LimitExceeded", failed[0].Error, "colour codes are removed")
	require.Len(t, r.Diagnostics, 1)
}

// The pinned CLI ends a refresh's steps with same, update or delete
// (refresh-drift.jsonl); a refresh outputs event of op refresh, which
// refreshed compares itself, is built here.
func TestFromEvents_RefreshFindsDrift(t *testing.T) {
	refresh := func(urn string, old, new map[string]any, id string) apitype.EngineEvent {
		m := apitype.StepEventMetadata{Op: apitype.OpRefresh, URN: urn, Type: "aws:lambda/function:Function",
			Old: &apitype.StepEventStateMetadata{ID: "x", Custom: true, Outputs: old}}
		if new != nil {
			m.New = &apitype.StepEventStateMetadata{ID: id, Custom: true, Outputs: new}
		}
		return apitype.EngineEvent{ResOutputsEvent: &apitype.ResOutputsEvent{Metadata: m}}
	}
	evs := []apitype.EngineEvent{
		refresh("urn:pulumi:dev::tap::aws:lambda/function:Function::same", map[string]any{"memorySize": 256.0}, map[string]any{"memorySize": 256.0}, "x"),
		refresh("urn:pulumi:dev::tap::aws:lambda/function:Function::changed", map[string]any{"memorySize": 256.0}, map[string]any{"memorySize": 2048.0}, "x"),
		refresh("urn:pulumi:dev::tap::aws:lambda/function:Function::gone", map[string]any{"memorySize": 256.0}, map[string]any{}, ""),
	}
	r := outcome.FromEvents(outcome.KindRefresh, evs)
	assert.Equal(t, map[outcome.Op]int{outcome.OpSame: 1, outcome.OpUpdate: 1, outcome.OpDelete: 1}, r.Counts)
	changed := r.ByOp(outcome.OpUpdate)
	require.Len(t, changed, 1)
	assert.Equal(t, []string{"memorySize"}, changed[0].Changed)
	assert.Equal(t, []outcome.PropertyChange{{Path: "memorySize", Kind: "update", Old: 256.0, New: 2048.0, HasOld: true, HasNew: true}}, changed[0].Changes,
		"drift says how the value changed")
}

// Not recorded: a diff against the old state's outputs (arn, not an input
// diff), and secrets as "[secret]" (the pinned CLI sends its secret object
// instead: the table's tags in preview-replace.jsonl, where the rest of
// this case, maps key by key and an unknown value, is recorded).
func TestFromEvents_ChangesCarryOldAndNewValuesKeyByKey(t *testing.T) {
	fn := "urn:pulumi:dev::tap::tap:functions:Function$aws:lambda/function:Function::api-handler"
	ev := apitype.EngineEvent{ResourcePreEvent: &apitype.ResourcePreEvent{Metadata: apitype.StepEventMetadata{
		Op: apitype.OpReplace, URN: fn, Type: "aws:lambda/function:Function", Keys: []string{"name"},
		DetailedDiff: map[string]apitype.PropertyDiff{
			"memorySize":                   {Kind: apitype.DiffUpdate, InputDiff: true},
			"tags":                         {Kind: apitype.DiffUpdate, InputDiff: true},
			"name":                         {Kind: apitype.DiffUpdateReplace, InputDiff: true},
			"environment.variables.SECRET": {Kind: apitype.DiffUpdate, InputDiff: true},
			"arn":                          {Kind: apitype.DiffUpdate},
		},
		Old: &apitype.StepEventStateMetadata{Custom: true,
			Inputs: map[string]any{"memorySize": 256.0, "name": "a", "tags": map[string]any{"project": "tap", "team": "x"},
				"environment": map[string]any{"variables": map[string]any{"SECRET": "[secret]"}}},
			Outputs: map[string]any{"arn": "arn:aws:lambda:eu-west-1:1:function:a"}},
		New: &apitype.StepEventStateMetadata{Custom: true,
			Inputs: map[string]any{"memorySize": 512.0, "name": "b", "tags": map[string]any{"project": "tap", "owner": "team-a"},
				"environment": map[string]any{"variables": map[string]any{"SECRET": "[secret]"}}, "arn": outcome.Unknown}},
	}}}
	r := outcome.FromEvents(outcome.KindPreview, []apitype.EngineEvent{ev})
	require.Len(t, r.Steps, 1)
	assert.Equal(t, []outcome.PropertyChange{
		{Path: "arn", Kind: "update", Old: "arn:aws:lambda:eu-west-1:1:function:a", New: outcome.Unknown, HasOld: true, HasNew: true},
		{Path: "environment.variables.SECRET", Kind: "update", Old: "[secret]", New: "[secret]", HasOld: true, HasNew: true},
		{Path: "memorySize", Kind: "update", Old: 256.0, New: 512.0, HasOld: true, HasNew: true},
		{Path: "name", Kind: "update", Replace: true, Old: "a", New: "b", HasOld: true, HasNew: true},
		{Path: "tags.owner", Kind: "add", New: "team-a", HasNew: true},
		{Path: "tags.team", Kind: "delete", Old: "x", HasOld: true},
	}, r.Steps[0].Changes)
}

func TestWithoutChangesOf_LeavesOutOnlyWhatAnotherServiceOwns(t *testing.T) {
	alias := "aws:lambda/alias:Alias"
	owned := map[string][]string{alias: {"functionVersion", "routingConfig"}}
	r := outcome.Result{Kind: outcome.KindRefresh, Counts: map[outcome.Op]int{outcome.OpUpdate: 3}, Steps: []outcome.Step{
		{Type: alias, Name: "api-live", Op: outcome.OpUpdate, Custom: true, Changed: []string{"functionVersion", "routingConfig.additionalVersionWeights"}},
		{Type: alias, Name: "files-live", Op: outcome.OpUpdate, Custom: true, Changed: []string{"functionVersion", "description"}},
		{Type: "aws:lambda/function:Function", Name: "api", Op: outcome.OpUpdate, Custom: true, Changed: []string{"functionVersion"}},
	}}
	got := r.WithoutChangesOf(owned)
	assert.Equal(t, outcome.OpSame, got.Steps[0].Op, "only CodeDeploy's properties changed")
	assert.Empty(t, got.Steps[0].Changed)
	assert.Equal(t, outcome.OpUpdate, got.Steps[1].Op, "a change CodeDeploy does not own is drift")
	assert.Equal(t, outcome.OpUpdate, got.Steps[2].Op, "the properties are owned per type")
	assert.Equal(t, map[outcome.Op]int{outcome.OpSame: 1, outcome.OpUpdate: 2}, got.Counts)
	assert.Equal(t, outcome.OpUpdate, r.Steps[0].Op, "the original is untouched")
	assert.True(t, got.HasChanges())
	assert.False(t, outcome.Result{Steps: got.Steps[:1], Counts: map[outcome.Op]int{}}.WithoutChangesOf(owned).HasChanges())
}

// A policy finding comes from a policy pack, which the action does not run
// through the CLI (its rules run on the graph: internal/policy), so no
// recorded stream holds one.
func TestFromEvents_PolicyEventsAreFindingsOfTheirResource(t *testing.T) {
	r := outcome.FromEvents(outcome.KindPreview, []apitype.EngineEvent{{PolicyEvent: &apitype.PolicyEvent{
		ResourceURN: tableURN, PolicyName: "CKV_AWS_28", EnforcementLevel: "mandatory",
		Message: "<{%fg 1%}>point-in-time recovery is off<{%reset%}>\n",
	}}})
	assert.Equal(t, []outcome.Finding{{RuleID: "CKV_AWS_28", Level: "mandatory", URN: tableURN, Resource: "items",
		Message: "point-in-time recovery is off"}}, r.Findings)
}
