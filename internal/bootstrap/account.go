package bootstrap

import (
	"fmt"
	"path"
	"strings"

	"github.com/org/tap-deploy/internal/awsfacts"
	"github.com/org/tap-deploy/internal/iampattern"
	"github.com/org/tap-deploy/internal/inputs"
	"github.com/org/tap-deploy/stack"
)

// placeholderEnvironment stands for every environment in what the roles
// read: the account's read policy must not depend on which environments
// exist, or adding one would mean deploying the account's template again.
const placeholderEnvironment = "envx"

// account is the account's template: the state bucket, GitHub's OIDC
// provider, the preview role, what every role reads, and the review role
// with its boundary.
type account struct {
	o Options
	// readParts are the names of the managed policies of what every role
	// reads, which the environments' roles attach by name.
	readParts []string
	roles     []role
	policies  []policy
	read      policy
	// boundary is the review stacks' roles' boundary, when the account
	// has a review role.
	boundary     *policy
	logsRoleName string
}

// readPolicyName names part i of what every role reads.
func readPolicyName(o Options, part int) string {
	return stack.NewNamer(stack.Config{Base: stack.Base{Project: o.Project, Region: o.Region}, EnvironmentSuffix: "github"}, "").
		Name(awsfacts.PolicyName, fmt.Sprintf("read-%d", part))
}

func newAccount(o Options) (*account, error) {
	a := &account{o: o}
	if o.APIGatewayLogging == OwnerAccount {
		a.logsRoleName = stack.NewNamer(stack.Config{Base: stack.Base{Project: o.Project, Region: o.Region}, EnvironmentSuffix: "apigw"}, "").
			Name(awsfacts.RoleName, "logs")
	}
	reads, err := a.reads()
	if err != nil {
		return nil, err
	}
	a.addPreviewRole()
	a.addReadPolicy(reads)
	if o.ReviewEnvironment != OwnerNone {
		if err := a.addReviewRole(); err != nil {
			return nil, err
		}
	}
	a.fold()
	parts, err := newWriter(o, "${StateBucket}").parts(a.read)
	if err != nil {
		return nil, err
	}
	for i := range parts {
		a.readParts = append(a.readParts, readPolicyName(o, i+1))
	}
	return a, nil
}

// reads are what a preview, a refresh and a drift check read of the
// resources of any environment: the runs of a placeholder environment's
// stack (every feature on, the API Gateway account's owner), its name a
// wildcard, and tap-deploy's own reads before an update.
func (a *account) reads() ([]*grant, error) {
	o := a.o
	models, err := environmentModels(stack.Base{Project: o.Project, Environment: placeholderEnvironment, Region: o.Region}, true)
	if err != nil {
		return nil, err
	}
	reads := newGrantBuilder(o.Project, o.Region, readOnly)
	for _, m := range models {
		if err := reads.graph(m); err != nil {
			return nil, err
		}
	}
	reads.ownCalls()
	return reads.grants, nil
}

// addPreviewRole adds the pull requests' role, which reads the state.
func (a *account) addPreviewRole() {
	o := a.o
	preview := role{logical: "PreviewRole", name: stack.PreviewRoleName(o.Project, o.Region),
		description: fmt.Sprintf("GitHub Actions: pull request previews of %s, read only (%s)", o.Project, o.Repository),
		subjects:    []string{"repo:" + o.Repository + ":pull_request"}, maxSession: ReadSession,
		output: "PreviewRoleArn", variable: VarPreviewRole}
	if o.MergeQueue {
		// A merge-queue check is not a pull_request event: it presents the
		// queue's branch.
		preview.like = []string{"repo:" + o.Repository + ":ref:refs/heads/gh-readonly-queue/*"}
	}
	a.roles = append(a.roles, preview)
	a.policies = append(a.policies, policy{logical: "PreviewRolePolicy", description: fmt.Sprintf("Previews of %s: its state, read only", o.Project),
		roles: []string{preview.logical}, grants: withState(readAllState(o.Project), nil)})
}

// addReadPolicy adds what every role reads: what previews read, of every
// environment. A pull request of the repository (a fork's gets no OIDC
// token) is already trusted with those reads; what sets the roles apart is
// what they write, and which state they read.
func (a *account) addReadPolicy(reads []*grant) {
	o := a.o
	readers := []string{"PreviewRole"}
	if o.ReviewEnvironment != OwnerNone {
		readers = append(readers, "ReviewRole")
	}
	a.read = policy{logical: "ReadPolicy", named: func(part int) string { return readPolicyName(o, part) },
		description: fmt.Sprintf("What every GitHub Actions job of %s reads, in any environment", o.Project),
		roles:       readers, grants: anyEnvironment(reads, []string{placeholderEnvironment}),
		tags: tagContext{project: o.Project}, collapse: o.Project + "-*"}
}

