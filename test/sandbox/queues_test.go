package sandbox

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

const sqsPrefix = "arn:aws:sqs:eu-west-1:123456789012:"

func queue(name string, fifo bool, extra map[string]any) Resource {
	in := map[string]any{"name": name}
	if fifo {
		in["fifoQueue"] = true
	}
	for k, v := range extra {
		in[k] = v
	}
	url := "https://sqs.eu-west-1.amazonaws.com/123456789012/" + name
	return Resource{ID: url, Type: tQueue, URN: "urn:pulumi:dev::tap::aws:sqs/queue:Queue::" + name, Region: "eu-west-1", Inputs: in,
		Outputs: map[string]any{"arn": sqsPrefix + name, "url": url}}
}

func TestCheckInputs_QueueAttributes(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   map[string]any
		err  string
	}{
		{"every attribute at its bounds", map[string]any{"name": "q", "delaySeconds": 900.0, "maxMessageSize": 1024.0, "messageRetentionSeconds": 1209600.0,
			"receiveWaitTimeSeconds": 20.0, "visibilityTimeoutSeconds": 43200.0, "kmsDataKeyReusePeriodSeconds": 86400.0}, ""},
		{"the other bounds", map[string]any{"name": "q", "delaySeconds": 0.0, "maxMessageSize": 262144.0, "messageRetentionSeconds": 60.0,
			"receiveWaitTimeSeconds": 0.0, "visibilityTimeoutSeconds": 0.0, "kmsDataKeyReusePeriodSeconds": 60.0}, ""},
		{"a delay of 901 s", map[string]any{"name": "q", "delaySeconds": 901.0}, "creating SQS Queue (q): InvalidAttributeValue: Invalid value for the parameter DelaySeconds."},
		{"a retention under a minute", map[string]any{"name": "q", "messageRetentionSeconds": 59.0}, "InvalidAttributeValue: Invalid value for the parameter MessageRetentionPeriod."},
		{"a retention over 14 days", map[string]any{"name": "q", "messageRetentionSeconds": 1209601.0}, "InvalidAttributeValue: Invalid value for the parameter MessageRetentionPeriod."},
		{"a receive wait of 21 s", map[string]any{"name": "q", "receiveWaitTimeSeconds": 21.0}, "InvalidAttributeValue: Invalid value for the parameter ReceiveMessageWaitTimeSeconds."},
		{"a visibility timeout over 12 h", map[string]any{"name": "q", "visibilityTimeoutSeconds": 43201.0}, "InvalidAttributeValue: Invalid value for the parameter VisibilityTimeout."},
		{"a negative visibility timeout", map[string]any{"name": "q", "visibilityTimeoutSeconds": -1.0}, "InvalidAttributeValue: Invalid value for the parameter VisibilityTimeout."},
		{"a key reuse of 59 s", map[string]any{"name": "q", "kmsDataKeyReusePeriodSeconds": 59.0}, "InvalidAttributeValue: Invalid value for the parameter KmsDataKeyReusePeriodSeconds."},
		{"a message size under 1 KiB", map[string]any{"name": "q", "maxMessageSize": 1023.0}, "InvalidAttributeValue: Invalid value for the parameter MaximumMessageSize."},
		{"a message size over SQS's 1 MiB", map[string]any{"name": "q", "maxMessageSize": 1048577.0}, "InvalidAttributeValue: Invalid value for the parameter MaximumMessageSize."},
		{"a message size the provider does not yet allow", map[string]any{"name": "q", "maxMessageSize": 1048576.0}, "expected max_message_size to be in the range (1024 - 262144), got 1048576"},
		{"content-based deduplication on a standard queue", map[string]any{"name": "q", "contentBasedDeduplication": true}, "content-based deduplication can only be set for FIFO queue"},
		{"content-based deduplication on a FIFO queue", map[string]any{"name": "q.fifo", "fifoQueue": true, "contentBasedDeduplication": true}, ""},
		{"a deduplication scope on a standard queue", map[string]any{"name": "q", "deduplicationScope": "messageGroup"}, "InvalidAttributeName: Unknown Attribute DeduplicationScope. Should be used only with FIFO Queues."},
		{"a throughput limit on a standard queue", map[string]any{"name": "q", "fifoThroughputLimit": "perQueue"}, "InvalidAttributeName: Unknown Attribute FifoThroughputLimit. Should be used only with FIFO Queues."},
		{"both kinds of encryption", map[string]any{"name": "q", "kmsMasterKeyId": "alias/aws/sqs", "sqsManagedSseEnabled": true}, "InvalidAttributeName: You can use one type of server-side encryption (SSE) at one time. You can either enable KMS SSE or SQS SSE."},
		{"a queue policy that is not JSON", map[string]any{"name": "q", "policy": "{"}, "InvalidAttributeValue: Invalid value for the parameter Policy."},
		{"a redrive policy", map[string]any{"name": "q", "redrivePolicy": `{"deadLetterTargetArn":"` + sqsPrefix + `dlq","maxReceiveCount":5}`}, ""},
		{"a redrive policy that is not JSON", map[string]any{"name": "q", "redrivePolicy": `deadLetterTargetArn=x`}, "InvalidParameterValue: Invalid value for the parameter RedrivePolicy. Reason: Redrive policy is not a valid JSON map."},
		{"a redrive policy without its target", map[string]any{"name": "q", "redrivePolicy": `{"maxReceiveCount":5}`}, `InvalidParameterValue: Value {"maxReceiveCount":5} for parameter RedrivePolicy is invalid. Reason: Redrive policy does not contain mandatory attribute: deadLetterTargetArn.`},
		{"a redrive policy without its count", map[string]any{"name": "q", "redrivePolicy": `{"deadLetterTargetArn":"x"}`}, "Reason: Redrive policy does not contain mandatory attribute: maxReceiveCount."},
		{"a count of 0", map[string]any{"name": "q", "redrivePolicy": `{"deadLetterTargetArn":"x","maxReceiveCount":0}`}, "Reason: Invalid value for maxReceiveCount: 0, valid values are from 1 to 1000 both inclusive."},
		{"a count of 1001", map[string]any{"name": "q", "redrivePolicy": `{"deadLetterTargetArn":"x","maxReceiveCount":1001}`}, "Reason: Invalid value for maxReceiveCount: 1001, valid values are from 1 to 1000 both inclusive."},
		{"a redrive allow policy by queue", map[string]any{"name": "dlq", "redriveAllowPolicy": `{"redrivePermission":"byQueue","sourceQueueArns":["` + sqsPrefix + `work"]}`}, ""},
		{"a redrive allow policy by queue without queues", map[string]any{"name": "dlq", "redriveAllowPolicy": `{"redrivePermission":"byQueue"}`},
			"Reason: Amazon SQS can't create the redrive allow policy. When you specify the byQueue permission type, you must also specify one or more sourceQueueArns values."},
		{"source queues without byQueue", map[string]any{"name": "dlq", "redriveAllowPolicy": `{"redrivePermission":"allowAll","sourceQueueArns":["` + sqsPrefix + `work"]}`},
			"Reason: Amazon SQS can't create the redrive allow policy. To specify one or more source queue ARNs, you must set redrivePermission to byQueue."},
		{"eleven source queues", map[string]any{"name": "dlq", "redriveAllowPolicy": `{"redrivePermission":"byQueue","sourceQueueArns":["a","b","c","d","e","f","g","h","i","j","k"]}`},
			"Reason: Amazon SQS can't create the redrive allow policy. The maximum number of source queue ARNs you can specify is 10."},
		{"a count given as a string", map[string]any{"name": "q", "redrivePolicy": `{"deadLetterTargetArn":"x","maxReceiveCount":"5"}`}, "Reason: Invalid value for maxReceiveCount: 5, valid values are from 1 to 1000 both inclusive."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := checkInputs(tQueue, tt.in)
			if tt.err == "" {
				assert.NoError(t, err)
			} else {
				assert.ErrorContains(t, err, tt.err)
			}
		})
	}
}

