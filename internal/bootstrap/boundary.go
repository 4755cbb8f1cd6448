package bootstrap

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/org/tap-deploy/internal/graph"
	"github.com/org/tap-deploy/stack"
)

// Every role of a stack carries a permissions boundary the bootstrap
// templates make (stack.BoundaryName for an environment's stack,
// stack.ReviewBoundaryName for review stacks), and the role that deploys
// the stack may write only roles that carry it: whatever policy a
// deploy (or a branch's author, for review stacks) gives such a role, it
// can do no more than the boundary allows. The boundary allows what the
// stack's own roles are given, on the stack's resources, and nothing of
// IAM.

// ManagedUse is what a service does with one of the stack's roles through
// an AWS managed policy the stack attaches to it: the actions it calls, on
// the stack's resources of one type (On) or on Resources. A bounded role
// may do no more, whatever else the managed policy allows.
type ManagedUse struct {
	Sid     string
	Actions []string
	// On is the resource type whose names (Table) the actions name.
	On string
	// Resources, for a use On cannot name, gives the ARN patterns.
	Resources func(region string) []string
	Why       string
}

// ManagedUses maps each AWS managed policy the stack attaches to one of its
// roles to what it is used for.
var ManagedUses = map[string][]ManagedUse{
	stack.CodeDeployForLambda: {
		{Sid: "CodeDeployShifts", Actions: []string{"lambda:GetAlias", "lambda:UpdateAlias", "lambda:GetProvisionedConcurrencyConfig"},
			On: "aws:lambda/function:Function", Why: "CodeDeploy shifts the functions' live aliases with its role"},
		{Sid: "CodeDeployAlarms", Actions: []string{"cloudwatch:DescribeAlarms"},
			On: "aws:cloudwatch/metricAlarm:MetricAlarm", Why: "CodeDeploy reads the alarms that stop a shift"},
	},
	// The region's API Gateway logging role (manageApiGatewayAccount):
	// API Gateway writes every API's access and execution logs through it,
	// whatever their groups' names.
	stack.PushToCloudWatchLogs: {
		{Sid: "ApiGatewayWritesLogs", Actions: []string{"logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams",
			"logs:PutLogEvents", "logs:GetLogEvents", "logs:FilterLogEvents"},
			Resources: func(region string) []string { return []string{arn("logs", region, "log-group:*")} },
			Why:       "API Gateway writes every API's logs of the region through the account's logging role"},
		{Sid: "ApiGatewayListsLogGroups", Actions: []string{"logs:DescribeLogGroups"},
			Resources: func(string) []string { return []string{"*"} },
			Why:       "API Gateway lists the log groups (no resource)"},
	},
}

// boundaryARN is a boundary's ARN in the offline model's form.
func boundaryARN(name string) string {
	return fmt.Sprintf("arn:aws:iam::%s:policy/%s", modelAccount, name)
}

// boundaryGrants are a boundary's statements: what the roles of the runs
// in models are given (each function's inline policy; what the managed
// policies attached to them are used for, ManagedUses), on their
// resources. With twins (review stacks of another pull request), names
// become the patterns every review stack matches. A key's generated id
// becomes a run of one-character wildcards: the statement keeps the
// conditions it was given (the key serves SNS only, kms:ViaService).
func boundaryGrants(project, region string, models, twins []accessModel) ([]*grant, error) {
	b := newGrantBuilder(project, region, writeOnly)
	for i := range models {
		if twins != nil {
			if err := b.pair(models[i], twins[i]); err != nil {
				return nil, err
			}
		} else {
			b.ids, b.twins, b.twinIDs = generatedIDs(models[i].graph), nil, nil
		}
		streams := streamLabels(models[i].graph)
		if twins != nil {
			streams = append(streams, streamLabels(twins[i].graph)...)
		}
		for _, r := range models[i].graph.OfType("aws:iam/rolePolicy:RolePolicy") {
			if err := b.inlinePolicy(r, streams); err != nil {
				return nil, err
			}
		}
		for _, r := range models[i].graph.OfType("aws:iam/rolePolicyAttachment:RolePolicyAttachment") {
			if err := b.managedPolicy(models[i].graph, r); err != nil {
				return nil, err
			}
		}
	}
	return b.grants, nil
}

// inlinePolicy adds the statements of a role's inline policy.
func (b *grantBuilder) inlinePolicy(r graph.Resource, streams []string) error {
	statements := func(r graph.Resource) ([]stack.Statement, error) {
		var doc stack.PolicyDocument
		if err := json.Unmarshal([]byte(str(r, "policy")), &doc); err != nil {
			return nil, fmt.Errorf("the inline policy %s: %w", r.Name, err)
		}
		return doc.Statement, nil
	}
	own, err := statements(r)
	if err != nil {
		return err
	}
	for i, s := range own {
		if s.Effect != "Allow" || len(s.Principal) > 0 {
			return fmt.Errorf("the inline policy %s has a statement %s that is not an Allow of its role: the boundary cannot follow it", r.Name, s.Sid)
		}
		var failed error
		arns, _, err := b.arns(r, func(x graph.Resource) []string {
			list, err := statements(x)
			if err != nil || i >= len(list) {
				failed = cmp.Or(err, fmt.Errorf("the inline policy %s differs between two review stacks", x.Name))
				return nil
			}
			return withoutStreamLabels(list[i].Resource, streams)
		})
		if err := cmp.Or(failed, err); err != nil {
			return err
		}
		g := grant{sid: s.Sid, actions: s.Action, resources: arns, why: "what the stack's functions are given"}
		for _, op := range sortedOps(s.Condition) {
			for key, value := range s.Condition[op] {
				g.conds = append(g.conds, condition{op, key, []string{value}})
			}
		}
		b.merge(g)
	}
	return nil
}

func sortedOps(c map[string]map[string]string) []string { return slices.Sorted(maps.Keys(c)) }

// managedPolicy adds what an AWS managed policy attached to one of the
// stack's roles is used for.
func (b *grantBuilder) managedPolicy(g *graph.Graph, r graph.Resource) error {
	policy := str(r, "policyArn")
	_, name, _ := strings.Cut(policy, ":iam::aws:policy/")
	uses, ok := ManagedUses[name]
	if !ok {
		return fmt.Errorf("the stack's role %s is given the managed policy %s, for which internal/bootstrap knows no use: add it to ManagedUses", str(r, "role"), policy)
	}
	for _, use := range uses {
		if use.Resources != nil {
			b.merge(grant{sid: use.Sid, actions: use.Actions, resources: use.Resources(b.region), why: use.Why})
			continue
		}
		names := Table[use.On].On.Names
		for _, res := range g.OfType(use.On) {
			arns, _, err := b.arns(res, func(x graph.Resource) []string { return names(x, b.region) })
			if err != nil {
				return err
			}
			b.merge(grant{sid: use.Sid, actions: use.Actions, resources: arns, why: use.Why})
		}
	}
	return nil
}

// streamLabels are the labels of the graph's table streams: DynamoDB names
// a stream by when it was enabled, so a stream's ARN is a pattern.
func streamLabels(g *graph.Graph) []string {
	var out []string
	for _, t := range g.OfType("aws:dynamodb/table:Table") {
		if l, _ := t.Outputs["streamLabel"].(string); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func withoutStreamLabels(arns, labels []string) []string {
	out := make([]string, len(arns))
	for i, a := range arns {
		for _, l := range labels {
			if strings.HasSuffix(a, "/stream/"+l) {
				a = strings.TrimSuffix(a, l) + "*"
			}
		}
		out[i] = a
	}
	return out
}
