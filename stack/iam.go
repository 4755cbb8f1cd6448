package stack

import (
	"encoding/json"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// PolicyDocument is an IAM policy document. Statements are typed so that a
// wildcard cannot slip in through string concatenation.
type PolicyDocument struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one IAM policy statement.
type Statement struct {
	Sid       string                       `json:"Sid,omitempty"`
	Effect    string                       `json:"Effect"`
	Principal map[string]any               `json:"Principal,omitempty"`
	Action    []string                     `json:"Action"`
	Resource  []string                     `json:"Resource,omitempty"`
	Condition map[string]map[string]string `json:"Condition,omitempty"`
}

// Allow is an Allow statement for actions on resources.
func Allow(sid string, actions []string, resources ...string) Statement {
	return Statement{Sid: sid, Effect: "Allow", Action: actions, Resource: resources}
}

// JSON renders the document.
func (d PolicyDocument) JSON() string {
	if d.Version == "" {
		d.Version = "2012-10-17"
	}
	b, err := json.Marshal(d)
	if err != nil {
		// Only strings and maps of strings go in: this cannot fail.
		panic(err)
	}
	return string(b)
}

// documentOutput builds a policy document once all the ARNs it names are
// known.
func documentOutput(build func(arns []string) PolicyDocument, arns ...pulumi.StringInput) pulumi.StringOutput {
	inputs := make([]any, len(arns))
	for i, a := range arns {
		inputs[i] = a
	}
	return pulumi.All(inputs...).ApplyT(func(vals []any) string {
		s := make([]string, len(vals))
		for i, v := range vals {
			s[i] = v.(string)
		}
		return build(s).JSON()
	}).(pulumi.StringOutput)
}

// serviceTrust lets one AWS service assume a role, only on behalf of this
// account (the confused-deputy guard) where the service says on whose
// behalf it acts; account "" leaves the condition out, for services that
// do not send aws:SourceAccount.
func serviceTrust(service, account string) PolicyDocument {
	s := Statement{
		Effect:    "Allow",
		Principal: map[string]any{"Service": service},
		Action:    []string{"sts:AssumeRole"},
	}
	if account != "" {
		s.Condition = map[string]map[string]string{"StringEquals": {"aws:SourceAccount": account}}
	}
	return PolicyDocument{Statement: []Statement{s}}
}