func TestCheckSave_RedriveTarget(t *testing.T) {
	policy := func(target string, count int) string {
		return `{"deadLetterTargetArn":"` + target + `","maxReceiveCount":` + fmtInt(count) + `}`
	}
	for _, tt := range []struct {
		name string
		fifo bool
		dlq  string
		err  string
	}{
		{"a standard queue's standard DLQ", false, sqsPrefix + "dlq", ""},
		{"a FIFO queue's FIFO DLQ", true, sqsPrefix + "dlq.fifo", ""},
		{"a DLQ that does not exist", false, sqsPrefix + "nowhere", "Reason: Dead letter target does not exist."},
		{"a DLQ of another region", false, "arn:aws:sqs:us-east-1:123456789012:dlq", "Reason: Dead letter target does not exist."},
		{"a DLQ of another account", false, "arn:aws:sqs:eu-west-1:111111111111:dlq", "Reason: Dead letter target does not exist."},
		{"a standard queue's FIFO DLQ", false, sqsPrefix + "dlq.fifo", "Reason: Dead-letter queue must be same type of queue as the source.."},
		{"a FIFO queue's standard DLQ", true, sqsPrefix + "dlq", "Reason: Dead-letter queue must be same type of queue as the source.."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := newState(queue("dlq", false, nil), queue("dlq.fifo", true, nil))
			name := "work"
			if tt.fifo {
				name += ".fifo"
			}
			in := queue(name, tt.fifo, map[string]any{"redrivePolicy": policy(tt.dlq, 5)}).Inputs
			err := checkSave(st, "eu-west-1", tQueue, name, in, map[string]any{})
			// The same rules hold for an aws:sqs/redrivePolicy:RedrivePolicy
			// on the queue.
			src := queue(name, tt.fifo, nil)
			st.Resources[keyIn("eu-west-1", tQueue, src.ID, nil)] = src
			errPolicy := checkSave(st, "eu-west-1", tRedrivePolicy, src.ID, map[string]any{"queueUrl": src.ID, "redrivePolicy": policy(tt.dlq, 5)}, map[string]any{})
			if tt.err == "" {
				assert.NoError(t, err)
				assert.NoError(t, errPolicy)
				return
			}
			assert.ErrorContains(t, err, "creating SQS Queue ("+name+"): InvalidParameterValue: Value "+policy(tt.dlq, 5)+" for parameter RedrivePolicy is invalid. "+tt.err)
			assert.ErrorContains(t, errPolicy, "attribute (RedrivePolicy): InvalidParameterValue: Value "+policy(tt.dlq, 5)+" for parameter RedrivePolicy is invalid. "+tt.err)
		})
	}
}

