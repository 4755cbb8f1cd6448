package awsfake_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/awstraffic"
	"github.com/org/tap-deploy/internal/shift"
	"github.com/org/tap-deploy/test/awsfake"
	"github.com/org/tap-deploy/test/sandbox"
)

const roleArn = "arn:aws:iam::123456789012:role/tap-dev-codedeploy-eu-west-1"

// trafficCloud is a stack's traffic resources: a function on version 2
// whose live alias serves version 1, and its deployment group.
func trafficCloud(t *testing.T, withPolicy bool) (*awsfake.Server, *awstraffic.Client) {
	t.Helper()
	cloud := filepath.Join(t.TempDir(), "cloud.json")
	require.NoError(t, sandbox.Store{Path: cloud}.Update(func(st *sandbox.State) error {
		add := func(key string, r sandbox.Resource) {
			r.Region = "eu-west-1"
			st.Resources[key] = r
		}
		add("fn", sandbox.Resource{ID: "tap-dev-api-handler", Type: "aws:lambda/function:Function", Outputs: map[string]any{"version": "2"}})
		add("alias", sandbox.Resource{ID: "alias", Type: "aws:lambda/alias:Alias",
			Inputs:  map[string]any{"name": "live", "functionName": "tap-dev-api-handler", "functionVersion": "1"},
			Outputs: map[string]any{"functionVersion": "1", "arn": "arn:aws:lambda:eu-west-1:123456789012:function:tap-dev-api-handler:live"}})
		add("app", sandbox.Resource{ID: "u:tap-dev-traffic", Type: "aws:codedeploy/application:Application", Inputs: map[string]any{"name": "tap-dev-traffic"}})
		add("group", sandbox.Resource{ID: "g", Type: "aws:codedeploy/deploymentGroup:DeploymentGroup",
			Inputs: map[string]any{"appName": "tap-dev-traffic", "deploymentGroupName": "tap-dev-api-handler", "serviceRoleArn": roleArn}})
		add("role", sandbox.Resource{ID: "tap-dev-codedeploy-eu-west-1", Type: "aws:iam/role:Role", Outputs: map[string]any{"arn": roleArn}})
		if withPolicy {
			add("attachment", sandbox.Resource{ID: "a", Type: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
				Inputs: map[string]any{"role": "tap-dev-codedeploy-eu-west-1", "policyArn": "arn:aws:iam::aws:policy/service-role/AWSCodeDeployRoleForLambda"}})
		}
		return nil
	}))
	fake := awsfake.New(cloud)
	t.Cleanup(fake.Close)
	for k, v := range fake.Env() {
		t.Setenv(k, v)
	}
	fake.MinuteIs(20 * time.Millisecond)
	c, err := awstraffic.New(context.Background(), "eu-west-1")
	require.NoError(t, err)
	return fake, c
}

var api = shift.Function{Name: "tap-dev-api-handler", Alias: "live", DeploymentGroup: "tap-dev-api-handler", Current: "1", Target: "2"}

func waitDone(t *testing.T, c *awstraffic.Client, id string) shift.Deployment {
	t.Helper()
	var d shift.Deployment
	require.Eventually(t, func() bool {
		var err error
		d, err = c.Get(context.Background(), id)
		require.NoError(t, err)
		return d.Status.Done()
	}, 5*time.Second, 10*time.Millisecond)
	return d
}

func TestCodeDeploy_TheShifterMovesTheAliasThroughTheFake(t *testing.T) {
	ctx := context.Background()
	fake, c := trafficCloud(t, true)

	running, err := c.Active(ctx, "not-created-yet", "tap-dev-api-handler")
	require.NoError(t, err, "a stack without traffic resources has nothing running")
	assert.Empty(t, running)

	stale := api
	stale.Current = "3"
	_, err = c.Start(ctx, "tap-dev-traffic", stale, "CodeDeployDefault.LambdaAllAtOnce", "test")
	assert.ErrorContains(t, err, "InvalidLambdaConfigurationException", "the AppSpec must name the alias's version")
	_, err = c.Start(ctx, "tap-dev-traffic", api, "CodeDeployDefault.LambdaCanary50Percent1Minute", "test")
	assert.ErrorContains(t, err, "DeploymentConfigDoesNotExistException")

	fake.Hold("tap-dev-api-handler", true)
	id, err := c.Start(ctx, "tap-dev-traffic", api, "CodeDeployDefault.LambdaCanary10Percent5Minutes", "test")
	require.NoError(t, err)
	_, err = c.Start(ctx, "tap-dev-traffic", api, "CodeDeployDefault.LambdaAllAtOnce", "test")
	assert.ErrorContains(t, err, "DeploymentLimitExceededException: The Deployment Group 'tap-dev-api-handler' already has an active Deployment '"+id+"'")
	running, err = c.Active(ctx, "tap-dev-traffic", "tap-dev-api-handler")
	require.NoError(t, err)
	require.Len(t, running, 1)
	assert.Equal(t, id, running[0].ID)

	fake.Hold("tap-dev-api-handler", false)
	d := waitDone(t, c, id)
	assert.Equal(t, shift.Succeeded, d.Status)
	alias, err := c.Alias(ctx, "tap-dev-api-handler", "live")
	require.NoError(t, err)
	assert.Equal(t, shift.Alias{Version: "2", Weights: map[string]float64{}}, alias)
}

func TestCodeDeploy_AStopReturnsTheTrafficAndAnAlarmNamesItself(t *testing.T) {
	ctx := context.Background()
	fake, c := trafficCloud(t, true)
	fake.Hold("tap-dev-api-handler", true)
	id, err := c.Start(ctx, "tap-dev-traffic", api, "CodeDeployDefault.LambdaLinear10PercentEvery1Minute", "test")
	require.NoError(t, err)
	require.NoError(t, c.Stop(ctx, id))
	d, err := c.Get(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, shift.Stopped, d.Status)
	assert.Equal(t, id+"R", d.RolledBack)
	alias, err := c.Alias(ctx, "tap-dev-api-handler", "live")
	require.NoError(t, err)
	assert.Equal(t, "1", alias.Version)

	fake.Hold("tap-dev-api-handler", false)
	fake.AlarmDuringShift("tap-dev-api-handler", "tap-dev-api-handler-live-errors")
	id, err = c.Start(ctx, "tap-dev-traffic", api, "CodeDeployDefault.LambdaLinear10PercentEvery1Minute", "test")
	require.NoError(t, err)
	d = waitDone(t, c, id)
	assert.Equal(t, shift.Stopped, d.Status)
	assert.Equal(t, []string{"tap-dev-api-handler-live-errors"}, d.Alarms())
}

func TestCodeDeploy_ARoleThatCannotMoveTheAliasFailsTheDeployment(t *testing.T) {
	_, c := trafficCloud(t, false)
	id, err := c.Start(context.Background(), "tap-dev-traffic", api, "CodeDeployDefault.LambdaAllAtOnce", "test")
	require.NoError(t, err)
	d := waitDone(t, c, id)
	assert.Equal(t, shift.Failed, d.Status)
	assert.Equal(t, "IAM_ROLE_PERMISSIONS", d.ErrorCode)
	assert.Contains(t, d.ErrorMessage, "does not give you permission to perform operations in the following AWS service: AWSLambda")
}
