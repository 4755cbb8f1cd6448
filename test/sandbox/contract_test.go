package sandbox_test

// Contract tests: every provider operation the stack makes, made on the
// sandbox (through its provider's Create, Update and Delete, as the engine
// calls them) and on moto (through the AWS API calls the real provider
// makes, motocalls_test.go), with the stack's real inputs and with inputs
// AWS refuses. Where moto refuses, the sandbox must refuse with the same
// AWS error code; where the sandbox refuses what moto accepts, the case
// names the AWS documentation that says the sandbox is right; what moto
// does not implement is listed, with why, and the sandbox alone answers.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/org/tap-deploy/internal/awsfacts"
	"github.com/org/tap-deploy/internal/bootstrap"
	"github.com/org/tap-deploy/internal/cloudsim"
	"github.com/org/tap-deploy/internal/graph"
	"github.com/org/tap-deploy/internal/offline"
	"github.com/org/tap-deploy/stack"
	"github.com/org/tap-deploy/test/moto"
	"github.com/org/tap-deploy/test/sandbox"
	"github.com/org/tap-deploy/test/stacktest"
)

const (
	region      = "eu-west-1"
	motoAccount = moto.Account
)

// The resource types the stack creates.
const (
	tBucket             = "aws:s3/bucketV2:BucketV2"
	tPublicAccessBlock  = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
	tBucketPolicy       = "aws:s3/bucketPolicy:BucketPolicy"
	tOwnership          = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
	tVersioning         = "aws:s3/bucketVersioningV2:BucketVersioningV2"
	tEncryption         = "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"
	tLifecycle          = "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2"
	tNotification       = "aws:s3/bucketNotification:BucketNotification"
	tObject             = "aws:s3/bucketObjectv2:BucketObjectv2"
	tTable              = "aws:dynamodb/table:Table"
	tQueue              = "aws:sqs/queue:Queue"
	tKey                = "aws:kms/key:Key"
	tKMSAlias           = "aws:kms/alias:Alias"
	tTopic              = "aws:sns/topic:Topic"
	tTopicPolicy        = "aws:sns/topicPolicy:TopicPolicy"
	tSubscription       = "aws:sns/topicSubscription:TopicSubscription"
	tRole               = "aws:iam/role:Role"
	tRolePolicy         = "aws:iam/rolePolicy:RolePolicy"
	tAttachment         = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
	tLogGroup           = "aws:cloudwatch/logGroup:LogGroup"
	tMetricAlarm        = "aws:cloudwatch/metricAlarm:MetricAlarm"
	tFunction           = "aws:lambda/function:Function"
	tLambdaAlias        = "aws:lambda/alias:Alias"
	tPermission         = "aws:lambda/permission:Permission"
	tEventSourceMapping = "aws:lambda/eventSourceMapping:EventSourceMapping"
	tCodeDeployApp      = "aws:codedeploy/application:Application"
	tCodeDeployDG       = "aws:codedeploy/deploymentGroup:DeploymentGroup"
	tRestAPI            = "aws:apigateway/restApi:RestApi"
	tAPIResource        = "aws:apigateway/resource:Resource"
	tMethod             = "aws:apigateway/method:Method"
	tIntegration        = "aws:apigateway/integration:Integration"
	tDeployment         = "aws:apigateway/deployment:Deployment"
	tStage              = "aws:apigateway/stage:Stage"
	tMethodSettings     = "aws:apigateway/methodSettings:MethodSettings"
	tAPIAccount         = "aws:apigateway/account:Account"
)

// Operations, as the engine asks a provider for them.
type op string

const (
	opCreate op = "create"
	opUpdate op = "update"
	opDelete op = "delete"
)