func TestCheckSave_RedriveAllowedByTheDeadLetterQueue(t *testing.T) {
	policy := `{"deadLetterTargetArn":"` + sqsPrefix + `dlq","maxReceiveCount":5}`
	for _, tt := range []struct {
		name, allow string
		resource    bool
		err         string
	}{
		{"no allow policy", "", false, ""},
		{"allowAll", `{"redrivePermission":"allowAll"}`, false, ""},
		{"byQueue naming the source", `{"redrivePermission":"byQueue","sourceQueueArns":["` + sqsPrefix + `work"]}`, false, ""},
		{"byQueue naming another", `{"redrivePermission":"byQueue","sourceQueueArns":["` + sqsPrefix + `other"]}`, false, "Reason: Dead letter target's redrive allow policy does not allow this source queue."},
		{"denyAll", `{"redrivePermission":"denyAll"}`, false, "Reason: Dead letter target's redrive allow policy does not allow this source queue."},
		{"denyAll by a RedriveAllowPolicy resource", `{"redrivePermission":"denyAll"}`, true, "Reason: Dead letter target's redrive allow policy does not allow this source queue."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dlq := queue("dlq", false, nil)
			if tt.allow != "" && !tt.resource {
				dlq.Inputs["redriveAllowPolicy"] = tt.allow
			}
			st := newState(dlq)
			if tt.resource {
				r := Resource{ID: dlq.ID, Type: tRedriveAllowPolicy, Region: "eu-west-1", Inputs: map[string]any{"queueUrl": dlq.ID, "redriveAllowPolicy": tt.allow}}
				st.Resources[keyIn("eu-west-1", tRedriveAllowPolicy, r.ID, nil)] = r
			}
			err := checkSave(st, "eu-west-1", tQueue, "work", map[string]any{"name": "work", "redrivePolicy": policy}, map[string]any{})
			if tt.err == "" {
				assert.NoError(t, err)
			} else {
				assert.ErrorContains(t, err, "InvalidParameterValue: Value "+policy+" for parameter RedrivePolicy is invalid. "+tt.err)
			}
		})
	}
}

