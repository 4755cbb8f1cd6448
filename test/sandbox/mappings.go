package sandbox

// What Lambda checks when an event source mapping from an SQS queue is
// created or updated, with Lambda's error texts.
// https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html
// https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html

import (
	"fmt"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/org/tap-deploy/internal/cloudsim"
)

const tEventSourceMapping = "aws:lambda/eventSourceMapping:EventSourceMapping"

// sqsConsumerActions are what Lambda's poller calls on the queue with the
// function's role, in the order Lambda checks them: "To process messages
// from the queue, Lambda needs sqs:ReceiveMessage, sqs:DeleteMessage and
// sqs:GetQueueAttributes" (services-sqs-configure.html, execution role).
var sqsConsumerActions = []string{"ReceiveMessage", "DeleteMessage", "GetQueueAttributes"}

// checkMapping is Lambda's CreateEventSourceMapping and
// UpdateEventSourceMapping checks for a queue source (other sources are
// left to their own rules).
func checkMapping(st *State, region, id string, in map[string]any) error {
	source, _ := in["eventSourceArn"].(string)
	if !strings.HasPrefix(source, "arn:aws:sqs:") {
		return nil
	}
	doing := "creating Lambda Event Source Mapping (" + source + ")"
	refuse := func(c codes.Code, format string, args ...any) error {
		return status.Errorf(c, "%s: %s", doing, fmt.Sprintf(format, args...))
	}
	// The model's ranges come back as ValidationException, in the form
	// AWS's model validation uses.
	// https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html (BatchSize, MaximumBatchingWindowInSeconds)
	// https://docs.aws.amazon.com/lambda/latest/api/API_ScalingConfig.html (MaximumConcurrency: 2 to 1000)
	for _, r := range []struct {
		path     []string
		field    string
		min, max int
	}{
		{[]string{"batchSize"}, "batchSize", 1, 10000},
		{[]string{"maximumBatchingWindowInSeconds"}, "maximumBatchingWindowInSeconds", 0, 300},
		{[]string{"scalingConfig", "maximumConcurrency"}, "scalingConfig.maximumConcurrency", 2, 1000},
	} {
		n, ok := number(get(in, r.path...))
		switch {
		case !ok:
		case n < r.min:
			return refuse(codes.InvalidArgument, "ValidationException: 1 validation error detected: Value '%d' at '%s' failed to satisfy constraint: Member must have value greater than or equal to %d", n, r.field, r.min)
		case n > r.max:
			return refuse(codes.InvalidArgument, "ValidationException: 1 validation error detected: Value '%d' at '%s' failed to satisfy constraint: Member must have value less than or equal to %d", n, r.field, r.max)
		}
	}

	queue, ok := findQueue(st, region, source)
	if !ok {
		// Lambda's text for a source that does not exist was not seen
		// verbatim; this is moto's (ResourceNotFoundException is in the
		// API's errors: "The resource specified in the request does not
		// exist").
		return refuse(codes.NotFound, "ResourceNotFoundException: Invalid EventSourceArn")
	}
	batch, set := number(in["batchSize"])
	if !set {
		batch = 10 // Lambda's default for a queue
	}
	window, _ := number(in["maximumBatchingWindowInSeconds"])
	// "For FIFO queues ... you can't use MaximumBatchingWindowInSeconds"
	// (so a FIFO queue's batch stays at most 10), as seen in
	// https://github.com/aws/aws-lambda-dotnet/pull/1758
	if isFIFO(queue) && window > 0 {
		return refuse(codes.InvalidArgument, "InvalidParameterValueException: Batching window is not supported for FIFO queues")
	}
	// "When you set BatchSize to a value greater than 10, you must set
	// MaximumBatchingWindowInSeconds to at least 1." (API_CreateEventSourceMapping.html);
	// text as in https://github.com/serverless/serverless/issues/8989
	if batch > 10 && window < 1 {
		return refuse(codes.InvalidArgument, "InvalidParameterValueException: Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10")
	}

	fnRef, _ := in["functionName"].(string)
	fnName, qualifier := mappedFunction(fnRef)
	fn, ok := st.Resources[keyIn(region, tFunction, fnName, nil)]
	if !ok || (qualifier != "" && !hasQualifier(st, region, fn, qualifier)) {
		return refuse(codes.NotFound, "ResourceNotFoundException: Function not found: %s", qualifiedArn(region, fnName, qualifier))
	}
	// "If your function's timeout is longer than the queue's visibility
	// timeout, Lambda refuses the mapping" (services-sqs-configure.html:
	// "set the source queue's visibility timeout to at least six times the
	// timeout that you configure on your function" is the advice; the
	// refusal is at less than one); text as seen in
	// https://github.com/github-aws-runners/terraform-aws-github-runner/issues/465
	visibility, set := number(queue.Inputs["visibilityTimeoutSeconds"])
	if !set {
		visibility = 30
	}
	timeout, set := number(fn.Inputs["timeout"])
	if !set {
		timeout = 3
	}
	if visibility < timeout {
		return refuse(codes.InvalidArgument, "InvalidParameterValueException: Queue visibility timeout: %d seconds is less than Function timeout: %d seconds", visibility, timeout)
	}
	// Lambda polls with the function's execution role and checks it may,
	// one action at a time; text as seen in
	// https://github.com/anomalyco/sst/issues/5737 (pulumi-aws 6.66.2).
	// The provider retries this error for 5 minutes before it reports it
	// (a grant created after the mapping in the same update gets there).
	roleArn, _ := fn.Inputs["role"].(string)
	role, found := findRole(st, roleArn)
	queueArn, _ := queue.Outputs["arn"].(string)
	for _, action := range sqsConsumerActions {
		if !found || !roleAllows(st, role, "sqs:"+action, queueArn) {
			return refuse(codes.InvalidArgument, "InvalidParameterValueException: The function execution role does not have permissions to call %s on SQS", action)
		}
	}
	// One mapping per queue and function; text (spaces inside the quotes
	// included) as seen in https://github.com/DataBiosphere/azul/issues/3399
	for _, r := range st.ByType(tEventSourceMapping) {
		if r.Region != region || r.ID == id || r.Inputs["eventSourceArn"] != source {
			continue
		}
		if n, q := mappedFunction(fmt.Sprint(r.Inputs["functionName"])); n == fnName && q == qualifier {
			return refuse(codes.AlreadyExists, "ResourceConflictException: An event source mapping with SQS arn (\" %s \") and function (\" %s \") already exists. Please update or delete the existing mapping with UUID %s", source, fnName, r.ID)
		}
	}
	return nil
}

// mappedFunction reads a mapping's FunctionName: a name, a name:qualifier,
// or a (qualified) ARN.
// https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html (FunctionName)
func mappedFunction(ref string) (string, string) {
	if !strings.HasPrefix(ref, "arn:") {
		name, qualifier, _ := strings.Cut(ref, ":")
		return name, qualifier
	}
	return functionRef(ref, "")
}

// hasQualifier is whether fn has the alias or published version q.
func hasQualifier(st *State, region string, fn Resource, q string) bool {
	if q == "$LATEST" || q == fmt.Sprint(fn.Outputs["version"]) {
		return true
	}
	for _, r := range st.ByType(tLambdaAlias) {
		if n, _ := functionRef(fmt.Sprint(r.Inputs["functionName"]), ""); r.Region == region && n == fn.ID && r.Inputs["name"] == q {
			return true
		}
	}
	return false
}

func qualifiedArn(region, name, qualifier string) string {
	arn := fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", region, cloudsim.Account, name)
	if qualifier != "" {
		arn += ":" + qualifier
	}
	return arn
}
