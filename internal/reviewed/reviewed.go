// Package reviewed is the reviewed plan: a fingerprint of what a pull
// request's preview showed (per resource the operation, the changed
// properties and a digest of the new inputs; the state it started from; the
// configuration; the action's version), kept in the PR's comment so that the
// merge deploy can compare its own preview with it and say precisely what
// differs. It is pure: fingerprints are values, comparisons are functions.
package reviewed

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/org/tap-deploy/internal/outcome"
)

// Change is one resource the plan changes.
type Change struct {
	URN     string   `json:"u"`
	Op      string   `json:"o"`
	Changed []string `json:"c,omitempty"`
	// Inputs digests the resource's new inputs (empty for a delete).
	Inputs string `json:"i,omitempty"`
}

// Plan is a preview's fingerprint.
type Plan struct {
	// ID names the plan for reviewers: it covers the changes, the starting
	// state, the configuration and the action version (not the commit).
	ID string `json:"id"`
	// Head is the commit the preview was of.
	Head string `json:"head"`
	// StateVersion is the last update's version when the preview ran (0:
	// none); State digests the state the preview started from.
	StateVersion int    `json:"stateVersion"`
	State        string `json:"state"`
	// Config digests the configuration the stack is built from.
	Config string `json:"config"`
	Action string `json:"action"`
	// Changes lists every resource the plan changes, in URN order.
	Changes []Change `json:"changes"`
	// Unlisted means Changes was left out to keep the comment small: the
	// plan compares by ID alone.
	Unlisted bool `json:"unlisted,omitempty"`
	// For is where the plan was made: a plan is accepted only there.
	For Binding `json:"for"`
	// Shown is what the comment showing the plan says beside it that no
	// later run can know: a deploy renders that whole comment again from
	// its own preview and these, and compares the two.
	Shown Shown `json:"shown,omitzero"`
}

// Shown is what a rendering of a preview depends on besides its result
// and its inputs: the workflow run it came from, when it ran, how long the
// engine took, and whether the stack was new. They are numbers and a
// flag, so a plan line edited by someone with write access can change a
// comment's time or run link, never its text.
type Shown struct {
	// Run is the workflow run's id (GITHUB_RUN_ID); 0 for none.
	Run int64 `json:"run,omitempty"`
	// At is when the preview's report was rendered, in Unix seconds.
	At int64 `json:"at,omitempty"`
	// Took is how long the engine's preview took.
	Took time.Duration `json:"took,omitempty"`
	// FirstDeploy means the stack did not exist yet.
	FirstDeploy bool `json:"first,omitempty"`
	// Unchanged is how many resources the preview found unchanged: it
	// depends on the state the preview started from, which a merge queue
	// (whose entries ahead deployed since) cannot see.
	Unchanged int `json:"same,omitempty"`
}

// Binding is the repository, pull request and stack a plan was previewed
// for. Anyone with write access can paste a plan line into a comment; one
// from another pull request or stack is refused.
type Binding struct {
	Repo  string `json:"repo"`
	PR    int    `json:"pr"`
	Stack string `json:"stack"`
}

// Bound returns the plan bound to where it was made.
func (p Plan) Bound(b Binding) Plan {
	p.For = b
	return p
}

// Check refuses a plan made for another repository, pull request or stack.
func (p Plan) Check(want Binding) error {
	if p.For != want {
		return fmt.Errorf("the recorded plan was made for %s, not for %s", p.For, want)
	}
	return nil
}

func (b Binding) String() string {
	if b.Repo == "" && b.PR == 0 && b.Stack == "" {
		return "no pull request (an unbound plan)"
	}
	return fmt.Sprintf("%s pull request #%d, stack %s", b.Repo, b.PR, b.Stack)
}

// Of fingerprints a preview. Only what must matter counts: the order of the
// engine's events does not (changes are sorted), secret values do not (the
// engine shows them as "[secret]"), nor where a run keeps its copy of a
// package (assets count by content).
func Of(res outcome.Result, stateVersion int, config map[string]string, action, head string) Plan {
	p := Plan{Head: head, StateVersion: stateVersion, State: res.Start, Config: digest(config), Action: action}
	for _, s := range res.Steps {
		if s.Op == outcome.OpSame || s.Op == outcome.OpRead || s.Op == outcome.OpRefresh {
			continue
		}
		c := Change{URN: s.URN, Op: string(s.Op), Changed: append([]string(nil), s.Changed...)}
		if s.Op != outcome.OpDelete {
			c.Inputs = digest(canonical(s.New))[:16]
		}
		p.Changes = append(p.Changes, c)
	}
	sort.Slice(p.Changes, func(i, j int) bool { return p.Changes[i].URN < p.Changes[j].URN })
	p.ID = digest(map[string]any{"changes": p.Changes, "state": p.State, "config": p.Config, "action": p.Action})[:12]
	return p
}

