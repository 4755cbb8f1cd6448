package stack

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/dynamodb"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/org/tap-deploy/internal/awsfacts"
)

// Data is the items table.
type Data struct {
	pulumi.ResourceState
	Table *dynamodb.Table
}

// NewData creates the items table: on-demand, streamed (new and old
// images), point-in-time recovery and server-side encryption on.
func NewData(ctx *pulumi.Context, name string, env Env, opts ...pulumi.ResourceOption) (*Data, error) {
	d := &Data{}
	if err := ctx.RegisterComponentResource("tap:data:Data", name, d, opts...); err != nil {
		return nil, err
	}
	var err error
	d.Table, err = dynamodb.NewTable(ctx, "items", &dynamodb.TableArgs{
		Name:        pulumi.String(env.Names.Name(awsfacts.TableName, "items")),
		BillingMode: pulumi.String("PAY_PER_REQUEST"),
		HashKey:     pulumi.String("id"),
		Attributes: dynamodb.TableAttributeArray{
			dynamodb.TableAttributeArgs{Name: pulumi.String("id"), Type: pulumi.String("S")},
		},
		StreamEnabled:        pulumi.Bool(true),
		StreamViewType:       pulumi.String("NEW_AND_OLD_IMAGES"),
		PointInTimeRecovery:  &dynamodb.TablePointInTimeRecoveryArgs{Enabled: pulumi.Bool(true)},
		ServerSideEncryption: &dynamodb.TableServerSideEncryptionArgs{Enabled: pulumi.Bool(true)},
		// A review stack's table goes with the stack; an environment's
		// only when its teardown deletes the data.
		DeletionProtectionEnabled: pulumi.Bool(!env.Config.DeletesData()),
	}, env.children(d, pulumi.RetainOnDelete(env.Config.KeepsData()))...)
	if err != nil {
		return nil, err
	}
	return d, ctx.RegisterResourceOutputs(d, pulumi.Map{"tableName": d.Table.Name, "tableArn": d.Table.Arn})
}
