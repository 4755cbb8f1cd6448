package bootstrap

import (
	"fmt"
	"path"
	"strings"

	"github.com/org/tap-deploy/internal/cloudsim"
	"github.com/org/tap-deploy/internal/graph"
)

// Access is what the Pulumi AWS provider (pulumi-aws v6, which bridges the
// Terraform AWS provider v5) calls for one resource type, as IAM actions,
// and how the template scopes them. The calls are the Terraform resource's:
// Create (and the waiters after it), Read (every refresh, import and drift
// check), Update, Delete, and Tag (tagging on create and on change).
type Access struct {
	// Terraform is the resource the type bridges.
	Terraform string
	// Docs is the Service Authorization Reference page of the service the
	// actions belong to (list_<service>.html): every action, the resources
	// it is authorized on and the condition keys AWS evaluates for it.
	// TestTable_EveryEntryLinksItsServicesAuthorizationPage checks it.
	Docs   string
	Create []string
	Read   []string
	Update []string
	Delete []string
	Tag    []string
	// IfInput lists actions needed only when the resource sets an input
	// (a review stack's forceDestroy buckets, reserved concurrency).
	IfInput map[string][]string
	// On is which resources the actions apply to.
	On Scope
	// Also are grants the type needs on other resources.
	Also []Also
}

// Scope says which resources an Access's actions apply to: the stack's own
// physical names where the type has them; for a type whose id AWS
// generates, the stack's tags (API Gateway), the resource's own policy
// (KMS keys) or the function it belongs to (event source mappings).
type Scope struct {
	// Names gives one resource's ARNs, from its inputs (the physical name
	// the stack's namer chose). Nil when AWS generates the id.
	Names func(r graph.Resource, region string) []string
	// Tagged are the ARN patterns of every resource of the type, for types
	// whose id AWS generates: the actions then apply only to resources that
	// carry the environment's tags (aws:ResourceTag).
	Tagged func(region string) []string
	// CreateOn is where Create is authorized for a type Names cannot
	// scope: the collection or "*" (nothing names a resource before it
	// exists). For a Tagged type the request must carry the environment's
	// tags (aws:RequestTag). Empty for children of a tagged parent, which
	// inherit its tags.
	CreateOn func(region string) []string
	// KeyPolicy means the resource's own policy (its "policy" input) grants
	// the role that deploys the stack everything it does with the resource
	// once it exists: IAM grants that role only the create (CreateOn), and
	// the readers their reads (ReadOn under ReadCondition). The builder
	// checks that the policy names the role for every action.
	KeyPolicy bool
	// ReadOn and ReadCondition are where and when a KeyPolicy type's reads
	// are authorized for the roles that read every environment.
	ReadOn        func(region string) []string
	ReadCondition func(project string) condition
	// FunctionOf, for a type scoped by the function it belongs to, is the
	// input that names the function: every call is authorized on
	// FunctionScoped (or CreateOn) under lambda:FunctionArn.
	FunctionOf     string
	FunctionScoped func(region string) []string
	// ID reads the id AWS generated, so that another resource's name that
	// embeds it (API Gateway's execution log group) becomes a pattern.
	ID func(r graph.Resource) string
	// WriteCondition narrows Create, Update and Delete further by a
	// condition key AWS offers for the type (iam:PolicyARN).
	WriteCondition func(r graph.Resource) condition
	// Why explains the scope in the template.
	Why string
}

// Also is a grant a type needs beyond its own resources.
type Also struct {
	Sid     string
	Actions []string
	// On gives the resources, from the resource's inputs.
	On func(r graph.Resource, region string) []string
	// Reads means the actions are reads: granted to every role that reads
	// the type, not only to those that change it.
	Reads bool
	// PassedTo makes the grant iam:PassRole of the role ARN in input
	// RoleInput, to this service only.
	PassedTo  string
	RoleInput string
	Why       string
}

// condition is one IAM condition: operator, key, values.
type condition struct {
	op, key string
	values  []string
}

// modelAccount is the account id the offline model gives the stack; the
// template writes ${AWS::AccountId} in its place.
const modelAccount = cloudsim.Account

// ARNs in the concrete form the offline model reports (partition aws, the
// simulated account); the template turns them into ${AWS::Partition} and
// ${AWS::AccountId}.
func arn(service, region, resource string) string {
	return fmt.Sprintf("arn:aws:%s:%s:%s:%s", service, region, modelAccount, resource)
}

