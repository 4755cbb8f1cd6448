package sandbox

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestKeyIn_RegionalTypesPerRegionGlobalOnesOnce(t *testing.T) {
	a := keyIn("eu-west-1", tObject, "lambda/x.zip", map[string]any{"bucket": "tap-dev-artifacts"})
	b := keyIn("eu-west-1", tObject, "lambda/x.zip", map[string]any{"bucket": "tap-dev-pr-2-artifacts"})
	assert.NotEqual(t, a, b, "an object is kept per bucket")
	assert.NotEqual(t, keyIn("eu-west-1", tTable, "items", nil), keyIn("us-east-1", tTable, "items", nil), "a table name is per region")
	assert.Equal(t, keyIn("eu-west-1", tRole, "r", nil), keyIn("us-east-1", tRole, "r", nil), "IAM is one namespace for every region")
	assert.Equal(t, keyIn("eu-west-1", tBucket, "b", nil), keyIn("us-east-1", tBucket, "b", nil), "S3 is one namespace for every region")
}

func TestRefuseDelete_AsAWSDoes(t *testing.T) {
	const region = "eu-west-1"
	st := &State{Resources: map[string]Resource{}}
	for _, r := range []Resource{
		{ID: "kept", Type: tBucket, Inputs: map[string]any{}},
		{ID: "forced", Type: tBucket, Inputs: map[string]any{"forceDestroy": true}},
		{ID: "empty", Type: tBucket, Inputs: map[string]any{}},
		{ID: "a", Type: tObject, Inputs: map[string]any{"bucket": "kept"}},
		{ID: "a", Type: tObject, Inputs: map[string]any{"bucket": "forced"}},
		{ID: "protected", Type: tTable, Inputs: map[string]any{"deletionProtectionEnabled": true}},
		{ID: "disposable", Type: tTable, Inputs: map[string]any{"deletionProtectionEnabled": false}},
	} {
		st.Resources[keyIn(region, r.Type, r.ID, r.Inputs)] = r
	}
	for _, tt := range []struct {
		typ, id, bucket, err string
	}{
		{tBucket, "kept", "", "BucketNotEmpty"},
		{tBucket, "forced", "", ""},
		{tBucket, "empty", "", ""},
		{tTable, "protected", "", "protected against deletions"},
		{tTable, "disposable", "", ""},
		{tObject, "a", "kept", ""},
		{tBucket, "gone", "", ""},
	} {
		err := refuseDelete(st, keyIn(region, tt.typ, tt.id, map[string]any{"bucket": tt.bucket}))
		if tt.err == "" {
			assert.NoError(t, err, tt.id)
		} else {
			assert.ErrorContains(t, err, tt.err, tt.id)
		}
	}
}
