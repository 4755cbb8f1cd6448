package bootstrap

import (
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/org/tap-deploy/internal/awsfacts"
	"github.com/org/tap-deploy/internal/inputs"
	"github.com/org/tap-deploy/stack"
)

// GitHub's OIDC issuer and the audience configure-aws-credentials asks for.
const (
	oidcHost     = "token.actions.githubusercontent.com"
	oidcAudience = "sts.amazonaws.com"
)

// DeployFileLimit is the largest template aws cloudformation deploy sends
// from --template-file alone; a larger one needs --s3-bucket.
const DeployFileLimit = 51200

// ManagedPolicyLimit is the most characters (whitespace aside) IAM accepts
// in one managed policy; a role's statements are spread over as many
// policies as they need.
const ManagedPolicyLimit = 6144

// Repository variables the example workflows read.
const (
	VarBackendURL       = "TAP_BACKEND_URL"
	VarReviewBackendURL = "TAP_REVIEW_BACKEND_URL"
	VarPreviewRole      = "TAP_PREVIEW_ROLE_ARN"
	VarDeployRole       = "TAP_DEPLOY_ROLE_ARN"
	VarDriftRole        = "TAP_DRIFT_ROLE_ARN"
	VarReviewRole       = "TAP_REVIEW_ROLE_ARN"
)

// role is one IAM role of the template.
type role struct {
	logical     string
	name        string
	description string
	// subjects are the OIDC subjects it trusts exactly; like, by pattern.
	subjects []string
	like     []string
	// stackEnv, for the roles of one environment, is the value of the
	// role's environment tag, which their shared policies read
	// (principalEnv).
	stackEnv string
	// The output that gives its ARN, and where the workflows read it.
	output      string
	variable    string
	environment string
}

// policy is what one or more roles are allowed, spread over as many
// managed policies as it needs.
type policy struct {
	logical     string
	description string
	roles       []string
	grants      []*grant
	tags        tagContext
	// collapse, when set, folds the names after it into patterns (see
	// collapse).
	collapse string
}

// tagContext fills in a policy's tag conditions.
type tagContext struct {
	project string
	envs    []string
	// review: the resources of review stacks only (review-stack=pr-*);
	// notReview: never theirs.
	review, notReview bool
}

// plan is everything the template holds.
type plan struct {
	opts         Options
	bucket       string
	prefix       string
	partition    string
	roles        []role
	policies     []policy
	logsRoleName string
	// boundary is the review stacks' roles' permissions boundary, when
	// the template has a review role.
	boundary *policy
	// explained are the reasons a statement's comment already gave: each
	// is written once, above the first statement it explains, which keeps
	// the template within what aws cloudformation deploy takes.
	explained map[string]bool
}

// partitionOf is the partition of a region's ARNs.
func partitionOf(region string) string {
	switch {
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	}
	return "aws"
}

func namer(o Options, suffix string) stack.Namer {
	return stack.NewNamer(stack.Config{Base: stack.Base{Project: o.Project, Region: o.Region}, EnvironmentSuffix: suffix}, modelAccount)
}

