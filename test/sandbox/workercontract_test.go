package sandbox_test

// Contract tests for the queue worker's types (issue 34): an SQS queue
// with a dead-letter queue, a Lambda consumer through an event source
// mapping, and an EventBridge Scheduler schedule on the function's alias.
// The program is built by hand (workerProgram), made on the sandbox and on
// moto as the stack's contract does (clouds.do), with the program's inputs
// and with inputs AWS refuses.

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/graph"
	"github.com/org/tap-deploy/test/moto"
)

// The worker's types the TAP stack does not create.
const (
	tRedrivePolicy = "aws:sqs/redrivePolicy:RedrivePolicy"
	tSchedule      = "aws:scheduler/schedule:Schedule"
	tScheduleGroup = "aws:scheduler/scheduleGroup:ScheduleGroup"
)

// workerOnly are the types whose moto calls only the worker's contract
// makes.
var workerOnly = map[string]bool{tRedrivePolicy: true, tSchedule: true, tScheduleGroup: true}

const (
	sqsArn   = "arn:aws:sqs:" + region + ":" + motoAccount + ":"
	sqsURL   = "https://sqs." + region + ".amazonaws.com/" + motoAccount + "/"
	aliasArn = "arn:aws:lambda:" + region + ":" + motoAccount + ":function:tap-dev-worker:live"
)

// workerProgram is the queue worker as a deploy creates it, in order.
func workerProgram() []graph.Resource {
	r := func(typ, name string, in map[string]any) graph.Resource {
		return graph.Resource{URN: "urn:pulumi:dev::worker::" + typ + "::" + name, Type: typ, Name: name, Custom: true, Inputs: in}
	}
	lambdaTrust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	schedulerTrust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"scheduler.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:SourceAccount":"` + motoAccount + `"}}}]}`
	grant := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sqs:ReceiveMessage","sqs:DeleteMessage","sqs:GetQueueAttributes"],"Resource":"` + sqsArn + `jobs*"}]}`
	return []graph.Resource{
		r(tRole, "worker", map[string]any{"name": "tap-dev-worker", "assumeRolePolicy": lambdaTrust}),
		r(tRolePolicy, "worker-sqs", map[string]any{"role": "tap-dev-worker", "name": "sqs", "policy": grant}),
		r(tQueue, "jobs-dlq", map[string]any{"name": "jobs-dlq", "messageRetentionSeconds": 1209600.0, "sqsManagedSseEnabled": true}),
		r(tQueue, "jobs-dlq.fifo", map[string]any{"name": "jobs-dlq.fifo", "fifoQueue": true}),
		r(tQueue, "jobs", map[string]any{"name": "jobs", "visibilityTimeoutSeconds": 180.0, "receiveWaitTimeSeconds": 20.0, "sqsManagedSseEnabled": true}),
		r(tQueue, "jobs.fifo", map[string]any{"name": "jobs.fifo", "fifoQueue": true, "contentBasedDeduplication": true, "visibilityTimeoutSeconds": 180.0,
			"redrivePolicy": `{"deadLetterTargetArn":"` + sqsArn + `jobs-dlq.fifo","maxReceiveCount":5}`}),
		r(tRedrivePolicy, "jobs-redrive", map[string]any{"queueUrl": sqsURL + "jobs", "redrivePolicy": `{"deadLetterTargetArn":"` + sqsArn + `jobs-dlq","maxReceiveCount":5}`}),
		r(tFunction, "worker", map[string]any{"name": "tap-dev-worker", "role": "arn:aws:iam::" + motoAccount + ":role/tap-dev-worker", "runtime": "provided.al2023",
			"handler": "bootstrap", "timeout": 30.0, "publish": true}),
		r(tLambdaAlias, "worker-live", map[string]any{"name": "live", "functionName": "tap-dev-worker", "functionVersion": "1"}),
		r(tEventSourceMapping, "worker-jobs", map[string]any{"eventSourceArn": sqsArn + "jobs", "functionName": aliasArn, "batchSize": 100.0,
			"maximumBatchingWindowInSeconds": 5.0, "functionResponseTypes": []any{"ReportBatchItemFailures"}, "scalingConfig": map[string]any{"maximumConcurrency": 5.0}}),
		r(tEventSourceMapping, "worker-fifo", map[string]any{"eventSourceArn": sqsArn + "jobs.fifo", "functionName": aliasArn, "batchSize": 10.0}),
		r(tRole, "scheduler", map[string]any{"name": "tap-dev-scheduler", "assumeRolePolicy": schedulerTrust}),
		r(tScheduleGroup, "tap-dev", map[string]any{"name": "tap-dev"}),
		r(tSchedule, "tick", map[string]any{"name": "tap-dev-tick", "groupName": "tap-dev", "scheduleExpression": "cron(0/5 * ? * MON-FRI *)",
			"scheduleExpressionTimezone": "Europe/Paris", "flexibleTimeWindow": map[string]any{"mode": "FLEXIBLE", "maximumWindowInMinutes": 5.0},
			"target": map[string]any{"arn": aliasArn, "roleArn": "arn:aws:iam::" + motoAccount + ":role/tap-dev-scheduler", "input": `{"source":"schedule"}`,
				"retryPolicy": map[string]any{"maximumEventAgeInSeconds": 3600.0, "maximumRetryAttempts": 3.0}}}),
	}
}

