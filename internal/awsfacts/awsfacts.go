// Package awsfacts is what tap-deploy knows about the AWS resource types it
// uses: which accept tags, which input holds the physical name, and the
// limits AWS puts on that name. One table serves the stack's namer, the
// policy rules and the simulated cloud, so the three cannot disagree.
package awsfacts

import (
	"fmt"
	"regexp"
	"strings"
)

// Scope is where AWS keeps a kind of name unique: the stack's namer adds
// what makes a name unique there, so the same environment deploys to two
// regions of one account, and every adopter's names differ from every
// other account's.
type Scope int

const (
	// ScopeRegion names are unique in one account and region (tables,
	// functions, log groups, topics...).
	ScopeRegion Scope = iota
	// ScopeAccount names are unique in an account across every region
	// (IAM): the namer appends the region.
	ScopeAccount
	// ScopePartition names are unique across every account of the
	// partition (S3 buckets): the namer appends the account and the region.
	ScopePartition
	// ScopeParent names are unique within another resource only (a role's
	// inline policy): nothing is appended.
	ScopeParent
)

// Name is AWS's rule for one kind of physical name.
type Name struct {
	Label string
	Min   int
	Max   int
	Scope Scope
	// Lower forces lowercase (S3 bucket names).
	Lower bool
	// Allowed matches one allowed character.
	Allowed *regexp.Regexp
	// Shape, when set, is what the whole name must look like.
	Shape     *regexp.Regexp
	ShapeRule string
	// ReservedPrefixes and ReservedSuffixes are what AWS keeps for itself.
	ReservedPrefixes, ReservedSuffixes []string
}

