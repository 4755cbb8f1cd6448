package sandbox

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// worker is a function that consumes a queue: its role, the role's grant
// on the queue, the queue (and a FIFO one), and an alias.
func worker(timeout float64, grant string) []Resource {
	rs := []Resource{
		{ID: "tap-dev-worker", Type: tRole, Inputs: map[string]any{"assumeRolePolicy": `{"Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`},
			Outputs: map[string]any{"arn": "arn:aws:iam::123456789012:role/tap-dev-worker"}},
		{ID: "tap-dev-worker", Type: tFunction, Inputs: map[string]any{"role": "arn:aws:iam::123456789012:role/tap-dev-worker", "timeout": timeout},
			Outputs: map[string]any{"version": "1"}},
		{ID: "arn:aws:lambda:eu-west-1:123456789012:function:tap-dev-worker:live", Type: tLambdaAlias, Inputs: map[string]any{"functionName": "tap-dev-worker", "name": "live"}},
		queue("jobs", false, map[string]any{"visibilityTimeoutSeconds": 180.0}),
		queue("jobs.fifo", true, map[string]any{"visibilityTimeoutSeconds": 180.0}),
		queue("short", false, nil),
	}
	if grant != "" {
		rs = append(rs, Resource{ID: "tap-dev-worker:sqs", Type: tRolePolicy, Inputs: map[string]any{"role": "tap-dev-worker", "policy": grant}})
	}
	return rs
}

const consumerGrant = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sqs:ReceiveMessage","sqs:DeleteMessage","sqs:GetQueueAttributes"],"Resource":"arn:aws:sqs:eu-west-1:123456789012:jobs*"}]}`

func TestCheckMapping_SQSSource(t *testing.T) {
	jobs, fifo := sqsPrefix+"jobs", sqsPrefix+"jobs.fifo"
	mapping := func(source string, kv ...any) map[string]any {
		in := map[string]any{"eventSourceArn": source, "functionName": "arn:aws:lambda:eu-west-1:123456789012:function:tap-dev-worker:live"}
		for i := 0; i+1 < len(kv); i += 2 {
			in[kv[i].(string)] = kv[i+1]
		}
		return in
	}
	const prefix = "creating Lambda Event Source Mapping (" + sqsPrefix
	for _, tt := range []struct {
		name    string
		timeout float64
		grant   string
		in      map[string]any
		err     string
	}{
		{"the alias consumes the queue", 30, consumerGrant, mapping(jobs), ""},
		{"a batch of 100 within a window", 30, consumerGrant, mapping(jobs, "batchSize", 100.0, "maximumBatchingWindowInSeconds", 5.0), ""},
		{"a batch of 10,000", 30, consumerGrant, mapping(jobs, "batchSize", 10000.0, "maximumBatchingWindowInSeconds", 1.0), ""},
		{"a FIFO queue's batch of 10", 30, consumerGrant, mapping(fifo, "batchSize", 10.0), ""},
		{"concurrency of 2 to 1000", 30, consumerGrant, mapping(jobs, "scalingConfig", map[string]any{"maximumConcurrency": 1000.0}), ""},
		{"the managed SQS policy", 30, "", mapping(jobs), ""}, // attached below
		{"a batch of 0", 30, consumerGrant, mapping(jobs, "batchSize", 0.0),
			prefix + "jobs): ValidationException: 1 validation error detected: Value '0' at 'batchSize' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{"a batch of 10,001", 30, consumerGrant, mapping(jobs, "batchSize", 10001.0, "maximumBatchingWindowInSeconds", 1.0),
			"Value '10001' at 'batchSize' failed to satisfy constraint: Member must have value less than or equal to 10000"},
		{"a batch of 11 without a window", 30, consumerGrant, mapping(jobs, "batchSize", 11.0),
			prefix + "jobs): InvalidParameterValueException: Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10"},
		{"a window of 301 s", 30, consumerGrant, mapping(jobs, "maximumBatchingWindowInSeconds", 301.0),
			"Value '301' at 'maximumBatchingWindowInSeconds' failed to satisfy constraint: Member must have value less than or equal to 300"},
		{"a FIFO queue with a window", 30, consumerGrant, mapping(fifo, "batchSize", 10.0, "maximumBatchingWindowInSeconds", 1.0),
			"InvalidParameterValueException: Batching window is not supported for FIFO queues"},
		{"a FIFO queue's batch of 11", 30, consumerGrant, mapping(fifo, "batchSize", 11.0),
			"InvalidParameterValueException: Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10"},
		{"concurrency of 1", 30, consumerGrant, mapping(jobs, "scalingConfig", map[string]any{"maximumConcurrency": 1.0}),
			"ValidationException: 1 validation error detected: Value '1' at 'scalingConfig.maximumConcurrency' failed to satisfy constraint: Member must have value greater than or equal to 2"},
		{"concurrency of 1001", 30, consumerGrant, mapping(jobs, "scalingConfig", map[string]any{"maximumConcurrency": 1001.0}),
			"Value '1001' at 'scalingConfig.maximumConcurrency' failed to satisfy constraint: Member must have value less than or equal to 1000"},
		{"a queue that does not exist", 30, consumerGrant, mapping(sqsPrefix + "gone"), "ResourceNotFoundException: Invalid EventSourceArn"},
		{"a function that does not exist", 30, consumerGrant, mapping(jobs, "functionName", "tap-dev-nobody"),
			"ResourceNotFoundException: Function not found: arn:aws:lambda:eu-west-1:123456789012:function:tap-dev-nobody"},
		{"an alias that does not exist", 30, consumerGrant, mapping(jobs, "functionName", "arn:aws:lambda:eu-west-1:123456789012:function:tap-dev-worker:canary"),
			"ResourceNotFoundException: Function not found: arn:aws:lambda:eu-west-1:123456789012:function:tap-dev-worker:canary"},
		{"a function that outlasts the visibility timeout", 181, consumerGrant, mapping(jobs),
			"InvalidParameterValueException: Queue visibility timeout: 180 seconds is less than Function timeout: 181 seconds"},
		{"the default visibility timeout", 31, `{"Statement":{"Effect":"Allow","Action":"sqs:*","Resource":"*"}}`, mapping(sqsPrefix + "short"),
			"InvalidParameterValueException: Queue visibility timeout: 30 seconds is less than Function timeout: 31 seconds"},
		{"a role with no grant", 30, "", mapping(jobs, "functionName", "tap-dev-worker"),
			"InvalidParameterValueException: The function execution role does not have permissions to call ReceiveMessage on SQS"},
		{"a role that may only receive", 30, `{"Statement":[{"Effect":"Allow","Action":"sqs:ReceiveMessage","Resource":"` + jobs + `"}]}`, mapping(jobs),
			"InvalidParameterValueException: The function execution role does not have permissions to call DeleteMessage on SQS"},
		{"a role that may not read the attributes", 30, `{"Statement":[{"Effect":"Allow","Action":["sqs:ReceiveMessage","sqs:DeleteMessage"],"Resource":"` + jobs + `"}]}`, mapping(jobs),
			"The function execution role does not have permissions to call GetQueueAttributes on SQS"},
		{"a grant on another queue", 30, `{"Statement":[{"Effect":"Allow","Action":"sqs:*","Resource":"` + sqsPrefix + `other"}]}`, mapping(jobs),
			"does not have permissions to call ReceiveMessage on SQS"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := newState(worker(tt.timeout, tt.grant)...)
			if tt.name == "the managed SQS policy" {
				st.Resources[keyIn("eu-west-1", tAttachment, "tap-dev-worker-sqs", nil)] = Resource{ID: "tap-dev-worker-sqs", Type: tAttachment, Region: "eu-west-1",
					Inputs: map[string]any{"role": "tap-dev-worker", "policyArn": "arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole"}}
			}
			err := checkSave(st, "eu-west-1", tEventSourceMapping, "new-uuid", tt.in, map[string]any{})
			if tt.err == "" {
				assert.NoError(t, err)
			} else {
				assert.ErrorContains(t, err, tt.err)
			}
		})
	}
}

