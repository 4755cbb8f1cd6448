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
	grants   []*grant
	tags     tagContext
	// The output that gives its ARN, and where the workflows read it.
	output      string
	variable    string
	environment string
}

// tagContext fills in a role's tag conditions.
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
	roles        []role
	logsRoleName string
}

func namer(o Options, suffix string) stack.Namer {
	return stack.NewNamer(stack.Config{Base: stack.Base{Project: o.Project, Region: o.Region}, EnvironmentSuffix: suffix}, modelAccount)
}

// build runs the stack offline for every environment and works out the
// roles.
func build(o Options) (obj, error) {
	p := plan{opts: o, prefix: o.Project, bucket: o.StateBucket}
	if p.bucket == "" {
		p.bucket = namer(o, "pulumi").Name(awsfacts.BucketName, "state")
	}
	if o.APIGatewayAccount == OwnerTemplate {
		p.logsRoleName = namer(o, "apigw").Name(awsfacts.RoleName, "logs")
	}
	repo := "repo:" + o.Repository

	preview := newBuilder(o.Region, readOnly)
	var envRoles []role
	for _, env := range o.Environments {
		models, err := environmentModels(stack.Base{Project: o.Project, Environment: env, Region: o.Region}, o.APIGatewayAccount == env)
		if err != nil {
			return nil, err
		}
		deploy, drift := newBuilder(o.Region, readWrite), newBuilder(o.Region, readOnly)
		for _, m := range models {
			for _, b := range []*builder{preview, deploy, drift} {
				if err := b.graph(m); err != nil {
					return nil, err
				}
			}
		}
		deploy.ownCalls()
		suffix := pascal(env)
		envRoles = append(envRoles,
			role{logical: "DeployRole" + suffix, name: namer(o, env).Name(awsfacts.RoleName, "github-deploy"),
				description: fmt.Sprintf("GitHub Actions: deploy and rollback of %s %s (%s)", o.Project, env, o.Repository),
				subjects:    []string{repo + ":environment:" + env},
				grants:      withState(writeState(p.prefix, o.Project, env), deploy.grants),
				tags:        tagContext{project: o.Project, envs: []string{env}, notReview: true},
				output:      "DeployRoleArn" + suffix, variable: VarDeployRole, environment: env},
			role{logical: "DriftRole" + suffix, name: namer(o, env).Name(awsfacts.RoleName, "github-drift"),
				description: fmt.Sprintf("GitHub Actions: drift checks of %s %s, read only (%s)", o.Project, env, o.Repository),
				subjects:    []string{repo + ":environment:" + env + DriftSuffix},
				grants:      withState(readState(p.prefix, o.Project, env), drift.grants),
				tags:        tagContext{project: o.Project, envs: []string{env}},
				output:      "DriftRoleArn" + suffix, variable: VarDriftRole, environment: env + DriftSuffix},
		)
	}

	previewRole := role{logical: "PreviewRole", name: namer(o, "github").Name(awsfacts.RoleName, "preview"),
		description: fmt.Sprintf("GitHub Actions: pull request previews of %s, read only (%s)", o.Project, o.Repository),
		subjects:    []string{repo + ":pull_request"},
		grants:      withState(readAllState(p.prefix), preview.grants),
		tags:        tagContext{project: o.Project, envs: o.Environments},
		output:      "PreviewRoleArn", variable: VarPreviewRole}
	if o.MergeQueue {
		// A merge-queue check is not a pull_request event: it presents the
		// queue's branch.
		previewRole.like = []string{repo + ":ref:refs/heads/gh-readonly-queue/*"}
	}
	p.roles = append([]role{previewRole}, envRoles...)

	if o.ReviewEnvironment != OwnerNone {
		grants, err := reviewGrants(o)
		if err != nil {
			return nil, err
		}
		p.roles = append(p.roles, role{logical: "ReviewRole", name: namer(o, "github").Name(awsfacts.RoleName, "review"),
			description: fmt.Sprintf("GitHub Actions: review stacks of %s %s and their sweep (%s)", o.Project, o.ReviewEnvironment, o.Repository),
			subjects:    []string{repo + ":environment:" + ReviewGitHubEnvironment},
			grants:      withState(reviewState(path.Join(p.prefix, inputs.ReviewPath)), grants),
			tags:        tagContext{project: o.Project, envs: []string{o.ReviewEnvironment}, review: true},
			output:      "ReviewRoleArn", variable: VarReviewRole, environment: ReviewGitHubEnvironment})
	}
	if err := p.check(); err != nil {
		return nil, err
	}
	return p.document()
}

