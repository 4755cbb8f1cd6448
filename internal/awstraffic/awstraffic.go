// Package awstraffic asks AWS CodeDeploy to shift a Lambda alias to a new
// version and Lambda where an alias points, with the AWS SDK's standard
// configuration: credentials from the environment, endpoints from
// AWS_ENDPOINT_URL_CODEDEPLOY and AWS_ENDPOINT_URL_LAMBDA when set.
package awstraffic

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/org/tap-deploy/internal/shift"
)

// Client asks CodeDeploy and Lambda.
type Client struct {
	codedeploy *codedeploy.Client
	lambda     *lambda.Client
}

// New prepares a client for a region; nothing is called yet.
func New(ctx context.Context, region string) (*Client, error) {
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region))
	if err != nil {
		return nil, fmt.Errorf("loading the AWS configuration: %w", err)
	}
	return &Client{codedeploy: codedeploy.NewFromConfig(cfg), lambda: lambda.NewFromConfig(cfg)}, nil
}

// NewWithCredentials prepares a client that calls with the given
// credentials, not the environment's: a promotion reads its source in
// another account with the source's role (promote-from-role-arn).
func NewWithCredentials(ctx context.Context, region, accessKeyID, secretAccessKey, sessionToken string) (*Client, error) {
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(accessKeyID, secretAccessKey, sessionToken)))
	if err != nil {
		return nil, fmt.Errorf("loading the AWS configuration: %w", err)
	}
	return &Client{codedeploy: codedeploy.NewFromConfig(cfg), lambda: lambda.NewFromConfig(cfg)}, nil
}

// Active lists a deployment group's deployments that have not ended
// (codedeploy:ListDeployments, codedeploy:GetDeployment).
func (c *Client) Active(ctx context.Context, app, group string) ([]shift.Deployment, error) {
	statuses := make([]cdtypes.DeploymentStatus, len(shift.Active))
	for i, s := range shift.Active {
		statuses[i] = cdtypes.DeploymentStatus(s)
	}
	var ids []string
	in := &codedeploy.ListDeploymentsInput{ApplicationName: aws.String(app), DeploymentGroupName: aws.String(group), IncludeOnlyStatuses: statuses}
	for {
		out, err := c.codedeploy.ListDeployments(ctx, in)
		var noApp *cdtypes.ApplicationDoesNotExistException
		var noGroup *cdtypes.DeploymentGroupDoesNotExistException
		if errors.As(err, &noApp) || errors.As(err, &noGroup) {
			// Not created yet (a first deploy): nothing can be running.
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("listing the running deployments of %s/%s (codedeploy:ListDeployments): %w", app, group, err)
		}
		ids = append(ids, out.Deployments...)
		if out.NextToken == nil {
			break
		}
		in.NextToken = out.NextToken
	}
	var running []shift.Deployment
	for _, id := range ids {
		d, err := c.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		if !d.Status.Done() {
			running = append(running, d)
		}
	}
	return running, nil
}

// Get reads a deployment (codedeploy:GetDeployment).
func (c *Client) Get(ctx context.Context, id string) (shift.Deployment, error) {
	out, err := c.codedeploy.GetDeployment(ctx, &codedeploy.GetDeploymentInput{DeploymentId: aws.String(id)})
	if err != nil {
		return shift.Deployment{}, fmt.Errorf("reading deployment %s (codedeploy:GetDeployment): %w", id, err)
	}
	info := out.DeploymentInfo
	if info == nil {
		return shift.Deployment{}, errors.New("reading deployment " + id + ": the answer has no deploymentInfo")
	}
	d := shift.Deployment{ID: id, Status: shift.Status(info.Status), Config: aws.ToString(info.DeploymentConfigName)}
	if info.CreateTime != nil {
		d.Start = *info.CreateTime
	}
	if info.StartTime != nil {
		d.Start = *info.StartTime
	}
	if e := info.ErrorInformation; e != nil {
		d.ErrorCode, d.ErrorMessage = string(e.Code), aws.ToString(e.Message)
	}
	if r := info.RollbackInfo; r != nil {
		d.RolledBack = aws.ToString(r.RollbackDeploymentId)
	}
	return d, nil
}

// Start asks CodeDeploy to shift f's alias with the named configuration
// (codedeploy:CreateDeployment); it returns the deployment's id.
func (c *Client) Start(ctx context.Context, app string, f shift.Function, configName, description string) (string, error) {
	content, sha := f.AppSpec()
	out, err := c.codedeploy.CreateDeployment(ctx, &codedeploy.CreateDeploymentInput{
		ApplicationName:      aws.String(app),
		DeploymentGroupName:  aws.String(f.DeploymentGroup),
		DeploymentConfigName: aws.String(configName),
		Description:          aws.String(description),
		Revision: &cdtypes.RevisionLocation{
			RevisionType:   cdtypes.RevisionLocationTypeAppSpecContent,
			AppSpecContent: &cdtypes.AppSpecContent{Content: aws.String(content), Sha256: aws.String(sha)},
		},
	})
	if err != nil {
		return "", fmt.Errorf("starting the shift of %s to version %s (codedeploy:CreateDeployment): %w", f.Name, f.Target, err)
	}
	return aws.ToString(out.DeploymentId), nil
}

// Stop stops a deployment and has CodeDeploy return its traffic to the
// old version (codedeploy:StopDeployment with autoRollbackEnabled).
func (c *Client) Stop(ctx context.Context, id string) error {
	_, err := c.codedeploy.StopDeployment(ctx, &codedeploy.StopDeploymentInput{DeploymentId: aws.String(id), AutoRollbackEnabled: aws.Bool(true)})
	if err != nil {
		return fmt.Errorf("stopping deployment %s (codedeploy:StopDeployment): %w", id, err)
	}
	return nil
}

// Alias reads where a function's alias points (lambda:GetAlias).
func (c *Client) Alias(ctx context.Context, function, alias string) (shift.Alias, error) {
	out, err := c.lambda.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: aws.String(function), Name: aws.String(alias)})
	if err != nil {
		return shift.Alias{}, fmt.Errorf("reading alias %s of %s (lambda:GetAlias): %w", alias, function, err)
	}
	a := shift.Alias{Version: aws.ToString(out.FunctionVersion), Weights: map[string]float64{}}
	if out.RoutingConfig != nil {
		for v, w := range out.RoutingConfig.AdditionalVersionWeights {
			a.Weights[v] = w
		}
	}
	return a, nil
}
