package stack_test

import (
	"testing"
	"testing/fstest"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/graph"
	"github.com/org/tap-deploy/internal/offline"
	"github.com/org/tap-deploy/program"
	"github.com/org/tap-deploy/stack"
	"github.com/org/tap-deploy/test/stacktest"
)

func declaredPackages() []program.Package {
	zips := fstest.MapFS{}
	var out []program.Package
	for _, f := range stack.Functions {
		zips[f.Component+".zip"] = &fstest.MapFile{Data: []byte("PK\x03\x04 " + f.Component)}
		out = append(out, program.Package{Function: f.Key, FS: zips, Path: f.Component + ".zip"})
	}
	return out
}

func TestDeclared_ValidatesAndShiftsEveryFunction(t *testing.T) {
	p := stack.Declared(declaredPackages())
	require.NoError(t, p.Validate())
	assert.Equal(t, []string{"apiHandler", "fileProcessor", "streamProcessor"}, p.Shift)
	assert.Len(t, p.Keys, len(stack.Keys))
}

// The declared keys refuse what Keys refuses, and loosen where
// ConfigChanges says a change relaxes.
func TestDeclared_KeysAgreeWithTheTypedConfiguration(t *testing.T) {
	p := stack.Declared(declaredPackages())
	base := stack.Base{Project: "tap", Environment: "dev", Region: "eu-west-1"}
	for _, overrides := range []map[string]string{
		{"logRetentionDays": "15"}, {"apiAuthorization": "PUBLIC"}, {"alarmEmail": "ops@exаmple.com"},
		{"lambdaTimeoutSeconds": "30"}, {"bootstrapped": "maybe"}, {"errorRateThreshold": "0"},
	} {
		_, typed := stack.NewConfig(base, overrides)
		_, declared := p.Configure(overrides, "config")
		assert.Equal(t, typed != nil, declared != nil, "%v: typed %v, declared %v", overrides, typed, declared)
	}
	from := stacktest.Config(t, nil)
	for _, to := range []map[string]string{
		{"logRetentionDays": "7"}, {"logRetentionDays": "30"}, {"apiAuthorization": "NONE"}, {"alarmEmail": "ops@example.com"},
		{"errorRateThreshold": "10"}, {"errorRateThreshold": "1"}, {"apiThrottleRate": "500"}, {"bootstrapped": "false"}, {"lambdaMemoryMb": "1024"},
	} {
		toCfg := stacktest.Config(t, to)
		var relaxed []string
		for _, c := range stack.ConfigChanges(from, toCfg) {
			if c.Relaxes {
				relaxed = append(relaxed, c.Key)
			}
		}
		assert.Equal(t, relaxed, p.Loosened(from.Values(), toCfg.Values()), "%v", to)
	}
}

// Run through the public model declares exactly what the engine's path
// declares today, for an environment and for a review stack.
func TestDeclared_RunDeclaresTheSameResourcesAsProgram(t *testing.T) {
	p := stack.Declared(declaredPackages())
	code := stacktest.Packages(t, "a")
	codes := map[string]program.Code{}
	for k, v := range code {
		codes[k] = program.Code{SHA256: v.SHA256, Path: v.Path}
	}
	base := stack.Base{Project: "tap", Environment: "dev", Region: "eu-west-1"}
	overrides := map[string]string{"logRetentionDays": "30", "alarmEmail": "ops@example.com"}

	typed, err := stack.NewConfig(base, overrides)
	require.NoError(t, err)
	values, err := p.Configure(overrides, "config")
	require.NoError(t, err)
	assertSameGraph(t, stack.Program(typed, code), p.RunFunc(p.NewStack("tap", "dev", "eu-west-1", "dev", values, codes)))

	review, err := stack.NewReviewStackConfig(base, overrides, 7)
	require.NoError(t, err)
	values, err = p.ConfigureReviewStack(overrides, "config")
	require.NoError(t, err)
	s := p.NewStack("tap", "dev", "eu-west-1", "dev-pr-7", values, codes)
	s.ReviewStackPR = 7
	assertSameGraph(t, stack.Program(review, code), p.RunFunc(s))
}

func assertSameGraph(t *testing.T, want, got pulumi.RunFunc) {
	t.Helper()
	a, err := offline.Collect(want, "tap", "dev", "eu-west-1")
	require.NoError(t, err)
	require.NotEmpty(t, a.Resources)
	b, err := offline.Collect(got, "tap", "dev", "eu-west-1")
	require.NoError(t, err)
	require.Len(t, b.Resources, len(a.Resources))
	byURN := map[string]graph.Resource{}
	for _, r := range a.Resources {
		byURN[r.URN] = r
	}
	for _, r := range b.Resources {
		w, ok := byURN[r.URN]
		if assert.True(t, ok, "%s is not declared by Program", r.URN) {
			assert.Equal(t, w.Inputs, r.Inputs, r.URN)
		}
	}
}
