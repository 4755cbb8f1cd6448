// Package actionstest reads what a step leaves behind in the files GitHub's
// runner gives it, for tests that run the action as a workflow step.
package actionstest

import (
	"os"
	"strings"
)

// ReadOutputs parses a GITHUB_OUTPUT file (name<<delimiter ... delimiter,
// as the Actions toolkits write it); a missing file has no outputs.
func ReadOutputs(path string) map[string]string {
	out := map[string]string{}
	b, err := os.ReadFile(path)
	if err != nil {
		return out
	}
	lines := strings.Split(string(b), "\n")
	for i := 0; i < len(lines); i++ {
		name, delim, ok := strings.Cut(lines[i], "<<")
		if !ok {
			if name, value, ok := strings.Cut(lines[i], "="); ok {
				out[name] = value
			}
			continue
		}
		var value []string
		for i++; i < len(lines) && lines[i] != delim; i++ {
			value = append(value, lines[i])
		}
		out[name] = strings.Join(value, "\n")
	}
	return out
}
