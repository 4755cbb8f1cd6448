package app

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/github"

	"github.com/org/tap-deploy/internal/outcome"
	"github.com/org/tap-deploy/internal/redact"
	"github.com/org/tap-deploy/internal/render"
)

// leaked is a secret with every character class the renderer and JSON
// escape: `_` and `*` (markdown), `<`, `>` and `"` (HTML and JSON).
const leaked = `s3cr3t_pass*phr<a>se"42`

// secretForms are the forms a secret takes in a report: as it is,
// markdown-escaped (what a cell or a line makes of it), JSON-escaped (a
// value inside a JSON document, an engine's error quoting one) and base64.
func secretForms(secret string) map[string]string {
	b, _ := json.Marshal(secret)
	return map[string]string{
		"raw":     secret,
		"escaped": render.EscapeMarkdown(secret),
		"JSON":    string(b[1 : len(b)-1]),
		"base64":  base64.StdEncoding.EncodeToString([]byte(secret)),
	}
}

// notFilled are fields whose values are the program's own words, which the
// renderer switches on (an engine's severity, a rule's level): outside
// text never reaches them.
var notFilled = map[string]bool{"Severity": true, "Level": true}

// fill appends text to every string the value holds (fields, elements,
// map values, values inside any), but for the program's own enums (Op,
// Kind: named string types).
func fill(v reflect.Value, text string) {
	switch v.Kind() {
	case reflect.String:
		if v.Type() == reflect.TypeFor[string]() && v.CanSet() {
			v.SetString(v.String() + text)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() && !notFilled[f.Name] {
				fill(v.Field(i), text)
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			fill(v.Index(i), text)
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(v.MapIndex(k))
			fill(e, text)
			v.SetMapIndex(k, e)
		}
	case reflect.Interface:
		if !v.IsNil() {
			e := reflect.New(v.Elem().Type()).Elem()
			e.Set(v.Elem())
			fill(e, text)
			v.Set(e)
		}
	case reflect.Pointer:
		if !v.IsNil() {
			fill(v.Elem(), text)
		}
	}
}

// everyField is a result and a meta with every kind of text a report
// shows, each string field ending in text.
func everyField(text string) (render.Meta, outcome.Result) {
	step := func(op outcome.Op, name string) outcome.Step {
		return outcome.Step{URN: "urn:pulumi:dev::tap::aws:lambda/function:Function::" + name, Type: "aws:lambda/function:Function", Name: name, Op: op, Custom: true,
			Changed: []string{"description", "policy"}, ReplaceReasons: []string{"description"}, Error: "failed: ",
			Changes: []outcome.PropertyChange{{Path: "description", Old: "old ", New: "new "}, {Path: "policy", Old: `{"a":"b"}`, New: `{"a":"c"}`}},
			Old:     map[string]any{"description": "old "}, New: map[string]any{"description": "new "}}
	}
	res := outcome.Result{Kind: outcome.KindUpdate,
		Steps:       []outcome.Step{step(outcome.OpCreate, "a"), step(outcome.OpUpdate, "b"), step(outcome.OpReplace, "c"), step(outcome.OpDelete, "d")},
		Counts:      map[outcome.Op]int{outcome.OpCreate: 1, outcome.OpUpdate: 1, outcome.OpReplace: 1, outcome.OpDelete: 1},
		Diagnostics: []outcome.Diagnostic{{Severity: "error", URN: "urn:x::d", Message: "diag "}, {Severity: "warning", Message: "warn "}},
		Findings:    []outcome.Finding{{RuleID: "TAP_1", Level: "mandatory", URN: "urn:x", Resource: "r", Message: "m "}, {RuleID: "CKV_2", Level: "advisory", Resource: "r", Message: "m "}},
		Outputs:     map[string]any{"apiUrl": "https://x/", "nested": map[string]any{"k": "v ", "list": []any{"e "}}}, SecretOutputs: []string{"s"},
		Error: "the run failed: ", Start: "start"}
	meta := render.Meta{Title: "Deploy ", Project: "tap", Stack: "dev", Environment: "dev", Region: "eu-west-1", SHA: "ec26c3e", RunURL: "https://github.com/o/r/actions/runs/1",
		Note: "note ", Footer: "footer ",
		Exceptions: render.Exceptions{Disabled: []string{"CKV_1"}, Lowered: []string{"CKV_2"}, PublicAPI: true},
		Verdict:    render.Verdict{PlanID: "abc", Says: "verdict: ", Lines: []string{"GitHub said: ", "the engine said: "}, Warn: true},
		Traffic:    render.Traffic{Summary: "traffic ", Lines: []string{"shift "}, Stopped: true}}
	fill(reflect.ValueOf(&res).Elem(), text)
	fill(reflect.ValueOf(&meta).Elem(), text)
	return meta, res
}

// Attack (issue 31, item 6): text is escaped for markdown before the
// final redaction pass, so a secret left out of the raw pass (the reviewed
// plan's verdict and lines: GitHub's and the engine's errors) came out as
// s3cr3t\_pass\*phrase. Every string field of every report the action
// renders is filled with the secret, in each of its forms; no form is in
// any rendering, where it goes (the comment, a section, the job summary,
// the drift issue) and at whatever room.
func TestRedaction_NoSecretFormInAnyFieldOfAnyReport(t *testing.T) {
	red := redact.New()
	for _, f := range maskForms(leaked) {
		red.Add(f)
	}
	forms := secretForms(leaked)
	for input, text := range forms {
		meta, res := everyField(" " + text + " ")
		docs := map[string]document{
			"result":             resultDoc(meta, res),
			"validation":         validationDoc(meta, render.Validation{Findings: res.Findings, Problems: []string{"problem " + text}}),
			"failure":            failureDoc("title "+text, []string{"problem " + text}),
			"review stack":       reviewStackDoc(render.ReviewStack{Stack: "dev-pr-2", State: render.ReviewStackDeployed, URL: "https://x/" + text, Commit: text, Expires: text, Error: text}),
			"drift issue":        resultDoc(meta, namesOnly(res)),
			"result and section": withSection(resultDoc(meta, res), deploySection, resultDoc(meta, res)),
		}
		for name, doc := range docs {
			for where, room := range map[string]struct {
				marker string
				limit  int
			}{"comment": {"<!-- marker -->", commentBody}, "section": {"", commentSection}, "summary": {"", render.SummaryLimit}, "small": {"", 3000}} {
				out := red.Redact(doc(room.marker, room.limit, red.Redact)) // as the publisher sends it
				for form, secret := range forms {
					assert.NotContains(t, out, secret, "the %s form of the secret in the %s report (%s), filled with its %s form", form, name, where, input)
				}
			}
		}
	}
}

// The raw pass alone (what a document does before the last pass over the
// rendered markdown) leaves no escaped form: text is redacted before it
// is escaped.
func TestRedaction_TextIsRedactedBeforeItIsEscaped(t *testing.T) {
	red := redact.New()
	red.Add(leaked)
	meta, res := everyField(" " + leaked + " ")
	out := resultDoc(meta, res)("", render.SummaryLimit, red.Redact)
	assert.NotContains(t, out, render.EscapeMarkdown(leaked), "no field is escaped before it is redacted")
	stack := reviewStackDoc(render.ReviewStack{Stack: "dev-pr-2", State: render.ReviewStackDeployed, URL: leaked, Commit: leaked, Expires: leaked, Error: leaked})("", commentSection, red.Redact)
	assert.NotContains(t, stack, render.EscapeMarkdown(leaked), "nor a review stack's section")
	assert.NotContains(t, stack, leaked)
	assert.True(t, strings.Contains(out, "verdict: \\*\\*\\*"), "the verdict is shown, redacted:\n%s", out)
}

// Every place a run writes, with the secret in every string of the
// engine's results and in GitHub's answers (an editor's name quoted by the
// reviewed plan's lines): the PR comment and its sections, the job
// summary, the step outputs, the log and its annotations, the drift
// issue, the deployments and their statuses hold no form of it.
func TestRedaction_NoSecretFormInAnyPlaceARunWrites(t *testing.T) {
	forms := secretForms(leaked)
	filled := func(kind outcome.Kind) func(context.Context) (outcome.Result, error) {
		return func(context.Context) (outcome.Result, error) {
			_, res := everyField(" " + leaked + " ")
			res.Kind, res.Error = kind, ""
			for i := range res.Steps {
				res.Steps[i].Error = ""
			}
			return res, nil
		}
	}
	h := newHarness(t)
	h.env["PULUMI_ACCESS_TOKEN"] = leaked
	h.event("pull_request", "pull_request.opened.json", nil)
	h.stack.preview = filled(outcome.KindPreview)
	require.NoError(t, h.run(), h.log())

	// The merge deploy (reviewed-plan warn): the comment's history names
	// an editor whose name is the secret, the update's outputs carry it.
	h.event("push", "push.with-new-branch.json", nil)
	h.gh.prsOfCommit = func(sha string) ([]github.PullRequest, error) {
		return []github.PullRequest{{Number: 2, HeadSHA: prHead, Merged: true, BaseRef: "master", MergeCommitSHA: sha}}, nil
	}
	h.gh.edits = map[string][]github.CommentEdit{h.gh.comments[fixturePR][0].NodeID: {{Editor: leaked, At: "2026-11-28T11:00:00Z"}}}
	h.stack.up = func(ctx context.Context, _ string) (outcome.Result, error) { return filled(outcome.KindUpdate)(ctx) }
	require.NoError(t, h.run(), h.log())
	require.Contains(t, h.summaryText(), `the comment was edited by \*\*\* at 2026-11-28T11:00:00Z`, "the verdict's line is shown, redacted")

	// A drift check that finds drift opens the drift issue.
	h.event("schedule", "workflow_dispatch.json", nil)
	h.inputs["command"], h.inputs["drift-issue"] = "drift", "true"
	h.stack.refresh = filled(outcome.KindRefresh)
	_ = h.run()
	require.NotEmpty(t, h.gh.issues, "the drift issue was written")

	places := map[string]string{"summary": h.summaryText(), "outputs": string(must(os.ReadFile(h.outputPath))),
		"deployments and statuses": strings.Join(h.gh.sent, "\n")}
	for i, b := range h.gh.bodies(fixturePR) {
		places[fmt.Sprintf("comment %d", i)] = b
	}
	for _, is := range h.gh.issues {
		places["drift issue"] += is.Title + "\n" + is.Body
	}
	var log []string
	for _, line := range strings.Split(h.stdout.String()+h.stderr.String(), "\n") {
		if !strings.HasPrefix(line, "::add-mask::") {
			log = append(log, line)
		}
	}
	places["log and annotations"] = strings.Join(log, "\n")
	require.NotEmpty(t, h.gh.sent)
	for where, text := range places {
		for form, secret := range forms {
			assert.NotContains(t, text, secret, "the %s form of the secret in the %s", form, where)
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
