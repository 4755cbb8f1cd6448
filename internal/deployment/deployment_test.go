package deployment_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/deployment"
	"github.com/org/tap-deploy/internal/github"
	"github.com/org/tap-deploy/test/githubtest"
)

func spec(key string) deployment.Spec {
	return deployment.Spec{Owner: "Codertocat", Repo: "Hello-World", Ref: "6113728f27ae82c7b1a177c8d03f9e96e0adf246", Environment: "staging",
		Description: "tap-deploy · commit 6113728 · by Codertocat", LogURL: "https://github.com/Codertocat/Hello-World/actions/runs/1", Key: key}
}

func TestDeployment_InProgressThenSuccessMakesTheOlderOneInactive(t *testing.T) {
	fake := githubtest.New()
	defer fake.Close()
	gh := fake.Client(t)
	ctx := context.Background()
	for _, key := range []string{"run-1", "run-2"} {
		id, err := deployment.Start(ctx, gh, spec(key))
		require.NoError(t, err)
		require.NoError(t, deployment.Finish(ctx, gh, spec(key), id, true, "https://api.example/v1/items"))
	}
	ds := fake.Deployments()
	require.Len(t, ds, 2)
	assert.Equal(t, "staging", ds[1].Environment)
	assert.Equal(t, []githubtest.DeploymentStatus{
		{State: "in_progress", LogURL: "https://github.com/Codertocat/Hello-World/actions/runs/1"},
		{State: "success", LogURL: "https://github.com/Codertocat/Hello-World/actions/runs/1", EnvironmentURL: "https://api.example/v1/items"},
	}, ds[1].Statuses)
	assert.Equal(t, "inactive", ds[0].State(), "the environment's older deployment became inactive")
}

func TestDeployment_ALostCreateAnswerMakesNoSecondDeployment(t *testing.T) {
	fake := githubtest.New()
	defer fake.Close()
	// Other runs' deployments of the commit, enough to need two pages.
	for i := 0; i < 120; i++ {
		_, err := fake.Client(t).CreateDeployment(context.Background(), "Codertocat", "Hello-World", github.NewDeployment{Ref: spec("").Ref, Environment: "staging", Key: "older"})
		require.NoError(t, err)
	}
	fake.Fail(githubtest.Fault{Method: "POST", Path: "/deployments$", Status: 502, AfterWrite: true})
	id, err := deployment.Start(context.Background(), fake.Client(t), spec("run-7"))
	require.NoError(t, err)
	ds := fake.Deployments()
	require.Len(t, ds, 121, "found again after the 502, not created twice")
	assert.Equal(t, id, ds[120].ID)
	assert.Equal(t, "in_progress", ds[120].State())
}

func TestDeployment_ARefusedTokenNamesThePermission(t *testing.T) {
	fake := githubtest.New()
	defer fake.Close()
	fake.Fail(githubtest.Fault{Method: "POST", Path: "/deployments$", Status: 403, Message: "Resource not accessible by integration"})
	_, err := deployment.Start(context.Background(), fake.Client(t), spec("run-1"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `the token needs "deployments: write"`)
	assert.Empty(t, fake.Deployments())
}

func TestDeployment_TheDescriptionFitsGitHubsLimit(t *testing.T) {
	fake := githubtest.New()
	defer fake.Close()
	s := spec("run-1")
	s.Description = "rollback to version 12 · tap-deploy · commit 6113728f27ae82c7b1a177c8d03f9e96e0adf246 · by someone-with-a-long-name · https://github.com/o/r/actions/runs/123456789"
	_, err := deployment.Start(context.Background(), fake.Client(t), s)
	require.NoError(t, err)
	assert.LessOrEqual(t, len([]rune(fake.Deployments()[0].Description)), 140)
}
