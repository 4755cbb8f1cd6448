package sandbox

// What AWS checks of a request's inputs alone, before it looks at the
// account: names, ranges, enums and policy documents. Each rule was
// compared with moto (test/sandbox/contract_test.go) and cites AWS's
// documentation; the error codes are AWS's.

import (
	"encoding/json"
	"net/netip"
	"regexp"
	"slices"
	"strings"

	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Resource types only the input rules look at.
const (
	tBucketPolicy = "aws:s3/bucketPolicy:BucketPolicy"
	tQueue        = "aws:sqs/queue:Queue"
	tTopic        = "aws:sns/topic:Topic"
	tTopicPolicy  = "aws:sns/topicPolicy:TopicPolicy"
	tKMSAlias     = "aws:kms/alias:Alias"
	tKMSKey       = "aws:kms/key:Key"
)

var (
	// https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
	bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	// https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html (RoleName)
	roleName = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	// https://docs.aws.amazon.com/IAM/latest/APIReference/API_PutRolePolicy.html (PolicyName)
	policyName = regexp.MustCompile(`^[\w+=,.@-]{1,128}$`)
	// https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html (FunctionName)
	functionName = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)
	// https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html (QueueName):
	// up to 80 characters, and a FIFO queue's name, only a FIFO queue's,
	// ends in .fifo, which counts toward the 80 (SQS Developer Guide, FIFO
	// queue naming).
	queueName     = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,80}$`)
	fifoQueueName = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,75}\.fifo$`)
	// https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html (Name)
	topicName = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,256}(\.fifo)?$`)
	// https://docs.aws.amazon.com/kms/latest/developerguide/alias-create.html
	kmsAliasName = regexp.MustCompile(`^alias/[a-zA-Z0-9/_-]{1,250}$`)
	// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html (logGroupName)
	logGroupName = regexp.MustCompile(`^[\.\-_/#A-Za-z0-9]{1,512}$`)
)

// logRetentions are the retention periods CloudWatch Logs offers.
// https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html
var logRetentions = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// checkInputs is what AWS refuses in a create or update's inputs alone.
func checkInputs(typ string, in map[string]any) error {
	str := func(k string) string { s, _ := in[k].(string); return s }
	invalid := func(format string, args ...any) error { return status.Errorf(codes.InvalidArgument, format, args...) }
	switch typ {
	case tBucket:
		if name := str("bucket"); !validBucketName(name) {
			return invalid("creating S3 Bucket (%s): InvalidBucketName: The specified bucket is not valid.", name)
		}
	case tBucketPolicy:
		if !isJSONObject(in["policy"]) {
			return invalid("putting S3 Bucket (%s) Policy: MalformedPolicy: Policies must be valid JSON and the first byte must be '{'", str("bucket"))
		}
	case tRole:
		if name := str("name"); name != "" && !roleName.MatchString(name) {
			return invalid("creating IAM Role (%s): ValidationError: 1 validation error detected: Value '%s' at 'roleName' failed to satisfy constraint: Member must have length less than or equal to 64 and match pattern [\\w+=,.@-]+", name, name)
		}
		if !isJSONObject(in["assumeRolePolicy"]) {
			return invalid("creating IAM Role (%s): MalformedPolicyDocument: Syntax errors in policy.", str("name"))
		}
	case tRolePolicy:
		if name := str("name"); name != "" && !policyName.MatchString(name) {
			return invalid("putting IAM Role Policy (%s): ValidationError: 1 validation error detected: Value '%s' at 'policyName' failed to satisfy constraint", name, name)
		}
		if !isJSONObject(in["policy"]) {
			return invalid("putting IAM Role Policy (%s): MalformedPolicyDocument: Syntax errors in policy.", str("name"))
		}
	case tFunction:
		return checkFunction(in)
	case tLogGroup:
		if name := str("name"); name != "" && !logGroupName.MatchString(name) {
			return invalid("creating CloudWatch Logs Log Group (%s): InvalidParameterException: 1 validation error detected: Value '%s' at 'logGroupName' failed to satisfy constraint", name, name)
		}
		if days, ok := number(in["retentionInDays"]); ok && days != 0 && !slices.Contains(logRetentions, days) {
			return invalid("setting CloudWatch Logs Log Group (%s) retention: InvalidParameterException: 1 validation error detected: Value '%d' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: %v", str("name"), days, logRetentions)
		}
	case tQueue:
		name := str("name")
		if fifo, _ := in["fifoQueue"].(bool); fifo {
			if name != "" && !fifoQueueName.MatchString(name) {
				return invalid("creating SQS Queue (%s): InvalidParameterValue: The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.", name)
			}
		} else if name != "" && !queueName.MatchString(name) {
			return invalid("creating SQS Queue (%s): InvalidParameterValue: Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length", name)
		}
		return checkQueueAttributes(in)
	case tRedrivePolicy:
		if _, err := parseRedrive(in["redrivePolicy"]); err != nil {
			return invalid("setting SQS Queue (%s) attribute (RedrivePolicy): %v", str("queueUrl"), err)
		}
	case tRedriveAllowPolicy:
		if _, err := parseRedriveAllow(in["redriveAllowPolicy"]); err != nil {
			return invalid("setting SQS Queue (%s) attribute (RedriveAllowPolicy): %v", str("queueUrl"), err)
		}
	case tSchedule:
		return checkScheduleInputs(in)
	case tScheduleGroup:
		return checkScheduleGroup(in)
	case tTopic:
		if name := str("name"); name != "" && !topicName.MatchString(name) {
			return invalid("creating SNS Topic (%s): InvalidParameter: Invalid parameter: Topic Name", name)
		}
	case tTopicPolicy, tKMSKey:
		if p, set := in["policy"]; set && !isJSONObject(p) {
			code := "InvalidParameter"
			if typ == tKMSKey {
				code = "MalformedPolicyDocumentException"
			}
			return invalid("setting the policy of %s: %s: the policy is not valid JSON", typ, code)
		}
	case tKMSAlias:
		name := str("name")
		if !kmsAliasName.MatchString(name) {
			return invalid("creating KMS Alias (%s): ValidationException: Alias must start with the prefix \"alias/\" and contain only alphanumeric characters, forward slashes, underscores and dashes", name)
		}
		// https://docs.aws.amazon.com/kms/latest/developerguide/alias-create.html:
		// "The alias/aws/ prefix is reserved for AWS managed keys."
		if strings.HasPrefix(name, "alias/aws/") {
			return invalid("creating KMS Alias (%s): NotAuthorizedException: The alias/aws/ prefix is reserved for AWS managed keys", name)
		}
	case tTable:
		return checkTableKeys(in)
	}
	return nil
}

