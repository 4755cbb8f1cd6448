package sandbox

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/structpb"
)

// workerResource is one resource of the queue worker, as the engine sends
// it to the provider.
type workerResource struct {
	typ, name string
	in        map[string]any
}

func workerURN(typ, name string) string { return "urn:pulumi:dev::worker::" + typ + "::" + name }

// The queue-worker program's resources, in the order their dependencies
// create them.
func workerProgram() []workerResource {
	lambdaTrust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	schedulerTrust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"scheduler.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	return []workerResource{
		{tRole, "worker", map[string]any{"name": "tap-dev-worker", "assumeRolePolicy": lambdaTrust}},
		{tRolePolicy, "worker-sqs", map[string]any{"role": "tap-dev-worker", "name": "sqs", "policy": consumerGrant}},
		{tQueue, "jobs-dlq", map[string]any{"name": "jobs-dlq", "messageRetentionSeconds": 1209600.0, "sqsManagedSseEnabled": true}},
		{tQueue, "jobs", map[string]any{"name": "jobs", "visibilityTimeoutSeconds": 180.0, "sqsManagedSseEnabled": true}},
		{tRedrivePolicy, "jobs", map[string]any{"queueUrl": "https://sqs.eu-west-1.amazonaws.com/123456789012/jobs",
			"redrivePolicy": `{"deadLetterTargetArn":"arn:aws:sqs:eu-west-1:123456789012:jobs-dlq","maxReceiveCount":5}`}},
		{tFunction, "worker", map[string]any{"name": "tap-dev-worker", "role": "arn:aws:iam::123456789012:role/tap-dev-worker", "timeout": 30.0, "publish": true, "runtime": "provided.al2023"}},
		{tLambdaAlias, "worker-live", map[string]any{"name": "live", "functionName": "tap-dev-worker", "functionVersion": "1"}},
		{tEventSourceMapping, "worker-jobs", map[string]any{"eventSourceArn": "arn:aws:sqs:eu-west-1:123456789012:jobs",
			"functionName": "arn:aws:lambda:eu-west-1:123456789012:function:tap-dev-worker:live", "batchSize": 10.0,
			"functionResponseTypes": []any{"ReportBatchItemFailures"}, "scalingConfig": map[string]any{"maximumConcurrency": 5.0}}},
		{tRole, "scheduler", map[string]any{"name": "tap-dev-scheduler", "assumeRolePolicy": schedulerTrust}},
		{tScheduleGroup, "tap-dev", map[string]any{"name": "tap-dev"}},
		{tSchedule, "tick", map[string]any{"name": "tap-dev-tick", "groupName": "tap-dev", "scheduleExpression": "rate(5 minutes)",
			"flexibleTimeWindow": map[string]any{"mode": "OFF"},
			"target": map[string]any{"arn": "arn:aws:lambda:eu-west-1:123456789012:function:tap-dev-worker:live", "roleArn": "arn:aws:iam::123456789012:role/tap-dev-scheduler",
				"input": `{"source":"schedule"}`}}},
	}
}

func newTestProvider(t *testing.T) *Provider {
	state := filepath.Join(t.TempDir(), "cloud.json")
	p := New(func(k string) string {
		if k == EnvState {
			return state
		}
		return ""
	})
	args, err := structpb.NewStruct(map[string]any{"region": "eu-west-1"})
	require.NoError(t, err)
	_, err = p.Configure(context.Background(), &pulumirpc.ConfigureRequest{Args: args})
	require.NoError(t, err)
	return p
}

