package render

import (
	"fmt"
	"maps"
	"slices"
	"sort"

	"github.com/org/tap-deploy/internal/outcome"
)

// maxOutputRows bounds the rows one output's entries take, so one large
// map cannot push every other output out of a comment.
const maxOutputRows = 30

// outputsSection is the stack's outputs as a reader expects them: strings
// as they are, values not known before the update and secrets named as
// such (the secret's value never reaches the action), short maps and lists
// as compact JSON, longer ones one entry per row.
func outputsSection(outputs map[string]any, secret []string) section {
	if len(outputs)+len(secret) == 0 {
		return section{}
	}
	rows := map[string][]string{}
	for name, v := range outputs {
		rows[name] = outputRows(name, v)
	}
	for _, name := range secret {
		rows[name] = []string{outputRow(name, code(outcome.Secret))}
	}
	names := make([]string, 0, len(rows))
	for name := range rows {
		names = append(names, name)
	}
	sort.Strings(names)
	s := section{open: "\n<details><summary><b>Outputs</b></summary>\n\n| Output | Value |\n|---|---|\n", close: "\n</details>\n"}
	for _, name := range names {
		r := rows[name]
		if len(r) > maxOutputRows {
			r = append(r[:maxOutputRows:maxOutputRows], outputRow(name, fmt.Sprintf("… %d more", len(r)-maxOutputRows)))
		}
		s.rows = append(s.rows, r...)
	}
	return s
}

// outputRows shows a value on one row when it reads well on one line, and
// a longer map or list as rows of its entries, named by their path
// (alarmArns.tap-dev-api-5xx, subnets[0]).
func outputRows(path string, v any) []string {
	var rows []string
	switch t := v.(type) {
	case map[string]any:
		if text := compactText(t); len(text) <= maxValue || len(t) == 0 {
			return []string{outputRow(path, code(text))}
		}
		for _, k := range slices.Sorted(maps.Keys(t)) {
			rows = append(rows, outputRows(outcome.PathKey(path, k), t[k])...)
		}
	case []any:
		if text := compactText(t); len(text) <= maxValue || len(t) == 0 {
			return []string{outputRow(path, code(text))}
		}
		for i, e := range t {
			rows = append(rows, outputRows(fmt.Sprintf("%s[%d]", path, i), e)...)
		}
	case string:
		// A string reads as it is, unquoted; a marker as in property rows.
		if m, ok := markerText(t); ok {
			return []string{outputRow(path, code(m))}
		}
		return []string{outputRow(path, code(t))}
	case nil:
		return []string{outputRow(path, code("null"))}
	default:
		return []string{outputRow(path, code(compactText(t)))}
	}
	return rows
}

func outputRow(name, value string) string { return "| " + code(name) + " | " + value + " |\n" }
