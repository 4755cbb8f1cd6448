// Package outcome is the structured result of an engine run (a preview,
// update, refresh or destroy): what happens to each resource, with
// diagnostics, policy findings and outputs. It is not a plan: Pulumi's
// saved update plans are files the engine reads, and the reviewed plan is
// internal/reviewed's. It is built from the engine's event stream, never from CLI text,
// and it is what the renderer, the outputs and the job summary read.
//
// Its tests replay event streams recorded from the real Pulumi CLI
// (testdata/events/*.jsonl); `make record-events` (go run
// ./internal/outcome/record) records them again.
package outcome

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/diag/colors"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/org/tap-deploy/internal/graph"
	"github.com/org/tap-deploy/internal/redact"
)

// Op is what happens to a resource, collapsed to what a reviewer cares
// about (a replacement is one row, not three engine steps).
type Op string

const (
	OpCreate  Op = "create"
	OpUpdate  Op = "update"
	OpReplace Op = "replace"
	OpDelete  Op = "delete"
	OpSame    Op = "same"
	OpRead    Op = "read"
	OpRefresh Op = "refresh"
)

// ChangingOps lists the operations that change the cloud, in the order a
// reviewer should read them (most dangerous first).
var ChangingOps = []Op{OpDelete, OpReplace, OpUpdate, OpCreate}

// Kind is the kind of engine run a result describes.
type Kind string

const (
	KindPreview Kind = "preview"
	KindUpdate  Kind = "update"
	KindRefresh Kind = "refresh"
	KindDestroy Kind = "destroy"
)

// Step is one resource's change.
type Step struct {
	URN  string `json:"urn"`
	Type string `json:"type"`
	Name string `json:"name"`
	Op   Op     `json:"op"`
	// Changed lists the property paths that differ.
	Changed []string `json:"changed,omitempty"`
	// Changes are the changed properties with their old and new values.
	Changes []PropertyChange `json:"changes,omitempty"`
	// ReplaceReasons lists the properties that force a replacement.
	ReplaceReasons []string `json:"replaceReasons,omitempty"`
	// Error is set when the operation on this resource failed.
	Error string `json:"error,omitempty"`
	// Custom is false for component resources (Pulumi's grouping, no
	// cloud resource).
	Custom bool `json:"custom"`
	// Old and New are the resource's inputs before and after (engine
	// events hide secret values as "[secret]").
	Old map[string]any `json:"-"`
	New map[string]any `json:"-"`
}

// Diagnostic is a message from the engine, the program or a provider.
type Diagnostic struct {
	Severity string `json:"severity"`
	URN      string `json:"urn,omitempty"`
	Message  string `json:"message"`
}

// Finding is a policy result shown next to the change.
type Finding struct {
	RuleID   string `json:"ruleId"`
	Level    string `json:"level"`
	URN      string `json:"urn,omitempty"`
	Resource string `json:"resource"`
	Message  string `json:"message"`
}

// Result is one engine run's outcome.
type Result struct {
	Kind  Kind   `json:"kind"`
	Steps []Step `json:"steps"`
	// Counts counts the cloud resources per operation; Pulumi counts
	// Pulumi's own resources (components and providers), which create
	// nothing in the cloud.
	Counts      map[Op]int   `json:"counts"`
	Pulumi      map[Op]int   `json:"pulumi,omitempty"`
	Diagnostics []Diagnostic `json:"diagnostics,omitempty"`
	Findings    []Finding    `json:"findings,omitempty"`
	// Outputs are the stack's outputs; a value not known before the
	// update is Unknown (KnownOutputs has null instead).
	Outputs map[string]any `json:"outputs,omitempty"`
	// Duration is the engine run's wall time, set by the engine adapter.
	Duration time.Duration `json:"duration"`
	// Error is set when the run failed; the steps say how far it got.
	Error string `json:"error,omitempty"`
	// Resources is the goal state's resource graph as the engine saw it,
	// for the policy rules.
	Resources []graph.Resource `json:"-"`
	// SecretOutputs names the outputs left out of Outputs because Pulumi
	// marks them secret.
	SecretOutputs []string `json:"secretOutputs,omitempty"`
	// Start digests the state the run started from, as its events show it
	// (each step carries the resource's old id, inputs and outputs): two
	// previews from the same state have the same Start.
	Start string `json:"start,omitempty"`
}

// Cloud reports whether the step is a cloud resource, not one of Pulumi's
// own (a component groups resources; a provider configures them).
func (s Step) Cloud() bool { return s.Custom && !strings.HasPrefix(s.Type, "pulumi:providers:") }

// HasChanges reports whether any cloud resource would be or was changed.
func (r Result) HasChanges() bool {
	for _, op := range ChangingOps {
		if r.Counts[op] > 0 {
			return true
		}
	}
	return false
}