func TestProvider_TheQueueWorkersTypes(t *testing.T) {
	ctx := context.Background()
	p := newTestProvider(t)
	type made struct {
		id  string
		in  *structpb.Struct
		out *structpb.Struct
	}
	live := map[string]made{}
	for _, r := range workerProgram() {
		in, err := structpb.NewStruct(r.in)
		require.NoError(t, err)
		resp, err := p.Create(ctx, &pulumirpc.CreateRequest{Urn: workerURN(r.typ, r.name), Type: r.typ, Properties: in})
		require.NoError(t, err, "creating %s %s", r.typ, r.name)
		live[r.typ+" "+r.name] = made{resp.GetId(), in, resp.GetProperties()}
	}
	out := func(key, prop string) any { return live[key].out.AsMap()[prop] }
	// The ids and computed outputs pulumi-aws v6.83.4 reports.
	assert.Equal(t, "https://sqs.eu-west-1.amazonaws.com/123456789012/jobs", live[tQueue+" jobs"].id)
	assert.Equal(t, "arn:aws:sqs:eu-west-1:123456789012:jobs", out(tQueue+" jobs", "arn"))
	assert.Equal(t, "https://sqs.eu-west-1.amazonaws.com/123456789012/jobs", out(tQueue+" jobs", "url"))
	assert.Equal(t, "https://sqs.eu-west-1.amazonaws.com/123456789012/jobs", live[tRedrivePolicy+" jobs"].id, "a redrive policy's id is its queue's URL")
	assert.Equal(t, "tap-dev/tap-dev-tick", live[tSchedule+" tick"].id, "a schedule's id is group/name")
	assert.Equal(t, "arn:aws:scheduler:eu-west-1:123456789012:schedule/tap-dev/tap-dev-tick", out(tSchedule+" tick", "arn"))
	assert.Equal(t, "arn:aws:scheduler:eu-west-1:123456789012:schedule-group/tap-dev", out(tScheduleGroup+" tap-dev", "arn"))
	assert.Equal(t, "ACTIVE", out(tScheduleGroup+" tap-dev", "state"))
	assert.NotEmpty(t, out(tEventSourceMapping+" worker-jobs", "uuid"))

	// Read finds each; an update that breaks a rule is refused as a
	// create is.
	for key, m := range live {
		typ, name, _ := strings.Cut(key, " ")
		read, err := p.Read(ctx, &pulumirpc.ReadRequest{Id: m.id, Urn: workerURN(typ, name), Type: typ, Properties: m.out})
		require.NoError(t, err)
		assert.Equal(t, m.id, read.GetId(), key)
	}
	m := live[tEventSourceMapping+" worker-jobs"]
	bad := m.in.AsMap()
	bad["batchSize"] = 11.0
	news, err := structpb.NewStruct(bad)
	require.NoError(t, err)
	_, err = p.Update(ctx, &pulumirpc.UpdateRequest{Id: m.id, Urn: workerURN(tEventSourceMapping, "worker-jobs"), Type: tEventSourceMapping, Olds: m.out, News: news, OldInputs: m.in})
	assert.ErrorContains(t, err, "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10")
	bad["maximumBatchingWindowInSeconds"] = 5.0
	news, err = structpb.NewStruct(bad)
	require.NoError(t, err)
	_, err = p.Update(ctx, &pulumirpc.UpdateRequest{Id: m.id, Urn: workerURN(tEventSourceMapping, "worker-jobs"), Type: tEventSourceMapping, Olds: m.out, News: news, OldInputs: m.in})
	assert.NoError(t, err, "an update is not a second mapping of the queue")

	// Another stack's queue and schedule of the same names are refused.
	for _, r := range []struct {
		workerResource
		err string
	}{
		{workerResource{tQueue, "jobs", map[string]any{"name": "jobs", "visibilityTimeoutSeconds": 180.0, "sqsManagedSseEnabled": true}}, "both stacks would own one queue"},
		{workerResource{tQueue, "jobs", map[string]any{"name": "jobs", "sqsManagedSseEnabled": true}}, "QueueAlreadyExists: A queue already exists with the same name and a different value for attribute VisibilityTimeout"},
		{workerResource{tSchedule, "tick", workerProgram()[10].in}, "ConflictException: Schedule tap-dev-tick already exists."},
		{workerResource{tScheduleGroup, "tap-dev", map[string]any{"name": "tap-dev"}}, "ConflictException: Schedule group tap-dev already exists."},
	} {
		in, err := structpb.NewStruct(r.in)
		require.NoError(t, err)
		_, err = p.Create(ctx, &pulumirpc.CreateRequest{Urn: "urn:pulumi:dev::other::" + r.typ + "::" + r.name, Type: r.typ, Properties: in})
		assert.ErrorContains(t, err, r.err, "%s of another stack", r.typ)
	}

	// Everything deletes, in reverse.
	program := workerProgram()
	for i := len(program) - 1; i >= 0; i-- {
		r := program[i]
		m := live[r.typ+" "+r.name]
		_, err := p.Delete(ctx, &pulumirpc.DeleteRequest{Id: m.id, Urn: workerURN(r.typ, r.name), Type: r.typ, Properties: m.out, OldInputs: m.in})
		require.NoError(t, err, "deleting %s %s", r.typ, r.name)
	}
	st, err := p.store.Load()
	require.NoError(t, err)
	assert.Empty(t, st.Resources)
}
