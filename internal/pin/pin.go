// Package pin holds what a release does to the repository: pinning the
// pushed image into action.yml, so that whoever pins the action to a commit
// or a version tag also pins the exact image it runs.
package pin

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// digestRef is an image named by its content: registry/repository@sha256:<64 hex>.
var digestRef = regexp.MustCompile(`^[a-z0-9]+([._-][a-z0-9]+)*(\.[a-z0-9-]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)+@sha256:[0-9a-f]{64}$`)

// PinImage returns actionYML with runs.image set to docker://<image>. The
// image must be named by digest: a tag can be moved, a digest cannot. Only
// that one value changes; comments and layout stay as they are.
func PinImage(actionYML []byte, image string) ([]byte, error) {
	if !digestRef.MatchString(image) {
		return nil, fmt.Errorf("image %q is not named by digest (registry/repository@sha256:<64 hex>): a tag can be moved after the release", image)
	}
	node, err := imageNode(actionYML)
	if err != nil {
		return nil, err
	}
	lines := bytes.Split(actionYML, []byte("\n"))
	i := node.Line - 1
	line := string(lines[i])
	col := node.Column - 1
	rest := line[col:]
	// The old value ends where the line's comment starts, if it has one.
	end := len(rest)
	if j := strings.Index(rest, " #"); j >= 0 && node.Style == 0 {
		end = j
	}
	lines[i] = []byte(line[:col] + "docker://" + image + rest[end:])
	out := bytes.Join(lines, []byte("\n"))
	if err := CheckPinned(out); err != nil {
		return nil, fmt.Errorf("the rewritten action.yml does not check: %w", err)
	}
	return out, nil
}

// CheckPinned fails unless action.yml runs a Docker image named by digest.
func CheckPinned(actionYML []byte) error {
	node, err := imageNode(actionYML)
	if err != nil {
		return err
	}
	ref, ok := strings.CutPrefix(node.Value, "docker://")
	if !ok || !digestRef.MatchString(ref) {
		return fmt.Errorf("runs.image is %q: a release must name its image as docker://registry/repository@sha256:<digest>", node.Value)
	}
	return nil
}

// imageNode finds the scalar value of runs.image in a Docker action.
func imageNode(actionYML []byte) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(actionYML, &doc); err != nil {
		return nil, fmt.Errorf("action.yml is not YAML: %w", err)
	}
	if len(doc.Content) == 0 {
		return nil, errors.New("action.yml is empty")
	}
	runs := mapValue(doc.Content[0], "runs")
	if runs == nil {
		return nil, errors.New("action.yml has no runs section")
	}
	if using := mapValue(runs, "using"); using == nil || using.Value != "docker" {
		return nil, errors.New("action.yml does not run a Docker image (runs.using is not docker)")
	}
	image := mapValue(runs, "image")
	if image == nil || image.Kind != yaml.ScalarNode {
		return nil, errors.New("action.yml has no runs.image")
	}
	if image.Style != 0 && image.Style != yaml.DoubleQuotedStyle && image.Style != yaml.SingleQuotedStyle {
		return nil, errors.New("runs.image must be a one-line value")
	}
	return image, nil
}

func mapValue(m *yaml.Node, key string) *yaml.Node {
	if m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}
