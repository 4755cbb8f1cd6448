package sandbox

// What SQS (and the provider in front of it) checks of a queue, its
// redrive policy and its queue policy, with SQS's error texts.
// https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html
// https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/org/tap-deploy/internal/cloudsim"
)

// Resource types of a queue's configuration.
const (
	tRedrivePolicy      = "aws:sqs/redrivePolicy:RedrivePolicy"
	tRedriveAllowPolicy = "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy"
	tQueuePolicy        = "aws:sqs/queuePolicy:QueuePolicy"
)

// queueAttribute is one queue attribute as SQS names it, the Pulumi
// input that sets it, its range and the default the provider sends when
// the input is unset (the provider sends every attribute on create).
type queueAttribute struct {
	name, input string
	min, max    int
	def         any
	// providerMax, when set, is the provider's own (plan-time) maximum,
	// below SQS's: a value between the two is refused with the provider's
	// text, before SQS sees it.
	providerMax int
}

// queueAttributes are the ranges of CreateQueue's Attributes, in the
// order SQS's QueueAlreadyExists names the first that differs.
// https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html (Attributes)
var queueAttributes = []queueAttribute{
	{name: "DelaySeconds", input: "delaySeconds", min: 0, max: 900, def: 0},
	// SQS raised the limit to 1,048,576 in 2025, but pulumi-aws v6.83.4's
	// provider still validates 1,024 to 262,144 at plan time (its SDK doc:
	// "An integer from 1024 bytes (1 KiB) up to 262144 bytes (256 KiB)"), so a
	// user of this provider is refused above 262,144 before SQS is asked.
	{name: "MaximumMessageSize", input: "maxMessageSize", min: 1024, max: 1048576, providerMax: 262144, def: 262144},
	{name: "MessageRetentionPeriod", input: "messageRetentionSeconds", min: 60, max: 1209600, def: 345600},
	{name: "ReceiveMessageWaitTimeSeconds", input: "receiveWaitTimeSeconds", min: 0, max: 20, def: 0},
	{name: "VisibilityTimeout", input: "visibilityTimeoutSeconds", min: 0, max: 43200, def: 30},
	{name: "KmsDataKeyReusePeriodSeconds", input: "kmsDataKeyReusePeriodSeconds", min: 60, max: 86400, def: 300},
}

// fifoOnly are the attributes SQS accepts on FIFO queues only.
// https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/FIFO-queues-exactly-once-processing.html
var fifoOnly = []struct{ name, input string }{
	{"ContentBasedDeduplication", "contentBasedDeduplication"},
	{"DeduplicationScope", "deduplicationScope"},
	{"FifoThroughputLimit", "fifoThroughputLimit"},
}

// checkQueueAttributes is what SQS and the provider refuse in a queue's
// inputs alone: an attribute out of its range, a FIFO-only attribute on a
// standard queue, two kinds of server-side encryption, and a redrive
// policy that is not the two-key JSON map SQS reads.
func checkQueueAttributes(in map[string]any) error {
	name, _ := in["name"].(string)
	for _, a := range queueAttributes {
		v, set := in[a.input]
		if !set {
			continue
		}
		n, ok := number(v)
		if ok && n >= a.min && n <= a.max {
			if a.providerMax == 0 || n <= a.providerMax {
				continue
			}
			return status.Errorf(codes.InvalidArgument, "expected %s to be in the range (%d - %d), got %d", snake(a.input), a.min, a.providerMax, n)
		}
		return status.Errorf(codes.InvalidArgument, "creating SQS Queue (%s): InvalidAttributeValue: Invalid value for the parameter %s.", name, a.name)
	}
	fifo, _ := in["fifoQueue"].(bool)
	if !fifo {
		// The provider's CustomizeDiff refuses this one at plan time
		// (terraform-provider-aws internal/service/sqs/queue.go).
		if in["contentBasedDeduplication"] == true {
			return status.Errorf(codes.InvalidArgument, "content-based deduplication can only be set for FIFO queue")
		}
		for _, a := range fifoOnly[1:] {
			if s, _ := in[a.input].(string); s != "" {
				return status.Errorf(codes.InvalidArgument, "creating SQS Queue (%s): InvalidAttributeName: Unknown Attribute %s. Should be used only with FIFO Queues.", name, a.name)
			}
		}
	}
	// "Only one server-side encryption option is supported per queue."
	// https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-server-side-encryption.html
	if key, _ := in["kmsMasterKeyId"].(string); key != "" && in["sqsManagedSseEnabled"] == true {
		return status.Errorf(codes.InvalidArgument, "creating SQS Queue (%s): InvalidAttributeName: You can use one type of server-side encryption (SSE) at one time. You can either enable KMS SSE or SQS SSE.", name)
	}
	if p, set := in["redrivePolicy"]; set && p != "" {
		if _, err := parseRedrive(p); err != nil {
			return status.Errorf(codes.InvalidArgument, "creating SQS Queue (%s): %v", name, err)
		}
	}
	if p, set := in["redriveAllowPolicy"]; set && p != "" {
		if _, err := parseRedriveAllow(p); err != nil {
			return status.Errorf(codes.InvalidArgument, "creating SQS Queue (%s): %v", name, err)
		}
	}
	if p, set := in["policy"]; set && p != "" && !isJSONObject(p) {
		return status.Errorf(codes.InvalidArgument, "creating SQS Queue (%s): InvalidAttributeValue: Invalid value for the parameter Policy.", name)
	}
	return nil
}

