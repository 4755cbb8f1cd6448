package awstraffic_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/awstraffic"
	"github.com/org/tap-deploy/internal/shift"
	"github.com/org/tap-deploy/test/moto"
)

const (
	app   = "tap-dev-traffic"
	group = "tap-dev-api-handler"
	fn    = "tap-dev-api-handler"
)

// traffic sets up in moto what the stack's traffic component makes: a
// function with two versions, its live alias shifting 10% to version 2,
// and a CodeDeploy application and deployment group for it.
func traffic(t *testing.T, endpoint string) {
	cfg := moto.Config(endpoint, "eu-west-1")
	ctx := moto.Context(t)
	moto.Function(t, endpoint, "eu-west-1", fn)
	lc := lambda.NewFromConfig(cfg)
	_, err := lc.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String(fn), ZipFile: moto.Zip(t, "bootstrap", "v2"), Publish: true})
	require.NoError(t, err)
	_, err = lc.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String(fn), Name: aws.String("live"), FunctionVersion: aws.String("1"),
		RoutingConfig: &lambdatypes.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{"2": 0.1}}})
	require.NoError(t, err)

	role, err := iam.NewFromConfig(cfg).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("tap-dev-codedeploy-eu-west-1"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"codedeploy.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
	require.NoError(t, err)
	cd := codedeploy.NewFromConfig(cfg)
	_, err = cd.CreateApplication(ctx, &codedeploy.CreateApplicationInput{ApplicationName: aws.String(app), ComputePlatform: cdtypes.ComputePlatformLambda})
	require.NoError(t, err)
	_, err = cd.CreateDeploymentGroup(ctx, &codedeploy.CreateDeploymentGroupInput{ApplicationName: aws.String(app), DeploymentGroupName: aws.String(group),
		ServiceRoleArn: role.Role.Arn, DeploymentConfigName: aws.String("CodeDeployDefault.LambdaAllAtOnce"),
		DeploymentStyle: &cdtypes.DeploymentStyle{DeploymentOption: cdtypes.DeploymentOptionWithTrafficControl, DeploymentType: cdtypes.DeploymentTypeBlueGreen}})
	require.NoError(t, err)
}

// The traffic client against moto, through the SDK's default configuration as a
// run loads it. moto keeps CodeDeploy's deployments but never moves an
// alias; it has no StopDeployment, and its timestamps need mending
// (moto.CodeDeployEndpoint).
func TestClient_OnMoto(t *testing.T) {
	endpoint := moto.Start(t)
	moto.Setenv(t, endpoint, "eu-west-1")
	t.Setenv("AWS_ENDPOINT_URL_CODEDEPLOY", moto.CodeDeployEndpoint(t, endpoint))
	traffic(t, endpoint)
	ctx := moto.Context(t)
	c, err := awstraffic.New(ctx, "eu-west-1")
	require.NoError(t, err)

	alias, err := c.Alias(ctx, fn, "live")
	require.NoError(t, err)
	assert.Equal(t, "1", alias.Version)
	assert.Equal(t, 10, alias.Share("2"), "the shift's share as Lambda reports it")
	assert.Equal(t, 90, alias.Share("1"))

	for _, tt := range []struct{ name, app, group string }{
		{"no deployment yet", app, group},
		{"an application not created yet", "tap-dev-nowhere", group},
	} {
		running, err := c.Active(ctx, tt.app, tt.group)
		require.NoError(t, err, tt.name)
		assert.Empty(t, running, tt.name)
	}

	f := shift.Function{Name: fn, Alias: "live", DeploymentGroup: group, Current: "1", Target: "2"}
	id, err := c.Start(ctx, app, f, shift.Preference("AllAtOnce").ConfigName(), "tap-deploy: contract")
	require.NoError(t, err)
	require.NotEmpty(t, id)

	d, err := c.Get(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, id, d.ID)
	assert.Equal(t, "CodeDeployDefault.LambdaAllAtOnce", d.Config)
	assert.False(t, d.Start.IsZero(), "a deployment's start is read from CodeDeploy")
	running, err := c.Active(ctx, app, group)
	require.NoError(t, err)
	if d.Status.Done() {
		assert.Empty(t, running, "a deployment that ended is not running")
	} else {
		require.Len(t, running, 1, "status %s", d.Status)
		assert.Equal(t, id, running[0].ID)
	}

	// moto 5.2.1's CodeDeploy has no StopDeployment
	// (moto/codedeploy/responses.py): the error names the call.
	err = c.Stop(ctx, id)
	require.Error(t, err, "moto implements StopDeployment now: test the rollback here")
	assert.Contains(t, err.Error(), "codedeploy:StopDeployment")
}