// addReviewRole adds the review stacks' role, its policy (what two review
// stacks of different pull requests change, the PR number a wildcard) and
// the boundary of the roles it creates.
func (a *account) addReviewRole() error {
	o := a.o
	base := stack.Base{Project: o.Project, Environment: o.ReviewEnvironment, Region: o.Region}
	low, err := reviewModels(base, reviewPRLow)
	if err != nil {
		return err
	}
	high, err := reviewModels(base, reviewPRHigh)
	if err != nil {
		return err
	}
	b := newGrantBuilder(o.Project, o.Region, writeOnly)
	b.boundary = boundaryARN(stack.ReviewBoundaryName(base))
	b.keyAdmin = roleARN(stack.ReviewRoleName(o.Project, o.Region))
	for i := range low {
		if err := b.graphs(low[i], high[i]); err != nil {
			return err
		}
	}
	b.ownUpdates()
	bounds, err := boundaryGrants(o.Project, o.Region, low, high)
	if err != nil {
		return err
	}
	marker := o.Project + "-" + o.ReviewEnvironment + "-pr-*"
	a.boundary = &policy{logical: "ReviewBoundary", grants: bounds, named: func(int) string { return stack.ReviewBoundaryName(base) },
		description: fmt.Sprintf("Permissions boundary of every role of the review stacks of %s %s: what their functions and CodeDeploy are given, on review stacks' resources", o.Project, o.ReviewEnvironment),
		tags:        tagContext{project: o.Project, envs: []string{o.ReviewEnvironment}, review: true}, collapse: marker}
	r := role{logical: "ReviewRole", name: stack.ReviewRoleName(o.Project, o.Region),
		description: fmt.Sprintf("GitHub Actions: review stacks of %s %s and their sweep (%s)", o.Project, o.ReviewEnvironment, o.Repository),
		subjects:    []string{"repo:" + o.Repository + ":environment:" + ReviewGitHubEnvironment}, maxSession: DeploySession,
		output: "ReviewRoleArn", variable: VarReviewRole, environment: ReviewGitHubEnvironment}
	a.roles = append(a.roles, r)
	a.policies = append(a.policies, policy{logical: "ReviewRolePolicy", description: fmt.Sprintf("Review stacks of %s %s: what they change", o.Project, o.ReviewEnvironment),
		roles:  []string{r.logical},
		grants: withState(reviewState(path.Join(o.Project, inputs.ReviewPath)), b.grants),
		denied: keepOut(o, roleARN(r.name)),
		tags:   tagContext{project: o.Project, envs: []string{o.ReviewEnvironment}, review: true},
		// Review stacks are named <project>-<env>-pr-<N>-…
		collapse: marker})
	return nil
}

// fold collapses the grants of every policy and the boundary, never onto
// a name that reaches what no statement may (reaches).
func (a *account) fold() {
	refused := func(p string) bool { return reaches(a.o, p) != "" }
	for i := range a.policies {
		a.policies[i].grants = fold(a.policies[i], refused)
	}
	a.read.grants = fold(a.read, refused)
	if a.boundary != nil {
		a.boundary.grants = fold(*a.boundary, refused)
	}
}

// what says what the template holds.
func (a *account) what() string {
	s := "the state bucket, GitHub's OIDC provider, the preview role, what every role reads"
	if a.boundary != nil {
		s += ", the review role"
	}
	if a.logsRoleName != "" {
		s += ", API Gateway's logging role"
	}
	return s
}

// policiesAll are every policy and the boundary, for the checks.
func (a *account) policiesAll() []policy {
	out := append([]policy{a.read}, a.policies...)
	if a.boundary != nil {
		out = append(out, *a.boundary)
	}
	return out
}

