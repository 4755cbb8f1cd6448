package iamtest

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// A statement that lets a role write only roles bounded by one policy, as
// IAM evaluates it for each role call: the key comes from the request for
// the calls that set a boundary, from the role for the calls that change
// its policies, and is absent for every other call.
func TestRoleCall_CarriesTheBoundaryOnlyWhereIAMPutsIt(t *testing.T) {
	const (
		role     = "arn:aws:iam::123456789012:role/tap-dev-pr-7-api-handler-eu-west-1"
		boundary = "arn:aws:iam::123456789012:policy/tap-dev-review-boundary-eu-west-1"
		other    = "arn:aws:iam::aws:policy/AdministratorAccess"
	)
	bounded := []Statement{{Sid: "Bounded", Effect: "Allow",
		Actions: []string{"iam:CreateRole", "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy", "iam:DeleteRolePolicy",
			"iam:AttachRolePolicy", "iam:DetachRolePolicy", "iam:UpdateAssumeRolePolicy", "iam:DeleteRolePermissionsBoundary",
			"iam:DeleteRole", "iam:UpdateRole"},
		Resources:  []string{"arn:aws:iam::123456789012:role/tap-dev-pr-*"},
		Conditions: map[string]map[string][]string{"StringEquals": {PermissionsBoundaryKey: {boundary}}}}}
	tests := []struct {
		name               string
		action             string
		requested, current string
		want               bool
	}{
		{"a role created with the boundary", "iam:CreateRole", boundary, "", true},
		{"a role created without one", "iam:CreateRole", "", "", false},
		{"a role created with another", "iam:CreateRole", other, "", false},
		{"the boundary set on a role without one", "iam:PutRolePermissionsBoundary", boundary, "", true},
		{"another boundary set on a bounded role", "iam:PutRolePermissionsBoundary", other, boundary, false},
		{"a policy written on a bounded role", "iam:PutRolePolicy", "", boundary, true},
		{"a policy written on a role without one", "iam:PutRolePolicy", "", "", false},
		{"a policy attached to a role with another", "iam:AttachRolePolicy", "", other, false},
		{"a policy deleted from a bounded role", "iam:DeleteRolePolicy", "", boundary, true},
		{"a policy detached from a bounded role", "iam:DetachRolePolicy", "", boundary, true},
		{"the boundary removed", "iam:DeleteRolePermissionsBoundary", "", boundary, true},
		// The Service Authorization Reference lists iam:PermissionsBoundary
		// for a trust policy's update, a role's settings and its deletion:
		// the boundary the role carries.
		{"a bounded role's trust policy rewritten", "iam:UpdateAssumeRolePolicy", "", boundary, true},
		{"an unbounded role's trust policy rewritten", "iam:UpdateAssumeRolePolicy", boundary, "", false},
		{"an unbounded role deleted", "iam:DeleteRole", "", "", false},
		{"a bounded role's settings changed", "iam:UpdateRole", "", boundary, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Allows(bounded, RoleCall(tt.action, role, tt.requested, tt.current)) != ""
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestPolicy_ReadsAManagedPolicyNoRoleHolds(t *testing.T) {
	tmpl, err := Parse([]byte(`
Resources:
  Boundary:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      ManagedPolicyName: b
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Sid: Logs
            Effect: Allow
            Action: ['logs:PutLogEvents']
            Resource: [{'Fn::Sub': 'arn:${AWS::Partition}:logs:eu-west-1:${AWS::AccountId}:log-group:/aws/lambda/tap-dev-pr-*'}]
  Role:
    Type: AWS::IAM::Role
`), Vars{Partition: "aws", Account: "123456789012", Region: "eu-west-1"})
	assert.NoError(t, err)
	statements, err := tmpl.Policy("Boundary")
	assert.NoError(t, err)
	assert.NotEmpty(t, Allows(statements, Request{Action: "logs:PutLogEvents", Resource: "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/tap-dev-pr-7-api-handler"}))
	_, err = tmpl.Policy("Role")
	assert.Error(t, err, "a role is not a managed policy")
}

// An explicit Deny wins over any Allow, whatever the order.
func TestAllows_AnExplicitDenyWins(t *testing.T) {
	allow := Statement{Sid: "All", Effect: "Allow", Actions: []string{"iam:*"}, Resources: []string{"*"}}
	deny := Statement{Sid: "KeepOff", Effect: "Deny", Actions: []string{"iam:PutRolePolicy"}, Resources: []string{"arn:aws:iam::1:role/tap-*"}}
	call := Request{Action: "iam:PutRolePolicy", Resource: "arn:aws:iam::1:role/tap-dev-github-deploy-eu-west-1"}
	assert.Empty(t, Allows([]Statement{allow, deny}, call))
	assert.Empty(t, Allows([]Statement{deny, allow}, call))
	assert.Equal(t, "All ", Allows([]Statement{allow, deny}, Request{Action: "iam:GetRole", Resource: call.Resource}))
}