// build runs the stack offline for every environment and works out the
// roles and their policies.
func build(o Options) (obj, error) {
	p := plan{opts: o, prefix: o.Project, bucket: o.StateBucket, partition: partitionOf(o.Region), explained: map[string]bool{}}
	if p.bucket == "" {
		p.bucket = namer(o, "pulumi").Name(awsfacts.BucketName, "state")
	}
	if o.APIGatewayAccount == OwnerTemplate {
		p.logsRoleName = namer(o, "apigw").Name(awsfacts.RoleName, "logs")
	}
	repo := "repo:" + o.Repository

	// What a preview, a refresh and a drift check read of the resources.
	reads := newBuilder(o.Region, readOnly)
	deploys, drifts := map[string][]*grant{}, map[string][]*grant{}
	var deployRoles, driftRoles []role
	for _, env := range o.Environments {
		models, err := environmentModels(stack.Base{Project: o.Project, Environment: env, Region: o.Region}, o.APIGatewayAccount == env)
		if err != nil {
			return nil, err
		}
		deploy := newBuilder(o.Region, writeOnly)
		for _, m := range models {
			for _, b := range []*builder{reads, deploy} {
				if err := b.graph(m); err != nil {
					return nil, err
				}
			}
		}
		deploy.ownUpdates()
		deploys[env] = withState(writeState(p.prefix, o.Project, env), deploy.grants)
		drifts[env] = withState(readState(p.prefix, o.Project, env), nil)
		suffix := pascal(env)
		deployRoles = append(deployRoles, role{logical: "DeployRole" + suffix, name: namer(o, env).Name(awsfacts.RoleName, "github-deploy"),
			description: fmt.Sprintf("GitHub Actions: deploy and rollback of %s %s (%s)", o.Project, env, o.Repository),
			subjects:    []string{repo + ":environment:" + env}, stackEnv: env,
			output: "DeployRoleArn" + suffix, variable: VarDeployRole, environment: env})
		driftRoles = append(driftRoles, role{logical: "DriftRole" + suffix, name: namer(o, env).Name(awsfacts.RoleName, "github-drift"),
			description: fmt.Sprintf("GitHub Actions: drift checks of %s %s, read only (%s)", o.Project, env, o.Repository),
			subjects:    []string{repo + ":environment:" + env + DriftSuffix}, stackEnv: env,
			output: "DriftRoleArn" + suffix, variable: VarDriftRole, environment: env + DriftSuffix})
	}

	// tap-deploy's own reads before an update, with the other reads.
	reads.ownCalls()

	previewRole := role{logical: "PreviewRole", name: namer(o, "github").Name(awsfacts.RoleName, "preview"),
		description: fmt.Sprintf("GitHub Actions: pull request previews of %s, read only (%s)", o.Project, o.Repository),
		subjects:    []string{repo + ":pull_request"},
		output:      "PreviewRoleArn", variable: VarPreviewRole}
	if o.MergeQueue {
		// A merge-queue check is not a pull_request event: it presents the
		// queue's branch.
		previewRole.like = []string{repo + ":ref:refs/heads/gh-readonly-queue/*"}
	}
	p.roles = append(append(append(p.roles, previewRole), driftRoles...), deployRoles...)
	p.policies = append(p.policies, policy{logical: "PreviewRolePolicy", description: fmt.Sprintf("Previews of %s: its state, read only", o.Project),
		roles: []string{previewRole.logical}, grants: withState(readAllState(p.prefix), nil)})
	// Every role reads what previews read, of every environment: a pull
	// request of the repository (a fork's gets no OIDC token) is already
	// trusted with those reads. What sets the roles apart is what they write, and which state
	// they read: an environment's drift check reads its environment's state
	// and writes nothing; a deploy writes its environment's resources and
	// state only; the review role, review stacks' only.
	readers := []string{previewRole.logical}
	for _, r := range driftRoles {
		readers = append(readers, r.logical)
	}
	for _, r := range deployRoles {
		readers = append(readers, r.logical)
	}
	if o.ReviewEnvironment != OwnerNone {
		readers = append(readers, "ReviewRole")
	}
	p.policies = append(p.policies, policy{logical: "ReadPolicy",
		description: fmt.Sprintf("What every GitHub Actions job of %s reads, in any environment", o.Project),
		roles:       readers, grants: anyEnvironment(reads.grants, o.Environments),
		tags: tagContext{project: o.Project, envs: o.Environments}, collapse: o.Project + "-*"})
	p.policies = append(p.policies, shared(o, "Drift", driftRoles, drifts, tagContext{project: o.Project},
		fmt.Sprintf("Drift checks of %s: the state", o.Project))...)
	p.policies = append(p.policies, shared(o, "Deploy", deployRoles, deploys, tagContext{project: o.Project, notReview: true},
		fmt.Sprintf("Deploys and rollbacks of %s: what they change", o.Project))...)

	if o.ReviewEnvironment != OwnerNone {
		base := stack.Base{Project: o.Project, Environment: o.ReviewEnvironment, Region: o.Region}
		low, err := reviewModels(base, reviewPRLow)
		if err != nil {
			return nil, err
		}
		high, err := reviewModels(base, reviewPRHigh)
		if err != nil {
			return nil, err
		}
		grants, err := reviewGrants(o, low, high)
		if err != nil {
			return nil, err
		}
		bounds, err := boundaryGrants(o.Region, low, high)
		if err != nil {
			return nil, err
		}
		p.boundary = &policy{logical: "ReviewBoundary", grants: bounds,
			description: fmt.Sprintf("Permissions boundary of every role of the review stacks of %s %s: what their functions and CodeDeploy are given, on review stacks' resources", o.Project, o.ReviewEnvironment),
			tags:        tagContext{project: o.Project, envs: []string{o.ReviewEnvironment}, review: true},
			collapse:    o.Project + "-" + o.ReviewEnvironment + "-pr-*"}
		r := role{logical: "ReviewRole", name: namer(o, "github").Name(awsfacts.RoleName, "review"),
			description: fmt.Sprintf("GitHub Actions: review stacks of %s %s and their sweep (%s)", o.Project, o.ReviewEnvironment, o.Repository),
			subjects:    []string{repo + ":environment:" + ReviewGitHubEnvironment},
			output:      "ReviewRoleArn", variable: VarReviewRole, environment: ReviewGitHubEnvironment}
		p.roles = append(p.roles, r)
		p.policies = append(p.policies, policy{logical: "ReviewRolePolicy", description: fmt.Sprintf("Review stacks of %s %s: what they change", o.Project, o.ReviewEnvironment), roles: []string{r.logical},
			grants: withState(reviewState(path.Join(p.prefix, inputs.ReviewPath)), grants),
			tags:   tagContext{project: o.Project, envs: []string{o.ReviewEnvironment}, review: true},
			// Review stacks are named <project>-<env>-pr-<N>-…
			collapse: o.Project + "-" + o.ReviewEnvironment + "-pr-*"})
	}
	for i, pol := range p.policies {
		p.policies[i].grants = p.fold(pol)
	}
	if p.boundary != nil {
		p.boundary.grants = p.fold(*p.boundary)
	}
	if err := p.check(); err != nil {
		return nil, err
	}
	return p.document()
}

