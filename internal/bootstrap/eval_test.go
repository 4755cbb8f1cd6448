package bootstrap

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/org/tap-deploy/test/iamtest"
)

// The reference command of the issue and the docs:
// tap-deploy bootstrap --environment dev,staging,prod --aws-region eu-west-1 --repository owner/repo
var referenceOptions = Options{
	Project: "tap", Environments: []string{"dev", "staging", "prod"}, Region: "eu-west-1", Repository: "owner/repo",
	CreateOIDCProvider: true, APIGatewayLogging: OwnerNone, ReviewEnvironment: "dev",
}

// reference is the reference templates, made once for all tests.
var reference = sync.OnceValues(func() ([]File, error) { return Generate(referenceOptions) })

// templates are a bootstrap's files read back as plain YAML, by file name.
type templates map[string]parsed

func generated(t *testing.T, o Options) templates {
	t.Helper()
	files, err := Generate(o)
	require.NoError(t, err)
	return read(t, files)
}

func read(t *testing.T, files []File) templates {
	t.Helper()
	out := templates{}
	for _, f := range files {
		out[f.Name] = parse(t, f.Body)
	}
	return out
}

func referenceFiles(t *testing.T) []File {
	t.Helper()
	files, err := reference()
	require.NoError(t, err)
	return files
}

func referenceTemplates(t *testing.T) templates {
	t.Helper()
	return read(t, referenceFiles(t))
}

// body is one reference file's text.
func body(t *testing.T, name string) string {
	t.Helper()
	for _, f := range referenceFiles(t) {
		if f.Name == name {
			return string(f.Body)
		}
	}
	t.Fatalf("no reference file %s", name)
	return ""
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

// role is every statement a role holds: the managed policies of its own
// template that name it, and the managed policies of any template it
// holds by name (an environment's roles hold the account's read policies).
func (ts templates) role(t *testing.T, file, logical string) []stmt {
	t.Helper()
	set := iamtest.Set{}
	for name, doc := range ts {
		set[name] = (&iamtest.Template{Doc: doc}).WithVars(vars("aws"))
	}
	out, err := set.Role(file, logical)
	require.NoError(t, err)
	return out
}

// policy is the statements of a managed policy no role holds (a
// boundary).
func (ts templates) policy(t *testing.T, file, logical string) []stmt {
	t.Helper()
	out, err := (&iamtest.Template{Doc: ts[file]}).WithVars(vars("aws")).Policy(logical)
	require.NoError(t, err)
	return out
}

// roles are the (file, logical id) of every role of the templates that a
// workflow assumes.
func (ts templates) roles(t *testing.T) [][2]string {
	t.Helper()
	var out [][2]string
	for file, doc := range ts {
		for logical, r := range doc.resources(t) {
			if r.(map[string]any)["Type"] == "AWS::IAM::Role" && logical != "ApiGatewayLogsRole" {
				out = append(out, [2]string{file, logical})
			}
		}
	}
	return out
}
