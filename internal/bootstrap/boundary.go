package bootstrap

import (
	"cmp"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/org/tap-deploy/internal/graph"
	"github.com/org/tap-deploy/stack"
)

// The review role may write only roles that carry the review boundary, a
// managed policy of the template (stack.ReviewBoundaryName): whatever
// policy a branch's author gives such a role, it can do no more than the
// boundary allows. The boundary allows what the review stacks' own roles
// are given, on review stacks' resources, and nothing of IAM.

// ManagedUse is what a service does with one of the stack's roles through
// an AWS managed policy the stack attaches to it: the actions it calls, on
// the stack's resources of one type. A review stack's role may do no more,
// whatever else the managed policy allows.
type ManagedUse struct {
	Sid     string
	Actions []string
	// On is the resource type whose names (Table) the actions name.
	On  string
	Why string
}

// ManagedUses maps each AWS managed policy the stack attaches to a review
// stack's role (stack.CodeDeployForLambda) to what it is used for.
var ManagedUses = map[string][]ManagedUse{
	stack.CodeDeployForLambda: {
		{Sid: "CodeDeployShifts", Actions: []string{"lambda:GetAlias", "lambda:UpdateAlias", "lambda:GetProvisionedConcurrencyConfig"},
			On: "aws:lambda/function:Function", Why: "CodeDeploy shifts the functions' live aliases with its role"},
		{Sid: "CodeDeployAlarms", Actions: []string{"cloudwatch:DescribeAlarms"},
			On: "aws:cloudwatch/metricAlarm:MetricAlarm", Why: "CodeDeploy reads the alarms that stop a shift"},
	},
}

// boundaryARN is the review boundary's ARN in the offline model's form.
func boundaryARN(o Options) string {
	return fmt.Sprintf("arn:aws:iam::%s:policy/%s", modelAccount, boundaryName(o))
}

func boundaryName(o Options) string {
	return stack.ReviewBoundaryName(stack.Base{Project: o.Project, Environment: o.ReviewEnvironment, Region: o.Region})
}

// boundaryGrants are the review boundary's statements: what the review
// stacks' roles are given (each function's inline policy; what the
// managed policies attached to them are used for, ManagedUses), on the
// resources of two review stacks, their names turned into patterns every
// review stack matches and a key's generated id into the key's tags.
func boundaryGrants(region string, low, high []model) ([]*grant, error) {
	b := newBuilder(region, writeOnly)
	for i := range low {
		if err := b.pair(low[i], high[i]); err != nil {
			return nil, err
		}
		streams := append(streamLabels(low[i].graph), streamLabels(high[i].graph)...)
		for _, r := range low[i].graph.OfType("aws:iam/rolePolicy:RolePolicy") {
			if err := b.inlinePolicy(r, streams); err != nil {
				return nil, err
			}
		}
		for _, r := range low[i].graph.OfType("aws:iam/rolePolicyAttachment:RolePolicyAttachment") {
			if err := b.managedPolicy(low[i].graph, r); err != nil {
				return nil, err
			}
		}
	}
	return b.grants, nil
}

// inlinePolicy adds the statements of a role's inline policy.
func (b *builder) inlinePolicy(r graph.Resource, streams []string) error {
	statements := func(r graph.Resource) ([]stack.Statement, error) {
		var doc stack.PolicyDocument
		if err := json.Unmarshal([]byte(str(r, "policy")), &doc); err != nil {
			return nil, fmt.Errorf("the inline policy %s of a review stack: %w", r.Name, err)
		}
		return doc.Statement, nil
	}
	own, err := statements(r)
	if err != nil {
		return err
	}
	for i, s := range own {
		if s.Effect != "Allow" || len(s.Condition) > 0 {
			return fmt.Errorf("the inline policy %s of a review stack has a statement %s that is not a plain Allow: the review boundary cannot follow it", r.Name, s.Sid)
		}
		var failed error
		arns, generated, err := b.arns(r, func(x graph.Resource) []string {
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
		g := grant{sid: s.Sid, actions: s.Action, resources: arns, why: "what the review stacks' functions are given"}
		if generated {
			// A key's id: the key must carry the review stacks' tags.
			g.sid, g.tags = s.Sid+"Tagged", onResource
		}
		b.merge(g)
	}
	return nil
}

// managedPolicy adds what an AWS managed policy attached to a review
// stack's role is used for.
func (b *builder) managedPolicy(g *graph.Graph, r graph.Resource) error {
	policy := str(r, "policyArn")
	_, name, _ := strings.Cut(policy, ":iam::aws:policy/")
	uses, ok := ManagedUses[name]
	if !ok {
		return fmt.Errorf("a review stack's role %s is given the managed policy %s, for which internal/bootstrap knows no use: add it to ManagedUses", str(r, "role"), policy)
	}
	for _, use := range uses {
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