func str(r graph.Resource, key string) string {
	s, _ := r.Inputs[key].(string)
	return s
}

// truthy reports whether an input is set to something other than its zero.
func truthy(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case bool:
		return v
	case float64:
		return v != 0
	case int:
		return v != 0
	case string:
		return v != ""
	}
	return true
}

func bucketARN(bucket string) string { return "arn:aws:s3:::" + bucket }

func bucketScope(r graph.Resource, _ string) []string { return []string{bucketARN(str(r, "bucket"))} }

func roleARN(name string) string {
	if strings.HasPrefix(name, "arn:") {
		return name
	}
	return fmt.Sprintf("arn:aws:iam::%s:role/%s", modelAccount, name)
}

func functionARNs(nameOrARN, region string) []string {
	a := nameOrARN
	if !strings.HasPrefix(a, "arn:") {
		a = arn("lambda", region, "function:"+nameOrARN)
	}
	// Versions and aliases are function:NAME:QUALIFIER.
	return []string{a, a + ":*"}
}

// objectsIn is every object under the directory of key: the stack keeps
// one package per function under lambda/<function>/<sha256>.zip.
func objectsIn(bucket, key string) string {
	return bucketARN(bucket) + "/" + path.Dir(key) + "/*"
}

// deploymentGroupARN is every deployment group of a group's application:
// the application is the stack's own (named for it), and one pattern
// keeps the template within what aws cloudformation deploy takes.
func deploymentGroupARN(r graph.Resource, region string) string {
	return arn("codedeploy", region, "deploymentgroup:"+str(r, "appName")+"/*")
}

func apiGateway(region, p string) string { return fmt.Sprintf("arn:aws:apigateway:%s::%s", region, p) }

// restAPIs is every REST API and everything under it; API Gateway lets the
// children (resources, methods, integrations, deployments, stages)
// inherit the API's tags for authorization.
var restAPIs = Scope{
	Tagged: func(region string) []string { return []string{apiGateway(region, "/restapis/*")} },
	Why:    "API Gateway generates the API's id; its children inherit its tags for authorization",
}

// apiTags is where API Gateway authorizes reading a REST API's or a
// stage's tags: /tags/<its ARN, URL-encoded>, a resource with no condition
// keys (Service Authorization Reference, API Gateway). The stack sets the
// tags when it creates the API and the stage (with the create's
// aws:RequestTag) and never changes them, so no role may write /tags: a
// grant there could not be limited to the stack's own APIs.
func apiTags(region string) []string { return []string{apiGateway(region, "/tags/*")} }

