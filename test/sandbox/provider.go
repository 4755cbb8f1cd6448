// Package sandbox is a stand-in for AWS: a Pulumi resource provider plugin
// named "aws" (version 6.83.4) that keeps every resource in a JSON file. The
// real Pulumi engine previews, creates, updates, refreshes and deletes the
// real stack through it, with no AWS account. It exists for tests and local
// demos only; real runs use the real pulumi-resource-aws plugin.
package sandbox

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/org/tap-deploy/internal/cloudsim"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// Version is the pulumi-aws version the sandbox answers for; it must equal
// the pulumi-aws SDK in go.mod, or the engine will look for another plugin.
const Version = "6.83.4"

// Environment variables that steer the sandbox.
const (
	// EnvState is the JSON file holding the cloud (default:
	// $PULUMI_HOME/sandbox-cloud.json).
	EnvState = "TAP_SANDBOX_STATE"
	// EnvFailCreate, EnvFailUpdate and EnvFailDelete hold a regular
	// expression; an operation on a matching URN fails as AWS would.
	EnvFailCreate = "TAP_SANDBOX_FAIL_CREATE"
	EnvFailUpdate = "TAP_SANDBOX_FAIL_UPDATE"
	EnvFailDelete = "TAP_SANDBOX_FAIL_DELETE"
	// EnvFailCheck fails the input check of matching URNs, in previews
	// too, as a provider rejecting its inputs or its credentials does.
	EnvFailCheck = "TAP_SANDBOX_FAIL_CHECK"
	// EnvDelay slows every create/update/delete (a Go duration), so tests
	// can cancel an update while it runs.
	EnvDelay = "TAP_SANDBOX_DELAY"
	// EnvDelayOnly (a regular expression on URNs) limits EnvDelay to the
	// matching resources, so a test can make one kind slow and see what
	// does not wait for it.
	EnvDelayOnly = "TAP_SANDBOX_DELAY_ONLY"
	// EnvDiffDelay slows every diff (a Go duration): a preview takes
	// longer, so a test can land another update in the middle of it.
	EnvDiffDelay = "TAP_SANDBOX_DIFF_DELAY"
	// EnvEcho names environment variables (comma-separated) whose values
	// every injected failure quotes, as an AWS error quoting the
	// credentials it was given does.
	EnvEcho = "TAP_SANDBOX_ECHO_ENV"
)

// StatePath is where the sandbox keeps its cloud for the given environment.
func StatePath(getenv func(string) string) string {
	if p := getenv(EnvState); p != "" {
		return p
	}
	home := getenv("PULUMI_HOME")
	if home == "" {
		if h, err := os.UserHomeDir(); err == nil {
			home = filepath.Join(h, ".pulumi")
		}
	}
	return filepath.Join(home, "sandbox-cloud.json")
}

// Main runs the provider plugin; the engine starts it as a subprocess.
func Main() error {
	return provider.Main("aws", func(*provider.HostClient) (pulumirpc.ResourceProviderServer, error) {
		return New(os.Getenv), nil
	})
}

// Provider implements the resource provider protocol over a Store.
type Provider struct {
	pulumirpc.UnimplementedResourceProviderServer

	store       Store
	region      string
	defaultTags map[string]any
	failCreate  *regexp.Regexp
	failUpdate  *regexp.Regexp
	failDelete  *regexp.Regexp
	failCheck   *regexp.Regexp
	delay       time.Duration
	delayOnly   *regexp.Regexp
	diffDelay   time.Duration
	echo        string
}