// workerUpdates change one input of each type the worker updates in place.
var workerUpdates = map[string]func(in map[string]any){
	tQueue: func(in map[string]any) { in["visibilityTimeoutSeconds"] = 240.0 },
	tRedrivePolicy: func(in map[string]any) {
		in["redrivePolicy"] = strings.Replace(fmt.Sprint(in["redrivePolicy"]), `:5}`, `:10}`, 1)
	},
	tEventSourceMapping: func(in map[string]any) { in["batchSize"] = 5.0 },
	tSchedule:           func(in map[string]any) { in["scheduleExpression"] = "rate(10 minutes)" },
}

func init() {
	// aws_sqs_queue_redrive_policy: SetQueueAttributes of RedrivePolicy;
	// a delete sets it empty.
	setRedrive := func(policy func(call) string) func(c call) (map[string]string, error) {
		return func(c call) (map[string]string, error) {
			_, err := c.c.sqs.SetQueueAttributes(c.ctx, &sqs.SetQueueAttributesInput{QueueUrl: sp(c.in, "queueUrl"), Attributes: map[string]string{"RedrivePolicy": policy(c)}})
			return nil, err
		}
	}
	motoCalls[tRedrivePolicy] = calls{
		create: setRedrive(func(c call) string { return s(c.in, "redrivePolicy") }),
		update: setRedrive(func(c call) string { return s(c.in, "redrivePolicy") }),
		delete: setRedrive(func(call) string { return "" }),
	}
	// aws_scheduler_schedule_group: CreateScheduleGroup; DeleteScheduleGroup.
	motoCalls[tScheduleGroup] = calls{
		create: func(c call) (map[string]string, error) {
			var tags []map[string]string
			for k, v := range c.tags {
				tags = append(tags, map[string]string{"Key": k, "Value": v})
			}
			out, err := schedulerCall(c, http.MethodPost, "/schedule-groups/"+s(c.in, "name"), map[string]any{"Tags": tags})
			return map[string]string{"arn": fmt.Sprint(out["ScheduleGroupArn"])}, err
		},
		delete: func(c call) (map[string]string, error) {
			_, err := schedulerCall(c, http.MethodDelete, "/schedule-groups/"+s(c.in, "name"), nil)
			return nil, err
		},
	}
	// aws_scheduler_schedule: CreateSchedule; UpdateSchedule (the whole
	// schedule again); DeleteSchedule.
	putSchedule := func(method string) func(c call) (map[string]string, error) {
		return func(c call) (map[string]string, error) {
			out, err := schedulerCall(c, method, "/schedules/"+s(c.in, "name"), scheduleBody(c.in))
			return map[string]string{"arn": fmt.Sprint(out["ScheduleArn"])}, err
		}
	}
	motoCalls[tSchedule] = calls{
		create: putSchedule(http.MethodPost),
		update: putSchedule(http.MethodPut),
		delete: func(c call) (map[string]string, error) {
			_, err := schedulerCall(c, http.MethodDelete, "/schedules/"+s(c.in, "name")+"?groupName="+url.QueryEscape(s(c.in, "groupName")), nil)
			return nil, err
		},
	}
}

