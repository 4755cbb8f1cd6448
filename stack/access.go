package stack

import "github.com/org/tap-deploy/internal/awsfacts"

// What `tap-deploy bootstrap` creates in an account that the stack names:
// the roles the workflows assume and the permissions boundaries every role
// of the stack carries. The bootstrap templates and the stack derive these
// names from here, so the two cannot disagree. Like every IAM name they end
// with the region: IAM is one namespace for every region of an account.

// bootstrapNamer names what an environment's bootstrap template creates:
// its names carry the environment, never the environmentSuffix (the
// template is made before any stack exists).
func bootstrapNamer(base Base) Namer {
	return NewNamer(Config{Base: base, EnvironmentSuffix: base.Environment}, "")
}

// DeployRoleName is the role an environment's deploy, rollback and
// promotion jobs assume (GitHub environment <env>).
func DeployRoleName(base Base) string {
	return bootstrapNamer(base).Name(awsfacts.RoleName, "github-deploy")
}

// DriftRoleName is the read-only role of an environment's drift checks
// (GitHub environment <env>-drift), which a promotion from another account
// assumes too.
func DriftRoleName(base Base) string {
	return bootstrapNamer(base).Name(awsfacts.RoleName, "github-drift")
}

// accountNamer names what the account's bootstrap template creates, which
// belongs to no environment.
func accountNamer(project, region, component string) Namer {
	return NewNamer(Config{Base: Base{Project: project, Region: region}, EnvironmentSuffix: component}, "")
}

// PreviewRoleName is the read-only role of pull request previews.
func PreviewRoleName(project, region string) string {
	return accountNamer(project, region, "github").Name(awsfacts.RoleName, "preview")
}

// ReviewRoleName is the role of review stacks and their sweep (GitHub
// environment review): the administrator of a review stack's keys.
func ReviewRoleName(project, region string) string {
	return accountNamer(project, region, "github").Name(awsfacts.RoleName, "review")
}

// BoundaryName is the managed policy that is the permissions boundary of
// every role of an environment's stack: the environment's bootstrap
// template creates it, and its deploy role may write only roles that carry
// it, so no role the deploy role makes or changes can do more than the
// stack's roles are given.
func BoundaryName(base Base) string {
	return bootstrapNamer(base).Name(awsfacts.PolicyName, "boundary")
}

// ReviewBoundaryName is the managed policy that is the permissions
// boundary of every role of base's review stacks: the bootstrap template
// creates it, and lets the review role write only roles that carry it (a
// branch's author could otherwise make a role of any power and assume
// it). One per environment, whatever the pull request.
func ReviewBoundaryName(base Base) string {
	return bootstrapNamer(base).Name(awsfacts.PolicyName, "review-boundary")
}

// KeyAdministration is what a key's administrator (the role that deploys
// the stack) may do with the key through its key policy: read it, change
// it, point aliases at it and delete it. The key policy grants it by name,
// so a key is usable by the deploy that creates it, and no IAM policy needs
// a grant on the account's keys (which would reach other environments'
// keys) or their tags (which take minutes to apply, and which a role could
// put on a key it did not create).
var KeyAdministration = []string{
	"kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags",
	"kms:PutKeyPolicy", "kms:EnableKeyRotation", "kms:DisableKeyRotation", "kms:UpdateKeyDescription",
	"kms:EnableKey", "kms:DisableKey", "kms:ScheduleKeyDeletion",
	"kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias",
}