// New builds a provider configured from the environment.
func New(getenv func(string) string) *Provider {
	p := &Provider{store: Store{Path: StatePath(getenv)}, region: "us-east-1"}
	p.failCreate = compileOrNil(getenv(EnvFailCreate))
	p.failUpdate = compileOrNil(getenv(EnvFailUpdate))
	p.failDelete = compileOrNil(getenv(EnvFailDelete))
	p.failCheck = compileOrNil(getenv(EnvFailCheck))
	p.delay, _ = time.ParseDuration(getenv(EnvDelay))
	p.delayOnly = compileOrNil(getenv(EnvDelayOnly))
	p.diffDelay, _ = time.ParseDuration(getenv(EnvDiffDelay))
	var quoted []string
	for _, name := range strings.Split(getenv(EnvEcho), ",") {
		if v := getenv(strings.TrimSpace(name)); v != "" {
			quoted = append(quoted, strings.TrimSpace(name)+"="+v)
		}
	}
	if len(quoted) > 0 {
		p.echo = " (request signed with " + strings.Join(quoted, ", ") + ")"
	}
	return p
}

func compileOrNil(expr string) *regexp.Regexp {
	if expr == "" {
		return nil
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		// A bad expression in a test must not silently inject nothing.
		return regexp.MustCompile(".*")
	}
	return re
}

var marshal = plugin.MarshalOptions{KeepUnknowns: true, SkipNulls: true}

func toMap(s *structpb.Struct) (resource.PropertyMap, error) {
	if s == nil {
		return resource.PropertyMap{}, nil
	}
	return plugin.UnmarshalProperties(s, marshal)
}

// plain turns a property map into JSON-ready values; assets keep their
// wire form so that they round-trip through the store.
func plain(s *structpb.Struct) map[string]any {
	if s == nil {
		return map[string]any{}
	}
	return s.AsMap()
}

func fromPlain(m map[string]any) (*structpb.Struct, error) {
	return structpb.NewStruct(m)
}

func (p *Provider) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: Version}, nil
}

func (p *Provider) Handshake(context.Context, *pulumirpc.ProviderHandshakeRequest) (*pulumirpc.ProviderHandshakeResponse, error) {
	return &pulumirpc.ProviderHandshakeResponse{AcceptSecrets: true, AcceptResources: true}, nil
}

func (p *Provider) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.News}, nil
}

func (p *Provider) DiffConfig(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	return p.diff(req.GetOldInputs(), req.GetNews(), nil, false)
}

func (p *Provider) Configure(_ context.Context, req *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	args := plain(req.GetArgs())
	if r, ok := args["region"].(string); ok && r != "" {
		p.region = r
	} else if r := req.GetVariables()["aws:config:region"]; r != "" {
		p.region = r
	}
	if dt, ok := args["defaultTags"].(map[string]any); ok {
		p.defaultTags, _ = dt["tags"].(map[string]any)
	}
	return &pulumirpc.ConfigureResponse{AcceptSecrets: true, AcceptResources: true}, nil
}

func (p *Provider) Invoke(_ context.Context, req *pulumirpc.InvokeRequest) (*pulumirpc.InvokeResponse, error) {
	args := plain(req.GetArgs())
	var ret map[string]any
	var err error
	if req.GetTok() == "aws:s3/getObject:getObject" {
		ret, err = p.getObject(args)
	} else if ret, err = cloudsim.Invoke(req.GetTok(), p.region, args); err != nil {
		err = status.Error(codes.Unimplemented, err.Error())
	}
	if err != nil {
		return nil, err
	}
	s, err := structpb.NewStruct(ret)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.InvokeResponse{Return: s}, nil
}

// getObject reads an object's metadata as S3 reports it, from what the
// sandbox holds: a test that changes or deletes an object is seen.
func (p *Provider) getObject(args map[string]any) (map[string]any, error) {
	st, err := p.store.Load()
	if err != nil {
		return nil, err
	}
	bucket, key := fmt.Sprint(args["bucket"]), fmt.Sprint(args["key"])
	for _, r := range st.ByType(tObject) {
		if r.Inputs["bucket"] != bucket || r.Inputs["key"] != key {
			continue
		}
		out := map[string]any{"bucket": bucket, "key": key, "id": key, "versionId": r.Outputs["versionId"], "etag": r.Outputs["etag"]}
		if m, ok := r.Inputs["metadata"].(map[string]any); ok {
			out["metadata"] = m
		}
		if args["checksumMode"] == "ENABLED" && r.Outputs["checksumSha256"] != nil {
			out["checksumSha256"] = r.Outputs["checksumSha256"]
		}
		return out, nil
	}
	return nil, status.Errorf(codes.NotFound, "NoSuchKey: the specified key does not exist (s3://%s/%s)", bucket, key)
}

