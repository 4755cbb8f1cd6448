package stack

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/org/tap-deploy/internal/awsfacts"
)

// FunctionDeps are the resources the functions' permissions name.
type FunctionDeps struct {
	Data          *Data
	Storage       *Storage
	Notifications *Notifications
}

// Function is one Lambda function with its own role, log group and code
// object.
type Function struct {
	pulumi.ResourceState
	Spec     FunctionSpec
	Role     *iam.Role
	LogGroup *cloudwatch.LogGroup
	Function *lambda.Function
	// Live is the alias every caller invokes (API Gateway, the stream
	// mapping, the bucket notification). Pulumi creates it on the first
	// version and leaves its version and weights to CodeDeploy, which
	// shifts traffic to each new version.
	Live *lambda.Alias
	// CodeKey is the artifacts-bucket key of the deployed zip.
	CodeKey string
}

// Runtime is the Lambda runtime of every function: the OS-only runtime for
// Go binaries named bootstrap (go1.x is deprecated).
const Runtime = "provided.al2023"

// NewFunction creates a function that can do only what spec needs.
func NewFunction(ctx *pulumi.Context, name string, env Env, spec FunctionSpec, code Package, deps FunctionDeps, opts ...pulumi.ResourceOption) (*Function, error) {
	f := &Function{Spec: spec}
	if err := ctx.RegisterComponentResource("tap:functions:Function", name, f, opts...); err != nil {
		return nil, err
	}
	digest, err := hex.DecodeString(code.SHA256)
	if err != nil || len(digest) != 32 {
		return nil, fmt.Errorf("%s: deployment package digest %q is not a SHA-256", spec.Key, code.SHA256)
	}
	fnName := env.Names.Name(awsfacts.FunctionName, spec.Component)

	// The log group exists, with retention, before the function can write
	// to it; otherwise Lambda creates one that keeps logs forever.
	f.LogGroup, err = cloudwatch.NewLogGroup(ctx, name, &cloudwatch.LogGroupArgs{
		Name:            pulumi.String(LambdaLogGroup(fnName)),
		RetentionInDays: pulumi.Int(env.Config.LogRetentionDays),
	}, env.children(f)...)
	if err != nil {
		return nil, err
	}

	f.Role, err = iam.NewRole(ctx, name, &iam.RoleArgs{
		Name:                pulumi.String(env.Names.Name(awsfacts.RoleName, spec.Component)),
		Description:         pulumi.String("runs the " + fnName + " function"),
		AssumeRolePolicy:    pulumi.String(serviceTrust("lambda.amazonaws.com", env.Account).JSON()),
		PermissionsBoundary: env.roleBoundary(),
	}, env.children(f)...)
	if err != nil {
		return nil, err
	}
	policy, err := iam.NewRolePolicy(ctx, name, &iam.RolePolicyArgs{
		Name:   pulumi.String(env.Names.Name(awsfacts.RolePolicyName, spec.Component)),
		Role:   f.Role.ID(),
		Policy: functionPolicy(spec, env.Config.Region, f.LogGroup, deps),
	}, env.children(f)...)
	if err != nil {
		return nil, err
	}

	f.CodeKey = fmt.Sprintf("lambda/%s/%s.zip", spec.Component, code.SHA256)
	dependsOn := []pulumi.Resource{policy, f.LogGroup}
	// The function pins the exact object version it was given, so a later
	// upload under the same key never reaches Lambda.
	var version pulumi.StringPtrInput
	if code.Path != "" {
		// Content-addressed and retained: an object that leaves the program
		// stays in the bucket, so a rollback can point back at it (except in
		// a review stack, which leaves nothing behind). Its digest is kept
		// in the object's metadata, which a rollback checks: S3's own
		// SHA-256 of an object uploaded in parts (above 5 MiB) is a
		// checksum of the parts' checksums, not the package's digest. The
		// object waits for the bucket's versioning, or it gets no version
		// id to pin.
		object, err := s3.NewBucketObjectv2(ctx, name+"-code", &s3.BucketObjectv2Args{
			Bucket:            deps.Storage.Artifacts.Bucket.ID(),
			Key:               pulumi.String(f.CodeKey),
			Source:            pulumi.NewFileAsset(code.Path),
			ContentType:       pulumi.String("application/zip"),
			ChecksumAlgorithm: pulumi.String("SHA256"),
			Metadata:          pulumi.StringMap{DigestMetadata: pulumi.String(code.SHA256)},
		}, env.children(f, pulumi.RetainOnDelete(!env.Config.DeletesData()), pulumi.DependsOn(deps.Storage.Artifacts.ready))...)
		if err != nil {
			return nil, err
		}
		dependsOn = append(dependsOn, object)
		version = object.VersionId.ToStringPtrOutput()
	} else {
		dependsOn = append(dependsOn, deps.Storage.Artifacts.ready...)
		v, err := verifiedVersion(ctx, env, spec, digest, deps.Storage.ArtifactsBucketName, f.CodeKey)
		if err != nil {
			return nil, err
		}
		version = pulumi.String(v)
	}

	args := &lambda.FunctionArgs{
		Name:          pulumi.String(fnName),
		Description:   pulumi.String(spec.Description),
		Role:          f.Role.Arn,
		Runtime:       pulumi.String(Runtime),
		Architectures: pulumi.StringArray{pulumi.String("arm64")},
		Handler:       pulumi.String("bootstrap"),
		// Every change of code or configuration is a new version, which
		// CodeDeploy shifts the live alias to.
		Publish:  pulumi.Bool(true),
		S3Bucket: deps.Storage.Artifacts.Bucket.Bucket,
		S3Key:    pulumi.String(f.CodeKey),
		// The provider compares this with the function's CodeSha256: a new
		// zip is a visible change in the preview.
		SourceCodeHash:   pulumi.String(base64.StdEncoding.EncodeToString(digest)),
		S3ObjectVersion:  version,
		MemorySize:       pulumi.Int(env.Config.LambdaMemoryMB),
		Timeout:          pulumi.Int(env.Config.LambdaTimeoutSeconds),
		Environment:      &lambda.FunctionEnvironmentArgs{Variables: functionEnv(spec, env, deps)},
		DeadLetterConfig: &lambda.FunctionDeadLetterConfigArgs{TargetArn: deps.Notifications.DeadLetterQueue.Arn},
		LoggingConfig: &lambda.FunctionLoggingConfigArgs{
			LogFormat: pulumi.String("JSON"),
			LogGroup:  f.LogGroup.Name,
		},
		TracingConfig: &lambda.FunctionTracingConfigArgs{Mode: pulumi.String("PassThrough")},
	}
	if env.Config.ReservedConcurrency > 0 {
		args.ReservedConcurrentExecutions = pulumi.Int(env.Config.ReservedConcurrency)
	}
	f.Function, err = lambda.NewFunction(ctx, name, args, env.children(f, pulumi.DependsOn(dependsOn))...)
	if err != nil {
		return nil, err
	}
	f.Live, err = lambda.NewAlias(ctx, name+"-live", &lambda.AliasArgs{
		Name:            pulumi.String(LiveAlias),
		Description:     pulumi.String("what callers invoke; CodeDeploy moves it to each new version"),
		FunctionName:    f.Function.Name,
		FunctionVersion: f.Function.Version,
	}, env.children(f, pulumi.IgnoreChanges(ManagedByCodeDeploy[tAlias]))...)
	if err != nil {
		return nil, err
	}
	return f, ctx.RegisterResourceOutputs(f, pulumi.Map{"name": f.Function.Name, "arn": f.Function.Arn, "logGroup": f.LogGroup.Name, "live": f.Live.Arn})
}

