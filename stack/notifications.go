package stack

import (
	"encoding/json"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sns"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sqs"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/org/tap-deploy/internal/awsfacts"
)

// Notifications is the alert topic (alarms only, KMS-encrypted) with its
// optional e-mail subscription, the item-events topic the processors
// announce changes on (its own key), and the dead-letter queue for failed
// Lambda events. Item data never goes to the alert topic: whoever is on
// call reads that one.
type Notifications struct {
	pulumi.ResourceState
	Key             *kms.Key
	Topic           *sns.Topic
	EventsKey       *kms.Key
	Events          *sns.Topic
	DeadLetterQueue *sqs.Queue
}

// NewNotifications creates the topics with customer-managed keys: the AWS
// managed aws/sns key cannot be used by CloudWatch alarms, so an encrypted
// alert topic with it would silently drop every alarm.
func NewNotifications(ctx *pulumi.Context, name string, env Env, opts ...pulumi.ResourceOption) (*Notifications, error) {
	n := &Notifications{}
	if err := ctx.RegisterComponentResource("tap:notifications:Notifications", name, n, opts...); err != nil {
		return nil, err
	}
	var err error
	n.Key, err = kms.NewKey(ctx, "alerts", &kms.KeyArgs{
		Description:          pulumi.String("encrypts the " + env.Names.Name(awsfacts.TopicName, "alerts") + " topic"),
		EnableKeyRotation:    pulumi.Bool(true),
		DeletionWindowInDays: keyDeletionWindow(env),
		Policy:               pulumi.String(keyPolicy(env, cloudWatchEncrypts(env.Account))),
	}, env.untaggedChildren(n)...)
	if err != nil {
		return nil, err
	}
	if _, err = kms.NewAlias(ctx, "alerts", &kms.AliasArgs{
		Name:        pulumi.String("alias/" + env.Names.Name(awsfacts.KeyAliasName, "alerts")),
		TargetKeyId: n.Key.KeyId,
	}, env.children(n)...); err != nil {
		return nil, err
	}
	n.Topic, err = sns.NewTopic(ctx, "alerts", &sns.TopicArgs{
		Name:           pulumi.String(env.Names.Name(awsfacts.TopicName, "alerts")),
		KmsMasterKeyId: n.Key.Arn,
	}, env.children(n)...)
	if err != nil {
		return nil, err
	}
	_, err = sns.NewTopicPolicy(ctx, "alerts", &sns.TopicPolicyArgs{
		Arn: n.Topic.Arn,
		Policy: documentOutput(func(arns []string) PolicyDocument {
			return PolicyDocument{Statement: []Statement{{
				Sid:       "CloudWatchAlarmsPublish",
				Effect:    "Allow",
				Principal: map[string]any{"Service": "cloudwatch.amazonaws.com"},
				Action:    []string{"sns:Publish"},
				Resource:  []string{arns[0]},
				Condition: map[string]map[string]string{"StringEquals": {"aws:SourceAccount": arns[1]}},
			}, {
				// Nobody else, however broad their IAM permissions: the
				// alert topic carries alarms only.
				Sid:       "OnlyCloudWatchPublishes",
				Effect:    "Deny",
				Principal: map[string]any{"AWS": "*"},
				Action:    []string{"sns:Publish"},
				Resource:  []string{arns[0]},
				Condition: map[string]map[string]string{"StringNotEquals": {"aws:PrincipalServiceName": "cloudwatch.amazonaws.com"}},
			}}}
		}, n.Topic.Arn, pulumi.String(env.Account)),
	}, env.children(n)...)
	if err != nil {
		return nil, err
	}
	if env.Config.AlarmEmail != "" {
		if _, err = sns.NewTopicSubscription(ctx, "alerts-email", &sns.TopicSubscriptionArgs{
			Topic:    n.Topic.Arn,
			Protocol: pulumi.String("email"),
			Endpoint: pulumi.String(env.Config.AlarmEmail),
		}, env.children(n)...); err != nil {
			return nil, err
		}
	}
	n.EventsKey, err = kms.NewKey(ctx, "events", &kms.KeyArgs{
		Description:          pulumi.String("encrypts the " + env.Names.Name(awsfacts.TopicName, "item-events") + " topic"),
		EnableKeyRotation:    pulumi.Bool(true),
		DeletionWindowInDays: keyDeletionWindow(env),
		Policy:               pulumi.String(keyPolicy(env)),
	}, env.untaggedChildren(n)...)
	if err != nil {
		return nil, err
	}
	if _, err = kms.NewAlias(ctx, "events", &kms.AliasArgs{
		Name:        pulumi.String("alias/" + env.Names.Name(awsfacts.KeyAliasName, "item-events")),
		TargetKeyId: n.EventsKey.KeyId,
	}, env.children(n)...); err != nil {
		return nil, err
	}
	n.Events, err = sns.NewTopic(ctx, "item-events", &sns.TopicArgs{
		Name:           pulumi.String(env.Names.Name(awsfacts.TopicName, "item-events")),
		KmsMasterKeyId: n.EventsKey.Arn,
	}, env.children(n)...)
	if err != nil {
		return nil, err
	}
	n.DeadLetterQueue, err = sqs.NewQueue(ctx, "dlq", &sqs.QueueArgs{
		Name:                    pulumi.String(env.Names.Name(awsfacts.QueueName, "dlq")),
		MessageRetentionSeconds: pulumi.Int(14 * 24 * 3600),
		SqsManagedSseEnabled:    pulumi.Bool(true),
	}, env.children(n)...)
	if err != nil {
		return nil, err
	}
	return n, ctx.RegisterResourceOutputs(n, pulumi.Map{"topicArn": n.Topic.Arn, "eventsTopicArn": n.Events.Arn, "deadLetterQueueArn": n.DeadLetterQueue.Arn})
}

