package stack

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/org/tap-deploy/internal/problems"
)

// ConfigFileName is the file an environment's configuration lives in, in
// the repository, by Pulumi's convention: Pulumi.<stack>.yaml, its keys
// under config: as tap:<key>. The stack name's last part names it
// (org/project/dev reads Pulumi.dev.yaml).
func ConfigFileName(stackName string) string {
	if i := strings.LastIndexByte(stackName, '/'); i >= 0 {
		stackName = stackName[i+1:]
	}
	return "Pulumi." + stackName + ".yaml"
}

// FileConfig is the configuration a file holds: each key's value and the
// line it is on.
type FileConfig struct {
	// Path is how problems name the file (as the user gave it).
	Path   string
	Values map[string]string
	Lines  map[string]int
}

// ParseConfigFile reads a Pulumi.<stack>.yaml: a mapping with one key,
// config, whose entries are tap:<key>: <scalar>. Everything else is
// refused, each problem naming the file and its line; values are checked
// by CheckFile (with the keys' own rules), never echoed.
func ParseConfigFile(path string, data []byte) (FileConfig, problems.List) {
	fc := FileConfig{Path: path, Values: map[string]string{}, Lines: map[string]int{}}
	var found problems.List
	at := func(line int, format string, args ...any) {
		found = append(found, fmt.Sprintf("%s line %d: ", path, line)+fmt.Sprintf(format, args...))
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return fc, nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fc, problems.List{fmt.Sprintf("%s: not valid YAML (%s)", path, strings.TrimPrefix(err.Error(), "yaml: "))}
	}
	if len(doc.Content) == 0 {
		return fc, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		at(root.Line, "the file must be a mapping with the key config: (config:\\n  tap:logRetentionDays: 30)")
		return fc, found
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch k.Value {
		case "config":
		case "secretsprovider", "encryptionsalt", "encryptedkey":
			at(k.Line, "%s is not read: tap-deploy sets the secrets provider with its secrets-provider input, and the stack's configuration holds no secrets", k.Value)
			continue
		default:
			at(k.Line, "%q is not a key of a stack configuration file; the file holds only config:", k.Value)
			continue
		}
		if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
			continue
		}
		if v.Kind != yaml.MappingNode {
			at(v.Line, "config: must be a mapping of tap:<key>: <value>")
			continue
		}
		for j := 0; j+1 < len(v.Content); j += 2 {
			key, val := v.Content[j], v.Content[j+1]
			ns, name, ok := strings.Cut(key.Value, ":")
			switch {
			case !ok:
				at(key.Line, "key %q has no namespace; write it as %s:%s", key.Value, ConfigNamespace, key.Value)
				continue
			case ns == "aws" && name == "region":
				at(key.Line, "aws:region is not read from the file: the aws-region input (or AWS_REGION) sets the region")
				continue
			case ns != ConfigNamespace:
				at(key.Line, "key %q is not in the %s namespace: tap-deploy deploys a built-in stack and reads only %s:<key>", key.Value, ConfigNamespace, ConfigNamespace)
				continue
			case val.Kind != yaml.ScalarNode:
				if val.Kind == yaml.MappingNode && hasKey(val, "secure") {
					at(val.Line, "%s is a secret (secure:); the stack's configuration holds no secrets, write the value itself", key.Value)
				} else {
					at(val.Line, "%s must be a single value (a string, a number or true/false), not a list or a mapping", key.Value)
				}
				continue
			}
			if _, dup := fc.Values[name]; dup {
				at(key.Line, "key %s is set twice (first on line %d)", key.Value, fc.Lines[name])
				continue
			}
			value := val.Value
			if val.Tag == "!!null" {
				value = ""
			}
			fc.Values[name], fc.Lines[name] = value, key.Line
		}
	}
	return fc, found
}

func hasKey(m *yaml.Node, name string) bool {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == name {
			return true
		}
	}
	return false
}

// CheckFile reports the file's unknown keys and bad values, each naming
// the file and the key's line.
func CheckFile(fc FileConfig) problems.List {
	var found problems.List
	known := map[string]Key{}
	for _, k := range Keys {
		known[k.Name] = k
	}
	for _, name := range slices.Sorted(maps.Keys(fc.Values)) {
		where := fmt.Sprintf("%s line %d", fc.Path, fc.Lines[name])
		k, ok := known[name]
		if !ok {
			found = append(found, fmt.Sprintf("%s: key %s:%s is unknown; known keys: %s", where, ConfigNamespace, name, knownNames()))
			continue
		}
		var c Config
		if err := k.set(&c, fc.Values[name]); err != nil {
			found = append(found, fmt.Sprintf("%s: %s:%s %v", where, ConfigNamespace, name, err))
		}
	}
	return found
}

// Layered is an environment's configuration as a run reads it: the file's
// values, then the config input's overrides on top.
type Layered struct {
	// File is the file read, "" when there is none.
	File string
	// Values are the merged values NewConfig takes.
	Values map[string]string
	// Overridden are the keys the config input set, in order; those the
	// file also sets are in OverridesFile.
	Overridden    []string
	OverridesFile []string
}

// Layer puts the config input's overrides over a file's values.
func Layer(fc FileConfig, overrides map[string]string) Layered {
	l := Layered{File: fc.Path, Values: map[string]string{}}
	for k, v := range fc.Values {
		l.Values[k] = v
	}
	for _, k := range slices.Sorted(maps.Keys(overrides)) {
		if _, inFile := fc.Values[k]; inFile {
			l.OverridesFile = append(l.OverridesFile, k)
		}
		l.Overridden = append(l.Overridden, k)
		l.Values[k] = overrides[k]
	}
	return l
}

// Describe says in one line where the configuration came from, for a
// report; "" when neither a file nor the config input set anything.
func (l Layered) Describe(input string) string {
	var parts []string
	if l.File != "" {
		parts = append(parts, fmt.Sprintf("Configuration from %s.", l.File))
	}
	if len(l.Overridden) > 0 {
		line := fmt.Sprintf("The %s input overrides %s for this run", input, strings.Join(l.Overridden, ", "))
		if len(l.OverridesFile) > 0 && l.File != "" {
			line += fmt.Sprintf(" (over the file's value of %s)", strings.Join(l.OverridesFile, ", "))
		}
		parts = append(parts, line+".")
	}
	return strings.Join(parts, " ")
}