// Table maps every resource type the stack creates to what it needs.
// TestTable_CoversEveryTypeTheStackCreates fails when the stack gains a
// type this table lacks (or the table keeps one the stack dropped).
var Table = map[string]Access{
	"aws:s3/bucketV2:BucketV2": {
		Terraform: "aws_s3_bucket",
		Docs:      "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html",
		// HeadBucket (the create waiter and the region lookup) is s3:ListBucket.
		Create: []string{"s3:CreateBucket", "s3:ListBucket"},
		Read: []string{"s3:ListBucket", "s3:GetBucketLocation", "s3:GetBucketPolicy", "s3:GetBucketAcl", "s3:GetBucketCORS",
			"s3:GetBucketWebsite", "s3:GetBucketVersioning", "s3:GetAccelerateConfiguration", "s3:GetBucketRequestPayment",
			"s3:GetBucketLogging", "s3:GetLifecycleConfiguration", "s3:GetReplicationConfiguration",
			"s3:GetEncryptionConfiguration", "s3:GetBucketObjectLockConfiguration", "s3:GetBucketTagging"},
		Delete: []string{"s3:DeleteBucket"},
		Tag:    []string{"s3:PutBucketTagging"},
		// A review stack's buckets are emptied (every version) before they go.
		IfInput: map[string][]string{"forceDestroy": {"s3:ListBucketVersions", "s3:DeleteObject", "s3:DeleteObjectVersion"}},
		On: Scope{Names: func(r graph.Resource, _ string) []string {
			b := bucketARN(str(r, "bucket"))
			if truthy(r.Inputs["forceDestroy"]) {
				return []string{b, b + "/*"}
			}
			return []string{b}
		}},
	},
	"aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": {
		Terraform: "aws_s3_bucket_public_access_block",
		Docs:      "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html",
		// DeletePublicAccessBlock is authorized as s3:PutBucketPublicAccessBlock.
		Create: []string{"s3:PutBucketPublicAccessBlock"}, Read: []string{"s3:GetBucketPublicAccessBlock"},
		Update: []string{"s3:PutBucketPublicAccessBlock"}, Delete: []string{"s3:PutBucketPublicAccessBlock"},
		On: Scope{Names: bucketScope},
	},
	"aws:s3/bucketOwnershipControls:BucketOwnershipControls": {
		Terraform: "aws_s3_bucket_ownership_controls",
		Docs:      "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html",
		Create:    []string{"s3:PutBucketOwnershipControls"}, Read: []string{"s3:GetBucketOwnershipControls"},
		Update: []string{"s3:PutBucketOwnershipControls"}, Delete: []string{"s3:PutBucketOwnershipControls"},
		On: Scope{Names: bucketScope},
	},
	"aws:s3/bucketVersioningV2:BucketVersioningV2": {
		Terraform: "aws_s3_bucket_versioning",
		Docs:      "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html",
		// Deleting the resource suspends versioning.
		Create: []string{"s3:PutBucketVersioning"}, Read: []string{"s3:GetBucketVersioning"},
		Update: []string{"s3:PutBucketVersioning"}, Delete: []string{"s3:PutBucketVersioning"},
		On: Scope{Names: bucketScope},
	},
	"aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2": {
		Terraform: "aws_s3_bucket_server_side_encryption_configuration",
		Docs:      "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html",
		// DeleteBucketEncryption is authorized as s3:PutEncryptionConfiguration.
		Create: []string{"s3:PutEncryptionConfiguration"}, Read: []string{"s3:GetEncryptionConfiguration"},
		Update: []string{"s3:PutEncryptionConfiguration"}, Delete: []string{"s3:PutEncryptionConfiguration"},
		On: Scope{Names: bucketScope},
	},
	"aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2": {
		Terraform: "aws_s3_bucket_lifecycle_configuration",
		Docs:      "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html",
		// DeleteBucketLifecycle is authorized as s3:PutLifecycleConfiguration.
		Create: []string{"s3:PutLifecycleConfiguration"}, Read: []string{"s3:GetLifecycleConfiguration"},
		Update: []string{"s3:PutLifecycleConfiguration"}, Delete: []string{"s3:PutLifecycleConfiguration"},
		On: Scope{Names: bucketScope},
	},
	"aws:s3/bucketPolicy:BucketPolicy": {
		Terraform: "aws_s3_bucket_policy",
		Docs:      "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html",
		Create:    []string{"s3:PutBucketPolicy"}, Read: []string{"s3:GetBucketPolicy"},
		Update: []string{"s3:PutBucketPolicy"}, Delete: []string{"s3:DeleteBucketPolicy"},
		On: Scope{Names: bucketScope},
	},
	"aws:s3/bucketNotification:BucketNotification": {
		Terraform: "aws_s3_bucket_notification",
		Docs:      "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html",
		// Deleting it puts an empty configuration.
		Create: []string{"s3:PutBucketNotification"}, Read: []string{"s3:GetBucketNotification"},
		Update: []string{"s3:PutBucketNotification"}, Delete: []string{"s3:PutBucketNotification"},
		On: Scope{Names: bucketScope},
	},
	"aws:s3/bucketObjectv2:BucketObjectv2": {
		Terraform: "aws_s3_object",
		Docs:      "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html",
		// PutObject covers the multipart upload of a package above 5 MiB;
		// the tags go with it (x-amz-tagging). HeadObject is s3:GetObject.
		Create: []string{"s3:PutObject", "s3:PutObjectTagging", "s3:AbortMultipartUpload"},
		Read:   []string{"s3:GetObject", "s3:GetObjectTagging"},
		Update: []string{"s3:PutObject", "s3:PutObjectTagging"},
		// In a versioned bucket every version goes (a review stack's; an
		// environment's packages are retained and never deleted).
		Delete: []string{"s3:DeleteObject", "s3:DeleteObjectVersion", "s3:ListBucketVersions"},
		On: Scope{Names: func(r graph.Resource, _ string) []string {
			objects := objectsIn(str(r, "bucket"), str(r, "key"))
			if r.Retain {
				return []string{objects}
			}
			// Deleting every version lists them on the bucket.
			return []string{objects, bucketARN(str(r, "bucket"))}
		}},
	},
	"aws:dynamodb/table:Table": {
		Terraform: "aws_dynamodb_table",
		Docs:      "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondynamodb.html",
		// Point-in-time recovery is set after CreateTable, and waited for.
		Create: []string{"dynamodb:CreateTable", "dynamodb:UpdateContinuousBackups"},
		Read: []string{"dynamodb:DescribeTable", "dynamodb:DescribeContinuousBackups", "dynamodb:DescribeTimeToLive",
			"dynamodb:ListTagsOfResource"},
		Update: []string{"dynamodb:UpdateTable", "dynamodb:UpdateContinuousBackups"},
		Delete: []string{"dynamodb:DeleteTable"},
		Tag:    []string{"dynamodb:TagResource", "dynamodb:UntagResource"},
		On: Scope{Names: func(r graph.Resource, region string) []string {
			return []string{arn("dynamodb", region, "table/"+str(r, "name"))}
		}},
	},
	"aws:lambda/function:Function": {
		Terraform: "aws_lambda_function",
		Docs:      "https://docs.aws.amazon.com/service-authorization/latest/reference/list_awslambda.html",
		Create:    []string{"lambda:CreateFunction"},
		// GetFunction needs lambda:ListTags for a tagged function.
		Read: []string{"lambda:GetFunction", "lambda:GetFunctionConfiguration", "lambda:ListVersionsByFunction",
			"lambda:GetFunctionCodeSigningConfig", "lambda:ListTags"},
		Update: []string{"lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration"},
		Delete: []string{"lambda:DeleteFunction"},
		Tag:    []string{"lambda:TagResource", "lambda:UntagResource"},
		IfInput: map[string][]string{
			"reservedConcurrentExecutions": {"lambda:PutFunctionConcurrency", "lambda:DeleteFunctionConcurrency"},
			// A configuration change of a function that publishes is
			// published as a new version for CodeDeploy to shift to.
			"publish": {"lambda:PublishVersion"},
		},
		On: Scope{Names: func(r graph.Resource, region string) []string {
			return functionARNs(str(r, "name"), region)
		}},
		Also: []Also{
			{Sid: "Code", Actions: []string{"s3:GetObject", "s3:GetObjectVersion"},
				On: func(r graph.Resource, _ string) []string {
					return []string{objectsIn(str(r, "s3Bucket"), str(r, "s3Key"))}
				},
				Why: "Lambda reads the package from the artifacts bucket as the caller"},
			{Sid: "PassRole", PassedTo: "lambda.amazonaws.com", RoleInput: "role",
				Why: "a function's execution role, handed to Lambda only"},
		},
	},
	"aws:lambda/alias:Alias": {
		Terraform: "aws_lambda_alias",
		Docs:      "https://docs.aws.amazon.com/service-authorization/latest/reference/list_awslambda.html",
		// CodeDeploy moves the alias afterwards (with its own service role);
		// Pulumi creates it, reads it, and deletes it with the function.
		Create: []string{"lambda:CreateAlias"}, Read: []string{"lambda:GetAlias"},
		Update: []string{"lambda:UpdateAlias"}, Delete: []string{"lambda:DeleteAlias"},
		On: Scope{Names: func(r graph.Resource, region string) []string { return functionARNs(str(r, "functionName"), region) }},
	},
	"aws:codedeploy/application:Application": {
		Terraform: "aws_codedeploy_app",
		Docs:      "https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscodedeploy.html",
		Create:    []string{"codedeploy:CreateApplication"},
		Read:      []string{"codedeploy:GetApplication", "codedeploy:ListTagsForResource"},
		Update:    []string{"codedeploy:UpdateApplication"},
		Delete:    []string{"codedeploy:DeleteApplication"},
		Tag:       []string{"codedeploy:TagResource", "codedeploy:UntagResource"},
		On: Scope{Names: func(r graph.Resource, region string) []string {
			return []string{arn("codedeploy", region, "application:"+str(r, "name"))}
		}},
	},
	"aws:codedeploy/deploymentGroup:DeploymentGroup": {
		Terraform: "aws_codedeploy_deployment_group",
		Docs:      "https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscodedeploy.html",
		Create:    []string{"codedeploy:CreateDeploymentGroup"},
		Read:      []string{"codedeploy:GetDeploymentGroup", "codedeploy:ListTagsForResource"},
		Update:    []string{"codedeploy:UpdateDeploymentGroup"},
		Delete:    []string{"codedeploy:DeleteDeploymentGroup"},
		Tag:       []string{"codedeploy:TagResource", "codedeploy:UntagResource"},
		On: Scope{Names: func(r graph.Resource, region string) []string {
			return []string{deploymentGroupARN(r, region)}
		}},
		Also: []Also{{Sid: "PassRole", PassedTo: "codedeploy.amazonaws.com", RoleInput: "serviceRoleArn",
			Why: "the deployment groups' service role, handed to CodeDeploy only"}},
	},
	"aws:lambda/permission:Permission": {
		Terraform: "aws_lambda_permission",
		Docs:      "https://docs.aws.amazon.com/service-authorization/latest/reference/list_awslambda.html",
		Create:    []string{"lambda:AddPermission"}, Read: []string{"lambda:GetPolicy"}, Delete: []string{"lambda:RemovePermission"},
		On: Scope{Names: func(r graph.Resource, region string) []string { return functionARNs(str(r, "function"), region) }},
	},
	"aws:lambda/eventSourceMapping:EventSourceMapping": {
		Terraform: "aws_lambda_event_source_mapping",
		Docs:      "https://docs.aws.amazon.com/service-authorization/latest/reference/list_awslambda.html",
		// The stack leaves mappings untagged (awsfacts): no tag calls.
		Create: []string{"lambda:CreateEventSourceMapping"},
		Read:   []string{"lambda:GetEventSourceMapping", "lambda:ListTags"},
		Update: []string{"lambda:UpdateEventSourceMapping"},
		Delete: []string{"lambda:DeleteEventSourceMapping"},
		On: Scope{
			// CreateEventSourceMapping names no resource; Update and Delete
			// the mapping, whose UUID Lambda generates. All three carry
			// lambda:FunctionArn, the function the mapping feeds.
			CreateOn:       func(string) []string { return []string{"*"} },
			FunctionOf:     "functionName",
			FunctionScoped: func(region string) []string { return []string{arn("lambda", region, "event-source-mapping:*")} },
			ID:             func(r graph.Resource) string { s, _ := r.Outputs["uuid"].(string); return s },
			Why:            "Lambda generates the mapping's UUID: only mappings that feed the stack's own functions (lambda:FunctionArn)",
		},
	},
	"aws:iam/role:Role": {
		Terraform: "aws_iam_role",
		Docs:      "https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html",
		Create:    []string{"iam:CreateRole", "iam:GetRole"},
		// The provider reads the role's inline and attached policies too.
		Read: []string{"iam:GetRole", "iam:ListRolePolicies", "iam:GetRolePolicy", "iam:ListAttachedRolePolicies", "iam:ListRoleTags"},
		// Not iam:UpdateAssumeRolePolicy: the provider calls it only when a
		// role's trust policy changes, and the stack's trust policies are
		// fixed (a service, this account). A role that could rewrite trust
		// could make a role it wrote assumable by itself.
		Update: []string{"iam:UpdateRole", "iam:UpdateRoleDescription"},
		// Deleting a role removes its inline policies and instance profiles first.
		Delete: []string{"iam:DeleteRole", "iam:ListInstanceProfilesForRole", "iam:ListRolePolicies", "iam:DeleteRolePolicy"},
		Tag:    []string{"iam:TagRole", "iam:UntagRole"},
		// Every role carries its bootstrap boundary: CreateRole sets it; a
		// role created without one is bounded on its next update.
		IfInput: map[string][]string{"permissionsBoundary": {"iam:PutRolePermissionsBoundary"}},
		On: Scope{Names: func(r graph.Resource, _ string) []string {
			return []string{roleARN(str(r, "name"))}
		}},
	},
	"aws:iam/rolePolicy:RolePolicy": {
		Terraform: "aws_iam_role_policy",
		Docs:      "https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html",
		Create:    []string{"iam:PutRolePolicy"}, Read: []string{"iam:GetRolePolicy"},
		Update: []string{"iam:PutRolePolicy"}, Delete: []string{"iam:DeleteRolePolicy"},
		On: Scope{Names: func(r graph.Resource, _ string) []string { return []string{roleARN(str(r, "role"))} }},
	},
	"aws:iam/rolePolicyAttachment:RolePolicyAttachment": {
		Terraform: "aws_iam_role_policy_attachment",
		Docs:      "https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html",
		Create:    []string{"iam:AttachRolePolicy"}, Read: []string{"iam:ListAttachedRolePolicies"},
		Delete: []string{"iam:DetachRolePolicy"},
		On: Scope{
			Names: func(r graph.Resource, _ string) []string { return []string{roleARN(str(r, "role"))} },
			WriteCondition: func(r graph.Resource) condition {
				return condition{"ArnEquals", "iam:PolicyARN", []string{str(r, "policyArn")}}
			},
			Why: "only the managed policy the stack attaches (iam:PolicyARN)",
		},
	},
	"aws:cloudwatch/logGroup:LogGroup": {
		Terraform: "aws_cloudwatch_log_group",
		Docs:      "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatchlogs.html",
		// Creating with tags is authorized as logs:TagResource (older
		// accounts: logs:TagLogGroup). Retention is set after the create.
		Create: []string{"logs:CreateLogGroup", "logs:PutRetentionPolicy"},
		Read:   []string{"logs:DescribeLogGroups", "logs:ListTagsForResource"},
		Update: []string{"logs:PutRetentionPolicy", "logs:DeleteRetentionPolicy"},
		Delete: []string{"logs:DeleteLogGroup"},
		Tag:    []string{"logs:TagResource", "logs:TagLogGroup", "logs:UntagResource"},
		On: Scope{Names: func(r graph.Resource, region string) []string {
			g := arn("logs", region, "log-group:"+str(r, "name"))
			return []string{g, g + ":*"}
		}},
	},
	"aws:cloudwatch/metricAlarm:MetricAlarm": {
		Terraform: "aws_cloudwatch_metric_alarm",
		Docs:      "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html",
		Create:    []string{"cloudwatch:PutMetricAlarm"},
		Read:      []string{"cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource"},
		Update:    []string{"cloudwatch:PutMetricAlarm"}, Delete: []string{"cloudwatch:DeleteAlarms"},
		Tag: []string{"cloudwatch:TagResource", "cloudwatch:UntagResource"},
		On: Scope{Names: func(r graph.Resource, region string) []string {
			return []string{arn("cloudwatch", region, "alarm:"+str(r, "name"))}
		}},
	},
	"aws:sns/topic:Topic": {
		Terraform: "aws_sns_topic",
		Docs:      "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsns.html",
		Create:    []string{"sns:CreateTopic", "sns:SetTopicAttributes"},
		Read:      []string{"sns:GetTopicAttributes", "sns:ListTagsForResource"},
		Update:    []string{"sns:SetTopicAttributes"}, Delete: []string{"sns:DeleteTopic"},
		Tag: []string{"sns:TagResource", "sns:UntagResource"},
		On: Scope{Names: func(r graph.Resource, region string) []string {
			return []string{arn("sns", region, str(r, "name"))}
		}},
	},
	"aws:sns/topicPolicy:TopicPolicy": {
		Terraform: "aws_sns_topic_policy",
		Docs:      "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsns.html",
		// Deleting it puts the default policy back.
		Create: []string{"sns:SetTopicAttributes"}, Read: []string{"sns:GetTopicAttributes"},
		Update: []string{"sns:SetTopicAttributes"}, Delete: []string{"sns:SetTopicAttributes"},
		On: Scope{Names: func(r graph.Resource, _ string) []string { return []string{str(r, "arn")} }},
	},
	"aws:sns/topicSubscription:TopicSubscription": {
		Terraform: "aws_sns_topic_subscription",
		Docs:      "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsns.html",
		// Subscribe is authorized on the topic; the subscription calls on
		// the topic too (Service Authorization Reference, SNS: resource type
		// topic), whose subscriptions' ARNs are <topic ARN>:<id>.
		Create: []string{"sns:Subscribe"}, Read: []string{"sns:GetSubscriptionAttributes"},
		Update: []string{"sns:SetSubscriptionAttributes"}, Delete: []string{"sns:Unsubscribe"},
		On: Scope{Names: func(r graph.Resource, _ string) []string { return []string{str(r, "topic"), str(r, "topic") + ":*"} }},
	},
	"aws:sqs/queue:Queue": {
		Terraform: "aws_sqs_queue",
		Docs:      "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsqs.html",
		Create:    []string{"sqs:CreateQueue", "sqs:SetQueueAttributes"},
		Read:      []string{"sqs:GetQueueUrl", "sqs:GetQueueAttributes", "sqs:ListQueueTags"},
		Update:    []string{"sqs:SetQueueAttributes"}, Delete: []string{"sqs:DeleteQueue"},
		Tag: []string{"sqs:TagQueue", "sqs:UntagQueue"},
		On: Scope{Names: func(r graph.Resource, region string) []string {
			return []string{arn("sqs", region, str(r, "name"))}
		}},
	},
	"aws:kms/key:Key": {
		Terraform: "aws_kms_key",
		Docs:      "https://docs.aws.amazon.com/service-authorization/latest/reference/list_awskeymanagementservice.html",
		// The key's policy grants its administrator (the role that deploys
		// the stack) the rest; the stack leaves keys untagged (awsfacts).
		Create: []string{"kms:CreateKey"},
		Read:   []string{"kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags"},
		Update: []string{"kms:PutKeyPolicy", "kms:EnableKeyRotation", "kms:DisableKeyRotation", "kms:UpdateKeyDescription",
			"kms:EnableKey", "kms:DisableKey"},
		Delete: []string{"kms:ScheduleKeyDeletion"},
		On: Scope{
			KeyPolicy: true,
			// KMS authorizes CreateKey on no particular key: the key's id
			// does not exist yet. A new key grants nothing over others.
			CreateOn: func(string) []string { return []string{"*"} },
			ReadOn:   func(region string) []string { return []string{arn("kms", region, "key/*")} },
			ReadCondition: func(project string) condition {
				return condition{"ForAnyValue:StringLike", "kms:ResourceAliases", []string{"alias/" + project + "-*"}}
			},
			ID:  func(r graph.Resource) string { s, _ := r.Outputs["keyId"].(string); return s },
			Why: "KMS generates the key id: the key's policy names the role that deploys the stack",
		},
	},
	"aws:kms/alias:Alias": {
		Terraform: "aws_kms_alias",
		Docs:      "https://docs.aws.amazon.com/service-authorization/latest/reference/list_awskeymanagementservice.html",
		// The provider reads an alias by listing the account's aliases.
		Create: []string{"kms:CreateAlias"}, Read: []string{"kms:ListAliases"},
		Update: []string{"kms:UpdateAlias"}, Delete: []string{"kms:DeleteAlias"},
		On: Scope{Names: func(r graph.Resource, region string) []string {
			return []string{arn("kms", region, str(r, "name"))}
		}},
		// An alias call needs permission on the key as well as on the
		// alias: the key's policy grants it (KeyPolicy).
	},
	"aws:apigateway/restApi:RestApi": {
		Terraform: "aws_api_gateway_rest_api",
		Docs:      "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonapigatewaymanagement.html",
		// The provider reads the root resource after creating the API, and
		// its tags through /tags.
		Create: []string{"apigateway:POST"}, Read: []string{"apigateway:GET"},
		Update: []string{"apigateway:PATCH", "apigateway:PUT"}, Delete: []string{"apigateway:DELETE"},
		On: Scope{
			Tagged:   restAPIs.Tagged,
			CreateOn: func(region string) []string { return []string{apiGateway(region, "/restapis")} },
			ID: func(r graph.Resource) string {
				s, _ := r.Outputs["arn"].(string)
				return path.Base(s)
			},
			Why: restAPIs.Why,
		},
		Also: []Also{{Sid: "ReadTags", Actions: []string{"apigateway:GET"}, Reads: true,
			On: func(_ graph.Resource, region string) []string { return apiTags(region) }}},
	},
	"aws:apigateway/resource:Resource": {
		Terraform: "aws_api_gateway_resource",
		Docs:      "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonapigatewaymanagement.html",
		Create:    []string{"apigateway:POST"}, Read: []string{"apigateway:GET"},
		Update: []string{"apigateway:PATCH"}, Delete: []string{"apigateway:DELETE"},
		On: restAPIs,
	},
	"aws:apigateway/method:Method": {
		Terraform: "aws_api_gateway_method",
		Docs:      "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonapigatewaymanagement.html",
		Create:    []string{"apigateway:PUT"}, Read: []string{"apigateway:GET"},
		Update: []string{"apigateway:PATCH"}, Delete: []string{"apigateway:DELETE"},
		On: restAPIs,
	},
	"aws:apigateway/integration:Integration": {
		Terraform: "aws_api_gateway_integration",
		Docs:      "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonapigatewaymanagement.html",
		Create:    []string{"apigateway:PUT"}, Read: []string{"apigateway:GET"},
		Update: []string{"apigateway:PATCH"}, Delete: []string{"apigateway:DELETE"},
		On: restAPIs,
	},
	"aws:apigateway/deployment:Deployment": {
		Terraform: "aws_api_gateway_deployment",
		Docs:      "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonapigatewaymanagement.html",
		// Deleting a deployment first looks for stages still using it.
		Create: []string{"apigateway:POST"}, Read: []string{"apigateway:GET"},
		Update: []string{"apigateway:PATCH"}, Delete: []string{"apigateway:DELETE", "apigateway:GET"},
		On: restAPIs,
	},
	"aws:apigateway/stage:Stage": {
		Terraform: "aws_api_gateway_stage",
		Docs:      "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonapigatewaymanagement.html",
		// Its tags are set by the create (POST with tags) and read through
		// /tags, never changed (see apiTags).
		Create: []string{"apigateway:POST"}, Read: []string{"apigateway:GET"},
		Update: []string{"apigateway:PATCH"}, Delete: []string{"apigateway:DELETE"},
		On: restAPIs,
		Also: []Also{{Sid: "ReadTags", Actions: []string{"apigateway:GET"}, Reads: true,
			On: func(_ graph.Resource, region string) []string { return apiTags(region) }}},
	},
	"aws:apigateway/methodSettings:MethodSettings": {
		Terraform: "aws_api_gateway_method_settings",
		Docs:      "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonapigatewaymanagement.html",
		// Method settings are a patch of the stage.
		Create: []string{"apigateway:PATCH"}, Read: []string{"apigateway:GET"},
		Update: []string{"apigateway:PATCH"}, Delete: []string{"apigateway:PATCH"},
		On: restAPIs,
	},
	"aws:apigateway/account:Account": {
		Terraform: "aws_api_gateway_account",
		Docs:      "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonapigatewaymanagement.html",
		// There is no delete: the setting outlives the stack (retained).
		Create: []string{"apigateway:PATCH"}, Read: []string{"apigateway:GET"}, Update: []string{"apigateway:PATCH"},
		On: Scope{Names: func(_ graph.Resource, region string) []string { return []string{apiGateway(region, "/account")} }},
		Also: []Also{{Sid: "PassRole", PassedTo: "apigateway.amazonaws.com", RoleInput: "cloudwatchRoleArn",
			Why: "the account's CloudWatch logging role, handed to API Gateway only"}},
	},
}