// fold makes a policy's grants fewer statements: names collapsed into
// patterns, alike statements folded.
func (p plan) fold(pol policy) []*grant {
	grants := pol.grants
	if pol.collapse != "" {
		grants = p.collapse(grants, pol.collapse)
	}
	grants = alike(grants)
	if pol.collapse != "" {
		// Folding may have brought names together that fold further.
		grants = alike(p.collapse(grants, pol.collapse))
	}
	return grants
}

// reviewGrants are the review role's: what two review stacks (of pull
// requests low and high) need, their names turned into patterns that
// every review stack of the environment matches, and its role calls
// bound to the review boundary.
func reviewGrants(o Options, low, high []model) ([]*grant, error) {
	b := newBuilder(o.Region, writeOnly)
	b.boundary = boundaryARN(o)
	for i := range low {
		if err := b.graphs(low[i], high[i]); err != nil {
			return nil, err
		}
	}
	b.ownUpdates()
	return b.grants, nil
}

// withState puts the state grants first.
func withState(state []grant, rest []*grant) []*grant {
	out := make([]*grant, 0, len(state)+len(rest))
	for i := range state {
		out = append(out, &state[i])
	}
	return append(out, rest...)
}

// collapse folds the names of grants after marker (see collapse), never
// into a pattern that reaches the template's own resources.
func (p plan) collapse(grants []*grant, marker string) []*grant {
	out := make([]*grant, len(grants))
	for i, g := range grants {
		c := *g
		c.resources = collapse(g.resources, marker, func(pattern string) bool { return p.reaches(pattern) != "" })
		out[i] = &c
	}
	return out
}

// reaches says which of the template's own resources a resource pattern
// matches: one of its roles, or the state bucket (or its objects); "" for
// none.
func (p plan) reaches(pattern string) string {
	if strings.Contains(pattern, ":role/") {
		for _, n := range append([]string{p.logsRoleName}, p.roleNames()...) {
			if n != "" && matches(pattern, roleARN(n)) {
				return "role " + n
			}
		}
	}
	if bucket, ok := strings.CutPrefix(pattern, "arn:aws:s3:::"); ok {
		bucket, _, _ = strings.Cut(bucket, "/")
		if matches(bucket, p.bucket) {
			return "state bucket " + p.bucket
		}
	}
	return ""
}

func (p plan) roleNames() []string {
	names := make([]string, len(p.roles))
	for i, r := range p.roles {
		names[i] = r.name
	}
	return names
}

// check refuses a template whose roles could manage each other or reach
// the state other than through the state's own statements: no statement
// may name another role of the template (a deploy role that could rewrite
// the preview role's policy would be an admin), or the state bucket; and
// the review boundary allows nothing of IAM (a bounded role could
// otherwise make an unbounded one).
func (p plan) check() error {
	policies := p.policies
	if p.boundary != nil {
		for _, g := range p.boundary.grants {
			for _, a := range g.actions {
				if strings.HasPrefix(a, "iam:") {
					return fmt.Errorf("the review boundary would allow %s (statement %s): review stacks' roles must be given nothing of IAM", a, g.sid)
				}
			}
		}
		policies = append(slices.Clone(policies), *p.boundary)
	}
	for _, pol := range policies {
		for _, g := range pol.grants {
			if strings.HasPrefix(g.sid, "State") {
				continue
			}
			for _, pattern := range g.resources {
				// A shared policy's patterns, as each environment's role
				// reads them.
				resolved := []string{pattern}
				if strings.Contains(pattern, principalEnv) {
					resolved = nil
					for _, env := range p.opts.Environments {
						resolved = append(resolved, strings.ReplaceAll(pattern, principalEnv, env))
					}
				}
				for _, res := range resolved {
					if what := p.reaches(res); what != "" {
						return fmt.Errorf("%s's statement %s would reach the template's own %s; choose another project, environment or state bucket name", pol.logical, g.sid, what)
					}
				}
			}
		}
	}
	return nil
}

