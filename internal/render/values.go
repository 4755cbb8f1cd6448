package render

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/pmezard/go-difflib/difflib"

	"github.com/org/tap-deploy/internal/outcome"
)

// maxValue is the longest value shown whole; longer ones are shortened
// with a digest that tells two apart.
const maxValue = 60

// unknownText is how every report shows a value not known before the
// update (a property's new value, a stack output in a preview).
const unknownText = "(known after deploy)"

// changeText renders one property change: `memorySize`: 256 → 512.
func changeText(c outcome.PropertyChange) string {
	text := code(c.Path) + ": " + code(valueText(c.Old, c.HasOld)) + " → " + code(valueText(c.New, c.HasNew))
	if c.Replace {
		text += " (forces replacement)"
	}
	return text
}

// valueText is how a reviewer reads a value: secrets stay [secret], values
// the engine does not know yet read unknownText, long values and JSON
// documents are shortened with a stable digest.
func valueText(v any, has bool) string {
	switch t := v.(type) {
	case nil:
		if has {
			return "null"
		}
		return "(none)"
	case string:
		if m, ok := markerText(t); ok {
			return m
		}
		switch {
		case isDocument(t):
			return "JSON document " + digestOf(t)
		case len(t) > maxValue:
			return strconv.Quote(clip(t, maxValue)) + " " + digestOf(t)
		}
		return strconv.Quote(t)
	case bool:
		return strconv.FormatBool(t)
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	case map[string]any:
		if a, ok := assetText(t); ok {
			return a
		}
	}
	text := compactText(v)
	if len(text) > maxValue {
		return clip(text, maxValue) + " " + digestOf(text)
	}
	return text
}

// assetSig marks an asset or archive in the engine's wire form.
const assetSig = "4dabf18193072939515e22adb298388d"

// assetText shows an asset by its content, never by where a run keeps its
// copy (a temporary path that differs on every run): two runs deploying
// the same package read the same.
func assetText(m map[string]any) (string, bool) {
	if _, ok := m[assetSig]; !ok {
		return "", false
	}
	if h, _ := m["hash"].(string); len(h) >= 8 {
		return "asset sha256:" + h[:8], true
	}
	return "asset", true
}

// markerText is what a reader sees for one of the engine's markers, which
// stand where a value would: a value not known yet, a secret.
func markerText(s string) (string, bool) {
	switch s {
	case outcome.Unknown:
		return unknownText, true
	case outcome.Secret:
		return outcome.Secret, true
	}
	return "", false
}

// compactText is a value as compact JSON with sorted keys, except that the
// engine's markers inside it read as they do on their own: a list with a
// value not known yet is ["a",(known after deploy)], not the engine's
// sentinel.
func compactText(v any) string {
	var b strings.Builder
	writeCompact(&b, v)
	return b.String()
}

func writeCompact(b *strings.Builder, v any) {
	switch t := v.(type) {
	case string:
		if m, ok := markerText(t); ok {
			b.WriteString(m)
			return
		}
	case map[string]any:
		b.WriteByte('{')
		for i, k := range slices.Sorted(maps.Keys(t)) {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSON(b, k)
			b.WriteByte(':')
			writeCompact(b, t[k])
		}
		b.WriteByte('}')
		return
	case []any:
		b.WriteByte('[')
		for i, e := range t {
			if i > 0 {
				b.WriteByte(',')
			}
			writeCompact(b, e)
		}
		b.WriteByte(']')
		return
	}
	writeJSON(b, v)
}

// writeJSON writes one value as JSON; < and & stay as they are (the text
// is shown as code, where HTML means nothing).
func writeJSON(b *strings.Builder, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		b.WriteString("(a value that is not JSON)")
		return
	}
	b.Write(bytes.TrimRight(buf.Bytes(), "\n"))
}

func digestOf(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "(sha256:" + hex.EncodeToString(sum[:4]) + ")"
}

// isDocument reports whether a string holds a JSON object or list worth a
// line diff (an IAM policy, a key policy).
func isDocument(s string) bool {
	s = strings.TrimSpace(s)
	return len(s) > 40 && (s[0] == '{' || s[0] == '[') && json.Valid([]byte(s))
}

// documentDiff is a unified line diff of two JSON documents, pretty-printed
// with sorted keys so only real changes show.
func documentDiff(old, new any) string {
	a, b := pretty(old), pretty(new)
	d, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{A: difflib.SplitLines(a), B: difflib.SplitLines(b), FromFile: "before", ToFile: "after", Context: 3})
	if err != nil {
		return ""
	}
	return d
}

func pretty(v any) string {
	s, ok := v.(string)
	if !ok || !isDocument(s) {
		return ""
	}
	var doc any
	if err := json.Unmarshal([]byte(s), &doc); err != nil {
		return s
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return s
	}
	return buf.String()
}

// documentsSection shows the line diff of every JSON document an update or
// replacement changes, each in a collapsed block.
func documentsSection(steps []outcome.Step) section {
	var rows []string
	for _, st := range steps {
		if st.Op != outcome.OpUpdate && st.Op != outcome.OpReplace {
			continue
		}
		for _, c := range st.Changes {
			oldDoc, newDoc := isDocumentValue(c.Old), isDocumentValue(c.New)
			if !oldDoc && !newDoc {
				continue
			}
			diff := documentDiff(c.Old, c.New)
			if diff == "" {
				continue
			}
			rows = append(rows, fmt.Sprintf("\n<details><summary>%s %s: %s</summary>\n\n%s\n</details>\n",
				code(shortType(st.Type)), code(st.Name), code(c.Path), fenceAs("diff", diff)))
		}
	}
	if len(rows) == 0 {
		return section{}
	}
	return section{open: fmt.Sprintf("\n#### Documents changed (%d)\n", len(rows)), rows: rows}
}

func isDocumentValue(v any) bool {
	s, ok := v.(string)
	return ok && isDocument(s)
}