// scheduleBody is CreateSchedule's request from the schedule's inputs.
func scheduleBody(in map[string]any) map[string]any {
	window := map[string]any{"Mode": s(in, "flexibleTimeWindow", "mode")}
	if w := dig(in, "flexibleTimeWindow", "maximumWindowInMinutes"); w != nil {
		window["MaximumWindowInMinutes"] = w
	}
	target := map[string]any{"Arn": s(in, "target", "arn"), "RoleArn": s(in, "target", "roleArn")}
	if v := s(in, "target", "input"); v != "" {
		target["Input"] = v
	}
	if r := obj(dig(in, "target", "retryPolicy")); r != nil {
		target["RetryPolicy"] = map[string]any{"MaximumEventAgeInSeconds": r["maximumEventAgeInSeconds"], "MaximumRetryAttempts": r["maximumRetryAttempts"]}
	}
	if d := s(in, "target", "deadLetterConfig", "arn"); d != "" {
		target["DeadLetterConfig"] = map[string]any{"Arn": d}
	}
	body := map[string]any{"ScheduleExpression": s(in, "scheduleExpression"), "FlexibleTimeWindow": window, "Target": target}
	for input, field := range map[string]string{"groupName": "GroupName", "scheduleExpressionTimezone": "ScheduleExpressionTimezone", "state": "State", "description": "Description"} {
		if v := s(in, input); v != "" {
			body[field] = v
		}
	}
	return body
}

// schedulerCall is one call of Scheduler's REST API on moto, signed as
// the SDK signs it (the module has no Scheduler client; the API is four
// JSON calls). A refusal comes back as the SDK's errors would: an API
// error inside an HTTP response error, so motoOutcome reads it.
func schedulerCall(c call, method, path string, body any) (map[string]any, error) {
	var payload []byte
	if body != nil {
		payload, _ = json.Marshal(body)
	}
	req, err := http.NewRequestWithContext(c.ctx, method, c.c.endpoint+path, bytes.NewReader(payload))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	sum := sha256.Sum256(payload)
	creds, err := c.c.credentials.Retrieve(c.ctx)
	if err != nil {
		return nil, err
	}
	if err := v4.NewSigner().SignHTTP(c.ctx, creds, req, hex.EncodeToString(sum[:]), "scheduler", c.region, time.Now()); err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	if resp.StatusCode < 300 {
		return out, nil
	}
	code := strings.TrimSpace(strings.Split(resp.Header.Get("X-Amzn-Errortype"), ":")[0])
	if t, ok := out["__type"].(string); ok && code == "" {
		code = t[strings.LastIndex(t, "#")+1:]
	}
	msg, _ := out["message"].(string)
	if msg == "" {
		msg, _ = out["Message"].(string)
	}
	return nil, &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: resp},
		Err: &smithy.GenericAPIError{Code: code, Message: msg + strings.TrimSpace(" "+string(raw[:min(len(raw), 200)]))}}
}

// zipOf is a deployment package holding one file.
func zipOf(file, content string) []byte {
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	f, _ := w.Create(file)
	_, _ = f.Write([]byte(content))
	_ = w.Close()
	return buf.Bytes()
}

func TestContract_TheQueueWorkerAsItIsCreatedUpdatedAndDeleted(t *testing.T) {
	endpoint := moto.Start(t)
	v := lifecycle(t, newClouds(t, endpoint, nil), workerProgram(), workerUpdates, "the worker's")
	v.write(t, "worker")
}

// workerRefusal is one input AWS refuses, made on both clouds after the
// worker's resources before it.
type workerRefusal struct {
	name string
	// resource names the program's resource the case changes.
	resource string
	op       op
	change   func(in map[string]any)
	// twice creates the resource as the program does first, then the
	// changed one under another URN (another stack's).
	twice bool
	// setup changes a resource the case's one depends on, in both clouds;
	// skip leaves resources out.
	setup map[string]func(in map[string]any)
	skip  []string
	// stricter is the AWS documentation that says the sandbox is right to
	// refuse what moto accepts.
	stricter string
	// awsCode is AWS's error code where moto refuses with another (the
	// sandbox answers AWS's, which the source quoted shows).
	awsCode, source string
	// motoFails is why moto fails the call without an AWS answer (a 500):
	// the sandbox alone answers, with the documentation's.
	motoFails string
}

func setTarget(key string, v any) func(map[string]any) {
	return func(in map[string]any) { obj(in["target"])[key] = v }
}

func redriveTo(dlq string, count int) func(map[string]any) {
	return set("redrivePolicy", fmt.Sprintf(`{"deadLetterTargetArn":"%s%s","maxReceiveCount":%d}`, sqsArn, dlq, count))
}

