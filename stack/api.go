package stack

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/apigateway"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/org/tap-deploy/internal/awsfacts"
)

// StageName is the API's one stage: the stack's prefix
// (<project>-<suffix>). API Gateway names the stage's execution log group
// API-Gateway-Execution-Logs_<api id>/<stage>, which the stack creates (to
// give it a retention period) before it knows the id; a stage named for
// the stack lets IAM scope that group to this stack by name, where a
// shared stage name (v1) would leave only tags, which a role could put on
// another API's log group to take it over.
func StageName(c Config) string { return c.Project + "-" + c.EnvironmentSuffix }

// Route is one method on one path of the items API.
type Route struct {
	Path   string // "items" or "items/{id}"
	Method string
}

// Routes are the items API's routes, all proxied to the API handler.
var Routes = []Route{
	{"items", "GET"}, {"items", "POST"},
	{"items/{id}", "GET"}, {"items/{id}", "PUT"}, {"items/{id}", "DELETE"},
}

// API is the REST API, its stage and logs.
type API struct {
	pulumi.ResourceState
	RestAPI       *apigateway.RestApi
	Stage         *apigateway.Stage
	AccessLogs    *cloudwatch.LogGroup
	ExecutionLogs *cloudwatch.LogGroup
}

// NewAPI creates the REST API with Lambda proxy integrations, a stage with
// access and execution logging and throttling, and the permission for API
// Gateway to invoke the handler from this API only.
func NewAPI(ctx *pulumi.Context, name string, env Env, handler *Function, opts ...pulumi.ResourceOption) (*API, error) {
	a := &API{}
	if err := ctx.RegisterComponentResource("tap:api:Api", name, a, opts...); err != nil {
		return nil, err
	}
	apiName := env.Names.Name(awsfacts.APIName, "api")
	var err error
	a.RestAPI, err = apigateway.NewRestApi(ctx, name, &apigateway.RestApiArgs{
		Name:                   pulumi.String(apiName),
		Description:            pulumi.String("items API of " + env.Config.Project + " " + env.Config.Environment),
		EndpointConfiguration:  &apigateway.RestApiEndpointConfigurationArgs{Types: pulumi.String("REGIONAL")},
		MinimumCompressionSize: pulumi.String("1024"),
	}, env.children(a)...)
	if err != nil {
		return nil, err
	}
	items, err := apigateway.NewResource(ctx, name+"-items", &apigateway.ResourceArgs{
		RestApi: a.RestAPI.ID(), ParentId: a.RestAPI.RootResourceId, PathPart: pulumi.String("items"),
	}, env.children(a)...)
	if err != nil {
		return nil, err
	}
	item, err := apigateway.NewResource(ctx, name+"-item", &apigateway.ResourceArgs{
		RestApi: a.RestAPI.ID(), ParentId: items.ID(), PathPart: pulumi.String("{id}"),
	}, env.children(a)...)
	if err != nil {
		return nil, err
	}
	resources := map[string]*apigateway.Resource{"items": items, "items/{id}": item}

	var integrations []pulumi.Resource
	for _, r := range Routes {
		logical := name + "-" + strings.ToLower(r.Method) + "-" + strings.NewReplacer("/", "-", "{", "", "}", "").Replace(r.Path)
		method, err := apigateway.NewMethod(ctx, logical, &apigateway.MethodArgs{
			RestApi:       a.RestAPI.ID(),
			ResourceId:    resources[r.Path].ID(),
			HttpMethod:    pulumi.String(r.Method),
			Authorization: pulumi.String(env.Config.APIAuthorization),
		}, env.children(a)...)
		if err != nil {
			return nil, err
		}
		integration, err := apigateway.NewIntegration(ctx, logical, &apigateway.IntegrationArgs{
			RestApi:               a.RestAPI.ID(),
			ResourceId:            resources[r.Path].ID(),
			HttpMethod:            method.HttpMethod,
			Type:                  pulumi.String("AWS_PROXY"),
			IntegrationHttpMethod: pulumi.String("POST"),
			Uri:                   handler.Live.InvokeArn,
		}, env.children(a)...)
		if err != nil {
			return nil, err
		}
		integrations = append(integrations, method, integration)
	}

	if _, err = lambda.NewPermission(ctx, name+"-invoke-handler", &lambda.PermissionArgs{
		Action:    pulumi.String("lambda:InvokeFunction"),
		Function:  handler.Function.Name,
		Qualifier: handler.Live.Name,
		Principal: pulumi.String("apigateway.amazonaws.com"),
		SourceArn: pulumi.Sprintf("%s/*/*", a.RestAPI.ExecutionArn),
	}, env.children(a)...); err != nil {
		return nil, err
	}

	deployment, err := apigateway.NewDeployment(ctx, name, &apigateway.DeploymentArgs{
		RestApi: a.RestAPI.ID(),
		// A new deployment whenever the routes change, or the stage would
		// keep serving the old ones.
		Triggers: pulumi.StringMap{"routes": pulumi.String(routesDigest(env.Config.APIAuthorization))},
	}, env.children(a, pulumi.DependsOn(integrations))...)
	if err != nil {
		return nil, err
	}

	a.AccessLogs, err = cloudwatch.NewLogGroup(ctx, name+"-access", &cloudwatch.LogGroupArgs{
		Name:            pulumi.String("/aws/apigateway/" + apiName),
		RetentionInDays: pulumi.Int(env.Config.LogRetentionDays),
	}, env.children(a)...)
	if err != nil {
		return nil, err
	}
	// API Gateway writes execution logs to this group; made here so that
	// it has a retention period.
	a.ExecutionLogs, err = cloudwatch.NewLogGroup(ctx, name+"-execution", &cloudwatch.LogGroupArgs{
		Name:            pulumi.Sprintf("API-Gateway-Execution-Logs_%s/%s", a.RestAPI.ID(), StageName(env.Config)),
		RetentionInDays: pulumi.Int(env.Config.LogRetentionDays),
	}, env.children(a)...)
	if err != nil {
		return nil, err
	}

	stageDeps := []pulumi.Resource{a.ExecutionLogs}
	if env.Config.ManageAPIGatewayAccount {
		account, err := apiGatewayAccount(ctx, name, env, a)
		if err != nil {
			return nil, err
		}
		stageDeps = append(stageDeps, account)
	}

	a.Stage, err = apigateway.NewStage(ctx, name, &apigateway.StageArgs{
		RestApi:    a.RestAPI.ID(),
		Deployment: deployment.ID(),
		StageName:  pulumi.String(StageName(env.Config)),
		AccessLogSettings: &apigateway.StageAccessLogSettingsArgs{
			DestinationArn: a.AccessLogs.Arn,
			Format:         pulumi.String(accessLogFormat),
		},
		XrayTracingEnabled: pulumi.Bool(false),
	}, env.children(a, pulumi.DependsOn(stageDeps))...)
	if err != nil {
		return nil, err
	}
	_, err = apigateway.NewMethodSettings(ctx, name, &apigateway.MethodSettingsArgs{
		RestApi:    a.RestAPI.ID(),
		StageName:  a.Stage.StageName,
		MethodPath: pulumi.String("*/*"),
		Settings: &apigateway.MethodSettingsSettingsArgs{
			LoggingLevel:         pulumi.String("ERROR"),
			MetricsEnabled:       pulumi.Bool(true),
			DataTraceEnabled:     pulumi.Bool(false),
			ThrottlingRateLimit:  pulumi.Float64(env.Config.APIThrottleRate),
			ThrottlingBurstLimit: pulumi.Int(env.Config.APIThrottleBurst),
		},
	}, env.children(a)...)
	if err != nil {
		return nil, err
	}
	return a, ctx.RegisterResourceOutputs(a, pulumi.Map{"id": a.RestAPI.ID(), "stage": a.Stage.StageName, "url": a.Stage.InvokeUrl})
}

