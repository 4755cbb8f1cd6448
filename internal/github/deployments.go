package github

import (
	"context"
	"encoding/json"
	"fmt"

	gh "github.com/google/go-github/v60/github"
)

// Deployment is a GitHub deployment of a ref to an environment.
type Deployment struct {
	ID          int64
	Ref         string
	Environment string
	// Key is the payload key that tells one run's deployment from others
	// of the same commit (see NewDeployment.Key).
	Key string
}

// NewDeployment is a deployment to create.
type NewDeployment struct {
	Ref         string
	Environment string
	Description string
	// Transient marks an environment that goes away (a review stack).
	Transient bool
	// Key is stored in the payload so that a create whose answer was lost
	// can be found again instead of made twice.
	Key string
}

// DeploymentStatus is a state a deployment moves to.
type DeploymentStatus struct {
	// State is in_progress, success, failure, error or inactive.
	State          string
	EnvironmentURL string
	LogURL         string
	Description    string
}

// CreateDeployment creates a deployment; it does not merge the default
// branch in (auto_merge off) and waits for no status checks.
func (c *Client) CreateDeployment(ctx context.Context, owner, repo string, d NewDeployment) (Deployment, error) {
	dep, _, err := c.gh.Repositories.CreateDeployment(ctx, owner, repo, &gh.DeploymentRequest{
		Ref: gh.String(d.Ref), Environment: gh.String(d.Environment), Description: gh.String(d.Description),
		AutoMerge: gh.Bool(false), RequiredContexts: &[]string{}, TransientEnvironment: gh.Bool(d.Transient),
		Payload: map[string]string{"tap-deploy": d.Key},
	})
	if err != nil {
		return Deployment{}, classify(err, "create a deployment to "+d.Environment, "deployments: write")
	}
	return toDeployment(dep), nil
}

// ListDeployments returns the deployments of a commit to an environment
// ("" for any), following every page.
func (c *Client) ListDeployments(ctx context.Context, owner, repo, sha, environment string) ([]Deployment, error) {
	opts := &gh.DeploymentsListOptions{SHA: sha, Environment: environment, ListOptions: gh.ListOptions{PerPage: 100}}
	var out []Deployment
	for {
		page, resp, err := c.gh.Repositories.ListDeployments(ctx, owner, repo, opts)
		if err != nil {
			return nil, classify(err, "list the deployments to "+environment, "deployments: read")
		}
		for _, d := range page {
			out = append(out, toDeployment(d))
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

// CreateDeploymentStatus moves a deployment to a state. A success makes the
// environment's earlier deployments inactive (GitHub's auto_inactive).
func (c *Client) CreateDeploymentStatus(ctx context.Context, owner, repo string, id int64, s DeploymentStatus) error {
	req := &gh.DeploymentStatusRequest{State: gh.String(s.State)}
	if s.EnvironmentURL != "" {
		req.EnvironmentURL = gh.String(s.EnvironmentURL)
	}
	if s.LogURL != "" {
		req.LogURL = gh.String(s.LogURL)
	}
	if s.Description != "" {
		req.Description = gh.String(s.Description)
	}
	if s.State == "success" {
		req.AutoInactive = gh.Bool(true)
	}
	if _, _, err := c.gh.Repositories.CreateDeploymentStatus(ctx, owner, repo, id, req); err != nil {
		return classify(err, fmt.Sprintf("set deployment %d to %s", id, s.State), "deployments: write")
	}
	return nil
}

func toDeployment(d *gh.Deployment) Deployment {
	out := Deployment{ID: d.GetID(), Ref: d.GetRef(), Environment: d.GetEnvironment()}
	var payload map[string]any
	if err := json.Unmarshal(d.Payload, &payload); err == nil {
		out.Key, _ = payload["tap-deploy"].(string)
	}
	return out
}