// motoMissing are the operations moto 5.2.1 does not implement (it
// answers 404 or 500): the sandbox alone answers them, and a test fails
// when moto starts to, so the list stays true.
var motoMissing = map[string]string{
	tCodeDeployApp + " " + string(opUpdate): "moto's CodeDeploy has no UpdateApplication (moto/codedeploy/responses.py implements create, get, list and tags)",
	tCodeDeployApp + " " + string(opDelete): "moto's CodeDeploy has no DeleteApplication",
	tCodeDeployDG + " " + string(opUpdate):  "moto's CodeDeploy has no UpdateDeploymentGroup",
	tCodeDeployDG + " " + string(opDelete):  "moto's CodeDeploy has no DeleteDeploymentGroup",
	tAPIResource + " " + string(opUpdate):   "moto's API Gateway answers UpdateResource with 500",
	tMethod + " " + string(opUpdate):        "moto's API Gateway answers UpdateMethod with 500",
	tIntegration + " " + string(opUpdate):   "moto's API Gateway answers UpdateIntegration with 500",
	tDeployment + " " + string(opUpdate):    "moto's API Gateway answers UpdateDeployment with 500",
}

// updates change one input of each type the way a configuration change
// would, so the update is a real one; types missing here have no update
// (the provider replaces them). Where the update call sends what the
// create sent, the change is none: the call is what is checked.
var updates = map[string]func(in map[string]any){
	tBucket:            func(in map[string]any) { in["tags"] = map[string]any{"contract": "update"} },
	tPublicAccessBlock: func(map[string]any) {},
	tBucketPolicy:      func(map[string]any) {},
	tOwnership:         func(map[string]any) {},
	tVersioning:        func(map[string]any) {},
	tEncryption:        func(map[string]any) {},
	tLifecycle:         func(map[string]any) {},
	tNotification:      func(map[string]any) {},
	tObject:            func(in map[string]any) { in["contentType"] = "application/octet-stream" },
	tTable:             func(in map[string]any) { in["deletionProtectionEnabled"] = false },
	tQueue:             func(in map[string]any) { in["messageRetentionSeconds"] = 345600.0 },
	tKey:               func(in map[string]any) { in["description"] = fmt.Sprint(in["description"]) + " (updated)" },
	tKMSAlias:          func(map[string]any) {},
	tTopic:             func(map[string]any) {},
	tTopicPolicy:       func(map[string]any) {},
	tRole:              func(in map[string]any) { in["description"] = fmt.Sprint(in["description"]) + " (updated)" },
	tRolePolicy:        func(map[string]any) {},
	tLogGroup:          func(in map[string]any) { in["retentionInDays"] = 30.0 },
	tMetricAlarm:       func(in map[string]any) { in["alarmDescription"] = fmt.Sprint(in["alarmDescription"]) + " (updated)" },
	tFunction:          func(in map[string]any) { in["memorySize"] = 512.0 },
	tLambdaAlias:       func(in map[string]any) { in["description"] = "updated" },
	tEventSourceMapping: func(in map[string]any) {
		in["batchSize"] = 50.0
	},
	tCodeDeployApp:  func(map[string]any) {},
	tCodeDeployDG:   func(map[string]any) {},
	tRestAPI:        func(in map[string]any) { in["description"] = "updated" },
	tAPIResource:    func(map[string]any) {},
	tMethod:         func(map[string]any) {},
	tIntegration:    func(map[string]any) {},
	tDeployment:     func(in map[string]any) { in["description"] = "updated" },
	tStage:          func(map[string]any) {},
	tMethodSettings: func(map[string]any) {},
	tAPIAccount:     func(map[string]any) {},
}

// stackGraph is the stack as a deploy creates it, with every optional
// feature on (an alarm e-mail, reserved concurrency, the API Gateway
// account setting) and code uploaded from local files: the widest set of
// resource types and inputs.
func stackGraph(t *testing.T) []graph.Resource {
	t.Helper()
	cfg := stacktest.Config(t, map[string]string{"alarmEmail": "alerts@example.com", "reservedConcurrency": "1", "manageApiGatewayAccount": "true"})
	g, err := offline.Collect(stack.Program(cfg, stacktest.Packages(t, "contract")), cfg.Project, "dev", region)
	require.NoError(t, err)
	var out []graph.Resource
	for _, r := range g.Resources {
		if r.Custom && !strings.HasPrefix(r.Type, "pulumi:providers:") {
			out = append(out, r)
		}
	}
	return out
}

func providerTags(t *testing.T) map[string]any {
	cfg := stacktest.Config(t, nil)
	g, err := offline.Collect(stack.Program(cfg, stacktest.Packages(t, "tags")), cfg.Project, "dev", region)
	require.NoError(t, err)
	for _, r := range g.Resources {
		// The tagging provider (the untagged one beside it has none).
		if strings.HasPrefix(r.Type, "pulumi:providers:aws") && r.Name == "aws" {
			tags, _ := dig(r.Inputs, "defaultTags", "tags").(map[string]any)
			return tags
		}
	}
	t.Fatal("the stack has no aws provider")
	return nil
}

