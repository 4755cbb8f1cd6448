package render_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/outcome"
	"github.com/org/tap-deploy/internal/render"
)

var update = flag.Bool("update", false, "rewrite the golden files")

var meta = render.Meta{
	Title: "Preview", Project: "tap", Stack: "dev", Environment: "dev", Region: "eu-west-1",
	SHA: "ec26c3e57ca3a959ca5aad62de7213c562f8c821", RunURL: "https://github.com/Codertocat/Hello-World/actions/runs/42",
	Marker: "<!-- tap-deploy:comment repo=Codertocat/Hello-World pr=2 project=tap stack=dev -->",
	Footer: "tap-deploy · 1.2s",
}

func step(op outcome.Op, typ, name string, changed ...string) outcome.Step {
	return outcome.Step{URN: "urn:pulumi:dev::tap::" + typ + "::" + name, Type: typ, Name: name, Op: op, Changed: changed,
		Custom: !strings.HasPrefix(typ, "tap:")}
}

func result(steps ...outcome.Step) outcome.Result {
	r := outcome.Result{Kind: outcome.KindPreview, Steps: steps, Counts: map[outcome.Op]int{}, Pulumi: map[outcome.Op]int{}}
	for _, s := range steps {
		if s.Cloud() {
			r.Counts[s.Op]++
		} else {
			r.Pulumi[s.Op]++
		}
	}
	return r
}

func TestMarkdown_Golden(t *testing.T) {
	replace := step(outcome.OpReplace, "aws:dynamodb/table:Table", "items", "hashKey", "name")
	replace.ReplaceReasons = []string{"hashKey"}
	failed := step(outcome.OpCreate, "aws:lambda/function:Function", "api-handler")
	failed.Error = "creating Lambda function: InvalidParameterValueException: The role defined for the function cannot be assumed by Lambda."

	tests := []struct {
		name string
		meta render.Meta
		res  outcome.Result
	}{
		{"create-only", meta, result(
			step(outcome.OpCreate, "pulumi:providers:aws", "aws"),
			step(outcome.OpCreate, "aws:s3/bucketV2:BucketV2", "files"),
			step(outcome.OpCreate, "aws:dynamodb/table:Table", "items"),
		)},
		{"update-replace-delete", meta, result(
			step(outcome.OpUpdate, "aws:lambda/function:Function", "api-handler", "memorySize", "sourceCodeHash"),
			replace,
			step(outcome.OpDelete, "aws:sqs/queue:Queue", "old-queue"),
			step(outcome.OpSame, "aws:s3/bucketV2:BucketV2", "files"),
		)},
		{"no-changes", meta, result(step(outcome.OpSame, "aws:s3/bucketV2:BucketV2", "files"), step(outcome.OpSame, "aws:dynamodb/table:Table", "items"))},
		{"values", meta, valuesResult()},
		{"outputs", func() render.Meta {
			m := meta
			m.Title, m.Marker = "Preview before deploy", ""
			return m
		}(), outputsResult()},
		{"exceptions", func() render.Meta {
			m := meta
			m.Exceptions = render.Exceptions{Disabled: []string{"CKV_AWS_115"}, Lowered: []string{"CKV_AWS_28"}, PublicAPI: true}
			return m
		}(), result(step(outcome.OpSame, "aws:dynamodb/table:Table", "items"))},
		{"failure", meta, func() outcome.Result {
			r := result(step(outcome.OpCreate, "aws:s3/bucketV2:BucketV2", "files"), failed)
			r.Kind = outcome.KindUpdate
			r.Error = "update failed: 1 resource failed\n```injected``` fence"
			r.Diagnostics = []outcome.Diagnostic{{Severity: "error", URN: failed.URN, Message: failed.Error}}
			return r
		}()},
		{"traffic-stopped", func() render.Meta {
			m := meta
			m.Title, m.Marker = "Deploy", ""
			m.Traffic = render.Traffic{
				Summary: "The traffic shift stopped: alarm tap-dev-api-live-errors fired; CodeDeploy returned all traffic to the old versions",
				Lines: []string{
					"api (tap-dev-api): version 3 → 4 stopped at 10% by alarm tap-dev-api-live-errors; version 3 is live",
					"files (tap-dev-files): version 2 → 3 stopped with the release; version 2 is live",
				},
				Stopped: true,
			}
			return m
		}(), func() outcome.Result {
			r := result(step(outcome.OpUpdate, "aws:lambda/function:Function", "api-handler", "sourceCodeHash"))
			r.Kind = outcome.KindUpdate
			return r
		}()},
		{"policy-violation", meta, func() outcome.Result {
			r := result(step(outcome.OpCreate, "aws:dynamodb/table:Table", "items"))
			r.Findings = []outcome.Finding{
				{RuleID: "CKV_AWS_115", Level: "advisory", Resource: "api-handler", Message: "no reserved concurrency: set reservedConcurrency in config"},
				{RuleID: "CKV_AWS_28", Level: "mandatory", Resource: "items", Message: "point-in-time recovery is off: set pointInTimeRecovery.enabled"},
			}
			return r
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := render.Markdown(tt.meta, tt.res, render.CommentLimit)
			golden(t, tt.name+".md", got)
		})
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./internal/render -update to create %s", path)
	assert.Equal(t, string(want), got)
}

// TestGoldenFiles_ShowNoGoSyntax reads every golden file: nothing a person
// reads may show a value as Go's fmt prints it (a nil, a map, a bad verb).
func TestGoldenFiles_ShowNoGoSyntax(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, artefact := range []string{"<nil>", "map[", "%!"} {
			assert.NotContains(t, string(b), artefact, f)
		}
		assert.NotContains(t, string(b), outcome.Unknown, "%s shows the engine's unknown sentinel", f)
	}
}