const (
	docCreateQueue = "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html"
	docDLQ         = "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html"
	docESM         = "https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html"
	docSQSConsumer = "https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html"
	docSchedule    = "https://docs.aws.amazon.com/scheduler/latest/APIReference/API_CreateSchedule.html"
)

var workerRefusals = []workerRefusal{
	// The queue.
	{name: "a visibility timeout over 12 hours", resource: "jobs", op: opCreate, change: set("visibilityTimeoutSeconds", 43201.0), stricter: docCreateQueue + " (VisibilityTimeout: 0 to 43,200)"},
	{name: "a retention under a minute", resource: "jobs", op: opCreate, change: set("messageRetentionSeconds", 59.0), stricter: docCreateQueue + " (MessageRetentionPeriod: 60 to 1,209,600)"},
	{name: "a delay over 15 minutes", resource: "jobs", op: opCreate, change: set("delaySeconds", 901.0), stricter: docCreateQueue + " (DelaySeconds: 0 to 900)"},
	{name: "a receive wait over 20 seconds", resource: "jobs", op: opCreate, change: set("receiveWaitTimeSeconds", 21.0), stricter: docCreateQueue + " (ReceiveMessageWaitTimeSeconds: 0 to 20)"},
	{name: "a message size under 1 KiB", resource: "jobs", op: opCreate, change: set("maxMessageSize", 1023.0)},
	{name: "a message size the provider does not allow yet", resource: "jobs", op: opCreate, change: set("maxMessageSize", 1048576.0), stricter: "pulumi-aws v6.83.4's Queue.maxMessageSize: \"An integer from 1024 bytes (1 KiB) up to 262144 bytes (256 KiB)\" (validated at plan time; SQS itself allows 1 MiB since 2025)"},
	{name: "content-based deduplication on a standard queue", resource: "jobs", op: opCreate, change: set("contentBasedDeduplication", true), stricter: "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/FIFO-queues-exactly-once-processing.html (FIFO queues only; the provider refuses it at plan time)"},
	{name: "both kinds of server-side encryption", resource: "jobs", op: opCreate, change: set("kmsMasterKeyId", "alias/aws/sqs"), stricter: "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-server-side-encryption.html (one server-side encryption option per queue)"},
	{name: "a redrive policy without maxReceiveCount", resource: "jobs", op: opCreate, change: set("redrivePolicy", `{"deadLetterTargetArn":"`+sqsArn+`jobs-dlq"}`)},
	{name: "a redrive policy with a count of 0", resource: "jobs", op: opCreate, change: redriveTo("jobs-dlq", 0), stricter: docDLQ + " (maxReceiveCount: 1 to 1,000)"},
	{name: "a dead-letter queue that does not exist", resource: "jobs", op: opCreate, change: redriveTo("nowhere", 5), awsCode: "InvalidParameterValue",
		source: "SQS answers InvalidParameterValue ... Reason: Dead letter target does not exist. (LocalStack, validated against AWS; moto answers AWS.SimpleQueueService.NonExistentQueue)"},
	{name: "a FIFO queue's standard dead-letter queue", resource: "jobs.fifo", op: opCreate, change: redriveTo("jobs-dlq", 5), awsCode: "InvalidParameterValue",
		source: "https://github.com/awslabs/aws-solutions-constructs/issues/342 (SQS: InvalidParameterValue ... Dead-letter queue must be same type of queue as the source..; moto answers InvalidParameterCombination)"},
	{name: "a standard queue's FIFO dead-letter queue", resource: "jobs", op: opCreate, change: redriveTo("jobs-dlq.fifo", 5), stricter: docDLQ + " (the dead-letter queue of a standard queue must also be a standard queue)"},
	{name: "a dead-letter queue that denies every source", resource: "jobs", op: opCreate, change: redriveTo("jobs-dlq", 5),
		setup:    map[string]func(map[string]any){"jobs-dlq": set("redriveAllowPolicy", `{"redrivePermission":"denyAll"}`)},
		stricter: "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-configure-dead-letter-queue-redrive.html (the dead-letter queue's redrive allow policy: denyAll lets no source queue use it)"},
	{name: "a redrive allow policy by queue without queues", resource: "jobs-dlq", op: opCreate, change: set("redriveAllowPolicy", `{"redrivePermission":"byQueue"}`),
		stricter: "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SetQueueAttributes.html (RedriveAllowPolicy: byQueue takes sourceQueueArns, up to 10)"},
	{name: "a queue name another stack holds, other attributes", resource: "jobs", op: opCreate, change: set("visibilityTimeoutSeconds", 60.0), twice: true},
	{name: "a queue name another stack holds, same attributes", resource: "jobs", op: opCreate, change: same, twice: true, stricter: docCreateQueue + " (the same name and attributes return the existing queue: two stacks would share it, and the first destroy deletes it for both)"},
	{name: "a redrive policy resource with a count of 1001", resource: "jobs-redrive", op: opCreate, change: redriveTo("jobs-dlq", 1001), stricter: docDLQ + " (maxReceiveCount: 1 to 1,000)"},
	// The mapping.
	{name: "a batch of 11 without a batching window", resource: "worker-jobs", op: opCreate, change: func(in map[string]any) { in["batchSize"] = 11.0; delete(in, "maximumBatchingWindowInSeconds") },
		stricter: docESM + " (when you set BatchSize to a value greater than 10, you must set MaximumBatchingWindowInSeconds to at least 1)"},
	{name: "a batch of 10,001", resource: "worker-jobs", op: opCreate, change: set("batchSize", 10001.0),
		motoFails: docESM + " (BatchSize: 1 to 10,000; moto raises a Python ValueError, \"BatchSize 10001 exceeds the max of 10000\", and answers 500)"},
	{name: "a batching window over 300 seconds", resource: "worker-jobs", op: opCreate, change: set("maximumBatchingWindowInSeconds", 301.0), stricter: docESM + " (MaximumBatchingWindowInSeconds: 0 to 300)"},
	{name: "a FIFO queue with a batching window", resource: "worker-fifo", op: opCreate, change: set("maximumBatchingWindowInSeconds", 1.0), stricter: docSQSConsumer + " (FIFO queues: no batching window, batches of at most 10)"},
	{name: "a maximum concurrency of 1", resource: "worker-jobs", op: opCreate, change: set("scalingConfig", map[string]any{"maximumConcurrency": 1.0}), stricter: "https://docs.aws.amazon.com/lambda/latest/api/API_ScalingConfig.html (MaximumConcurrency: 2 to 1,000)"},
	{name: "a queue that times out before the function", resource: "worker-jobs", op: opCreate, change: same, setup: map[string]func(map[string]any){"jobs": set("visibilityTimeoutSeconds", 20.0)},
		stricter: docSQSConsumer + " (the queue's visibility timeout must be at least the function's timeout; Lambda refuses the mapping otherwise)"},
	{name: "a role without the queue grant", resource: "worker-jobs", op: opCreate, change: same, skip: []string{"worker-sqs"},
		stricter: docSQSConsumer + " (the execution role needs sqs:ReceiveMessage, sqs:DeleteMessage and sqs:GetQueueAttributes)"},
	{name: "a second mapping of the queue and function", resource: "worker-jobs", op: opCreate, change: same, twice: true,
		stricter: "https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html (ResourceConflictException; moto's check looks up the literal key \"func.function_arn\" and never conflicts)"},
	{name: "a mapping of a function that does not exist", resource: "worker-jobs", op: opCreate, change: set("functionName", "tap-dev-nobody")},
	{name: "a mapping of a queue that does not exist", resource: "worker-jobs", op: opCreate, change: set("eventSourceArn", sqsArn+"nowhere")},
	// The schedule.
	{name: "a five-field cron", resource: "tick", op: opCreate, change: set("scheduleExpression", "cron(0/5 * * * *)"), stricter: "https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html#cron-based (six fields)"},
	{name: "a cron with both days", resource: "tick", op: opCreate, change: set("scheduleExpression", "cron(0 6 * * MON *)"), stricter: "https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html#cron-based (a ? in day-of-month or day-of-week)"},
	{name: "a rate in seconds", resource: "tick", op: opCreate, change: set("scheduleExpression", "rate(30 seconds)"), stricter: "https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html#rate-based (minutes, hours or days)"},
	{name: "a flexible window over a day", resource: "tick", op: opCreate, change: set("flexibleTimeWindow", map[string]any{"mode": "FLEXIBLE", "maximumWindowInMinutes": 1441.0}), stricter: "https://docs.aws.amazon.com/scheduler/latest/APIReference/API_FlexibleTimeWindow.html (MaximumWindowInMinutes: 1 to 1,440)"},
	{name: "a role Scheduler may not assume", resource: "tick", op: opCreate, change: setTarget("roleArn", "arn:aws:iam::"+motoAccount+":role/tap-dev-worker"),
		stricter: "https://github.com/aws/aws-sdk-js-v3/issues/6494 (ValidationException: The execution role you provide must allow AWS EventBridge Scheduler to assume the role.); " + "https://docs.aws.amazon.com/scheduler/latest/UserGuide/setting-up.html#setting-up-execution-role"},
	{name: "186 retries", resource: "tick", op: opCreate, change: setTarget("retryPolicy", map[string]any{"maximumRetryAttempts": 186.0}), stricter: "https://docs.aws.amazon.com/scheduler/latest/APIReference/API_RetryPolicy.html (MaximumRetryAttempts: 0 to 185)"},
	{name: "a schedule name another stack holds in the group", resource: "tick", op: opCreate, change: same, twice: true},
	{name: "a schedule in a group that does not exist", resource: "tick", op: opCreate, change: set("groupName", "nowhere"),
		motoFails: docSchedule + " (ResourceNotFoundException; moto's create_schedule looks the group up without a check and answers 500)"},
	{name: "a schedule group name another stack holds", resource: "tap-dev", op: opCreate, change: same, twice: true,
		stricter: "https://docs.aws.amazon.com/scheduler/latest/APIReference/API_CreateScheduleGroup.html (ConflictException; moto replaces the group)"},
}