// keyDeletionWindow is how long a deleted key can still be recovered: the
// shortest AWS allows (7 days) for a review stack, AWS's default (30) for
// an environment.
func keyDeletionWindow(env Env) pulumi.IntPtrInput {
	if env.Config.Disposable() {
		return pulumi.Int(7)
	}
	return nil
}

// keyPolicy keeps the account in control of a key (so IAM policies grant
// its use, the processors' roles among them) and lets the stack's key
// administrator, the role that deploys it, read, change and delete it:
// named here, that role can use the key the moment it exists, and no IAM
// policy needs a grant on the account's keys. The stack creates its keys
// untagged (see awsfacts), so no role tags a key on create. Extra
// statements let services use the key.
func keyPolicy(env Env, extra ...map[string]any) string {
	statements := []map[string]any{
		{"Sid": "AccountAdministers", "Effect": "Allow", "Principal": map[string]any{"AWS": env.rootArn()}, "Action": "kms:*", "Resource": "*"},
	}
	if admin := env.keyAdministrator(); admin != "" {
		statements = append(statements, map[string]any{
			"Sid": "DeployerAdministers", "Effect": "Allow", "Principal": map[string]any{"AWS": admin},
			"Action": KeyAdministration, "Resource": "*",
		})
	}
	b, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": append(statements, extra...)})
	return string(b)
}

// cloudWatchEncrypts lets CloudWatch encrypt alarm notifications with the
// alert topic's key, for this account's alarms only.
func cloudWatchEncrypts(account string) map[string]any {
	return map[string]any{
		"Sid": "CloudWatchAlarmsEncrypt", "Effect": "Allow",
		"Principal": map[string]any{"Service": "cloudwatch.amazonaws.com"},
		"Action":    []string{"kms:Decrypt", "kms:GenerateDataKey*"},
		"Resource":  "*",
		"Condition": map[string]any{"StringEquals": map[string]string{"aws:SourceAccount": account}},
	}
}