// validBucketName is S3's naming rule: 3 to 63 lowercase letters, digits,
// dots and hyphens, beginning and ending with a letter or digit, no two
// adjacent dots, not an IP address, and none of the reserved prefixes
// and suffixes.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
func validBucketName(name string) bool {
	if !bucketName.MatchString(name) || strings.Contains(name, "..") {
		return false
	}
	if _, err := netip.ParseAddr(name); err == nil {
		return false
	}
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(name, p) {
			return false
		}
	}
	for _, s := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"} {
		if strings.HasSuffix(name, s) {
			return false
		}
	}
	return true
}

// isJSONObject reports whether a policy input is a JSON object, as IAM,
// S3, SNS and KMS require of a policy document.
func isJSONObject(v any) bool {
	s, ok := v.(string)
	if !ok {
		return false
	}
	var doc map[string]any
	return json.Unmarshal([]byte(s), &doc) == nil
}

// checkFunction is Lambda's CreateFunction and UpdateFunctionConfiguration
// constraints: the name, memory (128 to 10,240 MB), timeout (1 to 900
// seconds) and a runtime Lambda has. The model's constraints come back as
// ValidationException (AWS's common error for a request that fails its
// constraints).
// https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html
// https://docs.aws.amazon.com/lambda/latest/api/CommonErrors.html
func checkFunction(in map[string]any) error {
	name, _ := in["name"].(string)
	refuse := func(field, value, constraint string) error {
		return status.Errorf(codes.InvalidArgument, "creating Lambda Function (%s): ValidationException: 1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: %s", name, value, field, constraint)
	}
	if name != "" && !functionName.MatchString(name) {
		return refuse("functionName", name, "Member must satisfy regular expression pattern [a-zA-Z0-9-_]+ and have length less than or equal to 64")
	}
	if mem, ok := number(in["memorySize"]); ok && (mem < 128 || mem > 10240) {
		return refuse("memorySize", fmtInt(mem), "Member must have value greater than or equal to 128 and less than or equal to 10240")
	}
	if t, ok := number(in["timeout"]); ok && (t < 1 || t > 900) {
		return refuse("timeout", fmtInt(t), "Member must have value greater than or equal to 1 and less than or equal to 900")
	}
	if rt, _ := in["runtime"].(string); rt != "" && !slices.Contains(lambdatypes.Runtime("").Values(), lambdatypes.Runtime(rt)) {
		return refuse("runtime", rt, "Member must satisfy enum value set")
	}
	return nil
}

// checkTableKeys is DynamoDB requiring every key attribute to be defined,
// and every defined attribute to be a key.
// https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_CreateTable.html
func checkTableKeys(in map[string]any) error {
	defined := map[string]bool{}
	attrs, _ := in["attributes"].([]any)
	for _, a := range attrs {
		if n, ok := get(a, "name").(string); ok {
			defined[n] = true
		}
	}
	name, _ := in["name"].(string)
	keys := 0
	for _, k := range []string{"hashKey", "rangeKey"} {
		if key, _ := in[k].(string); key != "" {
			keys++
			if !defined[key] {
				return status.Errorf(codes.InvalidArgument, "creating DynamoDB Table (%s): ValidationException: One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [%s], AttributeDefinitions: %v", name, key, sortedNames(defined))
			}
		}
	}
	indexed := 0
	for _, idx := range []string{"globalSecondaryIndexes", "localSecondaryIndexes"} {
		if l, _ := in[idx].([]any); len(l) > 0 {
			indexed += len(l)
		}
	}
	if indexed == 0 && len(defined) > keys {
		return status.Errorf(codes.InvalidArgument, "creating DynamoDB Table (%s): ValidationException: One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions", name)
	}
	return nil
}

func sortedNames(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func fmtInt(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
