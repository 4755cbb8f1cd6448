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

// StageName is the API's one stage.
const StageName = "v1"

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
			Uri:                   handler.Function.InvokeArn,
		}, env.children(a)...)
		if err != nil {
			return nil, err
		}
		integrations = append(integrations, method, integration)
	}

	if _, err = lambda.NewPermission(ctx, name+"-invoke-handler", &lambda.PermissionArgs{
		Action:    pulumi.String("lambda:InvokeFunction"),
		Function:  handler.Function.Name,
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
		Name:            pulumi.Sprintf("API-Gateway-Execution-Logs_%s/%s", a.RestAPI.ID(), StageName),
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
		StageName:  pulumi.String(StageName),
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

// apiGatewayAccount gives API Gateway (per account and region) the role it
// writes execution logs with, limited to its own log groups.
func apiGatewayAccount(ctx *pulumi.Context, name string, env Env, parent pulumi.Resource) (pulumi.Resource, error) {
	role, err := iam.NewRole(ctx, name+"-cloudwatch", &iam.RoleArgs{
		Name: pulumi.String(env.Names.Name(awsfacts.RoleName, "apigw-logs")),
		AssumeRolePolicy: env.Account.ApplyT(func(account string) string {
			return serviceTrust("apigateway.amazonaws.com", account).JSON()
		}).(pulumi.StringOutput),
	}, env.children(parent)...)
	if err != nil {
		return nil, err
	}
	logGroups := env.arn("logs", "log-group:API-Gateway-Execution-Logs_*")
	allGroups := env.arn("logs", "log-group:*")
	_, err = iam.NewRolePolicy(ctx, name+"-cloudwatch", &iam.RolePolicyArgs{
		Name: pulumi.String(env.Names.Name(awsfacts.PolicyName, "apigw-logs")),
		Role: role.ID(),
		Policy: documentOutput(func(a []string) PolicyDocument {
			return PolicyDocument{Statement: []Statement{
				Allow("ExecutionLogs", []string{"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams", "logs:GetLogEvents", "logs:FilterLogEvents"}, a[0], a[0]+":*"),
				Allow("FindLogGroups", []string{"logs:DescribeLogGroups"}, a[1]),
			}}
		}, logGroups, allGroups),
	}, env.children(parent)...)
	if err != nil {
		return nil, err
	}
	return apigateway.NewAccount(ctx, name, &apigateway.AccountArgs{CloudwatchRoleArn: role.Arn}, env.children(parent)...)
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
