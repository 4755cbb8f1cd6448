package stack

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/org/tap-deploy/internal/awsfacts"
)

// SecureBucket is an S3 bucket with every guard the policy rules ask for:
// versioning, default encryption, all four public access blocks, bucket
// owner enforced, and a policy that refuses non-TLS requests.
type SecureBucket struct {
	pulumi.ResourceState
	Bucket *s3.BucketV2
	// ready lists the configuration resources, so users of the bucket can
	// wait until it is locked down and versioned: an object written before
	// versioning is on gets no version id to pin.
	ready []pulumi.Resource
}

// NewSecureBucket creates a locked-down bucket. expireOldVersionsDays > 0
// adds a lifecycle rule that removes noncurrent versions after that many days.
func NewSecureBucket(ctx *pulumi.Context, name, physical string, expireOldVersionsDays int, env Env, opts ...pulumi.ResourceOption) (*SecureBucket, error) {
	b := &SecureBucket{}
	if err := ctx.RegisterComponentResource("tap:storage:SecureBucket", name, b, opts...); err != nil {
		return nil, err
	}
	var err error
	// A review stack's buckets are deleted with their objects (and every
	// version of them); an environment's refuse to go while they hold any.
	args := &s3.BucketV2Args{Bucket: pulumi.String(physical)}
	if env.Config.DeletesData() {
		args.ForceDestroy = pulumi.Bool(true)
	}
	// A teardown that keeps the data keeps each bucket whole: its access
	// block, encryption, policy and versioning stay with it.
	keep := pulumi.RetainOnDelete(env.Config.KeepsData())
	if b.Bucket, err = s3.NewBucketV2(ctx, name, args, env.children(b, keep)...); err != nil {
		return nil, err
	}
	bucketID := b.Bucket.ID()
	pab, err := s3.NewBucketPublicAccessBlock(ctx, name, &s3.BucketPublicAccessBlockArgs{
		Bucket:                bucketID,
		BlockPublicAcls:       pulumi.Bool(true),
		BlockPublicPolicy:     pulumi.Bool(true),
		IgnorePublicAcls:      pulumi.Bool(true),
		RestrictPublicBuckets: pulumi.Bool(true),
	}, env.children(b, keep)...)
	if err != nil {
		return nil, err
	}
	owner, err := s3.NewBucketOwnershipControls(ctx, name, &s3.BucketOwnershipControlsArgs{
		Bucket: bucketID,
		Rule:   &s3.BucketOwnershipControlsRuleArgs{ObjectOwnership: pulumi.String("BucketOwnerEnforced")},
	}, env.children(b, keep)...)
	if err != nil {
		return nil, err
	}
	versioning, err := s3.NewBucketVersioningV2(ctx, name, &s3.BucketVersioningV2Args{
		Bucket:                  bucketID,
		VersioningConfiguration: &s3.BucketVersioningV2VersioningConfigurationArgs{Status: pulumi.String("Enabled")},
	}, env.children(b, keep)...)
	if err != nil {
		return nil, err
	}
	encryption, err := s3.NewBucketServerSideEncryptionConfigurationV2(ctx, name, &s3.BucketServerSideEncryptionConfigurationV2Args{
		Bucket: bucketID,
		Rules: s3.BucketServerSideEncryptionConfigurationV2RuleArray{
			s3.BucketServerSideEncryptionConfigurationV2RuleArgs{
				ApplyServerSideEncryptionByDefault: &s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{
					SseAlgorithm: pulumi.String("AES256"),
				},
				BucketKeyEnabled: pulumi.Bool(true),
			},
		},
	}, env.children(b, keep)...)
	if err != nil {
		return nil, err
	}
	policy, err := s3.NewBucketPolicy(ctx, name, &s3.BucketPolicyArgs{
		Bucket: bucketID,
		Policy: documentOutput(func(arns []string) PolicyDocument {
			return PolicyDocument{Statement: []Statement{{
				Sid:       "DenyInsecureTransport",
				Effect:    "Deny",
				Principal: map[string]any{"AWS": "*"},
				Action:    []string{"s3:*"},
				Resource:  []string{arns[0], arns[0] + "/*"},
				Condition: map[string]map[string]string{"Bool": {"aws:SecureTransport": "false"}},
			}}}
		}, b.Bucket.Arn),
	}, env.children(b, keep, pulumi.DependsOn([]pulumi.Resource{pab}))...)
	if err != nil {
		return nil, err
	}
	b.ready = []pulumi.Resource{pab, owner, versioning, encryption, policy}
	if expireOldVersionsDays > 0 {
		lifecycle, err := s3.NewBucketLifecycleConfigurationV2(ctx, name, &s3.BucketLifecycleConfigurationV2Args{
			Bucket: bucketID,
			Rules: s3.BucketLifecycleConfigurationV2RuleArray{
				s3.BucketLifecycleConfigurationV2RuleArgs{
					Id:     pulumi.String("expire-old-versions"),
					Status: pulumi.String("Enabled"),
					Filter: &s3.BucketLifecycleConfigurationV2RuleFilterArgs{Prefix: pulumi.String("")},
					NoncurrentVersionExpiration: &s3.BucketLifecycleConfigurationV2RuleNoncurrentVersionExpirationArgs{
						NoncurrentDays: pulumi.Int(expireOldVersionsDays),
					},
					AbortIncompleteMultipartUpload: &s3.BucketLifecycleConfigurationV2RuleAbortIncompleteMultipartUploadArgs{
						DaysAfterInitiation: pulumi.Int(7),
					},
				},
			},
		}, env.children(b, keep, pulumi.DependsOn([]pulumi.Resource{versioning}))...)
		if err != nil {
			return nil, err
		}
		b.ready = append(b.ready, lifecycle)
	}
	return b, ctx.RegisterResourceOutputs(b, pulumi.Map{"bucket": b.Bucket.Bucket, "arn": b.Bucket.Arn})
}