// outcome is how one cloud answered one operation.
type outcome struct {
	err error
	// code is AWS's error code (moto) or the sandbox's error text.
	code string
	// missing is moto answering an operation it does not implement.
	missing bool
}

func (o outcome) String() string {
	switch {
	case o.missing:
		return "not implemented"
	case o.err == nil:
		return "accepted"
	}
	return "refused " + o.code
}

// live is one resource both clouds hold.
type live struct {
	sbID      string
	sbIn      *structpb.Struct
	sbOut     *structpb.Struct
	motoOut   map[string]string
	motoPlain map[string]any
}

// clouds is the sandbox and moto side by side, holding the same resources.
type clouds struct {
	t        *testing.T
	ctx      context.Context
	provider *sandbox.Provider
	store    sandbox.Store
	endpoint string
	moto     motoClients
	tags     map[string]any
	live     map[string]*live
	// swap turns the sandbox's ids and ARNs into moto's, which it makes up
	// differently (API Gateway ids, KMS key ids, stream labels).
	swap map[string]string
}

func newClouds(t *testing.T, endpoint string, tags map[string]any) *clouds {
	t.Helper()
	moto.Reset(t, endpoint)
	state := filepath.Join(t.TempDir(), "cloud.json")
	p := sandbox.New(func(k string) string {
		if k == sandbox.EnvState {
			return state
		}
		return ""
	})
	args, err := structpb.NewStruct(map[string]any{"region": region})
	require.NoError(t, err)
	_, err = p.Configure(context.Background(), &pulumirpc.ConfigureRequest{Args: args})
	require.NoError(t, err)
	c := &clouds{t: t, ctx: moto.Context(t), provider: p, store: sandbox.Store{Path: state}, endpoint: endpoint,
		moto: newMotoClients(moto.Config(endpoint, region)), tags: tags, live: map[string]*live{}, swap: map[string]string{}}
	c.bootstrapped()
	return c
}

// bootstrapped gives both clouds what tap-deploy bootstrap's templates
// create before any stack: the environments' permissions boundaries (a
// role's boundary must exist) and deploy roles (a key policy's principals
// must exist), as the sandbox's Bootstrap and as real IAM entities in moto.
func (c *clouds) bootstrapped() {
	c.t.Helper()
	require.NoError(c.t, c.store.Bootstrap(region))
	boundary := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::` + moto.Account + `:oidc-provider/token.actions.githubusercontent.com"},"Action":"sts:AssumeRoleWithWebIdentity"}]}`
	for _, env := range []string{"dev"} {
		b := stack.Base{Project: "tap", Environment: env, Region: region}
		for _, name := range []string{stack.BoundaryName(b), stack.ReviewBoundaryName(b)} {
			_, err := c.moto.iam.CreatePolicy(c.ctx, &iam.CreatePolicyInput{PolicyName: aws.String(name), PolicyDocument: aws.String(boundary)})
			require.NoError(c.t, createdOnce(err), name)
		}
		_, err := c.moto.iam.CreateRole(c.ctx, &iam.CreateRoleInput{RoleName: aws.String(stack.DeployRoleName(b)), AssumeRolePolicyDocument: aws.String(trust)})
		require.NoError(c.t, createdOnce(err))
	}
}

// createdOnce takes EntityAlreadyExists from a setup create, on a moto
// just reset, as the create done: the moto clients retry a dropped
// connection, and under load the first attempt can land with its answer
// lost (seen: CreateRole's retry answered 409).
func createdOnce(err error) error {
	var exists *iamtypes.EntityAlreadyExistsException
	if errors.As(err, &exists) {
		return nil
	}
	return err
}

func marshal(t *testing.T, in map[string]any) *structpb.Struct {
	t.Helper()
	pb, err := plugin.MarshalProperties(resource.NewPropertyMapFromMap(in), plugin.MarshalOptions{KeepUnknowns: true, SkipNulls: true})
	require.NoError(t, err)
	return pb
}