// assetSig marks an asset or archive in Pulumi's wire form.
const assetSig = "4dabf18193072939515e22adb298388d"

// canonical replaces assets by their content: the engine's hash when it
// has one, else the file's name (packages are named by their SHA-256).
func canonical(v any) any {
	switch t := v.(type) {
	case map[string]any:
		if _, asset := t[assetSig]; asset {
			for _, k := range []string{"hash", "path", "uri", "text"} {
				if s, ok := t[k].(string); ok && s != "" {
					if k == "path" {
						s = path.Base(s)
					}
					return "asset:" + k + ":" + s
				}
			}
			return "asset"
		}
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = canonical(e)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = canonical(e)
		}
		return out
	}
	return v
}

func digest(v any) string {
	b, _ := json.Marshal(v)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Difference is how the plan a deploy is about to apply differs from the
// reviewed one.
type Difference struct {
	// Added are changes the reviewed plan did not have; Removed are
	// reviewed changes that are gone; Changed are resources whose change is
	// now different (operation, properties or new values).
	Added, Removed, Changed []Change
	State                   bool
	StateVersions           [2]int
	Config                  bool
	Action                  [2]string
	// Unlisted means a plan was too large to list and differs by ID.
	Unlisted bool
}

// Compare says how now differs from reviewed.
func Compare(reviewed, now Plan) Difference {
	var d Difference
	if reviewed.Unlisted || now.Unlisted {
		d.Unlisted = reviewed.ID != now.ID
		reviewed.Changes, now.Changes = nil, nil
	}
	before := map[string]Change{}
	for _, c := range reviewed.Changes {
		before[c.URN] = c
	}
	for _, c := range now.Changes {
		old, ok := before[c.URN]
		switch {
		case !ok:
			d.Added = append(d.Added, c)
		case old.Op != c.Op || old.Inputs != c.Inputs || strings.Join(old.Changed, ",") != strings.Join(c.Changed, ","):
			d.Changed = append(d.Changed, c)
		}
		delete(before, c.URN)
	}
	for _, c := range reviewed.Changes {
		if _, gone := before[c.URN]; gone {
			d.Removed = append(d.Removed, c)
		}
	}
	if reviewed.State != now.State {
		d.State, d.StateVersions = true, [2]int{reviewed.StateVersion, now.StateVersion}
	}
	d.Config = reviewed.Config != now.Config
	if reviewed.Action != now.Action {
		d.Action = [2]string{reviewed.Action, now.Action}
	}
	return d
}

// Same reports whether nothing differs.
func (d Difference) Same() bool {
	return len(d.Added)+len(d.Removed)+len(d.Changed) == 0 && !d.State && !d.Config && d.Action[0] == "" && !d.Unlisted
}

// Lines says what differs, one finding per line, for reviewers.
func (d Difference) Lines() []string {
	var out []string
	describe := func(verb string, cs []Change) {
		for _, c := range cs {
			line := fmt.Sprintf("%s: %s %s", verb, c.Op, shortURN(c.URN))
			if len(c.Changed) > 0 {
				line += " (" + strings.Join(c.Changed, ", ") + ")"
			}
			out = append(out, line)
		}
	}
	describe("not in the reviewed plan", d.Added)
	describe("in the reviewed plan, not any more", d.Removed)
	describe("changes differently than reviewed", d.Changed)
	if d.Unlisted {
		out = append(out, fmt.Sprintf("the resources it changes differ from the reviewed plan (more than %d changes, not listed)", maxChanges))
	}
	if d.State {
		out = append(out, fmt.Sprintf("a different starting state: the review saw the stack at version %d, the deploy finds version %d or a change made outside Pulumi", d.StateVersions[0], d.StateVersions[1]))
	}
	if d.Config {
		out = append(out, "a different configuration than the one reviewed (config or the stack's inputs)")
	}
	if d.Action[0] != "" {
		out = append(out, fmt.Sprintf("a different tap-deploy: reviewed with %s, deploying with %s", d.Action[0], d.Action[1]))
	}
	return out
}

// shortURN is type::name, the part of a URN a reviewer reads.
func shortURN(urn string) string {
	parts := strings.Split(urn, "::")
	if len(parts) < 4 {
		return urn
	}
	typ := parts[len(parts)-2]
	if i := strings.LastIndex(typ, "$"); i >= 0 {
		typ = typ[i+1:]
	}
	return typ + " " + parts[len(parts)-1]
}

// The plan travels in a hidden line of the PR comment and the job summary.
var metadataLine = regexp.MustCompile(`<!-- tap-deploy:plan ([A-Za-z0-9+/=]+) -->`)

// maxChanges bounds what a comment carries: a larger plan is kept without
// its per-resource list (and compared by ID alone).
const maxChanges = 500

// Encode is the plan as a hidden HTML comment line.
func (p Plan) Encode() string {
	if len(p.Changes) > maxChanges {
		p.Changes, p.Unlisted = nil, true
	}
	b, _ := json.Marshal(p)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b) //nolint:errcheck // writes to memory
	zw.Close()  //nolint:errcheck // writes to memory
	return "<!-- tap-deploy:plan " + base64.StdEncoding.EncodeToString(buf.Bytes()) + " -->"
}

