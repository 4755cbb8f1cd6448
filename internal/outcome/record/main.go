// Command record re-records the engine event streams that internal/outcome's
// tests replay (internal/outcome/testdata/events/*.jsonl). It runs a small
// program through internal/engine, the way the action runs the stack: the
// Pulumi CLI of ./bin (make tools), the sandbox cloud installed as the aws
// plugin in a temporary PULUMI_HOME, a temporary file backend. Each
// operation's events are written as they came, one JSON object a line,
// less what differs from run to run (timestamps, durations, the ids Pulumi
// makes up for providers, temporary paths). From the repository's root:
//
//	make tools
//	go run ./internal/outcome/record
//
// The operations run in order on one stack: a preview and an update that
// create, a preview and an update that replace and update, an update that
// fails, a preview refused by the provider's input check, a drift check
// that finds a changed and a deleted resource, and a destroy. The program
// has a secret output and a secret input, an output not known until the
// update, and a map changed key by key. Independent resources may come in
// another order than in the last recording: outcome's tests do not depend
// on it.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/dynamodb"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/org/tap-deploy/internal/engine"
	"github.com/org/tap-deploy/internal/outcome"
	"github.com/org/tap-deploy/test/sandbox"
)

// APIKey is the program's secret output: the events must show it only as
// "[secret]" (outcome's tests check the files never hold it).
const APIKey = "recorded-api-key-7f3a"

// TokenV1 and TokenV2 are the table's secret tag before and after the
// replacement: the events must not hold them either.
const (
	TokenV1 = "recorded-token-v1"
	TokenV2 = "recorded-token-v2"
)

// Passphrase encrypts the stack's secrets; it never reaches an event.
const Passphrase = "recorded-passphrase"

// version is what changes between the program's runs.
type version struct {
	hashKey    string            // the table's hash key: changing it replaces the table
	versioning string            // the bucket's versioning status: an update in place
	tags       map[string]string // the bucket's tags: a map changed key by key
	token      string            // the table's secret tag, an input the events show only as secret
	logs       bool              // a second bucket, which the failing update creates
}

var (
	v1 = version{hashKey: "id", versioning: "Enabled", tags: map[string]string{"team": "x"}, token: TokenV1}
	v2 = version{hashKey: "pk", versioning: "Suspended", tags: map[string]string{"owner": "team-a"}, token: TokenV2}
	v3 = version{hashKey: "pk", versioning: "Suspended", tags: map[string]string{"owner": "team-a"}, token: TokenV2, logs: true}
)

// operation is one recorded engine run.
type operation struct {
	file    string
	program version
	env     map[string]string
	// before changes the sandbox cloud first (drift); the cloud is put
	// back after the operation.
	before func(*sandbox.State)
	run    func(context.Context, *engine.Stack) error
}

var operations = []operation{
	{file: "preview-create", program: v1, run: preview},
	{file: "up-create", program: v1, run: up},
	{file: "preview-replace", program: v2, run: preview},
	{file: "up-replace", program: v2, run: up},
	{file: "up-failed", program: v3, env: map[string]string{sandbox.EnvFailCreate: `BucketV2::logs$`}, run: up},
	{file: "preview-check-failed", program: v2, env: map[string]string{sandbox.EnvFailCheck: `Table::items$`}, run: preview},
	{file: "refresh-drift", program: v2, before: drift, run: previewRefresh},
	{file: "destroy", program: v2, run: destroy},
}

func preview(ctx context.Context, st *engine.Stack) error {
	_, err := st.Preview(ctx, engine.PreviewOptions{})
	return err
}

func up(ctx context.Context, st *engine.Stack) error {
	_, err := st.Up(ctx, "recorded", engine.UpOptions{})
	return err
}

func previewRefresh(ctx context.Context, st *engine.Stack) error {
	_, err := st.PreviewRefresh(ctx)
	return err
}