func TestCheckMapping_OnePerQueueAndFunction(t *testing.T) {
	existing := Resource{ID: "2bac96f9-0000-4000-8000-000000000001", Type: tEventSourceMapping, Region: "eu-west-1",
		Inputs: map[string]any{"eventSourceArn": sqsPrefix + "jobs", "functionName": "tap-dev-worker"}}
	st := newState(append(worker(30, consumerGrant), existing)...)
	in := map[string]any{"eventSourceArn": sqsPrefix + "jobs", "functionName": "arn:aws:lambda:eu-west-1:123456789012:function:tap-dev-worker"}
	err := checkSave(st, "eu-west-1", tEventSourceMapping, "new-uuid", in, map[string]any{})
	assert.ErrorContains(t, err, `ResourceConflictException: An event source mapping with SQS arn (" arn:aws:sqs:eu-west-1:123456789012:jobs ") and function (" tap-dev-worker ") already exists. Please update or delete the existing mapping with UUID 2bac96f9-0000-4000-8000-000000000001`)
	assert.NoError(t, checkSave(st, "eu-west-1", tEventSourceMapping, existing.ID, in, map[string]any{}), "an update of the mapping itself")
	in["functionName"] = "tap-dev-worker:live"
	assert.NoError(t, checkSave(st, "eu-west-1", tEventSourceMapping, "new-uuid", in, map[string]any{}), "the alias counts as another function")
	in["eventSourceArn"] = sqsPrefix + "jobs.fifo"
	in["functionName"] = "tap-dev-worker"
	assert.NoError(t, checkSave(st, "eu-west-1", tEventSourceMapping, "new-uuid", in, map[string]any{}), "another queue")
}

func TestCheckMapping_StreamSourcesAreNotSQSs(t *testing.T) {
	st := newState()
	in := map[string]any{"eventSourceArn": "arn:aws:dynamodb:eu-west-1:123456789012:table/t/stream/2026", "functionName": "nobody", "batchSize": 100.0}
	assert.NoError(t, checkSave(st, "eu-west-1", tEventSourceMapping, "u", in, map[string]any{}))
}