func (p *Provider) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	if p.failCheck != nil && p.failCheck.MatchString(req.GetUrn()) {
		return nil, status.Errorf(codes.Unknown, "sandbox: injected failure checking %s: InvalidClientTokenId: the security token included in the request is invalid%s (%s)", req.GetUrn(), p.echo, EnvFailCheck)
	}
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

func (p *Provider) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	if p.diffDelay > 0 {
		if err := p.store.Update(func(st *State) error { st.Calls["diff"]++; return nil }); err != nil {
			return nil, err
		}
		p.wait(p.diffDelay)
	}
	k := cloudsim.KindOf(req.GetType())
	resp, err := p.diff(req.GetOldInputs(), req.GetNews(), k.ReplaceKeys, k.NameKey != "")
	if err != nil {
		return nil, err
	}
	// A change of the provider's default tags changes tagsAll, as in AWS.
	if k.Taggable && resp.Changes != pulumirpc.DiffResponse_DIFF_SOME {
		olds := plain(req.GetOlds())
		news := plain(req.GetNews())
		if !equalJSON(olds["tagsAll"], cloudsim.TagsAll(news, p.defaultTags)) {
			resp.Changes = pulumirpc.DiffResponse_DIFF_SOME
			resp.Diffs = append(resp.Diffs, "tagsAll")
			resp.DetailedDiff["tagsAll"] = &pulumirpc.PropertyDiff{Kind: pulumirpc.PropertyDiff_UPDATE}
		}
	}
	return resp, nil
}

func (p *Provider) diff(oldIn, newIn *structpb.Struct, replaceKeys []string, named bool) (*pulumirpc.DiffResponse, error) {
	olds, err := toMap(oldIn)
	if err != nil {
		return nil, err
	}
	news, err := toMap(newIn)
	if err != nil {
		return nil, err
	}
	resp := &pulumirpc.DiffResponse{
		Changes:         pulumirpc.DiffResponse_DIFF_NONE,
		DetailedDiff:    map[string]*pulumirpc.PropertyDiff{},
		HasDetailedDiff: true,
	}
	d := olds.Diff(news)
	if d == nil {
		return resp, nil
	}
	replace := map[string]bool{}
	for _, k := range replaceKeys {
		replace[k] = true
	}
	add := func(key resource.PropertyKey, kind pulumirpc.PropertyDiff_Kind, replaceKind pulumirpc.PropertyDiff_Kind) {
		k := string(key)
		if replace[k] {
			kind = replaceKind
			resp.Replaces = append(resp.Replaces, k)
		}
		resp.Diffs = append(resp.Diffs, k)
		resp.DetailedDiff[k] = &pulumirpc.PropertyDiff{Kind: kind, InputDiff: true}
	}
	for _, k := range d.ChangedKeys() {
		switch {
		case d.Added(k):
			add(k, pulumirpc.PropertyDiff_ADD, pulumirpc.PropertyDiff_ADD_REPLACE)
		case d.Deleted(k):
			add(k, pulumirpc.PropertyDiff_DELETE, pulumirpc.PropertyDiff_DELETE_REPLACE)
		default:
			add(k, pulumirpc.PropertyDiff_UPDATE, pulumirpc.PropertyDiff_UPDATE_REPLACE)
		}
	}
	sort.Strings(resp.Diffs)
	sort.Strings(resp.Replaces)
	if len(resp.Diffs) > 0 {
		resp.Changes = pulumirpc.DiffResponse_DIFF_SOME
	}
	// A resource with a fixed physical name cannot exist twice, so AWS
	// needs the old one gone before the new one is made.
	resp.DeleteBeforeReplace = named && len(resp.Replaces) > 0
	return resp, nil
}