func bigResult(n int) outcome.Result {
	steps := make([]outcome.Step, 0, n)
	for i := 0; i < n; i++ {
		op := []outcome.Op{outcome.OpCreate, outcome.OpUpdate, outcome.OpDelete, outcome.OpReplace}[i%4]
		// Multibyte names make sure no cut lands inside a character.
		steps = append(steps, step(op, "aws:s3/bucketObjectv2:BucketObjectv2", fmt.Sprintf("objet-é-%05d-数据", i), "source", "etag", "contentType"))
	}
	return result(steps...)
}

func TestMarkdown_FiveThousandResourcesStayWithinTheCommentLimit(t *testing.T) {
	got := render.Markdown(meta, bigResult(5000), render.CommentLimit)
	assert.LessOrEqual(t, len(got), render.CommentLimit)
	assert.True(t, utf8.ValidString(got))
	assert.True(t, strings.HasPrefix(got, meta.Marker), "the marker survives truncation")
	assert.Contains(t, got, "| 1250 | 1250 | 1250 | 1250 | 0 |", "counts are always there")
	assert.Contains(t, got, "Truncated to fit GitHub's comment limit")
	assert.Equal(t, strings.Count(got, "<details"), strings.Count(got, "</details>"), "no section left open")
	assert.True(t, strings.HasSuffix(got, "<sub>tap-deploy · 1.2s</sub>\n"))
}

func TestMarkdown_SummaryBudgetHoldsEverything(t *testing.T) {
	got := render.Markdown(meta, bigResult(5000), render.SummaryLimit)
	assert.LessOrEqual(t, len(got), render.SummaryLimit)
	assert.NotContains(t, got, "Truncated")
	assert.Contains(t, got, "objet-é-04999-数据")
}

func TestMarkdown_UntrustedTextCannotBreakOut(t *testing.T) {
	r := result(step(outcome.OpCreate, "aws:s3/bucketV2:BucketV2", "evil`|name"))
	r.Findings = []outcome.Finding{{RuleID: "X", Level: "advisory", Resource: "r", Message: "see [click](https://evil) @octocat <img src=x> | cell"}}
	got := render.Markdown(meta, r, render.CommentLimit)
	assert.Contains(t, got, "`evil'\\|name`")
	assert.NotContains(t, got, "[click](https://evil)")
	assert.NotContains(t, got, "<img")
	assert.NotContains(t, got, " @octocat")
}