// redrive is a queue's RedrivePolicy as SQS reads it.
type redrive struct {
	text            string
	deadLetterArn   string
	maxReceiveCount int
}

// parseRedrive reads a RedrivePolicy: a JSON map of deadLetterTargetArn
// and maxReceiveCount, an integer from 1 to 1,000.
// https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html
// https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html (RedrivePolicy)
func parseRedrive(v any) (redrive, error) {
	text, _ := v.(string)
	r := redrive{text: text}
	invalid := func(reason string) error {
		return fmt.Errorf("InvalidParameterValue: Value %s for parameter RedrivePolicy is invalid. Reason: %s", text, reason)
	}
	var doc map[string]any
	if json.Unmarshal([]byte(text), &doc) != nil {
		return r, fmt.Errorf("InvalidParameterValue: Invalid value for the parameter RedrivePolicy. Reason: Redrive policy is not a valid JSON map.")
	}
	// The text for a missing key was seen from SQS:
	// https://github.com/crossplane-contrib/provider-aws/issues/443
	for _, k := range []string{"deadLetterTargetArn", "maxReceiveCount"} {
		if _, ok := doc[k]; !ok {
			return r, invalid("Redrive policy does not contain mandatory attribute: " + k + ".")
		}
	}
	r.deadLetterArn, _ = doc["deadLetterTargetArn"].(string)
	// maxReceiveCount must be a JSON integer: the provider documents that a
	// string ("5") makes a perpetual diff, and SQS reads only 1 to 1000.
	count, isNumber := doc["maxReceiveCount"].(float64)
	if !isNumber || count != math.Trunc(count) || count < 1 || count > 1000 {
		return r, invalid(fmt.Sprintf("Invalid value for maxReceiveCount: %v, valid values are from 1 to 1000 both inclusive.", doc["maxReceiveCount"]))
	}
	r.maxReceiveCount = int(count)
	return r, nil
}

// redriveAllow is a dead-letter queue's RedriveAllowPolicy: which source
// queues may use it.
type redriveAllow struct {
	permission string
	sources    []string
}

// parseRedriveAllow reads a RedriveAllowPolicy: redrivePermission allowAll
// (the default), denyAll or byQueue, and with byQueue only, 1 to 10
// sourceQueueArns.
// https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html (RedriveAllowPolicy)
// (SQS's texts as LocalStack, validated against AWS, has them.)
func parseRedriveAllow(v any) (redriveAllow, error) {
	text, _ := v.(string)
	invalid := func(reason string) error {
		return fmt.Errorf("InvalidParameterValue: Value %s for parameter RedriveAllowPolicy is invalid. Reason: %s", text, reason)
	}
	var doc struct {
		RedrivePermission string   `json:"redrivePermission"`
		SourceQueueArns   []string `json:"sourceQueueArns"`
	}
	if json.Unmarshal([]byte(text), &doc) != nil {
		return redriveAllow{}, fmt.Errorf("InvalidParameterValue: Invalid value for the parameter RedriveAllowPolicy. Reason: Redrive allow policy is not a valid JSON map.")
	}
	a := redriveAllow{permission: doc.RedrivePermission, sources: doc.SourceQueueArns}
	switch {
	case a.permission != "allowAll" && a.permission != "denyAll" && a.permission != "byQueue":
		// (this reason's text was not seen)
		return a, invalid("Amazon SQS can't create the redrive allow policy. The redrivePermission must be allowAll, denyAll or byQueue.")
	case a.permission != "byQueue" && len(a.sources) > 0:
		return a, invalid("Amazon SQS can't create the redrive allow policy. To specify one or more source queue ARNs, you must set redrivePermission to byQueue.")
	case a.permission == "byQueue" && len(a.sources) == 0:
		return a, invalid("Amazon SQS can't create the redrive allow policy. When you specify the byQueue permission type, you must also specify one or more sourceQueueArns values.")
	case len(a.sources) > 10:
		return a, invalid("Amazon SQS can't create the redrive allow policy. The maximum number of source queue ARNs you can specify is 10.")
	}
	return a, nil
}