// boundaryKeyed are the role calls whose request context carries
// iam:PermissionsBoundary: for CreateRole and PutRolePermissionsBoundary
// the boundary the request sets, for the calls that change a role the
// boundary the role carries (Service Authorization Reference, IAM). A
// deploy role makes them only with its boundary; no role removes one
// (DeleteRolePermissionsBoundary).
var boundaryKeyed = []string{"iam:CreateRole", "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy", "iam:DeleteRolePolicy",
	"iam:AttachRolePolicy", "iam:DetachRolePolicy", "iam:UpdateRole", "iam:UpdateRoleDescription", "iam:DeleteRole"}

// boundedWhy says why, in the template.
const boundedWhy = "only roles that carry the boundary: a deploy could otherwise make a role of any power and act through it"

// Invoke is what a data source the program reads needs.
type Invoke struct {
	// Docs is the Service Authorization Reference page of the service
	// the call goes to, as Access.Docs; empty when the provider answers
	// without calling AWS.
	Docs    string
	Actions []string
	// On gives the resources from the invoke's arguments; nil when the
	// call needs no permission.
	On  func(args map[string]any) []string
	Why string
}

// Invokes maps every data source the program calls to what it needs.
var Invokes = map[string]Invoke{
	// Every caller may ask who it is: STS needs no permission for it.
	"aws:index/getCallerIdentity:getCallerIdentity": {Docs: "https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecuritytokenservice.html",
		Why: "sts:GetCallerIdentity needs no permission"},
	// The partition is answered by the provider from the region.
	"aws:index/getPartition:getPartition": {Why: "answered by the provider, no AWS call"},
	// A rollback to code this binary does not hold checks the recorded package.
	"aws:s3/getObject:getObject": {
		Docs:    "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html",
		Actions: []string{"s3:GetObject", "s3:GetObjectTagging"},
		On: func(args map[string]any) []string {
			b, _ := args["bucket"].(string)
			k, _ := args["key"].(string)
			return []string{objectsIn(b, k)}
		},
		Why: "a rollback to older code reads the recorded package's digest and version",
	},
}

// anyResource are the actions AWS authorizes on no particular resource,
// with why each is needed; the only ones the template allows on "*".
var anyResource = map[string]string{
	"codedeploy:StopDeployment": "tap-deploy stops a release's other shifts when an alarm stops one (no resource)",
	"kms:ListAliases":           "the provider lists the account's aliases to read one (no resource)",
	"lambda:GetAccountSettings": "tap-deploy reads the account's Lambda concurrency limit (an account setting)",
	"logs:DescribeLogGroups":    "the provider lists the log groups to read one (no resource)",
}
