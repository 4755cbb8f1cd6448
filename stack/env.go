package stack

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Env is what every component needs: the configuration, the names, the one
// provider, and the account facts read through it (before anything is
// registered, since names depend on the account).
type Env struct {
	Config    Config
	Names     Namer
	Provider  *aws.Provider
	Account   string
	Partition string
}

// children are the options every child of a component gets: its parent and
// the stack's explicit provider (never the ambient default provider).
func (e Env) children(parent pulumi.Resource, extra ...pulumi.ResourceOption) []pulumi.ResourceOption {
	return append([]pulumi.ResourceOption{pulumi.Parent(parent), pulumi.Provider(e.Provider)}, extra...)
}

// arn builds an ARN in the stack's partition, region and account.
func (e Env) arn(service, resource string) string {
	return "arn:" + e.Partition + ":" + service + ":" + e.Config.Region + ":" + e.Account + ":" + resource
}

// rootArn is the account's root principal.
func (e Env) rootArn() string { return "arn:" + e.Partition + ":iam::" + e.Account + ":root" }

// managedPolicy is the ARN of an AWS managed policy.
func (e Env) managedPolicy(path string) string {
	return "arn:" + e.Partition + ":iam::aws:policy/" + path
}

// roleBoundary is the permissions boundary of every role the stack creates:
// a review stack's roles carry ReviewBoundaryName, in this account; an
// environment's stack sets none.
func (e Env) roleBoundary() pulumi.StringPtrInput {
	if e.Config.ReviewStackPR == 0 {
		return nil
	}
	return pulumi.String("arn:" + e.Partition + ":iam::" + e.Account + ":policy/" + ReviewBoundaryName(e.Config.Base))
}

// NewProvider is the stack's only AWS provider: region pinned from the
// configuration and the common tags applied to every taggable resource.
func NewProvider(ctx *pulumi.Context, cfg Config) (*aws.Provider, error) {
	tags := pulumi.StringMap{}
	for k, v := range cfg.CommonTags() {
		tags[k] = pulumi.String(v)
	}
	return aws.NewProvider(ctx, "aws", &aws.ProviderArgs{
		Region:      pulumi.String(cfg.Region),
		DefaultTags: &aws.ProviderDefaultTagsArgs{Tags: tags},
	})
}
