package bootstrap

import (
	"strings"

	"go.yaml.in/yaml/v3"
)

// obj is a YAML mapping whose keys keep the order they are written in, so
// the template reads top-down (Type before Properties, Effect before
// Action) instead of alphabetically.
type obj []field

// field is one key of an obj; comment, when set, is written above it.
type field struct {
	key     string
	value   any
	comment string
}

// set appends a key.
func (o obj) set(key string, value any) obj { return append(o, field{key: key, value: value}) }

// note appends a key with a comment above it.
func (o obj) note(comment, key string, value any) obj {
	return append(o, field{key: key, value: value, comment: comment})
}

// node turns a template value (obj, []any, []string, string, bool, int)
// into a YAML node.
func node(v any) (*yaml.Node, error) {
	switch v := v.(type) {
	case commented:
		n, err := node(v.value)
		if err != nil {
			return nil, err
		}
		n.HeadComment = v.comment
		return n, nil
	case obj:
		n := &yaml.Node{Kind: yaml.MappingNode}
		for _, f := range v {
			k, err := node(f.key)
			if err != nil {
				return nil, err
			}
			k.HeadComment = f.comment
			val, err := node(f.value)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, k, val)
		}
		return n, nil
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode}
		for _, e := range v {
			c, err := node(e)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, c)
		}
		return n, nil
	case oneLine:
		n, err := node(v.value)
		if err != nil {
			return nil, err
		}
		n.Style = yaml.FlowStyle
		return n, nil
	case flow:
		n, err := node([]string(v))
		if err != nil {
			return nil, err
		}
		n.Style = yaml.FlowStyle
		return n, nil
	case []string:
		list := make([]any, len(v))
		for i, s := range v {
			list[i] = s
		}
		return node(list)
	}
	// Scalars: the encoder quotes what would otherwise read as another
	// type ("2010-09-09", "true", "yes").
	n := &yaml.Node{}
	if err := n.Encode(v); err != nil {
		return nil, err
	}
	return n, nil
}

// render writes a document with two-space indentation, a sequence at its
// key's indentation (as kubectl writes YAML: the template must stay within
// what aws cloudformation deploy takes), comment first.
func render(doc obj, comment string) ([]byte, error) {
	n, err := node(doc)
	if err != nil {
		return nil, err
	}
	n = &yaml.Node{Kind: yaml.DocumentNode, HeadComment: comment, Content: []*yaml.Node{n}}
	var b strings.Builder
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	enc.CompactSeqIndent()
	if err := enc.Encode(n); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return []byte(b.String()), nil
}

// CloudFormation's intrinsic functions, always in their long form
// (Fn::Sub, not !Sub), so the template is plain YAML that any parser reads.

// ref is {Ref: name}.
func ref(name string) obj { return obj{}.set("Ref", name) }

// sub is {Fn::Sub: s}.
func sub(s string) obj { return obj{}.set("Fn::Sub", s) }

// fnIf is {Fn::If: [condition, then, else]}.
func fnIf(condition string, then, otherwise any) obj {
	return obj{}.set("Fn::If", []any{condition, then, otherwise})
}

// flow is a list written on one line: [a, b].
type flow []string

// oneLine is a value written on one line: {StringEquals: {k: v}}.
type oneLine struct{ value any }

// text is s, wrapped in Fn::Sub when it names a pseudo parameter or
// another resource (${AWS::AccountId}, ${StateBucket}); the IAM policy
// variables in it (${aws:PrincipalTag/…}) are then escaped, ${!aws:…}, for
// CloudFormation to write them as they are.
func text(s string) any {
	if strings.Contains(s, "${AWS::") || strings.Contains(s, "${StateBucket}") {
		return sub(strings.ReplaceAll(s, "${aws:", "${!aws:"))
	}
	return s
}
