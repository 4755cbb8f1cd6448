package bootstrap

import (
	"fmt"
	"slices"
	"strings"

	"github.com/org/tap-deploy/internal/iampattern"
	"github.com/org/tap-deploy/stack"
)

// environment is one environment's template: its deploy role (deploys,
// rollbacks, promotions), its drift role (read only), and the permissions
// boundary every role of its stack carries.
type environment struct {
	o   Options
	env string
	// readParts are the account's read policies, which its roles attach.
	readParts []string
	deploy    role
	drift     role
	policies  []policy
	boundary  policy
	// owns says its stack sets the region's API Gateway logging role.
	owns bool
}

func newEnvironment(o Options, env string, readParts []string) (*environment, error) {
	base := stack.Base{Project: o.Project, Environment: env, Region: o.Region}
	e := &environment{o: o, env: env, readParts: readParts, owns: o.APIGatewayLogging == env}
	models, err := environmentModels(base, e.owns)
	if err != nil {
		return nil, err
	}
	deploy := newGrantBuilder(o.Project, o.Region, writeOnly)
	deploy.boundary = boundaryARN(stack.BoundaryName(base))
	deploy.keyAdmin = roleARN(stack.DeployRoleName(base))
	for _, m := range models {
		if err := deploy.graph(m); err != nil {
			return nil, err
		}
	}
	deploy.ownUpdates()
	bounds, err := boundaryGrants(o.Project, o.Region, models, nil)
	if err != nil {
		return nil, err
	}

	repo := "repo:" + o.Repository
	e.deploy = role{logical: "DeployRole", name: stack.DeployRoleName(base), env: env,
		description: fmt.Sprintf("GitHub Actions: deploy, rollback and promotion of %s %s (%s)", o.Project, env, o.Repository),
		subjects:    []string{repo + ":environment:" + env}, maxSession: DeploySession, attached: readParts,
		output: "DeployRoleArn", variable: VarDeployRole, environment: env}
	driftSubjects := []string{repo + ":environment:" + env + DriftSuffix}
	for _, p := range o.Promotions {
		if p.From == env {
			// A deploy of another account's environment that promotes
			// from this one reads it through this read-only role.
			driftSubjects = append(driftSubjects, repo+":environment:"+p.To)
		}
	}
	e.drift = role{logical: "DriftRole", name: stack.DriftRoleName(base), env: env,
		description: fmt.Sprintf("GitHub Actions: drift checks of %s %s, read only (%s)", o.Project, env, o.Repository),
		subjects:    driftSubjects, maxSession: ReadSession, attached: readParts,
		output: "DriftRoleArn", variable: VarDriftRole, environment: env + DriftSuffix}

	tags := tagContext{project: o.Project, envs: []string{env}, notReview: true}
	e.policies = []policy{
		{logical: "DriftRolePolicy", description: fmt.Sprintf("Drift checks of %s %s: its state, read only", o.Project, env),
			roles: []string{e.drift.logical}, grants: withState(readState(o.Project, o.Project, env), nil)},
		{logical: "DeployRolePolicy", description: fmt.Sprintf("Deploys, rollbacks and promotions of %s %s: what they change", o.Project, env),
			roles: []string{e.deploy.logical}, grants: withState(writeState(o.Project, o.Project, env), deploy.grants),
			denied: keepOut(o, roleARN(e.deploy.name), roleARN(e.drift.name), boundaryARN(stack.BoundaryName(base))), tags: tags},
	}
	e.boundary = policy{logical: "Boundary", named: func(int) string { return stack.BoundaryName(base) }, grants: bounds,
		description: fmt.Sprintf("Permissions boundary of every role of %s %s: what its functions, CodeDeploy and API Gateway are given, on its resources", o.Project, env),
		tags:        tags}
	refused := func(p string) bool { return reaches(o, p) != "" }
	for i := range e.policies {
		e.policies[i].grants = fold(e.policies[i], refused)
	}
	e.boundary.grants = fold(e.boundary, refused)
	return e, nil
}

// what says what the template holds.
func (e *environment) what() string {
	return e.env + "'s deploy and drift roles, the boundary of its stack's roles"
}