// template renders the account's template.
func (a *account) template() ([]byte, error) {
	w := newWriter(a.o, "${StateBucket}")
	a.stateBucket(w)
	a.oidcProvider(w)
	if a.logsRoleName != "" {
		a.apiGatewayLogging(w)
	}
	a.outputs(w)
	if err := a.rolesAndPolicies(w); err != nil {
		return nil, err
	}
	o := a.o
	doc := obj{}.
		set("AWSTemplateFormatVersion", "2010-09-09").
		set("Description", fmt.Sprintf("tap-deploy bootstrap of %s for %s in %s: %s", o.Project, o.Repository, o.Region, a.what())).
		set("Parameters", obj{}.set("CreateGitHubOidcProvider", obj{}.
			set("Type", "String").
			set("AllowedValues", []string{"true", "false"}).
			set("Default", fmt.Sprint(o.CreateOIDCProvider)).
			set("Description", "true to create GitHub's OIDC provider (token.actions.githubusercontent.com); false when the account has one"))).
		set("Conditions", obj{}.set("CreateGitHubOidcProvider", obj{}.set("Fn::Equals", []any{ref("CreateGitHubOidcProvider"), "true"}))).
		set("Resources", w.resources).
		set("Outputs", w.outputs)
	return render(doc, a.header())
}

// stateBucket writes the state bucket and its TLS-only policy.
func (a *account) stateBucket(w *writer) {
	o := a.o
	w.resources = w.resources.note("The Pulumi state of every environment and review stack of this account. Kept when this stack is deleted.",
		"StateBucket", obj{}.
			set("Type", "AWS::S3::Bucket").
			set("DeletionPolicy", "Retain").
			set("UpdateReplacePolicy", "Retain").
			set("Properties", obj{}.
				set("BucketName", text(o.stateBucket())).
				set("VersioningConfiguration", obj{}.set("Status", "Enabled")).
				set("BucketEncryption", obj{}.set("ServerSideEncryptionConfiguration", []any{
					obj{}.set("ServerSideEncryptionByDefault", obj{}.set("SSEAlgorithm", "AES256")),
				})).
				set("PublicAccessBlockConfiguration", obj{}.
					set("BlockPublicAcls", true).
					set("BlockPublicPolicy", true).
					set("IgnorePublicAcls", true).
					set("RestrictPublicBuckets", true)).
				set("OwnershipControls", obj{}.set("Rules", []any{obj{}.set("ObjectOwnership", "BucketOwnerEnforced")})).
				set("Tags", tags(o.Project))))
	w.resources = w.resources.note("Refuses every request that does not use TLS.",
		"StateBucketPolicy", obj{}.
			set("Type", "AWS::S3::BucketPolicy").
			set("DeletionPolicy", "Retain").
			set("UpdateReplacePolicy", "Retain").
			set("Properties", obj{}.
				set("Bucket", ref("StateBucket")).
				set("PolicyDocument", obj{}.
					set("Version", "2012-10-17").
					set("Statement", []any{obj{}.
						set("Sid", "DenyInsecureTransport").
						set("Effect", "Deny").
						set("Principal", obj{}.set("AWS", "*")).
						set("Action", "s3:*").
						set("Resource", []any{sub("arn:${AWS::Partition}:s3:::${StateBucket}"), sub("arn:${AWS::Partition}:s3:::${StateBucket}/*")}).
						set("Condition", obj{}.set("Bool", obj{}.set("aws:SecureTransport", "false")))}))))
}

// oidcProvider writes GitHub's OIDC provider, created unless the account
// has one (the CreateGitHubOidcProvider parameter).
func (a *account) oidcProvider(w *writer) {
	o := a.o
	w.resources = w.resources.note("GitHub's OIDC provider: one per account, so an account that has it deploys with\n"+
		"CreateGitHubOidcProvider=false (aws iam list-open-id-connect-providers lists it). Kept when this stack is deleted: other roles may trust it.",
		"GitHubOidcProvider", obj{}.
			set("Type", "AWS::IAM::OIDCProvider").
			set("Condition", "CreateGitHubOidcProvider").
			set("DeletionPolicy", "Retain").
			set("UpdateReplacePolicy", "Retain").
			set("Properties", obj{}.
				set("Url", "https://"+oidcHost).
				set("ClientIdList", []string{oidcAudience}).
				// IAM trusts GitHub's certificate authority itself; the
				// thumbprints only satisfy older validation.
				set("ThumbprintList", []string{"6938fd4d98bab03faadb97b34396831e3780aea1", "1c58a3a8518e8759bf075b76b750d4f2df264fcd"}).
				set("Tags", tags(o.Project))))
}

