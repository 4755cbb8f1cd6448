package reviewed_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/outcome"
	"github.com/org/tap-deploy/internal/reviewed"
)

const fnURN = "urn:pulumi:dev::tap::tap:functions:Function$aws:lambda/function:Function::api-handler"

func preview(steps ...outcome.Step) outcome.Result {
	return outcome.Result{Kind: outcome.KindPreview, Steps: steps, Start: "state-a"}
}

func fn(memory any, extra map[string]any) outcome.Step {
	in := map[string]any{"memorySize": memory, "environment": map[string]any{"variables": map[string]any{"TABLE_NAME": "tap-dev-items"}}}
	for k, v := range extra {
		in[k] = v
	}
	return outcome.Step{URN: fnURN, Type: "aws:lambda/function:Function", Name: "api-handler", Op: outcome.OpUpdate, Changed: []string{"memorySize"}, New: in}
}

func object(path, hash string) outcome.Step {
	source := map[string]any{"4dabf18193072939515e22adb298388d": "c44067f5952c0a294b673a41bacd8c17", "path": path}
	if hash != "" {
		source["hash"] = hash
	}
	return outcome.Step{URN: "urn:pulumi:dev::tap::aws:s3/bucketObjectv2:BucketObjectv2::api-handler-code", Op: outcome.OpCreate,
		New: map[string]any{"key": "lambda/api-handler/abc.zip", "source": source}}
}

var cfg = map[string]string{"lambdaMemoryMb": "512", "region": "eu-west-1"}

func TestOf_IgnoresWhatMustNotMatter(t *testing.T) {
	base := reviewed.Of(preview(fn(512, nil), object("/tmp/tap-deploy-code-111/api-handler-abc.zip", "")), 4, cfg, "v1.2.0", "aaaa")
	tests := map[string]reviewed.Plan{
		"the order of the events":              reviewed.Of(preview(object("/tmp/tap-deploy-code-111/api-handler-abc.zip", ""), fn(512, nil)), 4, cfg, "v1.2.0", "aaaa"),
		"where the run keeps its package copy": reviewed.Of(preview(fn(512, nil), object("/tmp/tap-deploy-code-999/api-handler-abc.zip", "")), 4, cfg, "v1.2.0", "aaaa"),
		"the commit (compared on its own)":     reviewed.Of(preview(fn(512, nil), object("/tmp/tap-deploy-code-111/api-handler-abc.zip", "")), 4, cfg, "v1.2.0", "bbbb"),
		"resources that do not change": reviewed.Of(preview(fn(512, nil), object("/tmp/y/api-handler-abc.zip", ""),
			outcome.Step{URN: "urn:pulumi:dev::tap::aws:s3/bucketV2:BucketV2::files", Op: outcome.OpSame, New: map[string]any{"modified": "2026-11-28T10:00:00Z"}}), 4, cfg, "v1.2.0", "aaaa"),
	}
	// The engine shows every secret value as "[secret]": two previews whose
	// secrets differ have the same inputs.
	secretA := reviewed.Of(preview(fn(512, map[string]any{"token": "[secret]"})), 4, cfg, "v1.2.0", "aaaa")
	secretB := reviewed.Of(preview(fn(512, map[string]any{"token": "[secret]"})), 4, cfg, "v1.2.0", "aaaa")
	assert.Equal(t, secretA.ID, secretB.ID)
	for name, p := range tests {
		assert.Equal(t, base.ID, p.ID, name)
		assert.True(t, reviewed.Compare(base, p).Same(), name)
	}
}