// allows is whether the policy lets the source queue redrive to its queue.
func (a redriveAllow) allows(source string) bool {
	switch a.permission {
	case "denyAll":
		return false
	case "byQueue":
		return slices.Contains(a.sources, source)
	}
	return true
}

// redriveAllowOf is a queue's RedriveAllowPolicy: its own input or an
// aws:sqs/redriveAllowPolicy:RedriveAllowPolicy on it (allowAll unset).
func redriveAllowOf(st *State, q Resource) redriveAllow {
	p := q.Inputs["redriveAllowPolicy"]
	for _, r := range st.ByType(tRedriveAllowPolicy) {
		if r.Region == q.Region && r.Inputs["queueUrl"] == q.Outputs["url"] {
			p = r.Inputs["redriveAllowPolicy"]
		}
	}
	if a, err := parseRedriveAllow(p); err == nil {
		return a
	}
	return redriveAllow{permission: "allowAll"}
}

// findQueue finds a queue of the region by its ARN or URL.
func findQueue(st *State, region, ref string) (Resource, bool) {
	for _, r := range st.Resources {
		if r.Type == tQueue && r.Region == region && (r.Outputs["arn"] == ref || r.Outputs["url"] == ref || r.ID == ref) {
			return r, true
		}
	}
	return Resource{}, false
}

func isFIFO(q Resource) bool { v, _ := q.Inputs["fifoQueue"].(bool); return v }

// checkRedriveTarget is SQS checking a redrive policy against the
// account: the dead-letter queue must exist, in this account and region
// ("A dead letter queue must be created using the same AWS account and
// region as the source queue",
// https://docs.aws.amazon.com/sdk-for-java/v1/developer-guide/examples-sqs-dead-letter-queues.html),
// and be of the source's type ("The dead-letter queue of a FIFO queue must
// also be a FIFO queue. Similarly, the dead-letter queue of a standard
// queue must also be a standard queue.",
// https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html).
// The type mismatch's text, double full stop included, was seen from SQS:
// https://github.com/awslabs/aws-solutions-constructs/issues/342
func checkRedriveTarget(st *State, region, doing, source string, sourceFIFO bool, policy any) error {
	if policy == nil || policy == "" {
		return nil
	}
	r, err := parseRedrive(policy)
	if err != nil {
		return status.Errorf(codes.InvalidArgument, "%s: %v", doing, err)
	}
	invalid := func(reason string) error {
		return status.Errorf(codes.InvalidArgument, "%s: InvalidParameterValue: Value %s for parameter RedrivePolicy is invalid. Reason: %s", doing, r.text, reason)
	}
	dlq, ok := findQueue(st, region, r.deadLetterArn)
	if !ok || !strings.HasPrefix(r.deadLetterArn, fmt.Sprintf("arn:aws:sqs:%s:%s:", region, cloudsim.Account)) {
		return invalid("Dead letter target does not exist.")
	}
	if isFIFO(dlq) != sourceFIFO {
		return invalid("Dead-letter queue must be same type of queue as the source..")
	}
	// The dead-letter queue's RedriveAllowPolicy decides which sources may
	// use it (SQS's text for a refused source was not seen; the reason
	// follows SQS's other redrive refusals).
	// https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-configure-dead-letter-queue-redrive.html
	if !redriveAllowOf(st, dlq).allows(source) {
		return invalid("Dead letter target's redrive allow policy does not allow this source queue.")
	}
	return nil
}

// checkQueue is what SQS checks of a queue against the account.
func checkQueue(st *State, region string, in map[string]any) error {
	name, _ := in["name"].(string)
	fifo, _ := in["fifoQueue"].(bool)
	source := fmt.Sprintf("arn:aws:sqs:%s:%s:%s", region, cloudsim.Account, name)
	return checkRedriveTarget(st, region, "creating SQS Queue ("+name+")", source, fifo, in["redrivePolicy"])
}

