package awsaccount_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/awsaccount"
	"github.com/org/tap-deploy/test/moto"
)

// The reader against moto, through the SDK's default configuration as a
// run loads it (AWS_ENDPOINT_URL pointing at moto).
func TestReader_OnMoto(t *testing.T) {
	endpoint := moto.Start(t)
	moto.Setenv(t, endpoint, "eu-west-1")
	ctx := moto.Context(t)
	for _, name := range []string{"reserves-five", "reserves-nothing"} {
		moto.Function(t, endpoint, "eu-west-1", name)
	}
	_, err := lambda.NewFromConfig(moto.Config(endpoint, "eu-west-1")).PutFunctionConcurrency(ctx,
		&lambda.PutFunctionConcurrencyInput{FunctionName: aws.String("reserves-five"), ReservedConcurrentExecutions: aws.Int32(5)})
	require.NoError(t, err)

	r, err := awsaccount.New(ctx, "eu-west-1")
	require.NoError(t, err)

	t.Run("reserved concurrency per function", func(t *testing.T) {
		got, err := r.Reserved(ctx, []string{"reserves-five", "reserves-nothing", "not-created-yet"})
		require.NoError(t, err)
		assert.Equal(t, map[string]int{"reserves-five": 5, "reserves-nothing": 0}, got,
			"a function without a reservation reserves nothing; one that does not exist yet is left out")
	})

	t.Run("account settings: moto does not implement them", func(t *testing.T) {
		// moto 5.2.1 has no route for GET /2016-08-19/account-settings
		// (moto/awslambda/urls.py) and answers 404: the reader's error
		// must still name the call and its permission. The limit's
		// arithmetic is tested with the fake (awsaccount_test.go, and
		// test/awsfake in internal/app).
		_, err := r.Concurrency(ctx)
		require.Error(t, err, "moto answers GetAccountSettings now: test the limit it reports here")
		assert.Contains(t, err.Error(), "lambda:GetAccountSettings")
	})
}