func BenchmarkMarkdown_5000Resources(b *testing.B) {
	res := bigResult(5000)
	b.ReportAllocs()
	for b.Loop() {
		render.Markdown(meta, res, render.CommentLimit)
	}
}

func TestFailure_EscapesProblems(t *testing.T) {
	got := render.Failure("The inputs are not valid", []string{`config line 1: "[x](https://evil) <b>" is not key=value`, "second\nline"})
	assert.Equal(t, "### ❌ tap-deploy: The inputs are not valid\n\n- config line 1: \"\\[x\\](https://evil) &lt;b&gt;\" is not key=value\n- second line\n", got)
}

func TestHistory_Golden(t *testing.T) {
	m := meta
	m.Title, m.Marker = "History", ""
	got := render.History(m, []render.HistoryEntry{
		{Version: 3, Kind: "update", Result: "succeeded", Time: "2026-11-28T10:00:00Z", Commit: "ec26c3e57ca3a959ca5aad62de7213c562f8c821",
			Actor: "octocat", ActionVersion: "v1.2.0", Message: "rollback to version 1 · tap-deploy · commit ec26c3e · by octocat"},
		{Version: 2, Kind: "update", Result: "failed", Time: "2026-11-27T10:00:00Z", Actor: "mallory", Message: "a | pipe and [a link](https://evil)"},
		{Version: 1, Kind: "update", Result: "succeeded", Time: "2026-11-26T10:00:00Z", Commit: "6113728f27ae82c7b1a177c8d03f9e96e0adf246", Actor: "octocat",
			PromotedFrom: "staging@14", Message: "promoted from staging, update 14 · tap-deploy · commit 6113728"},
	}, render.SummaryLimit)
	golden(t, "history.md", got)
}

func policy(actions ...string) string {
	b, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []map[string]any{
		{"Sid": "Items", "Effect": "Allow", "Action": actions, "Resource": []string{"arn:aws:dynamodb:eu-west-1:123456789012:table/tap-dev-items"}},
	}})
	return string(b)
}

// valuesResult is an update with nested values, a secret, a value not
// known yet and a long one, a replacement, and a policy document change.
func valuesResult() outcome.Result {
	fn := step(outcome.OpUpdate, "aws:lambda/function:Function", "api-handler", "memorySize", "tags", "environment", "s3ObjectVersion", "description")
	fn.Changes = []outcome.PropertyChange{
		{Path: "description", Kind: "update", Old: "items API", New: strings.Repeat("items API behind API Gateway, ", 4), HasOld: true, HasNew: true},
		{Path: "environment.variables.API_KEY", Kind: "update", Old: "[secret]", New: "[secret]", HasOld: true, HasNew: true},
		{Path: "memorySize", Kind: "update", Old: 256.0, New: 512.0, HasOld: true, HasNew: true},
		{Path: "s3ObjectVersion", Kind: "update", Old: "3vnbqeu6ztwsz53rlqnlssflm2z6i6qy", New: outcome.Unknown, HasOld: true, HasNew: true},
		{Path: "tags.owner", Kind: "add", New: "team-a", HasNew: true},
	}
	table := step(outcome.OpReplace, "aws:dynamodb/table:Table", "items", "hashKey")
	table.ReplaceReasons = []string{"hashKey"}
	table.Changes = []outcome.PropertyChange{{Path: "hashKey", Kind: "update", Replace: true, Old: "id", New: "pk", HasOld: true, HasNew: true}}
	rolePolicy := step(outcome.OpUpdate, "aws:iam/rolePolicy:RolePolicy", "api-handler", "policy")
	rolePolicy.Changes = []outcome.PropertyChange{{Path: "policy", Kind: "update", HasOld: true, HasNew: true,
		Old: policy("dynamodb:GetItem", "dynamodb:PutItem"), New: policy("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem")}}
	return result(fn, table, rolePolicy, step(outcome.OpCreate, "tap:data:Data", "data"))
}