// swapped is v with the sandbox's ids replaced by moto's, longest first.
func (cl *clouds) swapped(v any) any {
	switch t := v.(type) {
	case string:
		keys := make([]string, 0, len(cl.swap))
		for k := range cl.swap {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return len(keys[i]) > len(keys[j]) })
		for _, k := range keys {
			t = strings.ReplaceAll(t, k, cl.swap[k])
		}
		return t
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[k] = cl.swapped(x)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = cl.swapped(x)
		}
		return out
	}
	return v
}

// do makes one operation on both clouds and returns how each answered.
func (cl *clouds) do(o op, r graph.Resource, in map[string]any) (sb, mt outcome) {
	t := cl.t
	t.Helper()
	fns, ok := motoCalls[r.Type]
	require.True(t, ok, "no moto calls for %s", r.Type)
	pb := marshal(t, in)
	plain := pb.AsMap()
	l := cl.live[r.URN]
	if o != opCreate {
		require.NotNil(t, l, "%s %s before it was created", o, r.URN)
	}

	var sbOut *structpb.Struct
	var sbID string
	var err error
	switch o {
	case opCreate:
		var resp *pulumirpc.CreateResponse
		resp, err = cl.provider.Create(cl.ctx, &pulumirpc.CreateRequest{Urn: r.URN, Type: r.Type, Properties: pb})
		if err == nil {
			sbID, sbOut = resp.GetId(), resp.GetProperties()
		}
	case opUpdate:
		var resp *pulumirpc.UpdateResponse
		resp, err = cl.provider.Update(cl.ctx, &pulumirpc.UpdateRequest{Id: l.sbID, Urn: r.URN, Type: r.Type, Olds: l.sbOut, News: pb, OldInputs: l.sbIn})
		if err == nil {
			sbID, sbOut = l.sbID, resp.GetProperties()
		}
	case opDelete:
		_, err = cl.provider.Delete(cl.ctx, &pulumirpc.DeleteRequest{Id: l.sbID, Urn: r.URN, Type: r.Type, Properties: l.sbOut, OldInputs: l.sbIn})
	}
	sb = outcome{err: err}
	if err != nil {
		sb.code = err.Error()
	}

	fn := map[op]func(call) (map[string]string, error){opCreate: fns.create, opUpdate: fns.update, opDelete: fns.delete}[o]
	require.NotNil(t, fn, "the provider has no %s for %s", o, r.Type)
	c := call{ctx: cl.ctx, c: cl.moto, region: region, in: cl.swapped(plain).(map[string]any), tags: map[string]string{}}
	if l != nil {
		c.out = l.motoOut
	}
	if awsfacts.Of(r.Type).Taggable {
		// The default tags of the resource's provider: none from the
		// untagged one (keys, mappings), the stack's from the other.
		defaults := cl.tags
		if strings.Contains(r.Provider, "::aws-untagged::") {
			defaults = nil
		}
		c.tags = strMap(cloudsim.TagsAll(plain, defaults))
	}
	motoOut, err := fn(c)
	mt = motoOutcome(err)
	_, listed := motoMissing[r.Type+" "+string(o)]
	switch {
	case listed && mt.err != nil && mt.missing:
	case listed:
		t.Errorf("%s %s is listed as not implemented by moto, but moto answered %v: take it off motoMissing", o, r.Type, mt)
	case mt.missing:
		t.Errorf("moto does not implement %s %s (%v): list it in motoMissing with the reason, or fix the call", o, r.Type, mt.err)
	}

	if o == opDelete {
		if sb.err == nil && (mt.err == nil || mt.missing) {
			delete(cl.live, r.URN)
		}
		return sb, mt
	}
	if sb.err != nil || (mt.err != nil && !mt.missing) {
		return sb, mt
	}
	if l == nil {
		l = &live{motoOut: map[string]string{}}
		cl.live[r.URN] = l
	}
	l.sbID, l.sbOut, l.sbIn = sbID, sbOut, pb
	for k, v := range motoOut {
		l.motoOut[k] = v
	}
	// What moto made up differently stands in for what the sandbox made
	// up, in every later call.
	outs := sbOut.AsMap()
	for k, v := range l.motoOut {
		was, _ := outs[k].(string)
		if k == "id" {
			was = sbID
		}
		if was != "" && v != "" && was != v && len(was) >= 4 {
			cl.swap[was] = v
		}
	}
	return sb, mt
}