func TestOf_ChangesWithWhatMatters(t *testing.T) {
	base := reviewed.Of(preview(fn(512, nil)), 4, cfg, "v1.2.0", "aaaa")
	extra := outcome.Step{URN: "urn:pulumi:dev::tap::aws:sqs/queue:Queue::extra", Op: outcome.OpCreate, New: map[string]any{"name": "extra"}}
	otherState := preview(fn(512, nil))
	otherState.Start = "state-b"
	tests := []struct {
		name string
		now  reviewed.Plan
		says string
	}{
		{"an input value", reviewed.Of(preview(fn(1024, nil)), 4, cfg, "v1.2.0", "aaaa"), "changes differently than reviewed: update aws:lambda/function:Function api-handler (memorySize)"},
		{"an added resource", reviewed.Of(preview(fn(512, nil), extra), 4, cfg, "v1.2.0", "aaaa"), "not in the reviewed plan: create aws:sqs/queue:Queue extra"},
		{"a removed change", reviewed.Of(preview(), 4, cfg, "v1.2.0", "aaaa"), "in the reviewed plan, not any more: update aws:lambda/function:Function api-handler (memorySize)"},
		{"the starting state", reviewed.Of(otherState, 5, cfg, "v1.2.0", "aaaa"), "a different starting state: the review saw the stack at version 4, the deploy finds version 5"},
		{"the configuration", reviewed.Of(preview(fn(512, nil)), 4, map[string]string{"lambdaMemoryMb": "512", "region": "eu-west-2"}, "v1.2.0", "aaaa"), "a different configuration"},
		{"the action", reviewed.Of(preview(fn(512, nil)), 4, cfg, "v1.3.0", "aaaa"), "a different tap-deploy: reviewed with v1.2.0, deploying with v1.3.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.NotEqual(t, base.ID, tt.now.ID)
			d := reviewed.Compare(base, tt.now)
			require.False(t, d.Same())
			assert.Contains(t, strings.Join(d.Lines(), "\n"), tt.says)
		})
	}
}

func TestOf_APackagesContentMatters(t *testing.T) {
	a := reviewed.Of(preview(object("/tmp/x/api-handler-abc.zip", "0000")), 4, cfg, "v1.2.0", "aaaa")
	b := reviewed.Of(preview(object("/tmp/y/api-handler-abc.zip", "1111")), 4, cfg, "v1.2.0", "aaaa")
	assert.NotEqual(t, a.ID, b.ID, "same name, other bytes")
	assert.Contains(t, strings.Join(reviewed.Compare(a, b).Lines(), "\n"), "changes differently than reviewed: create aws:s3/bucketObjectv2:BucketObjectv2 api-handler-code")
}

func TestEncode_RoundTripsThroughACommentBody(t *testing.T) {
	p := reviewed.Of(preview(fn(512, nil), object("/tmp/x/api-handler-abc.zip", "")), 4, cfg, "v1.2.0", "aaaa")
	body := "<!-- tap-deploy:comment repo=o/r pr=2 project=tap stack=dev -->\n" + p.Encode() + "\n### Preview\n"
	got, err := reviewed.Decode(body)
	require.NoError(t, err)
	assert.Equal(t, p, got)

	_, err = reviewed.Decode("### a comment without a plan")
	assert.ErrorIs(t, err, reviewed.ErrNoPlan)
	_, err = reviewed.Decode("<!-- tap-deploy:plan bm90IGd6aXA= -->")
	assert.ErrorContains(t, err, "not readable")
}

func TestEncode_AHugePlanKeepsItsIDAndComparesByIt(t *testing.T) {
	var steps []outcome.Step
	for i := 0; i < 600; i++ {
		steps = append(steps, outcome.Step{URN: fmt.Sprintf("urn:pulumi:dev::tap::aws:s3/bucketObjectv2:BucketObjectv2::o%d", i), Op: outcome.OpCreate, New: map[string]any{"i": i}})
	}
	p := reviewed.Of(preview(steps...), 1, cfg, "v1", "a")
	enc := p.Encode()
	assert.Less(t, len(enc), 2000)
	got, err := reviewed.Decode(enc)
	require.NoError(t, err)
	assert.True(t, got.Unlisted)
	assert.True(t, reviewed.Compare(got, p).Same())
	other := reviewed.Of(preview(steps[1:]...), 1, cfg, "v1", "a")
	d := reviewed.Compare(got, other)
	assert.False(t, d.Same())
	assert.Contains(t, d.Lines()[0], "differ from the reviewed plan (more than 500 changes, not listed)")
}

// BenchmarkReviewedPlan_FullStack fingerprints, encodes, decodes and
// compares a plan the size of the full stack's first deploy.
func BenchmarkReviewedPlan_FullStack(b *testing.B) {
	var steps []outcome.Step
	for i := 0; i < 81; i++ {
		in := map[string]any{"name": fmt.Sprintf("tap-dev-resource-%d", i), "policy": strings.Repeat(`{"Effect":"Allow","Action":["s3:GetObject"]}`, 8),
			"tags": map[string]any{"project": "tap", "environment": "dev"}, "arn": "04da6b54-80e4-46f7-96ec-b56ff0331ba9"}
		steps = append(steps, outcome.Step{URN: fmt.Sprintf("urn:pulumi:dev::tap::tap:c:C$aws:x/y:Y::r%d", i), Op: outcome.OpCreate, New: in})
	}
	res := preview(steps...)
	b.ReportAllocs()
	for b.Loop() {
		p := reviewed.Of(res, 1, cfg, "v1", "6113728f27ae82c7b1a177c8d03f9e96e0adf246")
		back, err := reviewed.Decode(p.Encode())
		if err != nil || !reviewed.Compare(back, p).Same() {
			b.Fatal("round trip")
		}
	}
}

