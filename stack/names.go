package stack

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
)

// NameKind is a kind of AWS name with its own limits.
type NameKind struct {
	Label string
	Max   int
	// Lower forces lowercase (S3 bucket names).
	Lower bool
	// Allowed matches one allowed character.
	Allowed *regexp.Regexp
}

// The AWS limits the stack's names must stay within.
var (
	BucketName   = NameKind{"S3 bucket", 63, true, regexp.MustCompile(`[a-z0-9-]`)}
	FunctionName = NameKind{"Lambda function", 64, false, regexp.MustCompile(`[A-Za-z0-9_-]`)}
	RoleName     = NameKind{"IAM role", 64, false, regexp.MustCompile(`[A-Za-z0-9+=,.@_-]`)}
	PolicyName   = NameKind{"IAM policy", 128, false, regexp.MustCompile(`[A-Za-z0-9+=,.@_-]`)}
	TableName    = NameKind{"DynamoDB table", 255, false, regexp.MustCompile(`[A-Za-z0-9_.-]`)}
	TopicName    = NameKind{"SNS topic", 256, false, regexp.MustCompile(`[A-Za-z0-9_-]`)}
	QueueName    = NameKind{"SQS queue", 80, false, regexp.MustCompile(`[A-Za-z0-9_-]`)}
	AlarmName    = NameKind{"CloudWatch alarm", 255, false, regexp.MustCompile(`[ -~]`)}
	APIName      = NameKind{"API Gateway REST API", 1024, false, regexp.MustCompile(`[ -~]`)}
	KeyAliasName = NameKind{"KMS alias", 256, false, regexp.MustCompile(`[A-Za-z0-9/_-]`)}
)

// Namer derives every physical name from project and suffix, so names are
// stable between runs and never collide between environments.
type Namer struct{ prefix string }

// NewNamer returns the namer for a configuration.
func NewNamer(c Config) Namer { return Namer{prefix: c.Project + "-" + c.EnvironmentSuffix} }

// Name returns "<project>-<suffix>-<component>" fitted to the kind's limits.
// A name that is too long is cut and given a short hash of the full name,
// so two long names stay distinct and a name never changes between runs.
func (n Namer) Name(kind NameKind, component string) string {
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

// CheckName reports why name breaks the kind's limits, or "" if it fits.
func CheckName(kind NameKind, name string) string {
	switch {
	case len(name) > kind.Max:
		return fmt.Sprintf("%s name %q is %d characters; the limit is %d", kind.Label, name, len(name), kind.Max)
	case kind == BucketName && len(name) < 3:
		return fmt.Sprintf("S3 bucket name %q is shorter than 3 characters", name)
	case kind.Lower && strings.ToLower(name) != name:
		return fmt.Sprintf("%s name %q must be lowercase", kind.Label, name)
	case kind == BucketName && !bucketPattern.MatchString(name):
		return fmt.Sprintf("S3 bucket name %q must start and end with a letter or digit", name)
	}
	for _, r := range name {
		if !kind.Allowed.MatchString(string(r)) {
			return fmt.Sprintf("%s name %q holds %q, which AWS does not allow", kind.Label, name, r)
		}
	}
	return ""
}

var bucketPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]*[a-z0-9]$`)

// checkNames validates every name the stack will use before anything runs.
func checkNames(c Config) []string {
	var problems []string
	for _, nm := range PlannedNames(c) {
		if msg := CheckName(nm.Kind, nm.Name); msg != "" {
			problems = append(problems, msg)
		}
	}
	return problems
}

// PlannedName is one physical name the stack will create.
type PlannedName struct {
	Kind NameKind
	Name string
}

// PlannedNames lists the physical names of the configuration, in a stable
// order.
func PlannedNames(c Config) []PlannedName {
	n := NewNamer(c)
	names := []PlannedName{
		{TableName, n.Name(TableName, "items")},
		{BucketName, n.Name(BucketName, "files-"+c.Region)},
		{BucketName, n.Name(BucketName, "artifacts-"+c.Region)},
		{TopicName, n.Name(TopicName, "alerts")},
		{QueueName, n.Name(QueueName, "dlq")},
		{APIName, n.Name(APIName, "api")},
	}
	for _, f := range Functions {
		names = append(names,
			PlannedName{FunctionName, n.Name(FunctionName, f.Component)},
			PlannedName{RoleName, n.Name(RoleName, f.Component)},
		)
	}
	return names
}