// motoOutcome reads moto's answer: AWS's error code, or an operation moto
// does not implement (404 or 5xx without an AWS error code).
func motoOutcome(err error) outcome {
	if err == nil {
		return outcome{}
	}
	o := outcome{err: err, code: "(no code)"}
	var api smithy.APIError
	if errors.As(err, &api) {
		o.code = api.ErrorCode()
	}
	var resp *smithyhttp.ResponseError
	if errors.As(err, &resp) {
		status := resp.HTTPStatusCode()
		o.missing = status >= 500 || (status == 404 && !strings.Contains(o.code, "NotFound") && !strings.HasSuffix(o.code, "Exception") && !strings.HasPrefix(o.code, "NoSuch"))
	}
	return o
}

// agree checks that the sandbox answered as moto did, and says how the
// two compared for the table.
func agree(t *testing.T, what string, sb, mt outcome, stricter string) string {
	t.Helper()
	switch {
	case mt.missing:
		if sb.err != nil {
			t.Errorf("%s: moto does not implement it and the sandbox refuses it: %v", what, sb.err)
		}
		return "moto does not implement it: the sandbox alone"
	case mt.err == nil && sb.err == nil:
		if stricter != "" {
			t.Errorf("%s: the case says the sandbox is stricter than moto (%s), but both accept it", what, stricter)
		}
		return "agree"
	case mt.err != nil && sb.err == nil:
		t.Errorf("%s: moto refuses it (%s: %v) and the sandbox accepts it: the sandbox must be at least as strict", what, mt.code, mt.err)
		return "DISAGREE"
	case mt.err == nil && sb.err != nil:
		if stricter == "" {
			t.Errorf("%s: the sandbox refuses what moto accepts (%v): name the AWS documentation that says the sandbox is right, or fix it", what, sb.err)
			return "DISAGREE"
		}
		return "sandbox stricter, as AWS documents: " + stricter
	}
	if !strings.Contains(sb.code, mt.code+":") {
		t.Errorf("%s: both refuse it, but the sandbox does not say AWS's error code %s: %v", what, mt.code, sb.err)
		return "DISAGREE"
	}
	return "agree"
}

// verdicts collects the table of the closing note.
type verdicts struct {
	rows map[string]string
}

func (v *verdicts) add(typ string, o op, what, motoSaid, sandboxSaid, settled string) {
	key := fmt.Sprintf("| `%s` | %s | %s | %s | %s | %s |", typ, o, what, motoSaid, sandboxSaid, settled)
	v.rows[key] = key
}

func (v *verdicts) write(t *testing.T, title string) {
	rows := make([]string, 0, len(v.rows))
	for r := range v.rows {
		rows = append(rows, r)
	}
	sort.Strings(rows)
	table := "| type | operation | inputs | moto | sandbox | settled |\n|---|---|---|---|---|---|\n" + strings.Join(rows, "\n") + "\n"
	t.Logf("%s\n%s", title, table)
	if dir := os.Getenv("TAP_CONTRACT_TABLE_DIR"); dir != "" {
		require.NoError(t, os.WriteFile(filepath.Join(dir, title+".md"), []byte(table), 0o644))
	}
}

// awsCode finds AWS's error code in the sandbox's error text: the first
// CamelCase word of two or more parts before a colon.
var awsCode = regexp.MustCompile(`\b([A-Z][a-z]+(?:[A-Z][a-z]*)+):`)

// shortCode is an outcome for the table: the AWS code, not the message.
func shortCode(o outcome, motoSide bool) string {
	if o.err == nil || o.missing || motoSide {
		return o.String()
	}
	if m := awsCode.FindStringSubmatch(o.code); m != nil {
		return "refused " + m[1]
	}
	return "refused"
}

