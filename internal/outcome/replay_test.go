package outcome_test

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/outcome"
)

// The streams under testdata/events are the real Pulumi CLI's, recorded by
// go run ./internal/outcome/record (see its doc) from a small program of a
// component, a DynamoDB table with a secret tag, and a bucket (whose tags
// name the table's stream) with its versioning.

// recorded reads one recorded stream.
func recorded(t *testing.T, file string) []apitype.EngineEvent {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "events", file))
	require.NoError(t, err, "go run ./internal/outcome/record records it")
	defer f.Close()
	var evs []apitype.EngineEvent
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e apitype.EngineEvent
		require.NoError(t, json.Unmarshal(sc.Bytes(), &e), "%s: %s", file, sc.Text())
		evs = append(evs, e)
	}
	require.NoError(t, sc.Err())
	require.NotEmpty(t, evs, file)
	return evs
}

// step is what a test says of one cloud resource's step.
type step struct {
	op      outcome.Op
	changed []string
	reasons []string
	error   string
	changes []outcome.PropertyChange
}

const (
	table      = "aws:dynamodb/table:Table::items"
	files      = "aws:s3/bucketV2:BucketV2::files"
	logs       = "aws:s3/bucketV2:BucketV2::logs"
	versioning = "aws:s3/bucketVersioningV2:BucketVersioningV2::files"
)

