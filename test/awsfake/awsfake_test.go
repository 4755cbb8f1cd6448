package awsfake_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/awsaccount"
	"github.com/org/tap-deploy/test/awsfake"
	"github.com/org/tap-deploy/test/sandbox"
)

// The action's own AWS client reads the sandbox's account through the fake.
func TestLambda_TheSDKReadsTheSandboxAccount(t *testing.T) {
	cloud := filepath.Join(t.TempDir(), "cloud.json")
	require.NoError(t, sandbox.Store{Path: cloud}.Update(func(st *sandbox.State) error {
		st.Account.LambdaConcurrency = 1000
		st.Resources["fn"] = sandbox.Resource{ID: "tap-dev-api-handler", Type: "aws:lambda/function:Function", Region: "eu-west-1",
			Inputs: map[string]any{"reservedConcurrentExecutions": 50.0}}
		st.Resources["other-region"] = sandbox.Resource{ID: "tap-dev-api-handler", Type: "aws:lambda/function:Function", Region: "us-east-1",
			Inputs: map[string]any{"reservedConcurrentExecutions": 300.0}}
		return nil
	}))
	fake := awsfake.New(cloud)
	defer fake.Close()
	for k, v := range fake.Env() {
		t.Setenv(k, v)
	}
	r, err := awsaccount.New(context.Background(), "eu-west-1")
	require.NoError(t, err)
	c, err := r.Concurrency(context.Background())
	require.NoError(t, err)
	assert.Equal(t, awsaccount.Concurrency{Region: "eu-west-1", Limit: 1000, Unreserved: 950}, c, "reservations are per region")

	reserved, err := r.Reserved(context.Background(), []string{"tap-dev-api-handler", "tap-dev-not-there"})
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"tap-dev-api-handler": 50}, reserved, "a function that does not exist reserves nothing")
	assert.Equal(t, 1, fake.Calls("lambda:GetAccountSettings"))
	assert.Equal(t, 2, fake.Calls("lambda:GetFunctionConcurrency"))
}