func (p *Provider) Create(_ context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	urn := req.GetUrn()
	if err := p.begin(req.GetPreview(), p.failCreate, "creating", urn, EnvFailCreate); err != nil {
		return nil, err
	}
	typ := typeOf(req.GetType(), urn)
	k := cloudsim.KindOf(typ)
	in := plain(req.GetProperties())
	if req.GetPreview() {
		// The engine asks what a create would return; nothing is made.
		props, err := fromPlain(cloudsim.Planned(typ, p.region, urn, in, p.defaultTags))
		return &pulumirpc.CreateResponse{Properties: props}, err
	}
	id, out := cloudsim.Create(typ, p.region, urn, in, p.defaultTags)
	err := p.store.Update(func(st *State) error {
		// A schedule's name is unique in its group, not the region, so
		// awsfacts has no UniqueName for it; its id (group/name) is the key.
		if k.NameKey != "" || typ == tSchedule {
			if err := alreadyExists(st, typ, p.region, id, in); err != nil {
				return err
			}
		}
		if err := checkSave(st, p.region, typ, id, in, out); err != nil {
			return err
		}
		afterSave(st, p.region, typ, in)
		st.Resources[keyIn(p.region, typ, id, in)] = Resource{ID: id, Type: typ, URN: urn, Region: p.region, Inputs: in, Outputs: out}
		st.Calls["create"]++
		return nil
	})
	if err != nil {
		return nil, err
	}
	props, err := fromPlain(out)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CreateResponse{Id: id, Properties: props}, nil
}

func (p *Provider) Read(_ context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	typ := typeOf(req.GetType(), req.GetUrn())
	st, err := p.store.Load()
	if err != nil {
		return nil, err
	}
	r, ok := st.Resources[keyIn(p.region, typ, req.GetId(), plain(req.GetProperties()))]
	if !ok {
		// Gone from the cloud: an empty id tells the engine so.
		return &pulumirpc.ReadResponse{}, nil
	}
	props, err := fromPlain(r.Outputs)
	if err != nil {
		return nil, err
	}
	ins, err := fromPlain(r.Inputs)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.ReadResponse{Id: r.ID, Properties: props, Inputs: ins}, nil
}

func (p *Provider) Update(_ context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	urn := req.GetUrn()
	if err := p.begin(req.GetPreview(), p.failUpdate, "updating", urn, EnvFailUpdate); err != nil {
		return nil, err
	}
	typ := typeOf(req.GetType(), urn)
	in := plain(req.GetNews())
	if req.GetPreview() {
		// An update keeps the resource's computed attributes.
		planned := plain(req.GetOlds())
		for k, v := range cloudsim.State(cloudsim.KindOf(typ), in, nil, p.defaultTags) {
			planned[k] = v
		}
		if typ == tFunction && in["publish"] == true {
			// The update publishes a new version, not known until it runs.
			planned["version"], planned["qualifiedArn"] = plugin.UnknownStringValue, plugin.UnknownStringValue
		}
		props, err := fromPlain(planned)
		return &pulumirpc.UpdateResponse{Properties: props}, err
	}
	out := cloudsim.Refresh(typ, p.region, urn, req.GetId(), in, p.defaultTags)
	err := p.store.Update(func(st *State) error {
		k := keyIn(p.region, typ, req.GetId(), plain(req.GetOlds()))
		old, ok := st.Resources[k]
		if !ok {
			return status.Errorf(codes.NotFound, "%s %q does not exist in %s", typ, req.GetId(), p.region)
		}
		if typ == tObject {
			// An update keeps the object's version unless it uploads again.
			out["versionId"] = old.Outputs["versionId"]
		}
		if typ == tFunction && in["publish"] == true {
			published(old, out)
		}
		if err := checkSave(st, p.region, typ, req.GetId(), in, out); err != nil {
			return err
		}
		afterSave(st, p.region, typ, in)
		st.Resources[k] = Resource{ID: req.GetId(), Type: typ, URN: urn, Region: p.region, Inputs: in, Outputs: out}
		st.Calls["update"]++
		return nil
	})
	if err != nil {
		return nil, err
	}
	props, err := fromPlain(out)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.UpdateResponse{Properties: props}, nil
}