// Storage holds the uploads bucket and the Lambda artifacts bucket.
type Storage struct {
	pulumi.ResourceState
	Files     *SecureBucket
	Artifacts *SecureBucket
	// ArtifactsBucketName is the artifacts bucket's name, known before the
	// bucket exists (a rollback looks packages up in it).
	ArtifactsBucketName string
}

// NewStorage creates both buckets. Artifacts keep every version ever
// deployed (no expiry): rollback needs them.
func NewStorage(ctx *pulumi.Context, name string, env Env, opts ...pulumi.ResourceOption) (*Storage, error) {
	s := &Storage{}
	if err := ctx.RegisterComponentResource("tap:storage:Storage", name, s, opts...); err != nil {
		return nil, err
	}
	var err error
	if s.Files, err = NewSecureBucket(ctx, "files", env.Names.Name(awsfacts.BucketName, FilesBucket), 30, env, pulumi.Parent(s)); err != nil {
		return nil, err
	}
	s.ArtifactsBucketName = env.Names.Name(awsfacts.BucketName, ArtifactsBucket)
	if s.Artifacts, err = NewSecureBucket(ctx, "artifacts", s.ArtifactsBucketName, 0, env, pulumi.Parent(s)); err != nil {
		return nil, err
	}
	return s, ctx.RegisterResourceOutputs(s, pulumi.Map{
		"filesBucket":     s.Files.Bucket.Bucket,
		"artifactsBucket": s.Artifacts.Bucket.Bucket,
	})
}

// NotifyOnUpload invokes the file processor's live alias for every object
// created in the files bucket, with a permission for that alias scoped to
// that bucket and account.
func (s *Storage) NotifyOnUpload(ctx *pulumi.Context, env Env, processor *Function) error {
	perm, err := lambda.NewPermission(ctx, "files-invoke-file-processor", &lambda.PermissionArgs{
		Action:        pulumi.String("lambda:InvokeFunction"),
		Function:      processor.Function.Name,
		Qualifier:     processor.Live.Name,
		Principal:     pulumi.String("s3.amazonaws.com"),
		SourceArn:     s.Files.Bucket.Arn,
		SourceAccount: pulumi.String(env.Account),
	}, env.children(s.Files)...)
	if err != nil {
		return err
	}
	_, err = s3.NewBucketNotification(ctx, "files", &s3.BucketNotificationArgs{
		Bucket: s.Files.Bucket.ID(),
		LambdaFunctions: s3.BucketNotificationLambdaFunctionArray{
			s3.BucketNotificationLambdaFunctionArgs{
				LambdaFunctionArn: processor.Live.Arn,
				Events:            pulumi.StringArray{pulumi.String("s3:ObjectCreated:*")},
			},
		},
	}, env.children(s.Files, pulumi.DependsOn([]pulumi.Resource{perm}))...)
	return err
}