// DigestMetadata is the object metadata key holding a package's SHA-256
// (hex), which rollback compares with the recorded digest.
const DigestMetadata = "sha256"

// verifiedVersion proves that a package already in the artifacts bucket (a
// rollback to code this binary does not hold) is the recorded one: the
// object must exist, carry the recorded digest in its metadata, and, where
// S3 holds a whole-object SHA-256 (an upload in one part), that checksum
// must be the digest too. An object from before digests were kept in
// metadata is proven by a whole-object checksum alone. Anything else stops
// the program, and so the rollback, at its preview, before anything
// changes. It returns the version the function then pins.
func verifiedVersion(ctx *pulumi.Context, env Env, spec FunctionSpec, digest []byte, bucket, key string) (string, error) {
	where := fmt.Sprintf("%s: the recorded package s3://%s/%s", spec.Component, bucket, key)
	obj, err := s3.GetObject(ctx, &s3.GetObjectArgs{Bucket: bucket, Key: key, ChecksumMode: pulumi.StringRef("ENABLED")}, pulumi.Provider(env.Provider))
	if err != nil {
		return "", fmt.Errorf("%s cannot be read, so it cannot be proven to be the recorded code; nothing was changed: %w", where, err)
	}
	want := hex.EncodeToString(digest)
	meta, hasMeta := obj.Metadata[DigestMetadata]
	// A checksum of an upload in parts ends in -<parts>; it is not the
	// object's digest and proves nothing here.
	whole := obj.ChecksumSha256 != "" && !strings.Contains(obj.ChecksumSha256, "-")
	got, _ := base64.StdEncoding.DecodeString(obj.ChecksumSha256)
	switch {
	case hasMeta && meta != want:
		return "", fmt.Errorf("%s records SHA-256 %s in its metadata, not the recorded %s: it changed after it was deployed; nothing was changed", where, meta, want)
	case whole && !bytes.Equal(got, digest):
		return "", fmt.Errorf("%s has SHA-256 %x, not the recorded %x: it changed after it was deployed; nothing was changed", where, got, digest)
	case !hasMeta && !whole:
		return "", fmt.Errorf("%s has neither its digest in its metadata nor a whole-object SHA-256 checksum in S3, so it cannot be proven to be the recorded code; nothing was changed", where)
	case obj.VersionId == "":
		return "", fmt.Errorf("%s has no object version to pin; nothing was changed", where)
	}
	return obj.VersionId, nil
}