func TestContract_TheStackAsItIsCreatedUpdatedAndDeleted(t *testing.T) {
	endpoint := moto.Start(t)
	resources := stackGraph(t)
	cl := newClouds(t, endpoint, providerTags(t))
	v := lifecycle(t, cl, resources, updates, "the stack's")
	v.write(t, "stack")

	covered := map[string]bool{}
	for _, r := range resources {
		covered[r.Type] = true
	}
	for typ := range bootstrap.Table {
		if _, ok := motoCalls[typ]; !ok && covered[typ] {
			t.Errorf("%s is created by the stack but has no moto calls", typ)
		}
	}
	for typ := range motoCalls {
		if !covered[typ] && !workerOnly[typ] {
			t.Errorf("%s has moto calls but the stack no longer creates it", typ)
		}
	}
}

// lifecycle creates resources on both clouds, changes those of a type
// updates has a change for, and deletes them in reverse order, as the
// engine does (never what it retains: the deployment packages, so a
// rollback finds them), recording each verdict as whose.
func lifecycle(t *testing.T, cl *clouds, resources []graph.Resource, updates map[string]func(in map[string]any), whose string) *verdicts {
	t.Helper()
	v := &verdicts{rows: map[string]string{}}
	record := func(o op, r graph.Resource, sb, mt outcome) {
		settled := agree(t, fmt.Sprintf("%s %s (%s)", o, r.Name, r.Type), sb, mt, "")
		v.add(r.Type, o, whose, shortCode(mt, true), shortCode(sb, false), settled)
	}
	for _, r := range resources {
		sb, mt := cl.do(opCreate, r, r.Inputs)
		record(opCreate, r, sb, mt)
		require.False(t, sb.err != nil && mt.err != nil, "create %s failed on both: %v / %v", r.URN, sb.err, mt.err)
	}
	for _, r := range resources {
		change, ok := updates[r.Type]
		if !ok || cl.live[r.URN] == nil {
			continue
		}
		in := copyMap(r.Inputs)
		change(in)
		sb, mt := cl.do(opUpdate, r, in)
		record(opUpdate, r, sb, mt)
	}
	for i := len(resources) - 1; i >= 0; i-- {
		r := resources[i]
		if r.Retain || cl.live[r.URN] == nil {
			continue // retained, or its create failed and said so
		}
		sb, mt := cl.do(opDelete, r, r.Inputs)
		record(opDelete, r, sb, mt)
	}
	return v
}