// matches reports whether an IAM resource pattern (* and ? wildcards)
// matches s.
func matches(pattern, s string) bool {
	if pattern == "" {
		return s == ""
	}
	switch pattern[0] {
	case '*':
		for i := 0; i <= len(s); i++ {
			if matches(pattern[1:], s[i:]) {
				return true
			}
		}
		return false
	case '?':
		return s != "" && matches(pattern[1:], s[1:])
	}
	return s != "" && s[0] == pattern[0] && matches(pattern[1:], s[1:])
}

// pascal turns an environment into part of a logical id (us-prod → UsProd).
func pascal(env string) string {
	var b strings.Builder
	for _, part := range strings.Split(env, "-") {
		b.WriteString(upperFirst(part))
	}
	return b.String()
}

// document is the template.
func (p plan) document() (obj, error) {
	o := p.opts
	resources := obj{}
	bucketName := strings.ReplaceAll(p.bucket, modelAccount, "${AWS::AccountId}")
	resources = resources.note("The Pulumi state of every environment and review stack. Kept when this stack is deleted.",
		"StateBucket", obj{}.
			set("Type", "AWS::S3::Bucket").
			set("DeletionPolicy", "Retain").
			set("UpdateReplacePolicy", "Retain").
			set("Properties", obj{}.
				set("BucketName", text(bucketName)).
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
	resources = resources.note("Refuses every request that does not use TLS.",
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
	resources = resources.note("GitHub's OIDC provider: one per account, so only the first template in an account creates it\n"+
		"(parameter CreateGitHubOidcProvider). Kept when this stack is deleted: other roles may trust it.",
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
	if p.logsRoleName != "" {
		resources = resources.note("API Gateway's CloudWatch logging role: one account setting per region, which every REST API's\n"+
			"stage logging needs. This template owns it (no stack sets manageApiGatewayAccount); kept when this stack is deleted.",
			"ApiGatewayLogsRole", obj{}.
				set("Type", "AWS::IAM::Role").
				set("DeletionPolicy", "Retain").
				set("UpdateReplacePolicy", "Retain").
				set("Properties", obj{}.
					set("RoleName", p.logsRoleName).
					set("Description", "API Gateway's CloudWatch logging role for "+o.Region).
					set("AssumeRolePolicyDocument", obj{}.
						set("Version", "2012-10-17").
						set("Statement", []any{obj{}.
							set("Effect", "Allow").
							set("Principal", obj{}.set("Service", "apigateway.amazonaws.com")).
							set("Action", "sts:AssumeRole")})).
					set("ManagedPolicyArns", []any{sub("arn:${AWS::Partition}:iam::aws:policy/" + stack.PushToCloudWatchLogs)}).
					set("Tags", tags(o.Project))))
		resources = resources.set("ApiGatewayAccount", obj{}.
			set("Type", "AWS::ApiGateway::Account").
			set("DeletionPolicy", "Retain").
			set("UpdateReplacePolicy", "Retain").
			set("Properties", obj{}.set("CloudWatchRoleArn", obj{}.set("Fn::GetAtt", []string{"ApiGatewayLogsRole", "Arn"}))))
	}

	outputs := obj{}.
		set("StateBucketName", obj{}.
			set("Description", "The Pulumi state bucket").
			set("Value", ref("StateBucket"))).
		set("BackendUrl", obj{}.
			set("Description", fmt.Sprintf("Repository variable %s: the backend-url of every environment", VarBackendURL)).
			set("Value", sub("s3://${StateBucket}/"+p.prefix)))
	if o.ReviewEnvironment != OwnerNone {
		outputs = outputs.set("ReviewBackendUrl", obj{}.
			set("Description", fmt.Sprintf("Repository variable %s: the review-stack-backend-url of review stacks and the sweep", VarReviewBackendURL)).
			set("Value", sub("s3://${StateBucket}/"+path.Join(p.prefix, inputs.ReviewPath))))
	}

	// Each policy follows the last of its roles.
	last := map[string][]policy{}
	for _, pol := range p.policies {
		last[pol.roles[len(pol.roles)-1]] = append(last[pol.roles[len(pol.roles)-1]], pol)
	}
	for _, r := range p.roles {
		if r.logical == "ReviewRole" && p.boundary != nil {
			var err error
			if resources, err = p.boundaryPolicy(resources); err != nil {
				return nil, err
			}
		}
		resources = p.role(resources, r)
		for _, pol := range last[r.logical] {
			var err error
			if resources, err = p.policy(resources, pol); err != nil {
				return nil, err
			}
		}
		where := "Repository variable " + r.variable
		if r.environment != "" {
			where = fmt.Sprintf("Variable %s of the GitHub environment %s", r.variable, r.environment)
		}
		subjects := strings.Join(append(append([]string(nil), r.subjects...), r.like...), ", ")
		outputs = outputs.set(r.output, obj{}.
			set("Description", fmt.Sprintf("%s (OIDC subject %s)", where, subjects)).
			set("Value", obj{}.set("Fn::GetAtt", []string{r.logical, "Arn"})))
	}

	return obj{}.
		set("AWSTemplateFormatVersion", "2010-09-09").
		set("Description", fmt.Sprintf("tap-deploy bootstrap of %s for %s in %s: the state bucket, GitHub's OIDC provider and one role per job kind (environments %s)",
			o.Project, o.Repository, o.Region, strings.Join(o.Environments, ", "))).
		set("Parameters", obj{}.set("CreateGitHubOidcProvider", obj{}.
			set("Type", "String").
			set("AllowedValues", []string{"true", "false"}).
			set("Default", fmt.Sprint(o.CreateOIDCProvider)).
			set("Description", "true to create GitHub's OIDC provider (token.actions.githubusercontent.com); false when the account has one"))).
		set("Conditions", obj{}.set("CreateGitHubOidcProvider", obj{}.set("Fn::Equals", []any{ref("CreateGitHubOidcProvider"), "true"}))).
		set("Resources", resources).
		set("Outputs", outputs), nil
}

func tags(project string) []any {
	return []any{
		obj{}.set("Key", "project").set("Value", project),
		obj{}.set("Key", "managed-by").set("Value", "tap-deploy-bootstrap"),
	}
}

// role adds a role.
func (p plan) role(resources obj, r role) obj {
	t := []any{obj{}.set("Key", "project").set("Value", p.opts.Project)}
	if r.stackEnv != "" {
		t = append(t, obj{}.set("Key", "environment").set("Value", r.stackEnv))
	}
	return resources.set(r.logical, obj{}.
		set("Type", "AWS::IAM::Role").
		set("Properties", obj{}.
			set("RoleName", r.name).
			set("Description", r.description).
			set("AssumeRolePolicyDocument", trust(r)).
			set("Tags", oneLine{t})))
}

// policy adds a policy's managed policies.
func (p plan) policy(resources obj, pol policy) (obj, error) {
	statements := make([]statement, 0, len(pol.grants))
	for _, g := range ordered(pol.grants) {
		s, err := p.statement(pol.tags, g)
		if err != nil {
			return nil, err
		}
		statements = append(statements, s)
	}
	parts := pack(statements)
	roles := make([]any, len(pol.roles))
	for i, r := range pol.roles {
		roles[i] = ref(r)
	}
	for i, part := range parts {
		description := pol.description
		if len(parts) > 1 {
			description += fmt.Sprintf(" (%d/%d)", i+1, len(parts))
		}
		list := make([]any, len(part))
		for j, s := range part {
			list[j] = s.yaml
		}
		resources = resources.set(fmt.Sprintf("%s%d", pol.logical, i+1), obj{}.
			set("Type", "AWS::IAM::ManagedPolicy").
			set("Properties", obj{}.
				set("Description", description).
				set("Roles", roles).
				set("PolicyDocument", obj{}.
					set("Version", "2012-10-17").
					set("Statement", list))))
	}
	return resources, nil
}

// boundaryPolicy adds the review boundary: one managed policy (a role has
// one boundary), attached to no role: the review stacks' roles carry it.
func (p plan) boundaryPolicy(resources obj) (obj, error) {
	pol := *p.boundary
	var statements []statement
	for _, g := range ordered(pol.grants) {
		s, err := p.statement(pol.tags, g)
		if err != nil {
			return nil, err
		}
		statements = append(statements, s)
	}
	if parts := pack(statements); len(parts) != 1 {
		return nil, fmt.Errorf("the review boundary needs %d managed policies; a role has one boundary", len(parts))
	}
	list := make([]any, len(statements))
	for i, s := range statements {
		list[i] = s.yaml
	}
	return resources.note("The permissions boundary of every role of the review stacks: the review role writes only roles that carry it.",
		pol.logical, obj{}.
			set("Type", "AWS::IAM::ManagedPolicy").
			set("Properties", obj{}.
				set("ManagedPolicyName", boundaryName(p.opts)).
				set("Description", pol.description).
				set("PolicyDocument", obj{}.
					set("Version", "2012-10-17").
					set("Statement", list)))), nil
}

// trust is a role's trust policy: GitHub's OIDC tokens for this audience
// and these subjects only.
func trust(r role) obj {
	provider := fnIf("CreateGitHubOidcProvider", ref("GitHubOidcProvider"),
		sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:oidc-provider/"+oidcHost))
	statement := func(op string, subjects []string) obj {
		var subject any = subjects[0]
		if len(subjects) > 1 {
			subject = subjects
		}
		cond := obj{}.set("StringEquals", obj{}.set(oidcHost+":aud", oidcAudience))
		if op == "StringEquals" {
			cond[0].value = cond[0].value.(obj).set(oidcHost+":sub", subject)
		} else {
			cond = cond.set(op, obj{}.set(oidcHost+":sub", subject))
		}
		// One line each, as the policies' conditions: the template must
		// stay within what aws cloudformation deploy takes.
		return obj{}.
			set("Effect", "Allow").
			set("Principal", oneLine{obj{}.set("Federated", provider)}).
			set("Action", "sts:AssumeRoleWithWebIdentity").
			set("Condition", oneLine{cond})
	}
	list := []any{statement("StringEquals", r.subjects)}
	if len(r.like) > 0 {
		// A merge-queue check is not a pull_request event: it presents
		// the queue's branch.
		list = append(list, statement("StringLike", r.like))
	}
	return obj{}.set("Version", "2012-10-17").set("Statement", list)
}

// alike folds grants into fewer statements (the template must stay under
// the 51,200 bytes aws cloudformation deploy takes without an S3 bucket).
// These allow exactly what the grants did (a statement allows each of its
// actions on each of its resources under its conditions):
//   - grants on the same resources under the same conditions (API
//     Gateway's children, which all go through their API's tags) into one
//     with the actions of all;
//   - grants of the same actions under the same conditions into one on the
//     resources of all;
//   - a grant whose actions another allows, on resources its patterns
//     match, into that one.
//
// And one allows a little more: the grants of one service under the same
// conditions into one with the actions of all on the resources of all
// (AddPermission on every function of the environment, not only those
// the stack gives permissions). A role's resources of one service are all
// its own to manage (its environment's, review stacks', or read-only), so
// this gives it no power over anything it could not already change.
//
// A folded statement keeps the Sid of the first (by type), the state's
// grants keep to themselves.
func alike(grants []*grant) []*grant {
	sorted := make([]*grant, len(grants))
	for i, g := range grants {
		c := *g
		c.actions = slices.Clone(g.actions)
		c.resources = slices.Clone(g.resources)
		c.reasons = slices.Clone(g.reasons)
		c.folded = slices.Clone(g.folded)
		sorted[i] = &c
	}
	sort.SliceStable(sorted, func(i, j int) bool {
		if ri, rj := rank(sorted[i]), rank(sorted[j]); ri != rj {
			return ri < rj
		}
		return sorted[i].sid < sorted[j].sid
	})
	sortedKey := func(values []string) string {
		v := slices.Clone(values)
		sort.Strings(v)
		return strings.Join(v, " ")
	}
	conditions := func(g *grant) string { return fmt.Sprint(g.tags, g.conds) }
	fold := func(into, g *grant) {
		into.folded = append(append(into.folded, g.sid), g.folded...)
		into.actions = dedupe(into.actions, g.actions)
		into.resources = dedupe(into.resources, g.resources)
		into.reasons = dedupe(into.reasons, g.reasons)
	}
	byKey := func(in []*grant, key func(*grant) string) []*grant {
		first := map[string]*grant{}
		var out []*grant
		for _, g := range in {
			k := key(g)
			if f, ok := first[k]; ok && !strings.HasPrefix(g.sid, "State") {
				fold(f, g)
				continue
			}
			first[k] = g
			out = append(out, g)
		}
		return out
	}
	out := byKey(sorted, func(g *grant) string { return sortedKey(g.resources) + conditions(g) })
	out = byKey(out, func(g *grant) string { return sortedKey(g.actions) + conditions(g) })
	// Per service: the role manages each of these resources already (they
	// are its environment's, or review stacks'), so the actions of one of
	// their types on the others give it nothing it could not do.
	out = byKey(out, func(g *grant) string {
		service, ok := serviceOf(g.actions)
		if !ok || rank(g) != 1 || slices.Contains(g.actions, "iam:PassRole") {
			return "sid " + g.sid
		}
		return "service " + service + conditions(g)
	})

	covers := func(h, g *grant) bool {
		if conditions(h) != conditions(g) || strings.HasPrefix(g.sid, "State") || strings.HasPrefix(h.sid, "State") {
			return false
		}
		for _, a := range g.actions {
			if !slices.Contains(h.actions, a) {
				return false
			}
		}
		for _, r := range g.resources {
			if !slices.ContainsFunc(h.resources, func(p string) bool { return matches(p, r) }) {
				return false
			}
		}
		return true
	}
	dropped := make([]bool, len(out))
	for i, g := range out {
		for j, h := range out {
			dropped[i] = dropped[i] || (i != j && covers(h, g) && (!covers(g, h) || j < i))
		}
	}
	var kept []*grant
	for i, g := range out {
		if !dropped[i] {
			kept = append(kept, g)
		}
	}
	for i, g := range out {
		if dropped[i] {
			// A statement kept covers it: covering is transitive.
			h := kept[slices.IndexFunc(kept, func(h *grant) bool { return covers(h, g) })]
			h.reasons = dedupe(h.reasons, g.reasons)
			h.folded = append(append(h.folded, g.sid), g.folded...)
		}
	}
	renameFolded(kept)
	return kept
}

// renameFolded names a statement that holds several types' grants after
// what it holds rather than after one of them: its services, and how it
// goes by tags (S3, ApigatewayTagged, KmsLambdaCreate), unless another
// statement of the policy has that name.
func renameFolded(grants []*grant) {
	names := map[string]int{}
	name := func(g *grant) string {
		var services []string
		for _, a := range g.actions {
			service, _, _ := strings.Cut(a, ":")
			services = dedupe(services, []string{service})
		}
		sort.Strings(services)
		var b strings.Builder
		for _, s := range services {
			b.WriteString(upperFirst(s))
		}
		switch g.tags {
		case onRequest:
			b.WriteString("Create")
		case onResource:
			b.WriteString("Tagged")
		}
		return b.String()
	}
	for _, g := range grants {
		names[g.sid]++
		if len(g.folded) > 0 {
			names[name(g)]++
		}
	}
	for _, g := range grants {
		if n := name(g); len(g.folded) > 0 && names[n] == 1 {
			g.sid = n
		}
	}
}

// serviceOf is the service of actions, when they are of one.
func serviceOf(actions []string) (string, bool) {
	service := ""
	for _, a := range actions {
		s, _, _ := strings.Cut(a, ":")
		if service != "" && s != service {
			return "", false
		}
		service = s
	}
	return service, service != ""
}

// rank orders grants: the state's, the stack's resource types', and those
// on no particular resource.
func rank(g *grant) int {
	switch {
	case strings.HasPrefix(g.sid, "State"):
		return 0
	case g.sid == "ChecksLambdaConcurrency" || g.sid == "RegionWideLists" || g.sid == "NoResourceLevelPermissions":
		return 2
	}
	return 1
}

// ordered puts the state first, then the stack's resource types by name,
// and the grants on no particular resource last. (The program registers
// resources concurrently: their order is not the template's.)
func ordered(grants []*grant) []*grant {
	out := slices.Clone(grants)
	sort.SliceStable(out, func(i, j int) bool {
		if ri, rj := rank(out[i]), rank(out[j]); ri != rj {
			return ri < rj
		}
		if rank(out[i]) == 0 {
			return false // the state's own order: list, read, write
		}
		return out[i].sid < out[j].sid
	})
	return out
}

// statement is one rendered statement and its size as IAM counts it.
type statement struct {
	yaml commented
	size int
}

// commented is a value with a comment above it.
type commented struct {
	value   any
	comment string
}

// statement renders a grant for a policy.
func (p plan) statement(t tagContext, g *grant) (statement, error) {
	actions := slices.Clone(g.actions)
	sort.Strings(actions)
	resources := make([]string, len(g.resources))
	for i, res := range g.resources {
		resources[i] = p.normalize(res)
	}
	sort.Strings(resources)
	resources = slices.Compact(resources)
	conds := append(t.conditions(g.tags), g.conds...)

	s := obj{}.set("Sid", g.sid).set("Effect", "Allow").set("Action", flow(actions))
	list := make([]any, len(resources))
	for i, res := range resources {
		list[i] = text(res)
	}
	if len(list) == 1 {
		s = s.set("Resource", oneLine{list})
	} else {
		s = s.set("Resource", list)
	}
	plain := map[string]any{"Sid": g.sid, "Effect": "Allow", "Action": actions, "Resource": resources}
	if len(conds) > 0 {
		c, cp := p.conditionBlock(conds)
		s = s.set("Condition", oneLine{c})
		plain["Condition"] = cp
	}
	size, err := resolvedSize(plain, p.bucket)
	if err != nil {
		return statement{}, err
	}
	var comment []string
	for _, why := range g.reasons {
		if !p.explained[why] {
			p.explained[why] = true
			comment = append(comment, why)
		}
	}
	return statement{yaml: commented{value: s, comment: strings.Join(comment, "\n")}, size: size}, nil
}

// tagConditions are the conditions that limit a grant to the role's
// environment (and review stacks, or never them).
func (t tagContext) conditions(m tagMode) []condition {
	if m == untagged {
		return nil
	}
	key := "aws:ResourceTag/"
	if m == onRequest {
		key = "aws:RequestTag/"
	}
	out := []condition{
		{"StringEquals", key + "project", []string{t.project}},
		{"StringEquals", key + "environment", t.envs},
	}
	switch {
	case t.review:
		out = append(out, condition{"StringLike", key + "review-stack", []string{"pr-*"}})
	case t.notReview:
		out = append(out, condition{"Null", key + "review-stack", []string{"true"}})
	}
	if m == onRequest {
		// A create's grant holds the tag actions on resources nothing names
		// yet (KMS: any key). Without this, a role could put its tags on a
		// resource that carries another environment's and so reach it with
		// its tagged grants; a resource being created has no tags.
		out = append(out, condition{"Null", "aws:ResourceTag/project", []string{"true"}})
	}
	return out
}

// conditionBlock renders conditions grouped by operator, and the same as
// plain values for sizing.
func (p plan) conditionBlock(conds []condition) (obj, map[string]any) {
	ops := obj{}
	plain := map[string]any{}
	for _, c := range conds {
		var value any
		values := make([]string, len(c.values))
		for i, v := range c.values {
			values[i] = p.normalize(v)
		}
		if len(values) == 1 {
			value = text(values[0])
		} else {
			list := make([]any, len(values))
			for i, v := range values {
				list[i] = text(v)
			}
			value = list
		}
		i := slices.IndexFunc(ops, func(f field) bool { return f.key == c.op })
		if i < 0 {
			ops = ops.set(c.op, obj{})
			i = len(ops) - 1
			plain[c.op] = map[string]any{}
		}
		ops[i].value = ops[i].value.(obj).set(c.key, value)
		plain[c.op].(map[string]any)[c.key] = values
	}
	return ops, plain
}

// normalize turns the offline model's concrete ARNs into the template's:
// the region's partition (the ARNs name the region too), this account.
func (p plan) normalize(s string) string {
	s = strings.ReplaceAll(s, "arn:aws:", "arn:"+p.partition+":")
	return strings.ReplaceAll(s, modelAccount, "${AWS::AccountId}")
}

// resolvedSize is the statement's size as IAM counts it: CloudFormation's
// substitutions made, IAM's policy variables as written.
func resolvedSize(plain map[string]any, bucket string) (int, error) {
	b, err := json.Marshal(plain)
	if err != nil {
		return 0, err
	}
	s := strings.NewReplacer(
		"${AWS::AccountId}", modelAccount,
		"${StateBucket}", bucket,
	).Replace(string(b))
	return len(s), nil
}

// pack spreads statements over managed policies of at most
// ManagedPolicyLimit characters, in order.
func pack(statements []statement) [][]statement {
	const overhead = len(`{"Version":"2012-10-17","Statement":[]}`)
	var parts [][]statement
	size := overhead
	for _, s := range statements {
		if len(parts) == 0 || size+s.size+1 > ManagedPolicyLimit {
			parts = append(parts, nil)
			size = overhead
		}
		parts[len(parts)-1] = append(parts[len(parts)-1], s)
		size += s.size + 1
	}
	return parts
}
