package render

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/pmezard/go-difflib/difflib"

	"github.com/org/tap-deploy/internal/plan"
)

// maxValue is the longest value shown whole; longer ones are shortened
// with a digest that tells two apart.
const maxValue = 60

// changeText renders one property change: `memorySize`: 256 → 512.
func changeText(c plan.PropertyChange) string {
	text := code(c.Path) + ": " + code(valueText(c.Old, c.HasOld)) + " → " + code(valueText(c.New, c.HasNew))
	if c.Replace {
		text += " (forces replacement)"
	}
	return text
}

// valueText is how a reviewer reads a value: secrets stay [secret], values
// the engine does not know yet read "(known after apply)", long values and
// JSON documents are shortened with a stable digest.
func valueText(v any, has bool) string {
	switch t := v.(type) {
	case nil:
		if has {
			return "null"
		}
		return "(none)"
	case string:
		switch {
		case t == plan.Unknown:
			return "(known after apply)"
		case t == "[secret]":
			return "[secret]"
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
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if len(b) > maxValue {
		return clip(string(b), maxValue) + " " + digestOf(string(b))
	}
	return string(b)
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
func documentsSection(steps []plan.Step) section {
	var rows []string
	for _, st := range steps {
		if st.Op != plan.OpUpdate && st.Op != plan.OpReplace {
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