func TestCheckSave_QueueConfigurationNeedsItsQueue(t *testing.T) {
	st := newState(queue("work", false, nil))
	url := "https://sqs.eu-west-1.amazonaws.com/123456789012/"
	for _, tt := range []struct {
		name, typ string
		in        map[string]any
		err       string
	}{
		{"a queue policy", tQueuePolicy, map[string]any{"queueUrl": url + "work", "policy": `{"Version":"2012-10-17","Statement":[]}`}, ""},
		{"a queue policy that is not JSON", tQueuePolicy, map[string]any{"queueUrl": url + "work", "policy": `Statement`}, "InvalidAttributeValue: Invalid value for the parameter Policy."},
		{"a queue policy of no queue", tQueuePolicy, map[string]any{"queueUrl": url + "gone", "policy": `{}`}, "AWS.SimpleQueueService.NonExistentQueue: The specified queue does not exist."},
		{"a redrive policy of no queue", tRedrivePolicy, map[string]any{"queueUrl": url + "gone", "redrivePolicy": `{"deadLetterTargetArn":"` + sqsPrefix + `work","maxReceiveCount":5}`}, "AWS.SimpleQueueService.NonExistentQueue: The specified queue does not exist."},
		{"a redrive policy with a count of 0", tRedrivePolicy, map[string]any{"queueUrl": url + "work", "redrivePolicy": `{"deadLetterTargetArn":"` + sqsPrefix + `work","maxReceiveCount":0}`}, "Invalid value for maxReceiveCount: 0"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := checkSave(st, "eu-west-1", tt.typ, url, tt.in, map[string]any{})
			if tt.err == "" {
				assert.NoError(t, err)
			} else {
				assert.ErrorContains(t, err, tt.err)
			}
		})
	}
}

func TestAlreadyExists_QueueOfAnotherStack(t *testing.T) {
	mine := queue("tap-dev-jobs", false, map[string]any{"visibilityTimeoutSeconds": 60.0, "messageRetentionSeconds": 345600.0})
	st := newState(mine)
	for _, tt := range []struct {
		name string
		in   map[string]any
		err  string
	}{
		{"another retention", map[string]any{"name": "tap-dev-jobs", "visibilityTimeoutSeconds": 60.0, "messageRetentionSeconds": 86400.0},
			"creating SQS Queue (tap-dev-jobs): QueueAlreadyExists: A queue already exists with the same name and a different value for attribute MessageRetentionPeriod"},
		{"the visibility timeout's default", map[string]any{"name": "tap-dev-jobs"},
			"QueueAlreadyExists: A queue already exists with the same name and a different value for attribute VisibilityTimeout"},
		{"a FIFO queue of the name", map[string]any{"name": "tap-dev-jobs", "visibilityTimeoutSeconds": 60.0, "fifoQueue": true},
			"different value for attribute FifoQueue"},
		// SQS would hand back the existing queue: refused all the same.
		{"the same attributes, defaults spelled out", map[string]any{"name": "tap-dev-jobs", "visibilityTimeoutSeconds": 60.0, "delaySeconds": 0.0},
			"SQS would return its URL and both stacks would own one queue"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := alreadyExists(st, tQueue, "eu-west-1", mine.ID, tt.in)
			assert.ErrorContains(t, err, tt.err)
		})
	}
	assert.NoError(t, alreadyExists(st, tQueue, "us-east-1", strings.Replace(mine.ID, "eu-west-1", "us-east-1", 1), map[string]any{"name": "tap-dev-jobs"}), "another region's name is free")
}