func TestFromEvents_RecordedStreams(t *testing.T) {
	known := map[string]any{"tableName": "tap-dev-items", "bucketArn": "arn:aws:s3:::tap-dev-files",
		"arns": map[string]any{"files": "arn:aws:s3:::tap-dev-files", "known": "arn:aws:s3:::tap-dev-known"}}
	// replaced is what the program's second version changes, previewed
	// (the table's stream, which the bucket's tags name, is not known
	// before the replacement) or applied.
	replaced := func(previewed bool) map[string]step {
		tags := []outcome.PropertyChange{{Path: "tags.owner", Kind: "add", New: "team-a", HasNew: true}}
		if previewed {
			tags = append(tags, outcome.PropertyChange{Path: "tags.table", Kind: "update", HasOld: true, HasNew: true,
				Old: "arn:aws:dynamodb:eu-west-1:123456789012:table/tap-dev-items/stream/2026-01-01T00:00:00.000", New: outcome.Unknown})
		}
		tags = append(tags, outcome.PropertyChange{Path: "tags.team", Kind: "delete", Old: "x", HasOld: true})
		return map[string]step{
			// The table's secret tag changed too: the events show both
			// values as the CLI's secret object, so it is named, and no
			// value is shown.
			table: {op: outcome.OpReplace, changed: []string{"attributes", "hashKey", "tags"}, reasons: []string{"hashKey"}, changes: []outcome.PropertyChange{
				{Path: "attributes", Kind: "update", Old: []any{map[string]any{"name": "id", "type": "S"}}, New: []any{map[string]any{"name": "pk", "type": "S"}}, HasOld: true, HasNew: true},
				{Path: "hashKey", Kind: "update", Replace: true, Old: "id", New: "pk", HasOld: true, HasNew: true},
			}},
			versioning: {op: outcome.OpUpdate, changed: []string{"versioningConfiguration"}, changes: []outcome.PropertyChange{
				{Path: "versioningConfiguration.status", Kind: "update", Old: "Enabled", New: "Suspended", HasOld: true, HasNew: true},
			}},
			// A changed map is shown key by key.
			files: {op: outcome.OpUpdate, changed: []string{"tags"}, changes: tags},
		}
	}
	tests := []struct {
		file   string
		kind   outcome.Kind
		counts map[outcome.Op]int
		// pulumi counts the provider and the component.
		pulumi  map[outcome.Op]int
		steps   map[string]step
		outputs map[string]any
		// errors are the error diagnostics, in order.
		errors []string
		// failed are the steps that failed.
		failed []string
	}{
		{
			file: "preview-create.jsonl", kind: outcome.KindPreview,
			counts: map[outcome.Op]int{outcome.OpCreate: 3}, pulumi: map[outcome.Op]int{outcome.OpCreate: 2},
			steps: map[string]step{table: {op: outcome.OpCreate}, files: {op: outcome.OpCreate}, versioning: {op: outcome.OpCreate}},
			// What the bucket's creation computes is not known yet, at
			// any depth.
			outputs: map[string]any{"tableName": "tap-dev-items", "bucketArn": outcome.Unknown,
				"arns": map[string]any{"files": outcome.Unknown, "known": "arn:aws:s3:::tap-dev-known"}},
		},
		{
			file: "up-create.jsonl", kind: outcome.KindUpdate,
			counts: map[outcome.Op]int{outcome.OpCreate: 3}, pulumi: map[outcome.Op]int{outcome.OpCreate: 2},
			steps:   map[string]step{table: {op: outcome.OpCreate}, files: {op: outcome.OpCreate}, versioning: {op: outcome.OpCreate}},
			outputs: known,
		},
		{
			// A replacement is one row (the engine sends replace,
			// create-replacement and delete-replaced), with its reasons.
			file: "preview-replace.jsonl", kind: outcome.KindPreview,
			counts: map[outcome.Op]int{outcome.OpReplace: 1, outcome.OpUpdate: 2}, pulumi: map[outcome.Op]int{outcome.OpSame: 2},
			steps: replaced(true), outputs: known,
		},
		{
			file: "up-replace.jsonl", kind: outcome.KindUpdate,
			counts: map[outcome.Op]int{outcome.OpReplace: 1, outcome.OpUpdate: 2}, pulumi: map[outcome.Op]int{outcome.OpSame: 2},
			steps: replaced(false), outputs: known,
		},
		{
			// The provider's error diagnostic is the failed step's error.
			// (How many other steps the engine reports before it stops
			// differs from one recording to the next: they are not counted.)
			file: "up-failed.jsonl", kind: outcome.KindUpdate, failed: []string{logs},
			steps: map[string]step{logs: {op: outcome.OpCreate,
				error: "sandbox: injected failure creating urn:pulumi:dev::tap::aws:s3/bucketV2:BucketV2::logs (TAP_SANDBOX_FAIL_CREATE)"}},
			errors: []string{"sandbox: injected failure creating urn:pulumi:dev::tap::aws:s3/bucketV2:BucketV2::logs (TAP_SANDBOX_FAIL_CREATE)", "update failed"},
		},
		{
			// A provider refusing the inputs: the engine stops before the
			// resource's step, so its error is a diagnostic naming it.
			file: "preview-check-failed.jsonl", kind: outcome.KindPreview,
			errors: []string{"sandbox: injected failure checking urn:pulumi:dev::tap::tap:data:Data$aws:dynamodb/table:Table::items: InvalidClientTokenId: the security token included in the request is invalid (TAP_SANDBOX_FAIL_CHECK)"},
		},
		{
			// Drift: what a refresh finds changed is an update, what is gone
			// a delete; the CLI leaves what matches at refresh.
			file: "refresh-drift.jsonl", kind: outcome.KindRefresh,
			counts: map[outcome.Op]int{outcome.OpUpdate: 1, outcome.OpDelete: 1, outcome.OpRefresh: 1}, pulumi: map[outcome.Op]int{outcome.OpRefresh: 2},
			steps: map[string]step{
				files: {op: outcome.OpUpdate, changed: []string{"tags"}, changes: []outcome.PropertyChange{
					{Path: "tags.cost-center", Kind: "add", New: "console", HasNew: true},
				}},
				versioning: {op: outcome.OpDelete},
				table:      {op: outcome.OpRefresh},
			},
		},
		{
			file: "destroy.jsonl", kind: outcome.KindDestroy,
			counts: map[outcome.Op]int{outcome.OpDelete: 3}, pulumi: map[outcome.Op]int{outcome.OpDelete: 2},
			steps: map[string]step{table: {op: outcome.OpDelete}, files: {op: outcome.OpDelete}, versioning: {op: outcome.OpDelete}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			r := outcome.FromEvents(tt.kind, recorded(t, tt.file))
			if tt.counts != nil {
				assert.Equal(t, tt.counts, r.Counts, "cloud resources")
				assert.Equal(t, tt.pulumi, r.Pulumi, "Pulumi's own")
			}
			byName := map[string]outcome.Step{}
			for _, s := range r.Steps {
				assert.NotEqual(t, "pulumi:pulumi:Stack", s.Type, "the stack's root is hidden")
				byName[s.Type+"::"+s.Name] = s
			}
			for name, want := range tt.steps {
				got, ok := byName[name]
				require.True(t, ok, "no step of %s in %v", name, r.Steps)
				assert.Equal(t, want.op, got.Op, name)
				assert.Equal(t, want.changed, nilIfEmpty(got.Changed), name)
				assert.Equal(t, want.reasons, nilIfEmpty(got.ReplaceReasons), name)
				assert.Equal(t, want.error, got.Error, name)
				if want.changes != nil {
					assert.Equal(t, want.changes, got.Changes, name)
				}
			}
			if tt.outputs != nil {
				assert.Equal(t, tt.outputs, r.Outputs, "a reader is told what is not known yet")
				assert.Equal(t, nullUnknowns(tt.outputs), r.KnownOutputs(), "a machine gets null, at any depth")
				assert.Equal(t, []string{"apiKey"}, r.SecretOutputs, "a secret output is left out, and named")
			}
			var errs []string
			for _, d := range r.Diagnostics {
				if d.Severity == "error" {
					errs = append(errs, d.Message)
					if strings.Contains(d.Message, "urn:") {
						assert.Contains(t, d.Message, d.URN, "the diagnostic names its resource")
					}
				}
			}
			assert.Equal(t, tt.errors, errs)
			var failed []string
			for _, s := range r.Failed() {
				failed = append(failed, s.Type+"::"+s.Name)
			}
			assert.Equal(t, tt.failed, failed)
			assert.Equal(t, tt.counts[outcome.OpDelete]+tt.counts[outcome.OpReplace] > 0, r.Destructive())
		})
	}
}

