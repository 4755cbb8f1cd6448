package app

// A run cancelled while an AWS call of the traffic shift is in flight.

import (
	"context"
	"fmt"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/sethvargo/go-githubactions"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/actions"
	"github.com/org/tap-deploy/internal/engine"
	"github.com/org/tap-deploy/internal/redact"
	"github.com/org/tap-deploy/internal/shift"
	"github.com/org/tap-deploy/stack"
	"github.com/org/tap-deploy/test/stacktest"
)

// sdkTraffic behaves as the AWS SDK does once the run's context is
// cancelled: every call fails at once. cancelAt cancels the run during
// the named call ("Get" or "Start") the n-th time it is made, as a
// workflow's cancellation (SIGTERM) does when it arrives while that HTTP
// call is in flight.
type sdkTraffic struct {
	*fakeTraffic
	cancel   context.CancelFunc
	cancelAt string
	n        int
	calls    map[string]int
}

func (s *sdkTraffic) call(ctx context.Context, op string) error {
	s.calls[op]++
	if op == s.cancelAt && s.calls[op] == s.n {
		s.cancel()
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("operation error CodeDeploy: %s, canceled, %w", op, err)
	}
	return nil
}

func (s *sdkTraffic) Active(ctx context.Context, app, group string) ([]shift.Deployment, error) {
	if err := s.call(ctx, "Active"); err != nil {
		return nil, err
	}
	return s.fakeTraffic.Active(ctx, app, group)
}

func (s *sdkTraffic) Get(ctx context.Context, id string) (shift.Deployment, error) {
	if err := s.call(ctx, "Get"); err != nil {
		return shift.Deployment{}, err
	}
	return s.fakeTraffic.Get(ctx, id)
}

func (s *sdkTraffic) Start(ctx context.Context, app string, f shift.Function, config, description string) (string, error) {
	if err := s.call(ctx, "Start"); err != nil {
		return "", err
	}
	return s.fakeTraffic.Start(ctx, app, f, config, description)
}

func (s *sdkTraffic) Stop(ctx context.Context, id string) error {
	if err := s.call(ctx, "Stop"); err != nil {
		return err
	}
	return s.fakeTraffic.Stop(ctx, id)
}

func (s *sdkTraffic) Alias(ctx context.Context, function, alias string) (shift.Alias, error) {
	if err := s.call(ctx, "Alias"); err != nil {
		return shift.Alias{}, err
	}
	return s.fakeTraffic.Alias(ctx, function, alias)
}

// runCancellable is harness.run with a context the test cancels and the
// SDK-like CodeDeploy above (harness.run passes context.Background()).
func (h *harness) runCancellable(cancelAt string, n int) error {
	h.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	traffic := &sdkTraffic{fakeTraffic: h.traffic, cancel: cancel, cancelAt: cancelAt, n: n, calls: map[string]int{}}
	getenv := func(k string) string { return h.env[k] }
	rt := actions.NewGitHub(githubactions.New(githubactions.WithGetenv(getenv), githubactions.WithWriter(&h.stdout)), redact.New())
	d := Deps{
		Runtime: rt, Input: func(name string) string { return h.inputs[name] }, Getenv: getenv, InActions: true, WorkDir: h.dir,
		Now: h.clock.Now, Sleep: h.clock.Sleep,
		OpenStack: func(_ context.Context, s engine.Settings, _ pulumi.RunFunc) (Stack, error) {
			h.opened = append(h.opened, s)
			return h.stack, nil
		},
		Backend:   quietBackend{},
		NewGitHub: func(string, string) (GitHub, error) { return h.gh, nil },
		AWSAccount: func(context.Context, string) (Account, error) {
			return nil, fmt.Errorf("this test expects no call to AWS")
		},
		Traffic:  func(context.Context, string) (Traffic, error) { return traffic, nil },
		Packages: func(string) (stack.Packages, error) { return stacktest.Packages(h.t, "a"), nil },
		Version:  "v1.0.0-test",
	}
	return Run(ctx, d)
}

// A workflow's cancellation (SIGINT, then SIGTERM) can arrive while an
// AWS call of the shift is in flight, not only between two looks
// (TestDeploy_CancelledDuringAShiftLeavesItToCodeDeploy). Cancelled while
// it reads running shifts, every shift has started: the run leaves them
// to CodeDeploy and says so. Cancelled between two starts, the run stops
// the one it started, with a context of its own, so the rollout is not
// left mixed; it never says no traffic moved while a shift goes on.
func TestTraffic_ACancelledRunStopsWhatItStartedOrSaysTheShiftsGoOn(t *testing.T) {
	for name, at := range map[string]struct {
		call    string
		n       int
		running int
		says    string
	}{
		"cancelled while reading a running shift": {"Get", 1, 3, "the shifts go on without this run"},
		"cancelled between two shifts' starts":    {"Start", 2, 0, "stopped with the release; CodeDeploy returns all traffic to version 1"},
	} {
		t.Run(name, func(t *testing.T) {
			h := pushHarness(t)
			h.inputs["deployment-preference"] = "Canary10Percent5Minutes"
			h.publishes("2")
			for _, f := range []string{apiFunction, "tap-dev-file-processor", "tap-dev-stream-processor"} {
				h.traffic.script[f] = []look{{status: shift.InProgress, share: 10}}
			}
			require.ErrorIs(t, h.runCancellable(at.call, at.n), ErrReported)

			require.Positive(t, len(h.traffic.shifts), "a shift was started")
			assert.Equal(t, at.running, len(h.traffic.shifts)-len(h.traffic.stopped), "shifts left running")
			report := h.log() + h.summaryText()
			assert.Contains(t, report, at.says)
			if at.running > 0 {
				assert.NotContains(t, report, "take no traffic", "a shift goes on in CodeDeploy")
			}
		})
	}
}

// quietBackend is a backend holding the stack, with its layout, no locks
// and no other stacks, and every tool installed.
type quietBackend struct{}

func (quietBackend) FindTools(string) error { return nil }
func (quietBackend) ListStacks(context.Context, engine.Settings) ([]engine.StackSummary, error) {
	return nil, nil
}
func (quietBackend) Locks(context.Context, engine.Settings) ([]string, error)   { return nil, nil }
func (quietBackend) StackExists(context.Context, engine.Settings) (bool, error) { return true, nil }
func (quietBackend) LayoutWritten(context.Context, engine.Settings) (bool, error) {
	return true, nil
}
