package sandbox

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestScopedKey_AnObjectIsKeptPerBucket(t *testing.T) {
	const object = "aws:s3/bucketObjectv2:BucketObjectv2"
	a := scopedKey(object, "lambda/x.zip", map[string]any{"bucket": "tap-dev-artifacts"})
	b := scopedKey(object, "lambda/x.zip", map[string]any{"bucket": "tap-dev-pr-2-artifacts"})
	assert.NotEqual(t, a, b)
	assert.Equal(t, key("aws:sqs/queue:Queue", "q"), scopedKey("aws:sqs/queue:Queue", "q", map[string]any{"bucket": "x"}))
}

func TestRefuseDelete_AsAWSDoes(t *testing.T) {
	const bucket, table, object = "aws:s3/bucketV2:BucketV2", "aws:dynamodb/table:Table", "aws:s3/bucketObjectv2:BucketObjectv2"
	st := &State{Resources: map[string]Resource{
		key(bucket, "kept"):      {ID: "kept", Type: bucket, Inputs: map[string]any{}},
		key(bucket, "forced"):    {ID: "forced", Type: bucket, Inputs: map[string]any{"forceDestroy": true}},
		key(bucket, "empty"):     {ID: "empty", Type: bucket, Inputs: map[string]any{}},
		key(object, "kept/a"):    {ID: "a", Type: object, Inputs: map[string]any{"bucket": "kept"}},
		key(object, "forced/a"):  {ID: "a", Type: object, Inputs: map[string]any{"bucket": "forced"}},
		key(table, "protected"):  {ID: "protected", Type: table, Inputs: map[string]any{"deletionProtectionEnabled": true}},
		key(table, "disposable"): {ID: "disposable", Type: table, Inputs: map[string]any{"deletionProtectionEnabled": false}},
	}}
	for _, tt := range []struct {
		typ, id, err string
	}{
		{bucket, "kept", "BucketNotEmpty"},
		{bucket, "forced", ""},
		{bucket, "empty", ""},
		{table, "protected", "protected against deletions"},
		{table, "disposable", ""},
		{object, "kept/a", ""},
		{object, "a", ""},
		{bucket, "gone", ""},
	} {
		err := refuseDelete(st, key(tt.typ, tt.id))
		if tt.err == "" {
			assert.NoError(t, err, tt.id)
		} else {
			assert.ErrorContains(t, err, tt.err, tt.id)
		}
	}
}