func TestContract_WorkerInputsAWSRefuses(t *testing.T) {
	endpoint := moto.Start(t)
	program := workerProgram()
	v := &verdicts{rows: map[string]string{}}
	for _, c := range workerRefusals {
		t.Run(c.name, func(t *testing.T) {
			cl := newClouds(t, endpoint, nil)
			at := -1
			for i, r := range program {
				if r.Name == c.resource {
					at = i
				}
			}
			require.GreaterOrEqual(t, at, 0, "the worker has no %s", c.resource)
			upTo := at
			if c.twice {
				upTo = at + 1
			}
		setup:
			for _, r := range program[:upTo] {
				for _, skip := range c.skip {
					if r.Name == skip {
						continue setup
					}
				}
				in := r.Inputs
				if change, ok := c.setup[r.Name]; ok {
					in = copyMap(in)
					change(in)
				}
				sb, mt := cl.do(opCreate, r, in)
				require.True(t, sb.err == nil && mt.err == nil, "creating %s as the worker does: sandbox %v, moto %v", r.URN, sb.err, mt.err)
			}
			target := program[at]
			in := copyMap(target.Inputs)
			c.change(in)
			if c.twice {
				target.URN = strings.Replace(target.URN, "::worker::", "::other-stack::", 1)
				target.Name += "-again"
			}
			if c.motoFails != "" {
				// moto's 500 is this case's answer, not a call it lacks.
				key := target.Type + " " + string(c.op)
				motoMissing[key] = c.motoFails
				defer delete(motoMissing, key)
			}
			sb, mt := cl.do(c.op, target, in)
			var settled string
			switch {
			case c.motoFails != "":
				require.True(t, mt.missing, "%s: moto was expected to fail (%s) but answered %v", c.name, c.motoFails, mt)
				require.Error(t, sb.err, "%s: the sandbox must refuse it", c.name)
				settled = "moto fails (500), the sandbox answers as AWS documents: " + c.motoFails
			case c.awsCode != "":
				require.Error(t, mt.err, "%s: moto now accepts it", c.name)
				require.Error(t, sb.err, "%s: the sandbox accepts it", c.name)
				require.Contains(t, sb.code, c.awsCode+":", "%s: the sandbox must answer AWS's code", c.name)
				settled = "both refuse; the sandbox has AWS's code " + c.awsCode + ", moto another: " + c.source
			default:
				settled = agree(t, c.name, sb, mt, c.stricter)
				if sb.err == nil && mt.err == nil {
					t.Errorf("%s: AWS refuses it, but both accept it", c.name)
				}
			}
			typ := target.Type
			v.add(typ, c.op, c.name, shortCode(mt, true), shortCode(sb, false), settled)
		})
	}
	v.write(t, "worker-refusals")
}