func destroy(ctx context.Context, st *engine.Stack) error {
	_, err := st.Destroy(ctx)
	return err
}

// drift is someone at the console: a tag added to the bucket, its
// versioning configuration deleted.
func drift(st *sandbox.State) {
	for k, r := range st.Resources {
		switch r.Type {
		case "aws:s3/bucketV2:BucketV2":
			for _, props := range []map[string]any{r.Inputs, r.Outputs} {
				tags, _ := props["tags"].(map[string]any)
				props["tags"] = maps.Clone(tags)
				props["tags"].(map[string]any)["cost-center"] = "console"
			}
			st.Resources[k] = r
		case "aws:s3/bucketVersioningV2:BucketVersioningV2":
			delete(st.Resources, k)
		}
	}
}

func program(v version) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		p, err := aws.NewProvider(ctx, "aws", &aws.ProviderArgs{
			Region:      pulumi.String("eu-west-1"),
			DefaultTags: &aws.ProviderDefaultTagsArgs{Tags: pulumi.StringMap{"project": pulumi.String("tap")}},
		})
		if err != nil {
			return err
		}
		var data struct{ pulumi.ResourceState }
		if err := ctx.RegisterComponentResource("tap:data:Data", "data", &data); err != nil {
			return err
		}
		table, err := dynamodb.NewTable(ctx, "items", &dynamodb.TableArgs{
			Name:        pulumi.String("tap-dev-items"),
			HashKey:     pulumi.String(v.hashKey),
			BillingMode: pulumi.String("PAY_PER_REQUEST"),
			Tags:        pulumi.StringMap{"token": pulumi.ToSecret(pulumi.String(v.token)).(pulumi.StringOutput)},
			Attributes:  dynamodb.TableAttributeArray{dynamodb.TableAttributeArgs{Name: pulumi.String(v.hashKey), Type: pulumi.String("S")}},
		}, pulumi.Parent(&data), pulumi.Provider(p))
		if err != nil {
			return err
		}
		if err := ctx.RegisterResourceOutputs(&data, pulumi.Map{}); err != nil {
			return err
		}
		// The bucket's tags name the table: unknown while the table is
		// replaced, in a diff of the bucket.
		tags := pulumi.StringMap{"table": table.StreamArn}
		for k, t := range v.tags {
			tags[k] = pulumi.String(t)
		}
		bucket, err := s3.NewBucketV2(ctx, "files", &s3.BucketV2Args{Bucket: pulumi.String("tap-dev-files"), Tags: tags}, pulumi.Provider(p))
		if err != nil {
			return err
		}
		if _, err := s3.NewBucketVersioningV2(ctx, "files", &s3.BucketVersioningV2Args{
			Bucket:                  bucket.ID(),
			VersioningConfiguration: &s3.BucketVersioningV2VersioningConfigurationArgs{Status: pulumi.String(v.versioning)},
		}, pulumi.Provider(p)); err != nil {
			return err
		}
		if v.logs {
			if _, err := s3.NewBucketV2(ctx, "logs", &s3.BucketV2Args{Bucket: pulumi.String("tap-dev-logs")}, pulumi.Provider(p)); err != nil {
				return err
			}
		}
		ctx.Export("tableName", table.Name)
		ctx.Export("bucketArn", bucket.Arn)
		ctx.Export("arns", pulumi.Map{"files": bucket.Arn, "known": pulumi.String("arn:aws:s3:::tap-dev-known")})
		ctx.Export("apiKey", pulumi.ToSecret(pulumi.String(APIKey)))
		return nil
	}
}

func main() {
	if err := record(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "record:", err)
		os.Exit(1)
	}
}