// The names the stack creates.
var (
	BucketName = Name{Label: "S3 bucket", Min: 3, Max: 63, Lower: true, Allowed: regexp.MustCompile(`[a-z0-9.-]`),
		Shape:     regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$`),
		ShapeRule: "start and end with a letter or digit, with no '..' and no '-' next to a '.'",
		Scope:     ScopePartition,
		// https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
		ReservedPrefixes: []string{"xn--", "sthree-", "amzn-s3-demo-"},
		ReservedSuffixes: []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"}}
	FunctionName   = Name{Label: "Lambda function", Min: 1, Max: 64, Allowed: regexp.MustCompile(`[A-Za-z0-9_-]`)}
	RoleName       = Name{Label: "IAM role", Min: 1, Max: 64, Scope: ScopeAccount, Allowed: regexp.MustCompile(`[A-Za-z0-9+=,.@_-]`)}
	PolicyName     = Name{Label: "IAM policy", Min: 1, Max: 128, Scope: ScopeAccount, Allowed: regexp.MustCompile(`[A-Za-z0-9+=,.@_-]`)}
	RolePolicyName = Name{Label: "IAM role policy", Min: 1, Max: 128, Scope: ScopeParent, Allowed: regexp.MustCompile(`[A-Za-z0-9+=,.@_-]`)}
	TableName      = Name{Label: "DynamoDB table", Min: 3, Max: 255, Allowed: regexp.MustCompile(`[A-Za-z0-9_.-]`)}
	TopicName      = Name{Label: "SNS topic", Min: 1, Max: 256, Allowed: regexp.MustCompile(`[A-Za-z0-9_-]`)}
	QueueName      = Name{Label: "SQS queue", Min: 1, Max: 80, Allowed: regexp.MustCompile(`[A-Za-z0-9_-]`)}
	LogGroupName   = Name{Label: "CloudWatch log group", Min: 1, Max: 512, Allowed: regexp.MustCompile(`[A-Za-z0-9_./#-]`)}
	AlarmName      = Name{Label: "CloudWatch alarm", Min: 1, Max: 255, Allowed: regexp.MustCompile(`[ -~]`)}
	APIName        = Name{Label: "API Gateway REST API", Min: 1, Max: 1024, Allowed: regexp.MustCompile(`[ -~]`)}
	KeyAliasName   = Name{Label: "KMS alias", Min: 1, Max: 256, Allowed: regexp.MustCompile(`[A-Za-z0-9/_-]`)}
	// https://docs.aws.amazon.com/codedeploy/latest/userguide/limits.html
	CodeDeployAppName   = Name{Label: "CodeDeploy application", Min: 1, Max: 100, Allowed: regexp.MustCompile(`[A-Za-z0-9._+-]`)}
	DeploymentGroupName = Name{Label: "CodeDeploy deployment group", Min: 1, Max: 100, Scope: ScopeParent, Allowed: regexp.MustCompile(`[A-Za-z0-9._+-]`)}
	// https://docs.aws.amazon.com/scheduler/latest/APIReference/API_CreateScheduleGroup.html,
	// API_CreateSchedule.html: a schedule's name is unique in its group.
	ScheduleGroupName = Name{Label: "EventBridge Scheduler schedule group", Min: 1, Max: 64, Allowed: regexp.MustCompile(`[0-9A-Za-z_.-]`)}
	ScheduleName      = Name{Label: "EventBridge Scheduler schedule", Min: 1, Max: 64, Scope: ScopeParent, Allowed: regexp.MustCompile(`[0-9A-Za-z_.-]`)}
	// https://docs.aws.amazon.com/lambda/latest/api/API_CreateAlias.html
	FunctionAliasName = Name{Label: "Lambda alias", Min: 1, Max: 128, Scope: ScopeParent, Allowed: regexp.MustCompile(`[A-Za-z0-9_-]`)}
)

// Check reports why name breaks the rule, or "" when it fits.
func (n Name) Check(name string) string {
	switch {
	case len(name) > n.Max:
		return fmt.Sprintf("%s name %q is %d characters; AWS allows %d", n.Label, name, len(name), n.Max)
	case len(name) < n.Min:
		return fmt.Sprintf("%s name %q is shorter than the %d characters AWS requires", n.Label, name, n.Min)
	case n.Lower && strings.ToLower(name) != name:
		return fmt.Sprintf("%s name %q must be lowercase", n.Label, name)
	}
	for _, r := range name {
		if !n.Allowed.MatchString(string(r)) {
			return fmt.Sprintf("%s name %q holds %q, which AWS does not allow", n.Label, name, r)
		}
	}
	if n.Shape != nil && !n.Shape.MatchString(name) {
		return fmt.Sprintf("%s name %q must %s", n.Label, name, n.ShapeRule)
	}
	for _, p := range n.ReservedPrefixes {
		if strings.HasPrefix(name, p) {
			return fmt.Sprintf("%s name %q starts with %q, which AWS reserves", n.Label, name, p)
		}
	}
	for _, s := range n.ReservedSuffixes {
		if strings.HasSuffix(name, s) {
			return fmt.Sprintf("%s name %q ends with %q, which AWS reserves", n.Label, name, s)
		}
	}
	return ""
}

// Type is what is known about one resource type.
type Type struct {
	// NameKey is the input holding the physical name; Name is its rule.
	NameKey string
	Name    *Name
	// UniqueName means two resources of the type cannot share the name in
	// an account and region (a REST API's name, for one, can repeat).
	UniqueName bool
	// Taggable types accept tags (and so get the provider's default tags).
	Taggable bool
	// Untagged, for a type AWS lets be tagged, says why the stack leaves
	// it untagged (through a provider without default tags): tagging one on
	// create needs a tag permission IAM cannot limit to the resource being
	// created, so a role allowed it could tag, and take over through its
	// tag-scoped grants, every resource of the type in the account.
	Untagged string
}

// untaggedKey and untaggedMapping say why keys and event source mappings
// stay untagged.
const (
	untaggedKey = "KMS authorizes tagging a key on create only by a kms:TagResource grant on every key of the account and region " +
		"(https://docs.aws.amazon.com/kms/latest/developerguide/tag-permissions.html); the key's policy names its administrator instead"
	untaggedMapping = "Lambda authorizes tagging an event source mapping on create by a lambda:TagResource grant on mappings it cannot name " +
		"before they exist; the mappings are scoped by their function (lambda:FunctionArn) instead"
)

// Types is every AWS type the stack creates that has a name rule or tags.
var Types = map[string]Type{
	"aws:s3/bucketV2:BucketV2":                          {NameKey: "bucket", Name: &BucketName, UniqueName: true, Taggable: true},
	"aws:s3/bucketObjectv2:BucketObjectv2":              {Taggable: true},
	"aws:dynamodb/table:Table":                          {NameKey: "name", Name: &TableName, UniqueName: true, Taggable: true},
	"aws:lambda/function:Function":                      {NameKey: "name", Name: &FunctionName, UniqueName: true, Taggable: true},
	"aws:iam/role:Role":                                 {NameKey: "name", Name: &RoleName, UniqueName: true, Taggable: true},
	"aws:iam/policy:Policy":                             {NameKey: "name", Name: &PolicyName, UniqueName: true, Taggable: true},
	"aws:iam/rolePolicy:RolePolicy":                     {NameKey: "name", Name: &RolePolicyName},
	"aws:cloudwatch/logGroup:LogGroup":                  {NameKey: "name", Name: &LogGroupName, UniqueName: true, Taggable: true},
	"aws:cloudwatch/metricAlarm:MetricAlarm":            {NameKey: "name", Name: &AlarmName, UniqueName: true, Taggable: true},
	"aws:sns/topic:Topic":                               {NameKey: "name", Name: &TopicName, UniqueName: true, Taggable: true},
	"aws:sqs/queue:Queue":                               {NameKey: "name", Name: &QueueName, UniqueName: true, Taggable: true},
	"aws:kms/key:Key":                                   {Taggable: true, Untagged: untaggedKey},
	"aws:lambda/eventSourceMapping:EventSourceMapping":  {Taggable: true, Untagged: untaggedMapping},
	"aws:kms/alias:Alias":                               {NameKey: "name", Name: &KeyAliasName, UniqueName: true},
	"aws:apigateway/restApi:RestApi":                    {NameKey: "name", Name: &APIName, Taggable: true},
	"aws:apigateway/stage:Stage":                        {Taggable: true},
	"aws:lambda/alias:Alias":                            {NameKey: "name", Name: &FunctionAliasName},
	"aws:codedeploy/application:Application":            {NameKey: "name", Name: &CodeDeployAppName, UniqueName: true, Taggable: true},
	"aws:codedeploy/deploymentGroup:DeploymentGroup":    {NameKey: "deploymentGroupName", Name: &DeploymentGroupName, Taggable: true},
	"aws:iam/rolePolicyAttachment:RolePolicyAttachment": {},
	"aws:scheduler/scheduleGroup:ScheduleGroup":         {NameKey: "name", Name: &ScheduleGroupName, UniqueName: true, Taggable: true},
	// Schedules cannot be tagged (pulumi-aws v6.83.4's Schedule has no tags).
	"aws:scheduler/schedule:Schedule": {NameKey: "name", Name: &ScheduleName},
}

// Of returns what is known about a type; unknown types have no name rule
// and no tags.
func Of(token string) Type { return Types[token] }