// apiGatewayLogging writes API Gateway's logging role and the account
// setting that names it.
func (a *account) apiGatewayLogging(w *writer) {
	o := a.o
	w.resources = w.resources.note("API Gateway's CloudWatch logging role: one account-wide setting per region, which every REST API's\n"+
		"stage logging needs (--api-gateway-logging account). Kept when this stack is deleted.",
		"ApiGatewayLogsRole", obj{}.
			set("Type", "AWS::IAM::Role").
			set("DeletionPolicy", "Retain").
			set("UpdateReplacePolicy", "Retain").
			set("Properties", obj{}.
				set("RoleName", a.logsRoleName).
				set("Description", "API Gateway's CloudWatch logging role for "+o.Region).
				set("AssumeRolePolicyDocument", obj{}.
					set("Version", "2012-10-17").
					set("Statement", []any{obj{}.
						set("Effect", "Allow").
						set("Principal", obj{}.set("Service", "apigateway.amazonaws.com")).
						set("Action", "sts:AssumeRole").
						set("Condition", obj{}.set("StringEquals", obj{}.set("aws:SourceAccount", sub("${AWS::AccountId}"))))})).
				set("ManagedPolicyArns", []any{sub("arn:${AWS::Partition}:iam::aws:policy/" + stack.PushToCloudWatchLogs)}).
				set("Tags", tags(o.Project))))
	w.resources = w.resources.set("ApiGatewayAccount", obj{}.
		set("Type", "AWS::ApiGateway::Account").
		set("DeletionPolicy", "Retain").
		set("UpdateReplacePolicy", "Retain").
		set("Properties", obj{}.set("CloudWatchRoleArn", obj{}.set("Fn::GetAtt", []string{"ApiGatewayLogsRole", "Arn"}))))
}

// outputs writes what the environments' templates and the repository's
// variables take from this one.
func (a *account) outputs(w *writer) {
	o := a.o
	w.outputs = obj{}.
		set("StateBucketName", obj{}.
			set("Description", "The Pulumi state bucket").
			set("Value", ref("StateBucket"))).
		set("BackendUrl", obj{}.
			set("Description", fmt.Sprintf("Repository variable %s: the backend-url of this account's environments", VarBackendURL)).
			set("Value", sub("s3://${StateBucket}/"+o.Project)))
	if o.ReviewEnvironment != OwnerNone {
		w.outputs = w.outputs.set("ReviewBackendUrl", obj{}.
			set("Description", fmt.Sprintf("Repository variable %s: the review-stack-backend-url of review stacks and the sweep", VarReviewBackendURL)).
			set("Value", sub("s3://${StateBucket}/"+path.Join(o.Project, inputs.ReviewPath))))
	}
}