// template renders the environment's template.
func (e *environment) template() ([]byte, error) {
	o := e.o
	w := newWriter(o, o.stateBucket())
	provider := sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:oidc-provider/" + oidcHost)
	if err := w.boundary(e.boundary, "The permissions boundary of every role of "+e.env+"'s stack: its deploy role writes only roles that carry it."); err != nil {
		return nil, err
	}
	for _, r := range []role{e.drift, e.deploy} {
		w.role(r, provider)
		for _, pol := range e.policies {
			if pol.roles[0] == r.logical {
				if _, err := w.policy(pol); err != nil {
					return nil, err
				}
			}
		}
	}
	changes := "none"
	if e.owns {
		changes = "none itself; its deploy role may set the region's API Gateway CloudWatch logging role, which " + e.env + "'s stack owns (manageApiGatewayAccount=true)"
	}
	var trusts []string
	for _, p := range o.Promotions {
		if p.From == e.env {
			trusts = append(trusts, p.To)
		}
	}
	lines := []string{
		"Made by: " + commandLine(o, e.env),
		e.env + "'s template of " + o.Project + " for " + o.Repository + " in " + o.Region + ": " + e.what() + ".",
		"Deploy it after the account's (its roles hold the account's read policies), as an administrator of the account:",
		"  " + DeployCommand(o, File{Name: e.env + ".yaml", Stack: EnvironmentStack(o, e.env), Environment: e.env}, "."),
		"Account-wide settings it changes: " + changes + ".",
	}
	if len(trusts) > 0 {
		lines = append(lines, fmt.Sprintf("Its drift role also trusts the deploy jobs of %s (another account), which promote from %s.", strings.Join(trusts, ", "), e.env))
	}
	lines = append(lines, "Generated from the stack's resource graph: do not edit; run tap-deploy bootstrap again when the stack changes.")
	doc := obj{}.
		set("AWSTemplateFormatVersion", "2010-09-09").
		set("Description", fmt.Sprintf("tap-deploy bootstrap of %s %s for %s in %s: %s", o.Project, e.env, o.Repository, o.Region, e.what())).
		set("Resources", w.resources).
		set("Outputs", w.outputs)
	return render(doc, header(lines...))
}

// checkApart refuses templates in which a role could change what is not
// its own: no statement may reach the templates' own roles, managed
// policies or state bucket (but through the state's statements), and no
// environment's role may name another environment's resources, nor the
// review role an environment's. Each problem names both.
func checkApart(o Options, a *account, envs []*environment) error {
	if err := checkOffTheTemplates(o, a, envs); err != nil {
		return err
	}
	if err := checkEnvironmentsApart(envs); err != nil {
		return err
	}
	return checkReviewApart(o, a, envs)
}

// checkOffTheTemplates: no statement but the state's reaches the
// templates' own roles, managed policies or state bucket.
func checkOffTheTemplates(o Options, a *account, envs []*environment) error {
	type owner struct {
		who      string
		policies []policy
	}
	owners := []owner{{"the account's roles", a.policiesAll()}}
	for _, e := range envs {
		owners = append(owners, owner{e.env, append(slices.Clone(e.policies), e.boundary)})
	}
	for _, ow := range owners {
		for _, pol := range ow.policies {
			for _, g := range pol.grants {
				if strings.HasPrefix(g.sid, "State") {
					continue
				}
				for _, res := range g.resources {
					if what := reaches(o, res); what != "" {
						return fmt.Errorf("%s's statement %s of %s would reach the templates' own %s; choose another project, environment or state bucket name", pol.logical, g.sid, ow.who, what)
					}
				}
			}
		}
	}
	return nil
}

// changes is what an environment's deploy role may change that is its
// own: by a name that carries the environment (not AWS's own
// configurations and managed policies, which every environment names
// alike).
func (e *environment) changes() []string {
	var out []string
	for _, g := range e.policies[1].grants {
		if strings.HasPrefix(g.sid, "State") || g.tags != untagged {
			continue
		}
		for _, r := range g.resources {
			if r != "*" && replaceWord(r, e.env, "\x00") != r {
				out = append(out, r)
			}
		}
	}
	return out
}

// checkEnvironmentsApart: no environment's deploy role names what
// another's changes.
func checkEnvironmentsApart(envs []*environment) error {
	for _, x := range envs {
		for _, y := range envs {
			if x == y {
				continue
			}
			theirs := y.changes()
			for _, pattern := range x.changes() {
				for _, r := range theirs {
					if iampattern.Match(pattern, r) && !iampattern.Match(r, pattern) {
						return fmt.Errorf("--environment: %s's deploy role would change %s's resources (its pattern %s matches %s); rename one of them", x.env, y.env, pattern, r)
					}
					if pattern == r {
						return fmt.Errorf("--environment: %s and %s would both name %s; rename one of them", x.env, y.env, r)
					}
				}
			}
		}
	}
	return nil
}

// checkReviewApart: the review role's patterns name no environment's
// resources.
func checkReviewApart(o Options, a *account, envs []*environment) error {
	if a.boundary == nil {
		return nil
	}
	review := a.policies[len(a.policies)-1]
	for _, y := range envs {
		for _, g := range review.grants {
			if strings.HasPrefix(g.sid, "State") || g.tags != untagged {
				continue
			}
			for _, pattern := range g.resources {
				for _, r := range y.changes() {
					if pattern != "*" && iampattern.Match(pattern, r) {
						return fmt.Errorf("--environment: the review role of %s's review stacks would change %s's resources (its pattern %s matches %s); rename %s", o.ReviewEnvironment, y.env, pattern, r, y.env)
					}
				}
			}
		}
	}
	return nil
}