// checkRedrivePolicy is an aws:sqs/redrivePolicy:RedrivePolicy: the
// provider's SetQueueAttributes of RedrivePolicy on the queue at queueUrl.
func checkRedrivePolicy(st *State, region string, in map[string]any) error {
	url, _ := in["queueUrl"].(string)
	doing := "setting SQS Queue (" + url + ") attribute (RedrivePolicy)"
	q, ok := findQueue(st, region, url)
	if !ok {
		// https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/CommonErrors.html
		return status.Errorf(codes.NotFound, "%s: AWS.SimpleQueueService.NonExistentQueue: The specified queue does not exist.", doing)
	}
	source, _ := q.Outputs["arn"].(string)
	return checkRedriveTarget(st, region, doing, source, isFIFO(q), in["redrivePolicy"])
}

// checkRedriveAllowPolicy is an aws:sqs/redriveAllowPolicy:RedriveAllowPolicy:
// SetQueueAttributes of RedriveAllowPolicy on the queue at queueUrl.
func checkRedriveAllowPolicy(st *State, region string, in map[string]any) error {
	url, _ := in["queueUrl"].(string)
	if _, ok := findQueue(st, region, url); !ok {
		return status.Errorf(codes.NotFound, "setting SQS Queue (%s) attribute (RedriveAllowPolicy): AWS.SimpleQueueService.NonExistentQueue: The specified queue does not exist.", url)
	}
	return nil
}

// checkQueuePolicy is an aws:sqs/queuePolicy:QueuePolicy: the provider's
// SetQueueAttributes of Policy on the queue at queueUrl.
func checkQueuePolicy(st *State, region string, in map[string]any) error {
	url, _ := in["queueUrl"].(string)
	doing := "setting SQS Queue (" + url + ") attribute (Policy)"
	if _, ok := findQueue(st, region, url); !ok {
		return status.Errorf(codes.NotFound, "%s: AWS.SimpleQueueService.NonExistentQueue: The specified queue does not exist.", doing)
	}
	if !isJSONObject(in["policy"]) {
		return status.Errorf(codes.InvalidArgument, "%s: InvalidAttributeValue: Invalid value for the parameter Policy.", doing)
	}
	return nil
}

// queueTaken is SQS's answer to a CreateQueue of a name the region already
// holds: the existing queue's URL when every attribute is the same,
// QueueAlreadyExists naming the first that differs otherwise ("If you
// specify the name of an existing queue and provide the exact same names
// and values for all its attributes, the CreateQueue action will return
// the URL of the existing queue instead of creating a new one",
// https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html;
// text as seen in https://github.com/freeCodeCamp/mail-for-good/issues/159).
//
// The sandbox refuses the same attributes too. The provider does not look
// before it creates, so in AWS the second stack silently adopts the first
// one's queue, and when either stack is destroyed the queue goes for both:
// the same harm as a taken name, which tap-deploy keeps unique per account
// and region for every type awsfacts marks UniqueName.
func queueTaken(existing Resource, in map[string]any) error {
	name, _ := in["name"].(string)
	attrs := append([]queueAttribute{}, queueAttributes...)
	attrs = append(attrs,
		queueAttribute{name: "FifoQueue", input: "fifoQueue", def: false},
		queueAttribute{name: "ContentBasedDeduplication", input: "contentBasedDeduplication", def: false},
		queueAttribute{name: "KmsMasterKeyId", input: "kmsMasterKeyId", def: ""},
		queueAttribute{name: "SqsManagedSseEnabled", input: "sqsManagedSseEnabled", def: nil},
		queueAttribute{name: "RedrivePolicy", input: "redrivePolicy", def: ""},
		queueAttribute{name: "Policy", input: "policy", def: ""})
	for _, a := range attrs {
		if fmt.Sprint(orDefault(existing.Inputs[a.input], a.def)) != fmt.Sprint(orDefault(in[a.input], a.def)) {
			return status.Errorf(codes.AlreadyExists, "creating SQS Queue (%s): QueueAlreadyExists: A queue already exists with the same name and a different value for attribute %s", name, a.name)
		}
	}
	return status.Errorf(codes.AlreadyExists, "creating SQS Queue (%s): the account already has this queue (%s), made by %s: SQS would return its URL and both stacks would own one queue, which the first destroy deletes for both; give this stack's queue its own name", name, existing.ID, existing.URN)
}

func orDefault(v, def any) any {
	if n, ok := number(v); ok {
		return n
	}
	if v == nil {
		return def
	}
	return v
}

// snake is the provider's (Terraform's) name of a Pulumi input.
func snake(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= 'A' && r <= 'Z' {
			b.WriteByte('_')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}