// nullUnknowns is v with null for Unknown, at any depth.
func nullUnknowns(v map[string]any) map[string]any {
	out := map[string]any{}
	for k, e := range v {
		switch e := e.(type) {
		case map[string]any:
			out[k] = nullUnknowns(e)
		case string:
			if e == outcome.Unknown {
				out[k] = nil
				continue
			}
			out[k] = e
		default:
			out[k] = e
		}
	}
	return out
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

func TestFromEvents_RecordedGraphKeepsEveryResourceTheEngineSaw(t *testing.T) {
	r := outcome.FromEvents(outcome.KindPreview, recorded(t, "preview-replace.jsonl"))
	var types []string
	for _, res := range r.Resources {
		types = append(types, res.Type)
	}
	assert.ElementsMatch(t, []string{"pulumi:pulumi:Stack", "pulumi:providers:aws", "tap:data:Data",
		"aws:dynamodb/table:Table", "aws:s3/bucketV2:BucketV2", "aws:s3/bucketVersioningV2:BucketVersioningV2"}, types)
	assert.Equal(t, r.Start, outcome.FromEvents(outcome.KindUpdate, recorded(t, "up-replace.jsonl")).Start,
		"the preview and the update that follows it start from the same state")
	assert.NotEqual(t, r.Start, outcome.FromEvents(outcome.KindPreview, recorded(t, "preview-create.jsonl")).Start)
	assert.Nil(t, outcome.Result{}.KnownOutputs(), "no outputs stay no outputs")
}

// A recording holds nothing secret and nothing of the machine that made it:
// the recorder scrubs timestamps, durations, made-up ids and paths.
func TestRecordedStreams_HoldNoSecretsAndNothingThatVaries(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("testdata", "events", "*.jsonl"))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(paths), 8)
	uuid := regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	for _, p := range paths {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		text := string(b)
		// The recorder's secrets (record.APIKey, record.Passphrase,
		// record.TokenV1 and TokenV2).
		for _, secret := range []string{"recorded-api-key-7f3a", "recorded-passphrase", "recorded-token-v1", "recorded-token-v2"} {
			assert.NotContains(t, text, secret, p)
		}
		for _, machine := range []string{"/tmp", "/home/", "/root", "/work", "/Users/", `\\`} {
			assert.NotContains(t, text, machine, p)
		}
		for _, id := range uuid.FindAllString(text, -1) {
			if id != outcome.Unknown {
				assert.Regexp(t, `^00000000-0000-4000-8000-\d{12}$`, id, "%s: a made-up id is numbered", p)
			}
		}
		for _, e := range recorded(t, filepath.Base(p)) {
			assert.Zero(t, e.Timestamp, p)
			if e.SummaryEvent != nil {
				assert.Zero(t, e.SummaryEvent.DurationSeconds, p)
			}
		}
	}
}