// functionEnv is a function's configuration; only the processors, which
// announce changes, learn the item-events topic.
func functionEnv(spec FunctionSpec, env Env, deps FunctionDeps) pulumi.StringMap {
	vars := pulumi.StringMap{
		"TABLE_NAME":  deps.Data.Table.Name,
		"ENVIRONMENT": pulumi.String(env.Config.Environment),
	}
	if spec.Key != APIHandler.Key {
		vars["EVENTS_TOPIC_ARN"] = deps.Notifications.Events.Arn
	}
	return vars
}

// functionPolicy allows exactly the calls FunctionAccess lists for the
// function, on the ARNs it touches: the processors publish to the
// item-events topic, never to the alert topic.
func functionPolicy(spec FunctionSpec, region string, logs *cloudwatch.LogGroup, d FunctionDeps) pulumi.StringOutput {
	targets := []Target{TargetOwnLogs, TargetTable, TargetStream, TargetUploads, TargetEvents, TargetEventsKey, TargetDeadLetters}
	return documentOutput(func(a []string) PolicyDocument {
		arn := map[Target][]string{}
		for i, t := range targets {
			arn[t] = []string{a[i]}
		}
		arn[TargetOwnLogs] = []string{arn[TargetOwnLogs][0] + ":*"}
		arn[TargetUploads] = []string{arn[TargetUploads][0] + "/*"}
		var statements []Statement
		for _, access := range FunctionAccess[spec.Key] {
			s := Allow(access.Sid, access.Actions, arn[access.On]...)
			if access.ViaService != "" {
				s.Condition = map[string]map[string]string{"StringEquals": {"kms:ViaService": access.ViaService + "." + region + ".amazonaws.com"}}
			}
			statements = append(statements, s)
		}
		return PolicyDocument{Statement: statements}
	}, logs.Arn, d.Data.Table.Arn, d.Data.Table.StreamArn, d.Storage.Files.Bucket.Arn, d.Notifications.Events.Arn, d.Notifications.EventsKey.Arn, d.Notifications.DeadLetterQueue.Arn)
}

// SubscribeToStream feeds the table's change stream to the function, one bad
// record failing alone (ReportBatchItemFailures) and exhausted batches going
// to the dead-letter queue.
func (f *Function) SubscribeToStream(ctx *pulumi.Context, env Env, data *Data, n *Notifications) error {
	_, err := lambda.NewEventSourceMapping(ctx, f.Spec.Component+"-stream", &lambda.EventSourceMappingArgs{
		EventSourceArn:             data.Table.StreamArn,
		FunctionName:               f.Live.Arn,
		StartingPosition:           pulumi.String("LATEST"),
		BatchSize:                  pulumi.Int(100),
		MaximumRetryAttempts:       pulumi.Int(5),
		BisectBatchOnFunctionError: pulumi.Bool(true),
		FunctionResponseTypes:      pulumi.StringArray{pulumi.String("ReportBatchItemFailures")},
		DestinationConfig: &lambda.EventSourceMappingDestinationConfigArgs{
			OnFailure: &lambda.EventSourceMappingDestinationConfigOnFailureArgs{DestinationArn: n.DeadLetterQueue.Arn},
		},
	}, env.untaggedChildren(f)...)
	return err
}
