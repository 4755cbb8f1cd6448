package stack

import (
	"errors"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/codedeploy"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/org/tap-deploy/internal/awsfacts"
	"github.com/org/tap-deploy/internal/shift"
)

// LiveAlias is the alias every caller of a function invokes.
const LiveAlias = "live"

const tAlias = "aws:lambda/alias:Alias"

// ManagedByCodeDeploy lists, per resource type, the properties CodeDeploy
// owns once Pulumi has created the resource: Pulumi ignores them
// (ignoreChanges), and a drift check must not call their changes drift.
var ManagedByCodeDeploy = map[string][]string{
	tAlias: {"functionVersion", "routingConfig"},
}

// CodeDeployForLambda is AWS's managed policy for CodeDeploy's service
// role on Lambda: it reads the alarms and moves aliases.
const CodeDeployForLambda = "service-role/AWSCodeDeployRoleForLambda"

// Traffic is how a new version reaches callers: one CodeDeploy application
// and a deployment group per function, which shift the function's live
// alias to a new version, watch the alarms that see it, and return all
// traffic to the old version on their own when one fires, even if the
// runner that started the shift is gone.
type Traffic struct {
	pulumi.ResourceState
	Role        *iam.Role
	Application *codedeploy.Application
	// Groups are the deployment groups, by FunctionSpec.Key.
	Groups map[string]*codedeploy.DeploymentGroup
}

// The deployment group of every function starts a shift all at once
// unless the action asks for another configuration (deployment-preference).
const allAtOnce = "CodeDeployDefault.LambdaAllAtOnce"

// NewTraffic creates the CodeDeploy application, its service role and a
// deployment group per function, stopped and rolled back by the alarms
// that watch the new version and by the API's 5xx alarm.
func NewTraffic(ctx *pulumi.Context, name string, env Env, s *Stack, opts ...pulumi.ResourceOption) (*Traffic, error) {
	t := &Traffic{Groups: map[string]*codedeploy.DeploymentGroup{}}
	if err := ctx.RegisterComponentResource("tap:traffic:Traffic", name, t, opts...); err != nil {
		return nil, err
	}
	var err error
	t.Role, err = iam.NewRole(ctx, name+"-codedeploy", &iam.RoleArgs{
		Name:                pulumi.String(env.Names.Name(awsfacts.RoleName, "codedeploy")),
		Description:         pulumi.String("CodeDeploy shifts the functions' live aliases of " + env.Config.Project + " " + env.Config.Environment),
		AssumeRolePolicy:    pulumi.String(serviceTrust("codedeploy.amazonaws.com", env.Account).JSON()),
		PermissionsBoundary: env.roleBoundary(),
	}, env.children(t)...)
	if err != nil {
		return nil, err
	}
	attachment, err := iam.NewRolePolicyAttachment(ctx, name+"-codedeploy", &iam.RolePolicyAttachmentArgs{
		Role:      t.Role.Name,
		PolicyArn: pulumi.String(env.managedPolicy(CodeDeployForLambda)),
	}, env.children(t)...)
	if err != nil {
		return nil, err
	}
	t.Application, err = codedeploy.NewApplication(ctx, name, &codedeploy.ApplicationArgs{
		Name:            pulumi.String(env.Names.Name(awsfacts.CodeDeployAppName, "traffic")),
		ComputePlatform: pulumi.String("Lambda"),
	}, env.children(t)...)
	if err != nil {
		return nil, err
	}
	for _, spec := range Functions {
		alarms := pulumi.StringArray{}
		for _, n := range s.Monitoring.ShiftAlarms(spec) {
			alarms = append(alarms, pulumi.String(n))
		}
		g, err := codedeploy.NewDeploymentGroup(ctx, spec.Component, &codedeploy.DeploymentGroupArgs{
			AppName:              t.Application.Name,
			DeploymentGroupName:  pulumi.String(env.Names.Name(awsfacts.DeploymentGroupName, spec.Component)),
			ServiceRoleArn:       t.Role.Arn,
			DeploymentConfigName: pulumi.String(allAtOnce),
			DeploymentStyle: &codedeploy.DeploymentGroupDeploymentStyleArgs{
				DeploymentOption: pulumi.String("WITH_TRAFFIC_CONTROL"),
				DeploymentType:   pulumi.String("BLUE_GREEN"),
			},
			AutoRollbackConfiguration: &codedeploy.DeploymentGroupAutoRollbackConfigurationArgs{
				Enabled: pulumi.Bool(true),
				Events:  pulumi.StringArray{pulumi.String("DEPLOYMENT_FAILURE"), pulumi.String("DEPLOYMENT_STOP_ON_ALARM")},
			},
			AlarmConfiguration: &codedeploy.DeploymentGroupAlarmConfigurationArgs{
				Enabled: pulumi.Bool(true),
				Alarms:  alarms,
			},
		}, env.children(t, pulumi.DependsOn(append([]pulumi.Resource{attachment}, s.Monitoring.resources()...)))...)
		if err != nil {
			return nil, err
		}
		t.Groups[spec.Key] = g
	}
	return t, ctx.RegisterResourceOutputs(t, pulumi.Map{"application": t.Application.Name})
}

// TrafficNames are the CodeDeploy application of cfg's stack and, per
// function, its name, live alias and deployment group, as the program
// names them: a run can ask CodeDeploy about them before the update.
func TrafficNames(cfg Config) (app string, fns []shift.Function) {
	n := NewNamer(cfg, "")
	for _, spec := range Functions {
		fns = append(fns, shift.Function{
			Name: n.Name(awsfacts.FunctionName, spec.Component), Alias: LiveAlias,
			DeploymentGroup: n.Name(awsfacts.DeploymentGroupName, spec.Component),
		})
	}
	return n.Name(awsfacts.CodeDeployAppName, "traffic"), fns
}

// Released is what an update's `traffic` output says: the CodeDeploy
// application and region and, per function, the version its live alias
// must move to (Target) and the alarms that stop the move. Current is
// left to the caller: Pulumi does not track where CodeDeploy left the
// alias.
type Released struct {
	Application, Region string
	Functions           []shift.Function
}

// TrafficTargets reads the `traffic` output of an update.
func TrafficTargets(outputs map[string]any) (Released, error) {
	t, ok := outputs["traffic"].(map[string]any)
	if !ok {
		return Released{}, fmt.Errorf("the stack has no `traffic` output (got %T)", outputs["traffic"])
	}
	var out Released
	out.Application, _ = t["application"].(string)
	out.Region, _ = t["region"].(string)
	byKey, _ := t["functions"].(map[string]any)
	if out.Application == "" || out.Region == "" || byKey == nil {
		return Released{}, errors.New("the stack's `traffic` output has no application, region or functions")
	}
	for _, spec := range Functions {
		f, _ := byKey[spec.Key].(map[string]any)
		fn := shift.Function{Key: spec.Key}
		fn.Name, _ = f["function"].(string)
		fn.Alias, _ = f["alias"].(string)
		fn.DeploymentGroup, _ = f["deploymentGroup"].(string)
		fn.Target, _ = f["version"].(string)
		alarms, _ := f["alarms"].([]any)
		for _, a := range alarms {
			if s, ok := a.(string); ok {
				fn.Alarms = append(fn.Alarms, s)
			}
		}
		if fn.Name == "" || fn.Alias == "" || fn.DeploymentGroup == "" || fn.Target == "" {
			return Released{}, fmt.Errorf("the stack's `traffic` output lacks the function, alias, deployment group or version of %s", spec.Key)
		}
		out.Functions = append(out.Functions, fn)
	}
	return out, nil
}
