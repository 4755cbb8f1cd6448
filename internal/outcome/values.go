package outcome

import (
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/sig"
)

// PropertyChange is one property's change as a reviewer reads it:
// memorySize 256 → 512. Values are as the engine reports them: secrets
// are Secret, values not known until the update are Unknown.
type PropertyChange struct {
	Path string `json:"path"`
	// Kind is add, update or delete.
	Kind string `json:"kind"`
	// Replace means this change forces a replacement.
	Replace bool `json:"replace,omitempty"`
	Old     any  `json:"old,omitempty"`
	New     any  `json:"new,omitempty"`
	HasOld  bool `json:"hasOld,omitempty"`
	HasNew  bool `json:"hasNew,omitempty"`
}

// Unknown is the value of a property or output not known until the update
// runs (the engine's sentinel in events).
const Unknown = plugin.UnknownStringValue

// Secret is how the engine's events show a secret value: the value itself
// never reaches the action.
const Secret = "[secret]"

// isSecret reports whether an event's value is a secret: Secret, or the
// object the CLI sends for a secret stack output, {<sig.Key>: <sig.Secret>,
// "ciphertext": "[secret]"} (testdata/events/up-create.jsonl).
func isSecret(v any) bool {
	if v == Secret {
		return true
	}
	m, ok := v.(map[string]any)
	return ok && m[sig.Key] == sig.Secret
}

// propertyChanges derives a step's changes from the engine's detailed diff
// and the old and new inputs (or the old state, for diffs against it).
// A changed map is expanded key by key (tags.owner), so a reviewer sees
// what changed inside it.
func propertyChanges(m apitype.StepEventMetadata) []PropertyChange {
	var oldIn, oldOut, newIn map[string]any
	if m.Old != nil {
		oldIn, oldOut = m.Old.Inputs, m.Old.Outputs
	}
	if m.New != nil {
		newIn = m.New.Inputs
	}
	var out []PropertyChange
	for path, d := range m.DetailedDiff {
		old := oldOut
		if d.InputDiff {
			old = oldIn
		}
		ov, hasOld := lookup(old, path)
		nv, hasNew := lookup(newIn, path)
		replace := strings.HasSuffix(string(d.Kind), "-replace")
		out = append(out, expand(path, ov, hasOld, nv, hasNew, replace)...)
	}
	sortChanges(out)
	return out
}

// valueChanges compares two property maps key by key (a refresh: the
// state before and the cloud now).
func valueChanges(old, new map[string]any) []PropertyChange {
	var out []PropertyChange
	for _, k := range union(keys(old), keys(new)) {
		ov, hasOld := old[k]
		nv, hasNew := new[k]
		if hasOld == hasNew && reflect.DeepEqual(ov, nv) {
			continue
		}
		out = append(out, expand(PathKey("", k), ov, hasOld, nv, hasNew, false)...)
	}
	sortChanges(out)
	return out
}

// expand turns a change of a map into changes of its keys.
func expand(path string, ov any, hasOld bool, nv any, hasNew bool, replace bool) []PropertyChange {
	om, oldMap := ov.(map[string]any)
	nm, newMap := nv.(map[string]any)
	if oldMap && newMap {
		var out []PropertyChange
		for _, k := range union(keys(om), keys(nm)) {
			o, ho := om[k]
			n, hn := nm[k]
			if ho == hn && reflect.DeepEqual(o, n) {
				continue
			}
			out = append(out, expand(PathKey(path, k), o, ho, n, hn, replace)...)
		}
		return out
	}
	kind := "update"
	switch {
	case !hasOld || ov == nil:
		kind = "add"
	case !hasNew || nv == nil:
		kind = "delete"
	}
	return []PropertyChange{{Path: path, Kind: kind, Replace: replace, Old: ov, New: nv, HasOld: hasOld && ov != nil, HasNew: hasNew && nv != nil}}
}

// PathKey appends a key to a property path (tags.owner), quoting keys
// that need it (tags["a b"]).
func PathKey(path, key string) string {
	if key != "" && strings.IndexFunc(key, func(r rune) bool {
		return !(r == '_' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) < 0 {
		if path == "" {
			return key
		}
		return path + "." + key
	}
	return path + "[" + strconv.Quote(key) + "]"
}

// lookup reads a property path ("tags.owner", "rules[0].id") from inputs.
func lookup(props map[string]any, path string) (any, bool) {
	p, err := resource.ParsePropertyPath(path)
	if err != nil || props == nil {
		return nil, false
	}
	var cur any = props
	for _, el := range p {
		switch key := el.(type) {
		case string:
			m, ok := cur.(map[string]any)
			if !ok {
				return nil, false
			}
			if cur, ok = m[key]; !ok {
				return nil, false
			}
		case int:
			l, ok := cur.([]any)
			if !ok || key < 0 || key >= len(l) {
				return nil, false
			}
			cur = l[key]
		default:
			return nil, false
		}
	}
	return cur, true
}

func sortChanges(cs []PropertyChange) {
	sort.Slice(cs, func(i, j int) bool { return cs[i].Path < cs[j].Path })
}

// known replaces the engine's unknown sentinel, wherever it is nested, by
// nil: a value not known yet has no value to show or to compare.
func known(v any) any {
	switch t := v.(type) {
	case string:
		if t == Unknown {
			return nil
		}
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = known(e)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = known(e)
		}
		return out
	}
	return v
}
