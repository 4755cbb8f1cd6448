package program_test

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/program"
)

var zips = fstest.MapFS{"zips/worker.zip": {Data: []byte("PK\x03\x04 a zip")}, "zips/text.zip": {Data: []byte("not a zip")}}

func valid() program.Program {
	return program.Program{
		Name: "queue worker", Namespace: "worker",
		Keys: []program.Key{
			{Name: "batchSize", Kind: program.Int, Default: "10", Check: func(v string) error {
				if v == "0" {
					return errors.New("must be at least 1")
				}
				return nil
			}},
			{Name: "alarmEmail", Kind: program.String, Loosens: program.Always},
			{Name: "logRetentionDays", Kind: program.Int, Default: "14", Loosens: program.WhenLowered},
			{Name: "paused", Kind: program.Bool, Default: "false", Loosens: program.WhenSetTo("true")},
			{Name: "errorRate", Kind: program.Number, Default: "5", Loosens: program.WhenRaised},
		},
		Packages: []program.Package{{Function: "worker", FS: zips, Path: "zips/worker.zip"}},
		Shift:    []string{"worker"},
		Rules:    []program.Rule{{ID: "QUEUE_ENCRYPTED", Check: func(program.Resource) []string { return nil }}},
		Run:      func(*pulumi.Context, program.Stack) error { return nil },
	}
}

func TestValidate_NamesEachBadInput(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(p *program.Program)
		wants []string
	}{
		{"a valid program", func(*program.Program) {}, nil},
		{"a key declared twice", func(p *program.Program) {
			p.Keys = append(p.Keys, program.Key{Name: "batchSize", Kind: program.Int})
		}, []string{`program "queue worker": key "batchSize" is declared twice`}},
		{"an artifact missing", func(p *program.Program) {
			p.Packages = append(p.Packages, program.Package{Function: "reporter", FS: zips, Path: "zips/reporter.zip"})
		}, []string{`function "reporter": the package zips/reporter.zip is missing from the binary`}},
		{"an artifact that is not a zip", func(p *program.Program) {
			p.Packages[0].Path = "zips/text.zip"
		}, []string{`function "worker": zips/text.zip is not a zip file`}},
		{"a package without FS", func(p *program.Program) { p.Packages[0].FS = nil }, []string{`function "worker": the package has no FS`}},
		{"a function outside the component asked to shift", func(p *program.Program) {
			p.Shift = append(p.Shift, "scheduler")
		}, []string{`function "scheduler" is asked to shift but has no package`}},
		{"a default its own check refuses", func(p *program.Program) { p.Keys[0].Default = "0" },
			[]string{`the default of key "batchSize" must be at least 1`}},
		{"a default of the wrong kind", func(p *program.Program) { p.Keys[3].Default = "yes" },
			[]string{`the default of key "paused" must be true or false`}},
		{"a reserved key", func(p *program.Program) { p.Keys = append(p.Keys, program.Key{Name: "commit"}) },
			[]string{`key "commit" is tap-deploy's own record`}},
		{"a key that is not camelCase", func(p *program.Program) { p.Keys = append(p.Keys, program.Key{Name: "Batch-Size"}) },
			[]string{`key "Batch-Size" must be camelCase`}},
		{"a bad namespace and no Run", func(p *program.Program) { p.Namespace, p.Run = "Worker", nil },
			[]string{`Namespace "Worker" must be`, `Run is nil`}},
		{"a rule twice and one without Check", func(p *program.Program) {
			p.Rules = append(p.Rules, program.Rule{ID: "QUEUE_ENCRYPTED", Check: p.Rules[0].Check}, program.Rule{ID: "NO_CHECK"})
		}, []string{`policy rule "QUEUE_ENCRYPTED" is declared twice`, `policy rule "NO_CHECK" has no Check`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := valid()
			p.Keys = append([]program.Key(nil), p.Keys...)
			p.Packages = append([]program.Package(nil), p.Packages...)
			tt.edit(&p)
			err := p.Validate()
			if tt.wants == nil {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			lines := strings.Split(err.Error(), "\n")
			assert.Len(t, lines, len(tt.wants), "one message per problem: %v", err)
			for i, want := range tt.wants {
				if i < len(lines) {
					assert.Contains(t, lines[i], want)
				}
			}
		})
	}
}

