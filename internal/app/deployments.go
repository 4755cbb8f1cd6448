package app

import (
	"context"
	"strings"

	"github.com/org/tap-deploy/internal/deployment"
	"github.com/org/tap-deploy/internal/outcome"
)

// tracked is an update's GitHub deployment while the update runs.
type tracked struct {
	spec deployment.Spec
	id   int64
}

// startDeployment records an update as a GitHub deployment of its commit
// to the environment (github-deployments). GitHub refusing (no
// `deployments: write`) is a warning: the update goes on.
func (r *run) startDeployment(ctx context.Context, u update) *tracked {
	if !r.in.Deployments || r.github == nil {
		return nil
	}
	if u.sha == "" {
		r.Runtime.Infof("no commit to record a GitHub deployment of")
		return nil
	}
	repo := r.facts.repo
	spec := deployment.Spec{
		Owner: repo.Owner, Repo: repo.Name, Ref: u.sha, Environment: r.in.Environment,
		Description: r.Runtime.Redact(u.message), LogURL: r.facts.runURL, Transient: u.kind == reviewStackUpdate,
		Key: strings.Join([]string{r.Getenv("GITHUB_RUN_ID"), r.Getenv("GITHUB_RUN_ATTEMPT"), u.title}, "/"),
	}
	if u.kind == reviewStackUpdate {
		spec.Environment = u.stack
	}
	id, err := deployment.Start(ctx, r.github, spec)
	if err != nil {
		r.Runtime.Warningf("could not record a GitHub deployment (the update goes on): %v", err)
		return nil
	}
	r.Runtime.Infof("GitHub deployment %d to %s: in progress", id, spec.Environment)
	return &tracked{spec: spec, id: id}
}

// finishDeployment marks the deployment a success, with the API's URL as
// the environment's, or a failure.
func (r *run) finishDeployment(ctx context.Context, t *tracked, ok bool, res outcome.Result) {
	if t == nil {
		return
	}
	url, _ := res.KnownOutputs()["apiUrl"].(string)
	if r.Runtime.Redact(url) != url {
		// Deployments are read by everyone with read access, unmasked.
		r.Runtime.Warningf("the API's URL holds a masked secret: GitHub deployment %d records no environment URL", t.id)
		url = ""
	}
	if err := deployment.Finish(ctx, r.github, t.spec, t.id, ok, url); err != nil {
		r.Runtime.Warningf("could not finish GitHub deployment %d: %v", t.id, err)
	}
}