// Destructive reports whether anything is deleted or replaced.
func (r Result) Destructive() bool { return r.Counts[OpDelete]+r.Counts[OpReplace] > 0 }

// Failed lists the steps whose operation failed.
func (r Result) Failed() []Step {
	var out []Step
	for _, s := range r.Steps {
		if s.Error != "" {
			out = append(out, s)
		}
	}
	return out
}

// ByOp returns the cloud resources' steps with the given operation, sorted
// by type and name.
func (r Result) ByOp(op Op) []Step {
	var out []Step
	for _, s := range r.Steps {
		if s.Op == op && s.Cloud() {
			out = append(out, s)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Type != out[j].Type {
			return out[i].Type < out[j].Type
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// FromEvents folds an engine event stream into a Result. Steps are keyed by
// URN so the engine's several events for one replacement become one row.
func FromEvents(kind Kind, evs []apitype.EngineEvent) Result {
	f := &fold{
		r:     Result{Kind: kind, Counts: map[Op]int{}, Pulumi: map[Op]int{}},
		index: map[string]int{}, lastError: map[string]string{}, seen: map[string]bool{}, old: map[string]map[string]any{},
	}
	for _, e := range evs {
		switch {
		case e.ResourcePreEvent != nil:
			f.resourcePre(e.ResourcePreEvent.Metadata)
		case e.ResOutputsEvent != nil:
			f.resOutputs(e.ResOutputsEvent.Metadata)
		case e.ResOpFailedEvent != nil:
			f.resOpFailed(e.ResOpFailedEvent.Metadata)
		case e.DiagnosticEvent != nil:
			f.diagnostic(*e.DiagnosticEvent)
		case e.PolicyEvent != nil:
			f.policy(*e.PolicyEvent)
		}
	}
	return f.result()
}

// fold is FromEvents's state: the result so far and what later events
// need of earlier ones.
type fold struct {
	r Result
	// index is each step's place in r.Steps, by URN.
	index map[string]int
	// lastError is the last error diagnostic naming each resource: its
	// error when its operation fails (the engine sends diagnostics before
	// ResOpFailedEvent).
	lastError map[string]string
	// seen are the resources already in r.Resources.
	seen map[string]bool
	// old is each resource's state before the run, for Start.
	old map[string]map[string]any
}

// resourcePre is a step about to happen: a step of the result, and the
// resource (unless it is deleted) in the goal state's graph.
func (f *fold) resourcePre(m apitype.StepEventMetadata) {
	f.step(m)
	if n := m.New; n != nil && collapse(m.Op) != OpDelete && !f.seen[n.URN] {
		f.seen[n.URN] = true
		f.r.Resources = append(f.r.Resources, graph.Resource{
			URN: n.URN, Type: n.Type, Name: urnName(n.URN), Custom: n.Custom,
			Parent: n.Parent, Provider: n.Provider, Inputs: n.Inputs, Outputs: n.Outputs,
		})
	}
}

// resOutputs is a step done: the stack's outputs (not a refresh's, which
// are the old ones), or what a refresh found of a resource.
func (f *fold) resOutputs(m apitype.StepEventMetadata) {
	switch {
	case m.Type == "pulumi:pulumi:Stack":
		if m.New != nil && f.r.Kind != KindRefresh {
			f.r.Outputs, f.r.SecretOutputs = stackOutputs(m.New.Outputs)
		}
	case f.r.Kind == KindRefresh:
		refreshed(f.step(m), m)
	}
}

// resOpFailed is a step that failed, with the error its diagnostic gave.
func (f *fold) resOpFailed(m apitype.StepEventMetadata) {
	if s := f.step(m); s != nil {
		s.Error = cmp.Or(f.lastError[s.URN], "the operation failed")
	}
}

// diagnostic keeps what a reader should see, as plain text; an error
// naming a resource is kept as that resource's error too.
func (f *fold) diagnostic(d apitype.DiagnosticEvent) {
	if d.Ephemeral || d.Severity == "debug" {
		return
	}
	msg := strings.TrimSpace(plainText(d.Message))
	if msg == "" {
		return
	}
	if d.Severity == "error" && d.URN != "" {
		f.lastError[d.URN] = msg
	}
	f.r.Diagnostics = append(f.r.Diagnostics, Diagnostic{Severity: d.Severity, URN: d.URN, Message: msg})
}

// policy is a policy pack's finding.
func (f *fold) policy(p apitype.PolicyEvent) {
	f.r.Findings = append(f.r.Findings, Finding{
		RuleID:   p.PolicyName,
		Level:    p.EnforcementLevel,
		URN:      p.ResourceURN,
		Resource: urnName(p.ResourceURN),
		Message:  strings.TrimSpace(plainText(p.Message)),
	})
}

// step is the result's step of m's resource, added on its first event and
// merged with the later ones; nil for what is not shown (the stack's root,
// an operation that is not one).
func (f *fold) step(m apitype.StepEventMetadata) *Step {
	op := collapse(m.Op)
	if op == "" || isInternal(m.Type) {
		return nil
	}
	if i, ok := f.index[m.URN]; ok {
		s := &f.r.Steps[i]
		// A replacement arrives as replace + create-replacement +
		// delete-replaced: keep the strongest.
		if rank(op) > rank(s.Op) {
			s.Op = op
		}
		s.Changed = union(s.Changed, changed(m))
		s.ReplaceReasons = union(s.ReplaceReasons, m.Keys)
		if len(s.Changes) == 0 {
			s.Changes = propertyChanges(m)
		}
		return s
	}
	f.index[m.URN] = len(f.r.Steps)
	st := Step{
		URN:            m.URN,
		Type:           m.Type,
		Name:           urnName(m.URN),
		Op:             op,
		Changed:        changed(m),
		ReplaceReasons: replaceReasons(op, m.Keys),
		Changes:        propertyChanges(m),
	}
	if m.Old != nil {
		st.Old, st.Custom = m.Old.Inputs, m.Old.Custom
		f.old[m.URN] = map[string]any{"id": m.Old.ID, "inputs": m.Old.Inputs, "outputs": m.Old.Outputs}
	}
	if m.New != nil {
		st.New, st.Custom = m.New.Inputs, m.New.Custom
	}
	f.r.Steps = append(f.r.Steps, st)
	return &f.r.Steps[len(f.r.Steps)-1]
}

// result ends the fold: errors that came without a failed operation go to
// their steps, and the steps are counted.
func (f *fold) result() Result {
	r := f.r
	for i := range r.Steps {
		if s := r.Steps[i]; s.Error == "" && f.lastError[s.URN] != "" && s.Op != OpSame {
			// An error diagnostic without ResOpFailedEvent (e.g. a Check
			// failure) still belongs to its resource.
			r.Steps[i].Error = f.lastError[s.URN]
		}
		if r.Steps[i].Cloud() {
			r.Counts[r.Steps[i].Op]++
		} else {
			r.Pulumi[r.Steps[i].Op]++
		}
	}
	r.Start = digest(f.old)
	return r
}

// digest is the SHA-256 of v's JSON (maps marshal with sorted keys).
func digest(v any) string {
	b, _ := json.Marshal(v)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// stackOutputs takes the stack's outputs from its event: the engine shows
// secret values as Secret or as its secret object (isSecret; they are left
// out and named) and values not
// known before the update as Unknown, at any depth (they are kept: a
// reader is told what is not known yet, a machine gets null, see
// KnownOutputs).
func stackOutputs(all map[string]any) (map[string]any, []string) {
	out := map[string]any{}
	var secret []string
	for k, v := range all {
		if isSecret(v) {
			secret = append(secret, k)
			continue
		}
		out[k] = v
	}
	sort.Strings(secret)
	return out, secret
}

// KnownOutputs is Outputs as a machine reads them (the stack-outputs step
// output): a value not known before the update is null, at any depth.
func (r Result) KnownOutputs() map[string]any {
	if r.Outputs == nil {
		return nil
	}
	return known(r.Outputs).(map[string]any)
}

// refreshed turns a refresh step into what it found: the resource is gone
// (delete), differs from the state (update, with the changed properties),
// or matches it (same).
func refreshed(s *Step, m apitype.StepEventMetadata) {
	if s == nil || m.Op != apitype.OpRefresh {
		return
	}
	switch {
	case m.New == nil || m.New.ID == "":
		s.Op = OpDelete
	case m.Old != nil:
		s.Changed = nil
		for _, k := range union(keys(m.Old.Outputs), keys(m.New.Outputs)) {
			if !reflect.DeepEqual(m.Old.Outputs[k], m.New.Outputs[k]) {
				s.Changed = append(s.Changed, k)
			}
		}
		s.Changes = valueChanges(m.Old.Outputs, m.New.Outputs)
		s.Op = OpSame
		if len(s.Changed) > 0 {
			s.Op = OpUpdate
		}
	}
}

// urnName is a URN's resource name; "" for what is not a URN (a malformed
// event must not stop a run).
func urnName(u string) string {
	if !resource.URN(u).IsValid() {
		return ""
	}
	return resource.URN(u).Name()
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func collapse(op apitype.OpType) Op {
	switch op {
	case apitype.OpCreate, apitype.OpImport:
		return OpCreate
	case apitype.OpUpdate:
		return OpUpdate
	case apitype.OpReplace, apitype.OpCreateReplacement, apitype.OpDeleteReplaced,
		apitype.OpImportReplacement, apitype.OpDiscardReplaced:
		return OpReplace
	case apitype.OpDelete, apitype.OpReadDiscard:
		return OpDelete
	case apitype.OpSame:
		return OpSame
	case apitype.OpRead, apitype.OpReadReplacement:
		return OpRead
	case apitype.OpRefresh:
		return OpRefresh
	}
	return ""
}

func rank(op Op) int {
	switch op {
	case OpReplace:
		return 5
	case OpDelete:
		return 4
	case OpCreate:
		return 3
	case OpUpdate:
		return 2
	case OpRefresh, OpRead:
		return 1
	}
	return 0
}

// isInternal hides the stack's root resource: it "changes" on every run that
// changes outputs and tells a reviewer nothing.
func isInternal(typ string) bool { return typ == "pulumi:pulumi:Stack" }

func changed(m apitype.StepEventMetadata) []string {
	if len(m.DetailedDiff) > 0 {
		keys := make([]string, 0, len(m.DetailedDiff))
		for k := range m.DetailedDiff {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return keys
	}
	out := append([]string(nil), m.Diffs...)
	sort.Strings(out)
	return out
}

func replaceReasons(op Op, keys []string) []string {
	if op != OpReplace {
		return nil
	}
	out := append([]string(nil), keys...)
	sort.Strings(out)
	return out
}

func union(a, b []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range append(append([]string(nil), a...), b...) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// plainText removes the engine's colour tags and any terminal escapes.
func plainText(s string) string {
	return ansi.ReplaceAllString(colors.Never.Colorize(s), "")
}

var ansi = regexp.MustCompile(`\x1b\[[0-9;?]*[ -/]*[@-~]`)

// Redacted returns a copy of the result with f applied to every text that
// can reach a reader (errors, diagnostics, findings, names, outputs). Text
// is redacted raw, before any renderer escapes it: an escaped secret
// (my\_db\_pass) no longer matches its registered form.
func (r Result) Redacted(f func(string) string) Result {
	out := r
	out.Error = f(r.Error)
	out.Steps = make([]Step, len(r.Steps))
	for i, s := range r.Steps {
		s.URN, s.Type, s.Name, s.Error = f(s.URN), f(s.Type), f(s.Name), f(s.Error)
		s.Changed = redact.All(s.Changed, f)
		s.ReplaceReasons = redact.All(s.ReplaceReasons, f)
		if s.Changes != nil {
			changes := make([]PropertyChange, len(s.Changes))
			for j, c := range s.Changes {
				c.Path, c.Old, c.New = f(c.Path), redactValue(c.Old, f), redactValue(c.New, f)
				changes[j] = c
			}
			s.Changes = changes
		}
		out.Steps[i] = s
	}
	out.Diagnostics = make([]Diagnostic, len(r.Diagnostics))
	for i, d := range r.Diagnostics {
		d.URN, d.Message = f(d.URN), f(d.Message)
		out.Diagnostics[i] = d
	}
	out.Findings = make([]Finding, len(r.Findings))
	for i, fd := range r.Findings {
		fd.RuleID, fd.URN, fd.Resource, fd.Message = f(fd.RuleID), f(fd.URN), f(fd.Resource), f(fd.Message)
		out.Findings[i] = fd
	}
	if r.Outputs != nil {
		out.Outputs = redactValue(r.Outputs, f).(map[string]any)
	}
	out.SecretOutputs = redact.All(r.SecretOutputs, f)
	return out
}

// redactValue applies f to every string inside a JSON-like value.
func redactValue(v any, f func(string) string) any {
	switch t := v.(type) {
	case string:
		return f(t)
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[f(k)] = redactValue(e, f)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = redactValue(e, f)
		}
		return out
	}
	return v
}

// WithoutChangesOf returns the result with the changes of the given
// properties (by resource type) left out: a resource whose every change is
// to one of them becomes unchanged. A refresh uses it for what another
// service owns after Pulumi created it (CodeDeploy's alias versions), which
// is not drift.
func (r Result) WithoutChangesOf(owned map[string][]string) Result {
	out := r
	out.Steps = make([]Step, len(r.Steps))
	out.Counts, out.Pulumi = map[Op]int{}, map[Op]int{}
	for i, s := range r.Steps {
		if s.Op == OpUpdate && len(s.Changed) > 0 && allOwned(s.Changed, owned[s.Type]) {
			s.Op, s.Changed, s.Changes = OpSame, nil, nil
		}
		out.Steps[i] = s
		if s.Cloud() {
			out.Counts[s.Op]++
		} else {
			out.Pulumi[s.Op]++
		}
	}
	return out
}

func allOwned(paths, owned []string) bool {
	for _, p := range paths {
		mine := false
		for _, o := range owned {
			if p == o || strings.HasPrefix(p, o+".") || strings.HasPrefix(p, o+"[") {
				mine = true
				break
			}
		}
		if !mine {
			return false
		}
	}
	return true
}