func TestConfigure_DefaultsOverridesAndEveryProblemWithoutItsValue(t *testing.T) {
	p := valid()
	got, err := p.Configure(map[string]string{"batchSize": "20", "alarmEmail": "ops@example.com"}, "config")
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"batchSize": "20", "alarmEmail": "ops@example.com", "logRetentionDays": "14", "paused": "false", "errorRate": "5"}, got)

	_, err = p.Configure(map[string]string{"batchSize": "s3cr3t", "queueName": "x", "paused": "yes"}, "config")
	require.Error(t, err)
	assert.Equal(t, `config batchSize: must be a whole number
config paused: must be true or false
config key "queueName" is unknown; known keys: batchSize, alarmEmail, logRetentionDays, paused, errorRate`, err.Error())
	assert.NotContains(t, err.Error(), "s3cr3t")
}

func TestLoosened_FollowsEachKeysRule(t *testing.T) {
	p := valid()
	from := map[string]string{"batchSize": "10", "alarmEmail": "a@example.com", "logRetentionDays": "30", "paused": "false", "errorRate": "5"}
	tighter := map[string]string{"batchSize": "1", "alarmEmail": "a@example.com", "logRetentionDays": "90", "paused": "false", "errorRate": "2"}
	assert.Empty(t, p.Loosened(from, tighter))
	looser := map[string]string{"batchSize": "100", "alarmEmail": "b@example.com", "logRetentionDays": "7", "paused": "true", "errorRate": "50"}
	assert.Equal(t, []string{"alarmEmail", "logRetentionDays", "paused", "errorRate"}, p.Loosened(from, looser))
}

func TestStack_ReadsTypedValuesAndRefusesUndeclaredKeys(t *testing.T) {
	p := valid()
	values, err := p.Configure(map[string]string{"paused": "true", "errorRate": "2.5"}, "config")
	require.NoError(t, err)
	s := p.NewStack("tap", "dev", "eu-west-1", "dev", values, map[string]program.Code{"worker": {SHA256: "ab"}})
	assert.Equal(t, 10, s.Int("batchSize"))
	assert.Equal(t, 2.5, s.Number("errorRate"))
	assert.True(t, s.Bool("paused"))
	assert.Equal(t, "", s.String("alarmEmail"))
	assert.Equal(t, "ab", s.Package("worker").SHA256)
	assert.Equal(t, "tap-dev-jobs", s.Name("jobs"))
	assert.PanicsWithValue(t, `program: key "queueName" is not declared in Program.Keys`, func() { s.String("queueName") })
	assert.PanicsWithValue(t, `program: key "batchSize" is a int key, read as string`, func() { s.String("batchSize") })
	assert.PanicsWithValue(t, `program: function "reporter" has no package in Program.Packages`, func() { s.Package("reporter") })
}

func TestPackageDigest_IsTheZipsSHA256(t *testing.T) {
	d, err := valid().Packages[0].Digest()
	require.NoError(t, err)
	assert.Equal(t, "2fb0a5b56ad1586ffd4e73c7929cbf7ebd0dcbbcfaa8df9e498c8d86df2845e8", d, "sha256sum of the zip's bytes")
}

type mocks struct{ types []string }

func (m *mocks) NewResource(a pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	m.types = append(m.types, a.TypeToken)
	return a.Name + "-id", a.Inputs, nil
}
func (m *mocks) Call(pulumi.MockCallArgs) (resource.PropertyMap, error) {
	return resource.PropertyMap{}, nil
}

func TestRunFunc_RunsTheProgramForTheStack(t *testing.T) {
	p := valid()
	var seen program.Stack
	p.Run = func(ctx *pulumi.Context, s program.Stack) error {
		seen = s
		ctx.Export("suffix", pulumi.String(s.Suffix))
		return nil
	}
	values, err := p.Configure(nil, "config")
	require.NoError(t, err)
	s := p.NewStack("tap", "dev", "eu-west-1", "dev-pr-7", values, nil)
	require.NoError(t, pulumi.RunErr(p.RunFunc(s), pulumi.WithMocks("tap", "dev", &mocks{})))
	assert.Equal(t, "dev-pr-7", seen.Suffix)
}
