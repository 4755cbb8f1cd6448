// Package deployment records an update as a GitHub deployment, so that the
// pull request's timeline and the repository's Environments page show
// "deployed to staging" with a link to the API. A create whose answer was
// lost is found again by its key, never made twice.
package deployment

import (
	"context"
	"fmt"

	"github.com/org/tap-deploy/internal/github"
)

// API is what a deployment needs from GitHub.
type API interface {
	CreateDeployment(ctx context.Context, owner, repo string, d github.NewDeployment) (github.Deployment, error)
	ListDeployments(ctx context.Context, owner, repo, sha, environment string) ([]github.Deployment, error)
	CreateDeploymentStatus(ctx context.Context, owner, repo string, id int64, s github.DeploymentStatus) error
}

var _ API = (*github.Client)(nil)

// Spec is one update's deployment.
type Spec struct {
	Owner, Repo string
	// Ref is the commit deployed; Environment the GitHub environment.
	Ref         string
	Environment string
	Description string
	LogURL      string
	Transient   bool
	// Key identifies this run's deployment (run id and attempt).
	Key string
}

// createAttempts bounds how often a lost create is tried again.
const createAttempts = 3

// Start creates the deployment and moves it to in_progress.
func Start(ctx context.Context, api API, s Spec) (int64, error) {
	desc := s.Description
	if r := []rune(desc); len(r) > 140 { // GitHub's limit
		desc = string(r[:139]) + "…"
	}
	for attempt := 1; ; attempt++ {
		d, err := api.CreateDeployment(ctx, s.Owner, s.Repo, github.NewDeployment{
			Ref: s.Ref, Environment: s.Environment, Description: desc, Transient: s.Transient, Key: s.Key,
		})
		if err != nil && github.MaybeDone(err) && attempt < createAttempts {
			// GitHub may have created it although the answer was an error.
			if id, found, lerr := find(ctx, api, s); lerr == nil && found {
				d, err = github.Deployment{ID: id}, nil
			} else {
				continue
			}
		}
		if err != nil {
			return 0, err
		}
		return d.ID, api.CreateDeploymentStatus(ctx, s.Owner, s.Repo, d.ID, github.DeploymentStatus{State: "in_progress", LogURL: s.LogURL})
	}
}

func find(ctx context.Context, api API, s Spec) (int64, bool, error) {
	ds, err := api.ListDeployments(ctx, s.Owner, s.Repo, s.Ref, s.Environment)
	if err != nil {
		return 0, false, err
	}
	for _, d := range ds {
		if d.Key == s.Key {
			return d.ID, true, nil
		}
	}
	return 0, false, nil
}

// Finish moves the deployment to success (with the environment's URL; the
// environment's older deployments become inactive) or failure.
func Finish(ctx context.Context, api API, s Spec, id int64, ok bool, environmentURL string) error {
	st := github.DeploymentStatus{State: "failure", LogURL: s.LogURL, Description: "the update failed"}
	if ok {
		st = github.DeploymentStatus{State: "success", LogURL: s.LogURL, EnvironmentURL: environmentURL}
	}
	if err := api.CreateDeploymentStatus(ctx, s.Owner, s.Repo, id, st); err != nil {
		return fmt.Errorf("finishing deployment %d: %w", id, err)
	}
	return nil
}

// Deactivate marks every deployment to an environment inactive (a review
// stack that was destroyed).
func Deactivate(ctx context.Context, api API, owner, repo, environment string) error {
	ds, err := api.ListDeployments(ctx, owner, repo, "", environment)
	if err != nil {
		return err
	}
	for _, d := range ds {
		if err := api.CreateDeploymentStatus(ctx, owner, repo, d.ID, github.DeploymentStatus{State: "inactive"}); err != nil {
			return err
		}
	}
	return nil
}