// PushToCloudWatchLogs is AWS's managed policy for API Gateway's account
// role. When the account setting is saved, API Gateway tests the role by
// writing to /aws/apigateway/welcome, and stage access logs go through it
// to groups of any name: a role limited to API-Gateway-Execution-Logs_*
// fails the first deploy.
const PushToCloudWatchLogs = "service-role/AmazonAPIGatewayPushToCloudWatchLogs"

// apiGatewayAccount makes this stack the owner of the region's API Gateway
// account setting: the CloudWatch role every REST API in the account and
// region logs through. All three outlive the stack (RetainOnDelete):
// destroying the owner must not leave the region pointing at a deleted
// role, which would stop logging for every API there.
func apiGatewayAccount(ctx *pulumi.Context, name string, env Env, parent pulumi.Resource) (pulumi.Resource, error) {
	keep := pulumi.RetainOnDelete(true)
	role, err := iam.NewRole(ctx, name+"-cloudwatch", &iam.RoleArgs{
		Name:        pulumi.String(env.Names.Name(awsfacts.RoleName, "apigw-logs")),
		Description: pulumi.String("API Gateway's CloudWatch logging role for " + env.Config.Region + " (account setting owned by " + env.Config.Project + " " + env.Config.Environment + ")"),
		// API Gateway does not send aws:SourceAccount when it assumes the
		// account's logging role, so the trust names the service only.
		AssumeRolePolicy:    pulumi.String(serviceTrust("apigateway.amazonaws.com", "").JSON()),
		PermissionsBoundary: env.roleBoundary(),
	}, env.children(parent, keep)...)
	if err != nil {
		return nil, err
	}
	attachment, err := iam.NewRolePolicyAttachment(ctx, name+"-cloudwatch", &iam.RolePolicyAttachmentArgs{
		Role:      role.Name,
		PolicyArn: pulumi.String(env.managedPolicy(PushToCloudWatchLogs)),
	}, env.children(parent, keep)...)
	if err != nil {
		return nil, err
	}
	// The setting is saved only once the role may write: API Gateway tests
	// it on save.
	return apigateway.NewAccount(ctx, name, &apigateway.AccountArgs{CloudwatchRoleArn: role.Arn},
		env.children(parent, keep, pulumi.DependsOn([]pulumi.Resource{attachment}))...)
}

const accessLogFormat = `{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","method":"$context.httpMethod","path":"$context.resourcePath","status":"$context.status","latencyMs":"$context.responseLatency","integrationError":"$context.integrationErrorMessage"}`

func routesDigest(authorization string) string {
	h := sha256.New()
	for _, r := range Routes {
		h.Write([]byte(r.Method + " " + r.Path + "\n"))
	}
	h.Write([]byte(authorization))
	return hex.EncodeToString(h.Sum(nil))[:16]
}