func record(ctx context.Context) error {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..", "..")
	out := filepath.Join(root, "internal", "outcome", "testdata", "events")
	if _, err := os.Stat(filepath.Join(root, "bin", "pulumi")); err != nil {
		return errors.New("no bin/pulumi: run make tools first")
	}
	os.Setenv("PATH", filepath.Join(root, "bin")+string(os.PathListSeparator)+os.Getenv("PATH"))
	tmp, err := os.MkdirTemp("", "tap-record-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	home, state, cloud := filepath.Join(tmp, "pulumi-home"), filepath.Join(tmp, "state"), filepath.Join(tmp, "cloud.json")
	if err := os.MkdirAll(state, 0o755); err != nil {
		return err
	}
	if err := sandbox.Install(ctx, home); err != nil {
		return err
	}
	store := sandbox.Store{Path: cloud}
	if err := store.Bootstrap("eu-west-1"); err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	s := scrubber{paths: []string{tmp, root, os.TempDir()}, ids: map[string]string{}}
	for _, op := range operations {
		if err := op.record(ctx, s, engine.Settings{
			Project: "tap", Stack: "dev", BackendURL: "file://" + state, SecretsProvider: "passphrase", PulumiHome: home,
		}, store, filepath.Join(out, op.file+".jsonl")); err != nil {
			return fmt.Errorf("%s: %w", op.file, err)
		}
	}
	return nil
}

func (op operation) record(ctx context.Context, s scrubber, set engine.Settings, store sandbox.Store, path string) error {
	set.Env = map[string]string{
		"PULUMI_CONFIG_PASSPHRASE": Passphrase,
		sandbox.EnvState:           store.Path,
		// One step at a time: the events come in the same order each time
		// they are recorded.
		"PULUMI_PARALLEL": "1",
	}
	for k, v := range op.env {
		set.Env[k] = v
	}
	if op.before != nil {
		saved, err := os.ReadFile(store.Path)
		if err != nil {
			return err
		}
		defer os.WriteFile(store.Path, saved, 0o644)
		if err := store.Update(func(st *sandbox.State) error { op.before(st); return nil }); err != nil {
			return err
		}
	}
	var got []apitype.EngineEvent
	set.Events = func(_ outcome.Kind, evs []apitype.EngineEvent) { got = evs }
	st, err := engine.Open(ctx, set, program(op.program))
	if err != nil {
		return err
	}
	defer st.Close()
	runErr := op.run(ctx, st)
	fails := op.env[sandbox.EnvFailCreate] != "" || op.env[sandbox.EnvFailCheck] != ""
	switch {
	case runErr != nil && !fails:
		return runErr
	case runErr == nil && fails:
		return errors.New("the operation was to fail, and did not")
	case len(got) == 0:
		return errors.New("no events")
	}
	var b strings.Builder
	for _, e := range got {
		line, err := s.scrub(e)
		if err != nil {
			return err
		}
		b.WriteString(line + "\n")
	}
	fmt.Printf("%s: %d events\n", path, len(got))
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// scrubber takes out of an event what differs between two recordings.
type scrubber struct {
	// paths are the temporary and repository directories, which an event
	// may quote (a plugin's path in a diagnostic).
	paths []string
	// ids numbers the ids Pulumi makes up (a provider's, a UUID) in the
	// order they first appear, across every file.
	ids map[string]string
}

var uuid = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

func (s scrubber) scrub(e apitype.EngineEvent) (string, error) {
	e.Timestamp = 0
	if e.SummaryEvent != nil {
		e.SummaryEvent.DurationSeconds = 0
	}
	b, err := json.Marshal(e)
	if err != nil {
		return "", err
	}
	line := string(b)
	for _, p := range s.paths {
		if p != "" && p != "/" {
			line = strings.ReplaceAll(line, filepath.Clean(p), "/recorded")
		}
	}
	return uuid.ReplaceAllStringFunc(line, func(id string) string {
		if id == outcome.Unknown {
			return id
		}
		if _, ok := s.ids[id]; !ok {
			s.ids[id] = fmt.Sprintf("00000000-0000-4000-8000-%012d", len(s.ids)+1)
		}
		return s.ids[id]
	}), nil
}
