package stack

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"

	"github.com/org/tap-deploy/internal/awsfacts"
)

// Namer derives every physical name from project and suffix, so names are
// stable between runs and never collide between environments. What AWS
// keeps unique beyond one account and region gets what makes it unique
// there: IAM names end with the region (IAM is one namespace for every
// region of an account) and bucket names with the account and the region
// (S3 is one namespace for every account).
//
// Physical names are an API: renaming a bucket, table, key alias or role
// replaces the resource (a new, empty bucket or table). A change of scheme
// must keep the names of existing stacks (for example behind a
// configuration key), never rename them in place.
type Namer struct{ prefix, region, account string }

// NewNamer returns the namer for a configuration in an account.
func NewNamer(c Config, account string) Namer {
	return Namer{prefix: c.Project + "-" + c.EnvironmentSuffix, region: c.Region, account: account}
}

// AccountPlaceholder stands for the account id where it is not known yet
// (offline validation): account ids are always 12 digits, so a name's
// length and shape are the same with the real one.
const AccountPlaceholder = "123456789012"

// Name returns "<project>-<suffix>-<component>" fitted to the kind's
// limits, then the kind's scope suffix ("-<region>" for IAM,
// "-<account>-<region>" for S3). A base that is too long is cut and given a
// short hash of the full base, so two long names stay distinct and a name
// never changes between runs; the scope suffix is never cut.
func (n Namer) Name(kind awsfacts.Name, component string) string {
	scope := ""
	switch kind.Scope {
	case awsfacts.ScopeAccount:
		scope = "-" + n.region
	case awsfacts.ScopePartition:
		scope = "-" + n.account + "-" + n.region
	}
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
	if room := kind.Max - len(scope); len(name) > room {
		sum := sha256.Sum256([]byte(full))
		tag := hex.EncodeToString(sum[:])[:8]
		name = strings.TrimRight(name[:room-len(tag)-1], "-.") + "-" + tag
	}
	return name + scope
}

// LambdaLogGroup is the log group Lambda writes to for a function.
func LambdaLogGroup(function string) string { return "/aws/lambda/" + function }

// reviewSuffix matches what ends a review stack's names: an environment or
// suffix that ends so would take a review stack's names.
var reviewSuffix = regexp.MustCompile(`-pr-[0-9]+$`)

// checkNames validates every name the stack will use before anything runs.
func checkNames(c Config) []string {
	var problems []string
	for _, nm := range PlannedNames(c, AccountPlaceholder) {
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

// PlannedNames lists the physical names of the configuration in an
// account, in a stable order.
func PlannedNames(c Config, account string) []PlannedName {
	n := NewNamer(c, account)
	names := []PlannedName{
		{awsfacts.TableName, n.Name(awsfacts.TableName, "items")},
		{awsfacts.BucketName, n.Name(awsfacts.BucketName, FilesBucket)},
		{awsfacts.BucketName, n.Name(awsfacts.BucketName, ArtifactsBucket)},
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

// FunctionNames are the configuration's Lambda function names.
func FunctionNames(c Config) []string {
	n := NewNamer(c, "")
	out := make([]string, len(Functions))
	for i, f := range Functions {
		out[i] = n.Name(awsfacts.FunctionName, f.Component)
	}
	return out
}

// The buckets' components.
const (
	FilesBucket     = "files"
	ArtifactsBucket = "artifacts"
)
