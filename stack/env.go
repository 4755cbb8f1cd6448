package stack

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Env is what every component needs: the configuration, the names, the
// providers, and the account facts read through them (before anything is
// registered, since names depend on the account).
type Env struct {
	Config   Config
	Names    Namer
	Provider *aws.Provider
	// Untagged is the same region's provider without default tags, for
	// the types IAM cannot let a role tag on create without letting it tag
	// every resource of the type in the account (see awsfacts.Facts.Untagged).
	Untagged  *aws.Provider
	Account   string
	Partition string
}

// children are the options every child of a component gets: its parent and
// the stack's explicit provider (never the ambient default provider).
func (e Env) children(parent pulumi.Resource, extra ...pulumi.ResourceOption) []pulumi.ResourceOption {
	return append([]pulumi.ResourceOption{pulumi.Parent(parent), pulumi.Provider(e.Provider)}, extra...)
}

// untaggedChildren are children's options with the untagged provider.
func (e Env) untaggedChildren(parent pulumi.Resource, extra ...pulumi.ResourceOption) []pulumi.ResourceOption {
	return append([]pulumi.ResourceOption{pulumi.Parent(parent), pulumi.Provider(e.Untagged)}, extra...)
}

// rootArn is the account's root principal.
func (e Env) rootArn() string { return "arn:" + e.Partition + ":iam::" + e.Account + ":root" }

// iamArn is the ARN of an IAM role or policy of the account.
func (e Env) iamArn(kind, name string) string {
	return "arn:" + e.Partition + ":iam::" + e.Account + ":" + kind + "/" + name
}

// managedPolicy is the ARN of an AWS managed policy.
func (e Env) managedPolicy(path string) string {
	return "arn:" + e.Partition + ":iam::aws:policy/" + path
}

// roleBoundary is the permissions boundary of every role the stack
// creates: the environment's boundary, or for a review stack the review
// boundary, both made by the bootstrap template; none in an account that
// was not bootstrapped.
func (e Env) roleBoundary() pulumi.StringPtrInput {
	switch {
	case !e.Config.Bootstrapped:
		return nil
	case e.Config.ReviewStackPR > 0:
		return pulumi.String(e.iamArn("policy", ReviewBoundaryName(e.Config.Base)))
	}
	return pulumi.String(e.iamArn("policy", BoundaryName(e.Config.Base)))
}

// keyAdministrator is the role that deploys the stack, which the stack's
// keys name as their administrator: the environment's deploy role, or the
// review role for a review stack; "" in an account that was not
// bootstrapped (the keys are then administered through IAM alone).
func (e Env) keyAdministrator() string {
	switch {
	case !e.Config.Bootstrapped:
		return ""
	case e.Config.ReviewStackPR > 0:
		return e.iamArn("role", ReviewRoleName(e.Config.Project, e.Config.Region))
	}
	return e.iamArn("role", DeployRoleName(e.Config.Base))
}

// NewProvider is the stack's AWS provider: region pinned from the
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

// NewUntaggedProvider is the stack's provider for the types it leaves
// untagged: the same region, no default tags.
func NewUntaggedProvider(ctx *pulumi.Context, cfg Config) (*aws.Provider, error) {
	return aws.NewProvider(ctx, "aws-untagged", &aws.ProviderArgs{Region: pulumi.String(cfg.Region)})
}