func copyMap(m map[string]any) map[string]any {
	b, _ := json.Marshal(m)
	var out map[string]any
	if json.Unmarshal(b, &out) != nil {
		// Assets do not round-trip through JSON; keep them as they are.
		out = map[string]any{}
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// refusal is one input AWS refuses, made on both clouds after the
// resources the stack creates before it.
type refusal struct {
	name string
	// typ and resource name the stack's resource the case changes.
	typ, resource string
	op            op
	change        func(in map[string]any)
	// twice creates the resource as the stack does first, then the
	// changed one under another URN: a name already taken.
	twice bool
	// before sets up both clouds further (another account's bucket).
	before func(t *testing.T, cl *clouds, in map[string]any)
	// stricter is the AWS documentation that says the sandbox is right to
	// refuse what moto accepts.
	stricter string
}

func set(key string, v any) func(map[string]any) {
	return func(in map[string]any) { in[key] = v }
}

func same(map[string]any) {}

var refusals = []refusal{
	{name: "a bucket name with capitals", typ: tBucket, resource: "files", op: opCreate, change: set("bucket", "Tap-Dev-Files-123456789012-eu-west-1"), stricter: "https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html (only lowercase letters, numbers, dots and hyphens)"},
	{name: "a bucket name of 64 characters", typ: tBucket, resource: "files", op: opCreate, change: set("bucket", strings.Repeat("a", 64))},
	{name: "a bucket name another account holds", typ: tBucket, resource: "files", op: opCreate, change: same, before: otherAccountsBucket},
	{name: "a bucket name this account holds", typ: tBucket, resource: "files", op: opCreate, change: same, twice: true},
	{name: "a bucket policy that is not JSON", typ: tBucketPolicy, resource: "files", op: opCreate, change: set("policy", `{"Version":"2012-10-17","Statement":[`), stricter: "https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html (MalformedPolicy: the policy is not valid JSON)"},
	{name: "a bucket that still holds objects", typ: tBucket, resource: "artifacts", op: opDelete, change: same},
	{name: "a role name of 65 characters", typ: tRole, resource: "api-handler", op: opCreate, change: set("name", strings.Repeat("r", 65)), stricter: "https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html (RoleName: maximum length of 64)"},
	{name: "a trust policy that is not JSON", typ: tRole, resource: "api-handler", op: opCreate, change: set("assumeRolePolicy", `{"Statement":`), stricter: "https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html (MalformedPolicyDocument)"},
	{name: "a role name this account holds", typ: tRole, resource: "api-handler", op: opCreate, change: same, twice: true},
	{name: "a role policy that is not JSON", typ: tRolePolicy, resource: "api-handler", op: opCreate, change: set("policy", `not a policy`)},
	{name: "a function with 64 MB of memory", typ: tFunction, resource: "api-handler", op: opCreate, change: set("memorySize", 64.0), stricter: "https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html (MemorySize: minimum value of 128)"},
	{name: "a function that runs 901 seconds", typ: tFunction, resource: "api-handler", op: opCreate, change: set("timeout", 901.0), stricter: "https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html (Timeout: maximum 900 seconds)"},
	{name: "a runtime Lambda does not have", typ: tFunction, resource: "api-handler", op: opCreate, change: set("runtime", "provided.al2099"), stricter: "https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html (Runtime: valid values)"},
	{name: "a function name this account holds", typ: tFunction, resource: "api-handler", op: opCreate, change: same, twice: true},
	{name: "a reservation the account cannot spare", typ: tFunction, resource: "file-processor", op: opCreate, change: set("reservedConcurrentExecutions", 950.0), stricter: "https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html (you can reserve up to the unreserved account concurrency minus 100)"},
	{name: "an alias on a version that does not exist", typ: tLambdaAlias, resource: "api-handler-live", op: opCreate, change: set("functionVersion", "7")},
	{name: "a table name this account holds", typ: tTable, resource: "items", op: opCreate, change: same, twice: true},
	{name: "a table keyed on an attribute it does not define", typ: tTable, resource: "items", op: opCreate, change: set("hashKey", "pk")},
	{name: "a table protected against deletion", typ: tTable, resource: "items", op: opDelete, change: same},
	{name: "a log group name this account holds", typ: tLogGroup, resource: "api-handler", op: opCreate, change: same, twice: true},
	{name: "a retention CloudWatch Logs does not offer", typ: tLogGroup, resource: "api-handler", op: opCreate, change: set("retentionInDays", 15.0), stricter: "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html (retentionInDays: possible values)"},
	{name: "a queue name with dots", typ: tQueue, resource: "dlq", op: opCreate, change: set("name", "tap.dev.dlq")},
	{name: "a standard queue named .fifo", typ: tQueue, resource: "dlq", op: opCreate, change: set("name", "tap-dev-dlq.fifo"), stricter: "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html (QueueName: alphanumeric characters, hyphens and underscores; only a FIFO queue name ends with .fifo; SQS answers InvalidParameterValue, as quoted in https://github.com/boto/botocore/issues/3058)"},
	{name: "a FIFO queue without .fifo", typ: tQueue, resource: "dlq", op: opCreate, change: func(in map[string]any) { in["fifoQueue"] = true }},
	{name: "a FIFO queue name of 81 characters with .fifo", typ: tQueue, resource: "dlq", op: opCreate, change: func(in map[string]any) { in["fifoQueue"] = true; in["name"] = strings.Repeat("q", 76) + ".fifo" }},
	{name: "a topic name with spaces", typ: tTopic, resource: "alerts", op: opCreate, change: set("name", "tap dev alerts")},
	{name: "a KMS alias without alias/", typ: tKMSAlias, resource: "alerts", op: opCreate, change: set("name", "tap-dev-alerts")},
	{name: "a KMS alias in AWS's own alias/aws/", typ: tKMSAlias, resource: "alerts", op: opCreate, change: set("name", "alias/aws/tap-dev-alerts"), stricter: "https://docs.aws.amazon.com/kms/latest/developerguide/alias-create.html (the alias/aws/ prefix is reserved for AWS managed keys)"},
	{name: "a KMS alias this account holds", typ: tKMSAlias, resource: "alerts", op: opCreate, change: same, twice: true},
	{name: "a CodeDeploy application name this account holds", typ: tCodeDeployApp, resource: "traffic", op: opCreate, change: same, twice: true},
	{name: "a deployment group of an application that does not exist", typ: tCodeDeployDG, resource: "api-handler", op: opCreate, change: set("appName", "tap-dev-nowhere")},
}

// otherAccountsBucket has another account hold the bucket's name: in moto
// through a role of account 111111111111 (moto answers for the account
// of the credentials), in the sandbox as a name taken elsewhere.
func otherAccountsBucket(t *testing.T, cl *clouds, in map[string]any) {
	name := fmt.Sprint(in["bucket"])
	assumed := stscreds.NewAssumeRoleProvider(cl.moto.sts, "arn:aws:iam::111111111111:role/elsewhere")
	cfg := moto.Config(cl.endpoint, region)
	cfg.Credentials = aws.NewCredentialsCache(assumed)
	other := newMotoClients(cfg)
	_, err := other.s3.CreateBucket(cl.ctx, &s3.CreateBucketInput{Bucket: aws.String(name), CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(region)}})
	require.NoError(t, err)
	require.NoError(t, cl.store.Update(func(st *sandbox.State) error {
		st.Taken = map[string][]string{tBucket: {name}}
		return nil
	}))
}

func TestContract_InputsAWSRefuses(t *testing.T) {
	endpoint := moto.Start(t)
	resources := stackGraph(t)
	tags := providerTags(t)
	v := &verdicts{rows: map[string]string{}}
	for _, c := range refusals {
		t.Run(c.name, func(t *testing.T) {
			cl := newClouds(t, endpoint, tags)
			at := -1
			for i, r := range resources {
				if r.Type == c.typ && r.Name == c.resource {
					at = i
				}
			}
			require.GreaterOrEqual(t, at, 0, "the stack has no %s %s", c.typ, c.resource)
			upTo := at
			switch {
			case c.op == opDelete:
				upTo = len(resources) // what the resource holds, too
			case c.twice:
				upTo = at + 1
			}
			for _, r := range resources[:upTo] {
				sb, mt := cl.do(opCreate, r, r.Inputs)
				require.True(t, sb.err == nil && mt.err == nil, "creating %s as the stack does: sandbox %v, moto %v", r.URN, sb.err, mt.err)
			}
			target := resources[at]
			in := copyMap(target.Inputs)
			c.change(in)
			if c.before != nil {
				c.before(t, cl, in)
			}
			if c.twice {
				target.URN += "-again"
				target.Name += "-again"
			}
			sb, mt := cl.do(c.op, target, in)
			settled := agree(t, c.name, sb, mt, c.stricter)
			if sb.err == nil && mt.err == nil {
				t.Errorf("%s: AWS refuses it, but both accept it", c.name)
			}
			v.add(c.typ, c.op, c.name, shortCode(mt, true), shortCode(sb, false), settled)
		})
	}
	v.write(t, "refusals")
}

// The stack reads the account from sts:GetCallerIdentity (the provider's
// aws:index/getCallerIdentity invoke); the sandbox answers it from the
// simulated cloud. Its answer must have the shape of STS's.
func TestContract_CallerIdentity(t *testing.T) {
	endpoint := moto.Start(t)
	got, err := newMotoClients(moto.Config(endpoint, region)).sts.GetCallerIdentity(moto.Context(t), &sts.GetCallerIdentityInput{})
	require.NoError(t, err)
	sb, err := cloudsim.Invoke("aws:index/getCallerIdentity:getCallerIdentity", region, map[string]any{})
	require.NoError(t, err)

	assert.Equal(t, aws.ToString(got.Account), sb["accountId"], "the account ARNs are built from")
	stsARN := regexp.MustCompile(`^arn:aws:sts::(\d{12}):(user|assumed-role)/.+$`)
	for side, arn := range map[string]string{"moto": aws.ToString(got.Arn), "sandbox": fmt.Sprint(sb["arn"])} {
		m := stsARN.FindStringSubmatch(arn)
		require.NotNil(t, m, "%s: %s is not an STS caller ARN", side, arn)
		assert.Equal(t, aws.ToString(got.Account), m[1], "%s: the ARN's account", side)
	}
	assert.NotEmpty(t, aws.ToString(got.UserId))
	assert.NotEmpty(t, sb["userId"])
}