// rolesAndPolicies writes the roles, each followed by its policies.
func (a *account) rolesAndPolicies(w *writer) error {
	provider := fnIf("CreateGitHubOidcProvider", ref("GitHubOidcProvider"),
		sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:oidc-provider/"+oidcHost))
	// Each policy follows the last of its roles; the read policy and the
	// review boundary come before the review role.
	last := map[string][]policy{}
	for _, pol := range a.policies {
		last[pol.roles[len(pol.roles)-1]] = append(last[pol.roles[len(pol.roles)-1]], pol)
	}
	for _, r := range a.roles {
		if r.logical == "ReviewRole" && a.boundary != nil {
			if err := w.boundary(*a.boundary, "The permissions boundary of every role of the review stacks: the review role writes only roles that carry it."); err != nil {
				return err
			}
		}
		w.role(r, provider)
		for _, pol := range last[r.logical] {
			if _, err := w.policy(pol); err != nil {
				return err
			}
		}
	}
	_, err := w.policy(a.read)
	return err
}

// header is the comment the template starts with: how to deploy it, and
// what it changes in the account.
func (a *account) header() string {
	o := a.o
	changes := "none"
	if a.logsRoleName != "" {
		changes = "the region's API Gateway CloudWatch logging role (AWS::ApiGateway::Account), used by every REST API of the account in " + o.Region
	}
	return header(
		"Made by: "+commandLine(o, ""),
		"The account's template of "+o.Project+" for "+o.Repository+" in "+o.Region+": "+a.what()+".",
		"Deploy it first, as an administrator of the account (the environments' templates come after it):",
		"  "+DeployCommand(o, File{Name: "account.yaml", Stack: AccountStack(o)}, "."),
		"  An account that already has GitHub's OIDC provider: add --parameter-overrides CreateGitHubOidcProvider=false.",
		"Then, once, with the same credentials, create the backend (its .pulumi/meta.yaml, which no role here may write):",
		"  pulumi login '"+LoginURL(o)+"'",
		"Account-wide settings it changes: "+changes+".",
		"Generated from the stack's resource graph: do not edit; run tap-deploy bootstrap again when the stack changes.")
}

func tags(project string) []any {
	return []any{
		obj{}.set("Key", "project").set("Value", project),
		obj{}.set("Key", "managed-by").set("Value", "tap-deploy-bootstrap"),
	}
}

// ownRoles and ownPolicies are the names of the roles and managed policies
// this bootstrap's templates create, which no statement may reach (see
// reaches): a deploy role that could rewrite the preview role's policy, or
// its own boundary, would be an administrator.
func ownRoles(o Options) []string {
	names := []string{stack.PreviewRoleName(o.Project, o.Region), stack.ReviewRoleName(o.Project, o.Region)}
	for _, env := range o.Environments {
		base := stack.Base{Project: o.Project, Environment: env, Region: o.Region}
		names = append(names, stack.DeployRoleName(base), stack.DriftRoleName(base))
	}
	return names
}

func ownPolicies(o Options) []string {
	names := []string{readPolicyName(o, 1), readPolicyName(o, 2), readPolicyName(o, 3)}
	if o.ReviewEnvironment != OwnerNone {
		names = append(names, stack.ReviewBoundaryName(stack.Base{Project: o.Project, Environment: o.ReviewEnvironment, Region: o.Region}))
	}
	for _, env := range o.Environments {
		names = append(names, stack.BoundaryName(stack.Base{Project: o.Project, Environment: env, Region: o.Region}))
	}
	return names
}

// reaches says which of the templates' own resources a resource pattern
// matches: one of their roles or managed policies, or the state bucket (or
// its objects); "" for none.
func reaches(o Options, pattern string) string {
	if strings.Contains(pattern, ":role/") {
		for _, n := range ownRoles(o) {
			if iampattern.Match(pattern, roleARN(n)) {
				return "role " + n
			}
		}
	}
	if strings.Contains(pattern, ":policy/") {
		for _, n := range ownPolicies(o) {
			if iampattern.Match(pattern, boundaryARN(n)) {
				return "managed policy " + n
			}
		}
	}
	if bucket, ok := strings.CutPrefix(pattern, "arn:aws:s3:::"); ok {
		bucket, _, _ = strings.Cut(bucket, "/")
		state := strings.ReplaceAll(o.stateBucket(), "${AWS::AccountId}", modelAccount)
		if bucket == "${StateBucket}" || iampattern.Match(bucket, state) {
			return "state bucket " + state
		}
	}
	return ""
}

// keepOut is the Deny that keeps a deploy role (an environment's, or the
// review role) away from every bootstrap role and managed policy of the
// project, whichever environment's, and from taking a boundary off any
// role: the Allows already name none of them (checkApart), and this holds
// should a later grant widen. Its patterns name every environment, so no
// template changes when one is added; own are the ARNs of the template's
// own roles and boundary too (a name too long for IAM is cut and hashed,
// which no pattern matches).
func keepOut(o Options, own ...string) []*grant {
	suffix := "-" + o.Region
	prefix := o.Project + "-"
	resources := []string{
		roleARN(prefix + "*-github-deploy" + suffix), roleARN(prefix + "*-github-drift" + suffix),
		roleARN(stack.PreviewRoleName(o.Project, o.Region)), roleARN(stack.ReviewRoleName(o.Project, o.Region)),
		boundaryARN(prefix + "*-boundary" + suffix), boundaryARN(prefix + "github-read-*" + suffix),
	}
	resources = dedupe(resources, own)
	return []*grant{
		{sid: "KeepOffTheBootstrap", actions: []string{
			"iam:AttachRolePolicy", "iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion", "iam:DeleteRole",
			"iam:DeleteRolePolicy", "iam:DetachRolePolicy", "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy",
			"iam:SetDefaultPolicyVersion", "iam:TagRole", "iam:UntagRole", "iam:UpdateAssumeRolePolicy", "iam:UpdateRole",
			"iam:UpdateRoleDescription"},
			resources: resources,
			why:       "no deploy changes the bootstrap's roles or managed policies (their boundaries among them)"},
		{sid: "NoBoundaryComesOff", actions: []string{"iam:DeleteRolePermissionsBoundary"}, resources: []string{"*"},
			why: "no role loses its permissions boundary"},
	}
}
