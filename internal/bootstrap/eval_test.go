package bootstrap

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/org/tap-deploy/test/iamtest"
)

// The reference command of the issue and the README:
// tap-deploy bootstrap --environment dev,staging,prod --aws-region eu-west-1 --repository owner/repo
var referenceOptions = Options{
	Project: "tap", Environments: []string{"dev", "staging", "prod"}, Region: "eu-west-1", Repository: "owner/repo",
	CreateOIDCProvider: true, APIGatewayAccount: OwnerTemplate, ReviewEnvironment: "dev",
}

// reference is the reference template, made once for all tests.
var reference = sync.OnceValues(func() ([]byte, error) { return Template(referenceOptions) })

func referenceTemplate(t *testing.T) []byte {
	t.Helper()
	out, err := reference()
	require.NoError(t, err)
	return out
}

// parsed is a template read back as plain YAML.
type parsed map[string]any

func parse(t *testing.T, template []byte) parsed {
	t.Helper()
	var doc map[string]any
	require.NoError(t, yaml.Unmarshal(template, &doc), "the template is plain YAML")
	return doc
}

func (p parsed) resources(t *testing.T) map[string]any {
	t.Helper()
	r, ok := p["Resources"].(map[string]any)
	require.True(t, ok, "the template has Resources")
	return r
}

func (p parsed) resource(t *testing.T, logical string) map[string]any {
	t.Helper()
	r, ok := p.resources(t)[logical].(map[string]any)
	require.True(t, ok, "the template has %s", logical)
	return r
}

func props(t *testing.T, resource map[string]any) map[string]any {
	t.Helper()
	p, ok := resource["Properties"].(map[string]any)
	require.True(t, ok)
	return p
}

// The values CloudFormation substitutes, as the tests resolve them: the
// offline model's account and partition, the default bucket's name.
const testBucket = "tap-pulumi-state-123456789012-eu-west-1"

func vars(partition string) iamtest.Vars {
	return iamtest.Vars{Partition: partition, Account: modelAccount, Region: "eu-west-1", Bucket: testBucket}
}

// resolve replaces every Fn::Sub by its value.
func resolve(v any, partition string) any {
	return (&iamtest.Template{}).WithVars(vars(partition)).Resolve(v)
}

type (
	stmt    = iamtest.Statement
	request = iamtest.Request
)

var (
	statementsOf = iamtest.Statements
	strings1     = iamtest.Strings
	allows       = iamtest.Allows
	roleCall     = iamtest.RoleCall
)

// roleStatements are every statement a role's policies hold.
func (p parsed) roleStatements(t *testing.T, role string) []stmt {
	t.Helper()
	tmpl := (&iamtest.Template{Doc: p}).WithVars(vars("aws"))
	out, err := tmpl.Role(role)
	require.NoError(t, err)
	return out
}

// policyStatements are the statements of a managed policy no role holds
// (the review boundary).
func (p parsed) policyStatements(t *testing.T, logical string) []stmt {
	t.Helper()
	out, err := (&iamtest.Template{Doc: p}).WithVars(vars("aws")).Policy(logical)
	require.NoError(t, err)
	return out
}