// outputsResult is a preview of a new stack, as the engine reports its
// outputs: values not known before the update (alone and inside a map),
// maps and lists short and long, a secret, and strings a reader must see
// as they are but that must not break the table.
func outputsResult() outcome.Result {
	fn := step(outcome.OpCreate, "aws:lambda/function:Function", "api-handler")
	sg := step(outcome.OpUpdate, "aws:lambda/function:Function", "file-processor", "vpcConfig")
	sg.Changes = []outcome.PropertyChange{{Path: "vpcConfig.securityGroupIds", Kind: "update", HasOld: true, HasNew: true,
		Old: []any{"sg-0a1b2c"}, New: []any{"sg-0a1b2c", outcome.Unknown}}}
	r := result(fn, sg)
	r.Outputs = map[string]any{
		"tableName":    "tap-dev-items",
		"apiUrl":       outcome.Unknown,
		"lambdaMemory": 256.0,
		"public":       false,
		"retired":      nil,
		"tags":         map[string]any{"team": "a", "env": "dev"},
		"noTags":       map[string]any{},
		"zones":        []any{"eu-west-1a", "eu-west-1b"},
		"alarmArns": map[string]any{
			"tap-dev-api-5xx":     outcome.Unknown,
			"tap-dev-api-latency": outcome.Unknown,
			"tap-dev-errors":      "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:tap-dev-errors",
		},
		"subnets": []any{"subnet-0123456789abcdef0", "subnet-0123456789abcdef1", "subnet-0123456789abcdef2", outcome.Unknown},
		"database": map[string]any{"host": outcome.Unknown, "password": outcome.Secret, "port": 5432.0,
			"replicas": []any{"db-1.eu-west-1.example", "db-2.eu-west-1.example", "db-3.eu-west-1.example"}},
		"odd key.with dots": "a|b `c`\nd <img src=x> @octocat",
	}
	r.SecretOutputs = []string{"adminToken"}
	return r
}

func TestMarkdown_OutputsShowSecretsAsSecretAndNeverAValue(t *testing.T) {
	r := result(step(outcome.OpSame, "aws:s3/bucketV2:BucketV2", "files"))
	r.Outputs = map[string]any{"bucket": "tap-dev-files"}
	r.SecretOutputs = []string{"dbPassword"}
	got := render.Markdown(meta, r, render.CommentLimit)
	assert.Contains(t, got, "| `bucket` | `tap-dev-files` |\n| `dbPassword` | `[secret]` |\n", "sorted with the others, named as secret")
}

func TestMarkdown_OneLargeOutputTakesBoundedRowsAndTheCommentStaysWithinTheLimit(t *testing.T) {
	big := map[string]any{}
	for i := 0; i < 5000; i++ {
		big[fmt.Sprintf("key-%05d", i)] = strings.Repeat("v", 40)
	}
	r := result(step(outcome.OpSame, "aws:s3/bucketV2:BucketV2", "files"))
	r.Outputs = map[string]any{"big": big, "zz": "after the big one"}
	got := render.Markdown(meta, r, render.CommentLimit)
	assert.LessOrEqual(t, len(got), render.CommentLimit)
	assert.Contains(t, got, "| `big.key-00029` | `"+strings.Repeat("v", 40)+"` |\n| `big` | … 4970 more |\n| `zz` | `after the big one` |")
	assert.NotContains(t, got, "key-00030")
}