func (p *Provider) Delete(_ context.Context, req *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	urn := req.GetUrn()
	if err := p.begin(false, p.failDelete, "deleting", urn, EnvFailDelete); err != nil {
		return nil, err
	}
	typ := typeOf(req.GetType(), urn)
	err := p.store.Update(func(st *State) error {
		k := keyIn(p.region, typ, req.GetId(), plain(req.GetProperties()))
		if err := refuseDelete(st, k); err != nil {
			return err
		}
		delete(st.Resources, k)
		st.Calls["delete"]++
		return nil
	})
	return &emptypb.Empty{}, err
}

// refuseDelete is AWS refusing a delete: a table with deletion protection,
// a bucket that still holds objects and was not made with forceDestroy
// (the provider empties only those). A stack that should go away whole
// must be built so that neither happens.
func refuseDelete(st *State, k string) error {
	r, ok := st.Resources[k]
	if !ok {
		return nil
	}
	id := r.ID
	switch r.Type {
	case "aws:dynamodb/table:Table":
		if r.Inputs["deletionProtectionEnabled"] == true {
			return status.Errorf(codes.FailedPrecondition, "ValidationException: Resource cannot be deleted as it is currently protected against deletions (table %s)", id)
		}
	case "aws:s3/bucketV2:BucketV2":
		if r.Inputs["forceDestroy"] == true {
			return nil
		}
		for _, o := range st.Resources {
			if o.Type == "aws:s3/bucketObjectv2:BucketObjectv2" && o.Inputs["bucket"] == id {
				return status.Errorf(codes.FailedPrecondition, "BucketNotEmpty: The bucket %s you tried to delete is not empty", id)
			}
		}
	}
	return nil
}

func (p *Provider) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

// typeOf is the request's resource type; older engines send only the URN.
func typeOf(typ, urn string) string {
	if typ != "" {
		return typ
	}
	return string(resource.URN(urn).Type())
}

// begin starts a create, update or delete: a real one waits TAP_SANDBOX_DELAY
// and fails if the test asked it to fail for this URN, as AWS would; a
// preview does neither.
func (p *Provider) begin(preview bool, fail *regexp.Regexp, doing, urn, env string) error {
	if preview {
		return nil
	}
	if err := p.store.Update(func(st *State) error { st.Calls["started"]++; return nil }); err != nil {
		return err
	}
	if p.delayOnly == nil || p.delayOnly.MatchString(urn) {
		p.wait(p.delay)
	}
	if fail != nil && fail.MatchString(urn) {
		return status.Errorf(codes.Unknown, "sandbox: injected failure %s %s%s (%s)", doing, urn, p.echo, env)
	}
	return nil
}

// wait sleeps d, but exits the plugin when the engine that started it is
// gone (killed): an orphan must not go on writing the cloud.
func (p *Provider) wait(d time.Duration) {
	parent := os.Getppid()
	for end := time.Now().Add(d); time.Now().Before(end); {
		time.Sleep(min(50*time.Millisecond, time.Until(end)))
		if os.Getppid() != parent {
			os.Exit(1)
		}
	}
}

func equalJSON(a, b any) bool {
	return fmt.Sprint(a) == fmt.Sprint(b)
}
