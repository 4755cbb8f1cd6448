package stack

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// FunctionSpec names one of the stack's Lambda functions.
type FunctionSpec struct {
	// Key is the function's key in Packages and outputs (camelCase).
	Key string
	// Component is the suffix of its physical name.
	Component   string
	Description string
}

// The stack's three functions, built from lambda/.
var (
	APIHandler      = FunctionSpec{"apiHandler", "api-handler", "items API behind API Gateway"}
	FileProcessor   = FunctionSpec{"fileProcessor", "file-processor", "records uploaded files' metadata"}
	StreamProcessor = FunctionSpec{"streamProcessor", "stream-processor", "announces item changes on the item-events topic"}
	Functions       = []FunctionSpec{APIHandler, FileProcessor, StreamProcessor}
)

// Package is one function's Lambda package (what Lambda calls its deployment package).
type Package struct {
	// SHA256 is the hex digest of the zip; it names the object in the
	// artifacts bucket, so every version ever deployed stays addressable.
	SHA256 string
	// Path is a local copy of the zip to upload. Empty means the object is
	// already in the artifacts bucket (a rollback to older code).
	Path string
}

// Packages maps FunctionSpec.Key to its Lambda package.
type Packages map[string]Package

// Stack is every component of the TAP stack, for outputs and tests.
type Stack struct {
	Provider      *aws.Provider
	Untagged      *aws.Provider
	Data          *Data
	Storage       *Storage
	Notifications *Notifications
	Functions     map[string]*Function
	API           *API
	Monitoring    *Monitoring
	Traffic       *Traffic
}

// Program returns the inline Pulumi program for a configuration and code.
func Program(cfg Config, code Packages) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		_, err := New(ctx, cfg, code)
		return err
	}
}

// New creates the whole stack and exports its outputs.
func New(ctx *pulumi.Context, cfg Config, code Packages) (*Stack, error) {
	for _, f := range Functions {
		if code[f.Key].SHA256 == "" {
			return nil, fmt.Errorf("no deployment package for %s: this binary was built without the Lambda artifacts (build it with `make build`)", f.Key)
		}
	}
	provider, err := NewProvider(ctx, cfg)
	if err != nil {
		return nil, err
	}
	untagged, err := NewUntaggedProvider(ctx, cfg)
	if err != nil {
		return nil, err
	}
	// The account is read first: bucket names carry it (S3 names are
	// unique across all accounts).
	identity, err := aws.GetCallerIdentity(ctx, &aws.GetCallerIdentityArgs{}, pulumi.Provider(provider))
	if err != nil {
		return nil, fmt.Errorf("reading the AWS account (sts:GetCallerIdentity): %w", err)
	}
	partition, err := aws.GetPartition(ctx, &aws.GetPartitionArgs{}, pulumi.Provider(provider))
	if err != nil {
		return nil, fmt.Errorf("reading the AWS partition: %w", err)
	}
	env := Env{Config: cfg, Names: NewNamer(cfg, identity.AccountId), Provider: provider, Untagged: untagged, Account: identity.AccountId, Partition: partition.Partition}

	s := &Stack{Provider: provider, Untagged: untagged, Functions: map[string]*Function{}}
	if s.Data, err = NewData(ctx, "data", env); err != nil {
		return nil, err
	}
	if s.Notifications, err = NewNotifications(ctx, "notifications", env); err != nil {
		return nil, err
	}
	if s.Storage, err = NewStorage(ctx, "storage", env); err != nil {
		return nil, err
	}
	deps := FunctionDeps{Data: s.Data, Storage: s.Storage, Notifications: s.Notifications}
	for _, spec := range Functions {
		fn, err := NewFunction(ctx, spec.Component, env, spec, code[spec.Key], deps)
		if err != nil {
			return nil, err
		}
		s.Functions[spec.Key] = fn
	}
	if err := s.Storage.NotifyOnUpload(ctx, env, s.Functions[FileProcessor.Key]); err != nil {
		return nil, err
	}
	if err := s.Functions[StreamProcessor.Key].SubscribeToStream(ctx, env, s.Data, s.Notifications); err != nil {
		return nil, err
	}
	if s.API, err = NewAPI(ctx, "api", env, s.Functions[APIHandler.Key]); err != nil {
		return nil, err
	}
	if s.Monitoring, err = NewMonitoring(ctx, "monitoring", env, s); err != nil {
		return nil, err
	}
	if s.Traffic, err = NewTraffic(ctx, "traffic", env, s); err != nil {
		return nil, err
	}
	s.export(ctx, cfg)
	return s, nil
}

