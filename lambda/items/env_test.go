package items_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/lambda/items"
)

func TestLoadEnv(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	got, err := items.LoadEnv(env(map[string]string{"TABLE_NAME": "tap-dev-items", "EVENTS_TOPIC_ARN": "arn:aws:sns:eu-west-1:123456789012:tap-dev-item-events"}), true)
	require.NoError(t, err)
	assert.Equal(t, "tap-dev-items", got.TableName)

	_, err = items.LoadEnv(env(map[string]string{}), true)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `TABLE_NAME "" is not a DynamoDB table name`)
	assert.Contains(t, err.Error(), `EVENTS_TOPIC_ARN "" is not an SNS topic ARN`)

	_, err = items.LoadEnv(env(map[string]string{"TABLE_NAME": "tap-dev-items"}), false)
	require.NoError(t, err, "the API handler needs no topic")
}