// ErrNoPlan means the text carries no reviewed plan.
var ErrNoPlan = errors.New("no reviewed plan recorded")

// DecodeComment reads the plan from its one place in the action's
// comment: the line right after the comment's marker. A plan line
// anywhere else (pasted into the text by whoever can edit it) is not read.
func DecodeComment(body, marker string) (Plan, error) {
	lines := strings.SplitN(body, "\n", 3)
	if len(lines) < 2 || lines[0] != marker {
		return Plan{}, fmt.Errorf("the comment does not start with its marker")
	}
	if !metadataLine.MatchString(lines[1]) || metadataLine.FindString(lines[1]) != lines[1] {
		if strings.Contains(body, "<!-- tap-deploy:plan ") {
			return Plan{}, fmt.Errorf("the comment carries a plan line, but not at its place after the marker")
		}
		return Plan{}, ErrNoPlan
	}
	return Decode(lines[1])
}

// DecodeFirstLine reads the plan from the first line of a comment's
// section, its one place there.
func DecodeFirstLine(text string) (Plan, error) {
	first, _, _ := strings.Cut(text, "\n")
	if metadataLine.FindString(first) != first || first == "" {
		return Plan{}, ErrNoPlan
	}
	return Decode(first)
}

// Decode finds the plan in a comment body.
func Decode(body string) (Plan, error) {
	m := metadataLine.FindStringSubmatch(body)
	if m == nil {
		return Plan{}, ErrNoPlan
	}
	raw, err := base64.StdEncoding.DecodeString(m[1])
	if err != nil {
		return Plan{}, fmt.Errorf("the recorded plan is not readable: %w", err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return Plan{}, fmt.Errorf("the recorded plan is not readable: %w", err)
	}
	b, err := io.ReadAll(io.LimitReader(zr, 4<<20))
	if err != nil {
		return Plan{}, fmt.Errorf("the recorded plan is not readable: %w", err)
	}
	var p Plan
	if err := json.Unmarshal(b, &p); err != nil || p.ID == "" {
		return Plan{}, fmt.Errorf("the recorded plan is not readable: %v", err)
	}
	if err := p.wellFormed(); err != nil {
		return Plan{}, fmt.Errorf("the recorded plan is not one this action wrote: %w", err)
	}
	return p, nil
}

var (
	planID      = regexp.MustCompile(`^[0-9a-f]{12}$`)
	commitSHA   = regexp.MustCompile(`^[0-9a-f]{0,64}$`)
	versionName = regexp.MustCompile(`^[A-Za-z0-9._+-]{0,64}$`)
)

// wellFormed checks the fields a run prints: anyone
// with write access can edit a plan line, and an id or head of their
// choosing would otherwise reach the log and the comment as written.
func (p Plan) wellFormed() error {
	switch {
	case !planID.MatchString(p.ID):
		return fmt.Errorf("its id is not 12 hex digits")
	case !commitSHA.MatchString(p.Head):
		return fmt.Errorf("its head is not a commit sha")
	case !versionName.MatchString(p.Action):
		return fmt.Errorf("its action version is not a version name")
	case p.Shown.Run < 0 || p.Shown.At < 0 || p.Shown.Took < 0 || p.Shown.Unchanged < 0:
		return fmt.Errorf("its run, time, duration or count is negative")
	}
	return nil
}
