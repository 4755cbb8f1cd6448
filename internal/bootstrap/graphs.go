package bootstrap

import (
	"fmt"
	"strconv"

	"github.com/org/tap-deploy/internal/artifacts"
	"github.com/org/tap-deploy/internal/graph"
	"github.com/org/tap-deploy/internal/offline"
	"github.com/org/tap-deploy/stack"
)

// accessModel is what a role's grants are worked out from: the stack
// program run offline for one configuration, its graph and the data
// sources it read.
type accessModel struct {
	graph *graph.Graph
	calls []offline.Call
}

// The configurations a role must be able to deploy: the defaults, and every
// optional feature on (an alarm e-mail subscription, reserved concurrency),
// so that switching one on later needs no new template.
var (
	defaults = map[string]string{}
	features = map[string]string{"alarmEmail": "alerts@example.com", "reservedConcurrency": "1"}
)

// code is the stack's packages as an update deploys them: uploaded from a
// local file (the offline model never reads it), or, for a rollback to code
// this binary does not hold, already in the artifacts bucket.
func code(uploaded bool) stack.Packages {
	out := artifacts.Placeholder()
	if uploaded {
		for k, c := range out {
			c.Path = "/offline/" + k + ".zip"
			out[k] = c
		}
	}
	return out
}

// accessModelOf runs the program for a configuration offline.
func accessModelOf(cfg stack.Config, stackName string, uploaded bool) (accessModel, error) {
	g, calls, err := offline.CollectWithCalls(stack.Program(cfg, code(uploaded)), cfg.Project, stackName, cfg.Region)
	if err != nil {
		return accessModel{}, fmt.Errorf("%s: %w", stackName, err)
	}
	return accessModel{graph: g, calls: calls}, nil
}

// environmentModels are the runs of an environment's stack a deploy or
// rollback role must cover: the defaults and the optional features, an
// update uploading code and a rollback to code already in the bucket, and,
// for the environment that owns the account's API Gateway logging role,
// that role.
func environmentModels(base stack.Base, ownsAPIGatewayAccount bool) ([]accessModel, error) {
	type variant struct {
		overrides map[string]string
		uploaded  bool
		teardown  stack.Teardown
	}
	// The last is the update before `destroy` with destroy-protected:
	// delete (guards lifted, the recorded code re-applied), after which
	// the destroy deletes every resource the stack has.
	variants := []variant{{defaults, true, stack.NoTeardown}, {features, true, stack.NoTeardown}, {features, false, stack.NoTeardown},
		{features, false, stack.TeardownDelete}}
	if ownsAPIGatewayAccount {
		variants = append(variants, variant{map[string]string{"manageApiGatewayAccount": "true"}, true, stack.NoTeardown})
	}
	var out []accessModel
	for _, v := range variants {
		cfg, err := stack.NewConfig(base, v.overrides)
		if err != nil {
			return nil, fmt.Errorf("environment %s: %w", base.Environment, err)
		}
		cfg.Teardown = v.teardown
		m, err := accessModelOf(cfg, base.Environment, v.uploaded)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// reviewModels are the runs of pull request pr's review stack of an
// environment: defaults and optional features.
func reviewModels(base stack.Base, pr int) ([]accessModel, error) {
	var out []accessModel
	for _, overrides := range []map[string]string{defaults, features} {
		cfg, err := stack.NewReviewStackConfig(base, overrides, pr)
		if err != nil {
			return nil, fmt.Errorf("review stacks of %s: %w", base.Environment, err)
		}
		m, err := accessModelOf(cfg, base.Environment+"-pr-"+strconv.Itoa(pr), true)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// The two pull requests whose review stacks make the review role's name
// patterns: their numbers share neither first nor last digit, so every name
// that carries the number turns into a wildcard there.
const (
	reviewPRLow  = 1
	reviewPRHigh = 999999
)