func TestMarkdown_ValuesAreTrimmedBeforeAnyRowAndKeptInTheSummary(t *testing.T) {
	var steps []outcome.Step
	for i := 0; i < 300; i++ {
		s := step(outcome.OpUpdate, "aws:lambda/function:Function", fmt.Sprintf("fn-%03d", i), "description")
		s.Changes = []outcome.PropertyChange{{Path: "description", Kind: "update", Old: strings.Repeat("a", 50), New: strings.Repeat("b", 50), HasOld: true, HasNew: true},
			{Path: "policy", Kind: "update", Old: policy("s3:GetObject"), New: policy("s3:GetObject", "s3:PutObject"), HasOld: true, HasNew: true}}
		steps = append(steps, s)
	}
	res := result(steps...)
	comment := render.Markdown(meta, res, render.CommentLimit)
	assert.LessOrEqual(t, len(comment), render.CommentLimit)
	assert.NotContains(t, comment, "→", "the values went first")
	assert.NotContains(t, comment, "Truncated", "no row was dropped")
	assert.Contains(t, comment, "| `fn-299` | `lambda.Function` | `description` |")
	summary := render.Markdown(meta, res, render.SummaryLimit)
	assert.Contains(t, summary, "`description`: `\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"` → `\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\"`", "the job summary keeps them")
	assert.Contains(t, summary, "#### Documents changed (300)")
}

func TestMarkdown_FiveThousandResourcesWithValuesStayWithinTheLimit(t *testing.T) {
	res := bigResult(5000)
	for i := range res.Steps {
		res.Steps[i].Changes = []outcome.PropertyChange{{Path: "etag", Kind: "update", Old: "a", New: "b", HasOld: true, HasNew: true}}
	}
	got := render.Markdown(meta, res, render.CommentLimit)
	assert.LessOrEqual(t, len(got), render.CommentLimit)
	assert.True(t, utf8.ValidString(got))
	assert.Contains(t, got, "| 1250 | 1250 | 1250 | 1250 | 0 |", "counts are always there")
	assert.Equal(t, strings.Count(got, "<details"), strings.Count(got, "</details>"))
}

func TestReviewStack_Golden(t *testing.T) {
	const sha = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
	var b strings.Builder
	for _, v := range []render.ReviewStack{
		{Stack: "dev-pr-2", State: render.ReviewStackDeploying, Commit: sha},
		{Stack: "dev-pr-2", State: render.ReviewStackDeployed, Commit: sha, URL: "https://r2d2.execute-api.eu-west-1.amazonaws.com/v1/items",
			Expires: "Destroyed when the pull request closes, or by the scheduled sweep once it has gone 72h without an update (after 2026-12-01 12:00 UTC)."},
		// An output the program does not control could carry markdown:
		// it is shown as code, never as a link.
		{Stack: "dev-pr-2", State: render.ReviewStackDeployed, Commit: sha, URL: "https://x.example/](javascript:alert(1))"},
		{Stack: "dev-pr-2", State: render.ReviewStackNotUpdated, Commit: sha},
		{Stack: "dev-pr-2", State: render.ReviewStackFailed, Commit: sha, Error: "creating Lambda function: ServiceQuotaExceeded"},
		{Stack: "dev-pr-2", State: render.ReviewStackDestroyed},
		{Stack: "dev-pr-2", State: render.ReviewStackDestroyFailed, Error: "BucketNotEmpty <b>"},
	} {
		b.WriteString(render.ReviewStackMarkdown(v) + "\n")
	}
	golden(t, "review-stack.md", b.String())

	long := render.ReviewStackMarkdown(render.ReviewStack{Stack: "dev-pr-2", State: render.ReviewStackDestroyFailed, Error: strings.Repeat("x", 100000)})
	assert.Less(t, len(long), 2300, "a section stays small whatever the error")
}

func TestSweep_Golden(t *testing.T) {
	m := meta
	m.Title, m.SHA, m.Marker = "Review stack sweep", "", ""
	got := render.Sweep(m, []render.SweptStack{
		{Stack: "dev-pr-1", PR: 1, Action: render.SweepDestroyed, Why: "pull request #1 is closed"},
		{Stack: "dev-pr-3", PR: 3, Action: render.SweepKept, Why: "updated 1h ago (review-stack-ttl 72h)"},
		{Stack: "dev-pr-4", PR: 4, Action: render.SweepFailed, Why: "no update for 80h (review-stack-ttl 72h); destroying dev-pr-4 | BucketNotEmpty"},
	}, render.SummaryLimit)
	golden(t, "sweep.md", got)
	assert.Contains(t, render.Sweep(m, nil, render.SummaryLimit), "No review stacks of this stack in the backend.")
}