// OutputNames lists every stack output, for tests and the README.
var OutputNames = []string{
	"environment", "environmentSuffix", "region",
	"tableName", "tableArn",
	"filesBucketName", "filesBucketArn", "artifactsBucketName", "artifactsBucketArn",
	"alertsTopicArn", "eventsTopicArn", "deadLetterQueueArn",
	"apiHandlerName", "apiHandlerArn", "apiHandlerLogGroup",
	"fileProcessorName", "fileProcessorArn", "fileProcessorLogGroup",
	"streamProcessorName", "streamProcessorArn", "streamProcessorLogGroup",
	"apiId", "apiStage", "apiUrl", "apiAccessLogGroup",
	"alarmArns", "artifacts", "traffic",
}

func (s *Stack) export(ctx *pulumi.Context, cfg Config) {
	ctx.Export("environment", pulumi.String(cfg.Environment))
	ctx.Export("environmentSuffix", pulumi.String(cfg.EnvironmentSuffix))
	ctx.Export("region", pulumi.String(cfg.Region))
	ctx.Export("tableName", s.Data.Table.Name)
	ctx.Export("tableArn", s.Data.Table.Arn)
	ctx.Export("filesBucketName", s.Storage.Files.Bucket.Bucket)
	ctx.Export("filesBucketArn", s.Storage.Files.Bucket.Arn)
	ctx.Export("artifactsBucketName", s.Storage.Artifacts.Bucket.Bucket)
	ctx.Export("artifactsBucketArn", s.Storage.Artifacts.Bucket.Arn)
	ctx.Export("alertsTopicArn", s.Notifications.Topic.Arn)
	ctx.Export("eventsTopicArn", s.Notifications.Events.Arn)
	ctx.Export("deadLetterQueueArn", s.Notifications.DeadLetterQueue.Arn)
	artifacts := pulumi.StringMap{}
	for _, spec := range Functions {
		fn := s.Functions[spec.Key]
		ctx.Export(spec.Key+"Name", fn.Function.Name)
		ctx.Export(spec.Key+"Arn", fn.Function.Arn)
		ctx.Export(spec.Key+"LogGroup", fn.LogGroup.Name)
		artifacts[spec.Key] = pulumi.String(fn.CodeKey)
	}
	ctx.Export("artifacts", artifacts)
	// What the action needs to shift each function's traffic.
	shifts := pulumi.Map{}
	for _, spec := range Functions {
		fn := s.Functions[spec.Key]
		shifts[spec.Key] = pulumi.Map{
			"function": fn.Function.Name, "alias": fn.Live.Name, "version": fn.Function.Version,
			"deploymentGroup": s.Traffic.Groups[spec.Key].DeploymentGroupName,
			"alarms":          pulumi.ToStringArray(s.Monitoring.ShiftAlarms(spec)),
		}
	}
	ctx.Export("traffic", pulumi.Map{"application": s.Traffic.Application.Name, "region": pulumi.String(cfg.Region), "functions": shifts})
	ctx.Export("apiId", s.API.RestAPI.ID())
	ctx.Export("apiStage", s.API.Stage.StageName)
	ctx.Export("apiUrl", pulumi.Sprintf("%s/items", s.API.Stage.InvokeUrl))
	ctx.Export("apiAccessLogGroup", s.API.AccessLogs.Name)
	ctx.Export("alarmArns", s.Monitoring.AlarmArns())
}
