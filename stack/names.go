package stack

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/org/tap-deploy/internal/awsfacts"
)

// Namer derives every physical name from project and suffix, so names are
// stable between runs and never collide between environments.
type Namer struct{ prefix string }

// NewNamer returns the namer for a configuration.
func NewNamer(c Config) Namer { return Namer{prefix: c.Project + "-" + c.EnvironmentSuffix} }

// Name returns "<project>-<suffix>-<component>" fitted to the kind's limits.
// A name that is too long is cut and given a short hash of the full name,
// so two long names stay distinct and a name never changes between runs.
func (n Namer) Name(kind awsfacts.Name, component string) string {
	full := n.prefix + "-" + component
	if kind.Lower {
		full = strings.ToLower(full)
	}
	var b strings.Builder
	for _, r := range full {
		if kind.Allowed.MatchString(string(r)) {
			b.WriteRune(r)
		} else {
			b.WriteRune('-')
		}
	}
	name := b.String()
	if len(name) > kind.Max {
		sum := sha256.Sum256([]byte(full))
		tag := hex.EncodeToString(sum[:])[:8]
		name = strings.TrimRight(name[:kind.Max-len(tag)-1], "-.") + "-" + tag
	}
	return name
}

// LambdaLogGroup is the log group Lambda writes to for a function.
func LambdaLogGroup(function string) string { return "/aws/lambda/" + function }

// checkNames validates every name the stack will use before anything runs.
func checkNames(c Config) []string {
	var problems []string
	for _, nm := range PlannedNames(c) {
		if msg := nm.Kind.Check(nm.Name); msg != "" {
			problems = append(problems, msg)
		}
	}
	return problems
}

// PlannedName is one physical name the stack will create.
type PlannedName struct {
	Kind awsfacts.Name
	Name string
}

// PlannedNames lists the physical names of the configuration, in a stable
// order.
func PlannedNames(c Config) []PlannedName {
	n := NewNamer(c)
	names := []PlannedName{
		{awsfacts.TableName, n.Name(awsfacts.TableName, "items")},
		{awsfacts.BucketName, n.Name(awsfacts.BucketName, "files-"+c.Region)},
		{awsfacts.BucketName, n.Name(awsfacts.BucketName, "artifacts-"+c.Region)},
		{awsfacts.TopicName, n.Name(awsfacts.TopicName, "alerts")},
		{awsfacts.TopicName, n.Name(awsfacts.TopicName, "item-events")},
		{awsfacts.QueueName, n.Name(awsfacts.QueueName, "dlq")},
		{awsfacts.APIName, n.Name(awsfacts.APIName, "api")},
	}
	for _, f := range Functions {
		names = append(names,
			PlannedName{awsfacts.FunctionName, n.Name(awsfacts.FunctionName, f.Component)},
			PlannedName{awsfacts.RoleName, n.Name(awsfacts.RoleName, f.Component)},
		)
	}
	return names
}