func TestDecodeComment_ReadsThePlanOnlyAtItsPlaceAndBindsIt(t *testing.T) {
	const marker = "<!-- tap-deploy:comment repo=o/r pr=2 project=tap stack=dev -->"
	cfg := map[string]string{"lambdaMemoryMb": "512"}
	here := reviewed.Binding{Repo: "o/r", PR: 2, Stack: "dev"}
	p := reviewed.Of(preview(fn(512, nil)), 4, cfg, "v1.2.0", "aaaa").Bound(here)
	got, err := reviewed.DecodeComment(marker+"\n"+p.Encode()+"\n### Preview\n", marker)
	require.NoError(t, err)
	assert.Equal(t, p.ID, got.ID)
	require.NoError(t, got.Check(here))

	_, err = reviewed.DecodeComment(marker+"\n### Preview\n"+p.Encode()+"\n", marker)
	assert.ErrorContains(t, err, "not at its place after the marker", "a plan line pasted into the text is not read")
	_, err = reviewed.DecodeComment(marker+"\n### Preview\n", marker)
	assert.ErrorIs(t, err, reviewed.ErrNoPlan)
	_, err = reviewed.DecodeComment(p.Encode()+"\n"+marker+"\n", marker)
	assert.Error(t, err)

	for _, other := range []reviewed.Binding{{Repo: "o/r", PR: 3, Stack: "dev"}, {Repo: "o/r", PR: 2, Stack: "prod"}, {Repo: "x/r", PR: 2, Stack: "dev"}} {
		assert.ErrorContains(t, got.Check(other), "the recorded plan was made for o/r pull request #2, stack dev")
	}
	unbound := reviewed.Of(preview(fn(512, nil)), 4, cfg, "v1.2.0", "aaaa")
	assert.ErrorContains(t, unbound.Check(here), "an unbound plan")
}

func TestDecodeFirstLine_ReadsOnlyTheSectionsFirstLine(t *testing.T) {
	p := reviewed.Of(preview(fn(512, nil)), 4, cfg, "v1.2.0", "aaaa")
	got, err := reviewed.DecodeFirstLine(p.Encode() + "\n### Merge queue preview\n")
	require.NoError(t, err)
	assert.Equal(t, p.ID, got.ID)
	_, err = reviewed.DecodeFirstLine("### Merge queue preview\n" + p.Encode())
	assert.ErrorIs(t, err, reviewed.ErrNoPlan, "a plan line below the first is not the section's")
	_, err = reviewed.DecodeFirstLine("text " + p.Encode())
	assert.ErrorIs(t, err, reviewed.ErrNoPlan, "the line is the plan and nothing else")
}

// A plan line is text anyone with write access can edit: fields the run
// prints are refused unless they are what the action writes.
func TestDecode_RefusesAPlanWhosePrintedFieldsAreNotTheActionsOwn(t *testing.T) {
	good := reviewed.Of(preview(fn(512, nil)), 4, cfg, "v1.2.0", "aaaa")
	_, err := reviewed.Decode(good.Encode())
	require.NoError(t, err)
	for name, edit := range map[string]func(*reviewed.Plan){
		"an id carrying a workflow command": func(p *reviewed.Plan) { p.ID = "0 ##[error]pwned" },
		"an id that is not 12 hex digits":   func(p *reviewed.Plan) { p.ID = "92acf01d5b1" },
		"a head that is not a sha":          func(p *reviewed.Plan) { p.Head = "main\n::error::x" },
		"an action that is not a version":   func(p *reviewed.Plan) { p.Action = "v1 ##[add-mask]x" },
	} {
		t.Run(name, func(t *testing.T) {
			p := good
			edit(&p)
			_, err := reviewed.Decode(p.Encode())
			assert.ErrorContains(t, err, "the recorded plan is not one this action wrote")
		})
	}
}