// reviewGrants are the review role's: what two review stacks need, their
// names turned into patterns that every review stack of the environment
// matches.
func reviewGrants(o Options) ([]*grant, error) {
	base := stack.Base{Project: o.Project, Environment: o.ReviewEnvironment, Region: o.Region}
	low, err := reviewModels(base, reviewPRLow)
	if err != nil {
		return nil, err
	}
	high, err := reviewModels(base, reviewPRHigh)
	if err != nil {
		return nil, err
	}
	b := newBuilder(o.Region, readWrite)
	for i := range low {
		if err := b.graphs(low[i], high[i]); err != nil {
			return nil, err
		}
	}
	b.ownCalls()
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

// check refuses a template whose roles could manage each other: no
// statement of a role may name another role of the template (a deploy
// role that could rewrite the preview role's policy would be an admin).
func (p plan) check() error {
	names := []string{p.logsRoleName}
	for _, r := range p.roles {
		names = append(names, r.name)
	}
	for _, r := range p.roles {
		for _, g := range r.grants {
			for _, res := range g.resources {
				for _, n := range names {
					if n != "" && strings.Contains(res, ":role/") && matches(res, roleARN(n)) {
						return fmt.Errorf("the %s role's statement %s would reach the template's own role %s; choose another project or environment name", r.logical, g.sid, n)
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

	for _, r := range p.roles {
		var err error
		if resources, err = p.role(resources, r); err != nil {
			return nil, err
		}
		where := "repository variable " + r.variable
		if r.environment != "" {
			where = fmt.Sprintf("variable %s of the GitHub environment %s", r.variable, r.environment)
		}
		subjects := strings.Join(append(append([]string(nil), r.subjects...), r.like...), ", ")
		outputs = outputs.set(r.output, obj{}.
			set("Description", fmt.Sprintf("The %s role; set it as the %s (OIDC subject %s)", r.name, where, subjects)).
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

// role adds a role and its managed policies.
func (p plan) role(resources obj, r role) (obj, error) {
	resources = resources.note(fmt.Sprintf("%s.\nTrusts only the OIDC subject %s.", r.description,
		strings.Join(append(append([]string(nil), r.subjects...), r.like...), " and ")),
		r.logical, obj{}.
			set("Type", "AWS::IAM::Role").
			set("Properties", obj{}.
				set("RoleName", r.name).
				set("Description", r.description).
				set("MaxSessionDuration", 3600).
				set("AssumeRolePolicyDocument", trust(r)).
				set("Tags", tags(p.opts.Project))))

	statements := make([]statement, 0, len(r.grants))
	for _, g := range ordered(alike(r.grants)) {
		s, err := p.statement(r, g)
		if err != nil {
			return nil, err
		}
		statements = append(statements, s)
	}
	parts := pack(statements)
	for i, part := range parts {
		list := make([]any, len(part))
		for j, s := range part {
			list[j] = s.yaml
		}
		resources = resources.set(fmt.Sprintf("%sPolicy%d", r.logical, i+1), obj{}.
			set("Type", "AWS::IAM::ManagedPolicy").
			set("Properties", obj{}.
				set("Description", fmt.Sprintf("%s, part %d of %d", r.description, i+1, len(parts))).
				set("Roles", []any{ref(r.logical)}).
				set("PolicyDocument", obj{}.
					set("Version", "2012-10-17").
					set("Statement", list))))
	}
	return resources, nil
}

// trust is a role's trust policy: GitHub's OIDC tokens for this audience
// and these subjects only.
func trust(r role) obj {
	provider := fnIf("CreateGitHubOidcProvider", ref("GitHubOidcProvider"),
		sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:oidc-provider/"+oidcHost))
	statement := func(sid, op string, subjects []string) obj {
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
		return obj{}.
			set("Sid", sid).
			set("Effect", "Allow").
			set("Principal", obj{}.set("Federated", provider)).
			set("Action", "sts:AssumeRoleWithWebIdentity").
			set("Condition", cond)
	}
	list := []any{statement("GitHubActions", "StringEquals", r.subjects)}
	if len(r.like) > 0 {
		list = append(list, statement("GitHubMergeQueue", "StringLike", r.like))
	}
	return obj{}.set("Version", "2012-10-17").set("Statement", list)
}

// alike folds grants that allow the same actions on the same resources
// under the same conditions (API Gateway's children, which all go through
// their API's tags) into the first of them.
func alike(grants []*grant) []*grant {
	key := func(g *grant) string {
		a, r := slices.Clone(g.actions), slices.Clone(g.resources)
		sort.Strings(a)
		sort.Strings(r)
		return fmt.Sprint(a, r, g.tags, g.conds)
	}
	sorted := slices.Clone(grants)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].sid < sorted[j].sid })
	first := map[string]*grant{}
	var out []*grant
	for _, g := range sorted {
		k := key(g)
		if f, ok := first[k]; ok {
			f.alsoFor = append(f.alsoFor, g.sid)
			continue
		}
		c := *g
		c.reasons = slices.Clone(g.reasons)
		first[k] = &c
		out = append(out, &c)
	}
	return out
}

// ordered puts the state first, then the stack's resource types by name,
// and the grants on no particular resource last. (The program registers
// resources concurrently: their order is not the template's.)
func ordered(grants []*grant) []*grant {
	rank := func(g *grant) int {
		switch {
		case strings.HasPrefix(g.sid, "State"):
			return 0
		case g.sid == "ChecksLambdaConcurrency" || g.sid == "RegionWideLists" || g.sid == "NoResourceLevelPermissions":
			return 2
		}
		return 1
	}
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

// statement renders a grant for a role.
func (p plan) statement(r role, g *grant) (statement, error) {
	actions := slices.Clone(g.actions)
	sort.Strings(actions)
	resources := make([]string, len(g.resources))
	for i, res := range g.resources {
		resources[i] = normalize(res)
	}
	sort.Strings(resources)
	resources = slices.Compact(resources)
	conds := append(r.tagConditions(g.tags), g.conds...)

	s := obj{}.set("Sid", g.sid).set("Effect", "Allow").set("Action", actions)
	list := make([]any, len(resources))
	for i, res := range resources {
		list[i] = text(res)
	}
	s = s.set("Resource", list)
	plain := map[string]any{"Sid": g.sid, "Effect": "Allow", "Action": actions, "Resource": resources}
	if len(conds) > 0 {
		c, cp := conditionBlock(conds)
		s = s.set("Condition", c)
		plain["Condition"] = cp
	}
	size, err := resolvedSize(plain, p.bucket)
	if err != nil {
		return statement{}, err
	}
	comment := g.reasons
	if len(g.alsoFor) > 0 {
		comment = append(slices.Clone(comment), "The same for "+strings.Join(g.alsoFor, ", ")+".")
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
	return out
}

func (r role) tagConditions(m tagMode) []condition { return r.tags.conditions(m) }

// conditionBlock renders conditions grouped by operator, and the same as
// plain values for sizing.
func conditionBlock(conds []condition) (obj, map[string]any) {
	ops := obj{}
	plain := map[string]any{}
	for _, c := range conds {
		var value any
		values := make([]string, len(c.values))
		for i, v := range c.values {
			values[i] = normalize(v)
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
// any partition, this account.
func normalize(s string) string {
	s = strings.ReplaceAll(s, "arn:aws:", "arn:${AWS::Partition}:")
	return strings.ReplaceAll(s, modelAccount, "${AWS::AccountId}")
}

// resolvedSize is the statement's size as IAM counts it, with the
// template's substitutions at their longest.
func resolvedSize(plain map[string]any, bucket string) (int, error) {
	b, err := json.Marshal(plain)
	if err != nil {
		return 0, err
	}
	s := strings.NewReplacer(
		"${AWS::Partition}", "aws-us-gov",
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
