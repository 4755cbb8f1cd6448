package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/engine"
	"github.com/org/tap-deploy/internal/outcome"
	"github.com/org/tap-deploy/internal/shift"
	"github.com/org/tap-deploy/stack"
	"github.com/org/tap-deploy/test/stacktest"
)

// fakeTraffic is CodeDeploy and the functions' live aliases. A shift goes
// through its function's script, one look (GetDeployment) per step, the
// last step holding; without a script it succeeds at the first look.
type fakeTraffic struct {
	mu sync.Mutex
	// aliases are where the functions' aliases point; a missing one is on
	// version 1.
	aliases map[string]shift.Alias
	script  map[string][]look
	// running answers Active per group: each call takes the first entry
	// (a nil entry: nothing running).
	running map[string][]*shift.Deployment
	started []started
	stopped []string
	shifts  map[string]*fakeShift
	// startErr fails CreateDeployment, stopErr StopDeployment;
	// unreachable fails the client.
	startErr, stopErr, unreachable error
	// clock dates the shifts.
	clock *fakeClock
}

// look is a shift's state at one look.
type look struct {
	status shift.Status
	share  int
	alarm  string
}

type started struct {
	function, config, description, from, to string
}

type fakeShift struct {
	f     shift.Function
	looks int
	d     shift.Deployment
}

func newFakeTraffic() *fakeTraffic {
	return &fakeTraffic{aliases: map[string]shift.Alias{}, script: map[string][]look{}, running: map[string][]*shift.Deployment{}, shifts: map[string]*fakeShift{}}
}

func (f *fakeTraffic) Active(_ context.Context, _, group string) ([]shift.Deployment, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	queue := f.running[group]
	if len(queue) == 0 {
		return nil, nil
	}
	f.running[group] = queue[1:]
	if queue[0] == nil {
		return nil, nil
	}
	return []shift.Deployment{*queue[0]}, nil
}

func (f *fakeTraffic) Start(_ context.Context, _ string, fn shift.Function, config, description string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.startErr != nil {
		return "", f.startErr
	}
	id := fmt.Sprintf("d-%d", len(f.shifts)+1)
	f.shifts[id] = &fakeShift{f: fn, d: shift.Deployment{ID: id, Status: shift.Created, Config: config, Start: f.clock.Now()}}
	f.started = append(f.started, started{fn.Name, config, description, fn.Current, fn.Target})
	return id, nil
}

func (f *fakeTraffic) Get(_ context.Context, id string) (shift.Deployment, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.shifts[id]
	if s.d.Status.Done() {
		return s.d, nil
	}
	steps := f.script[s.f.Name]
	if len(steps) == 0 {
		steps = []look{{status: shift.Succeeded, share: 100}}
	}
	l := steps[min(s.looks, len(steps)-1)]
	s.looks++
	s.d.Status = l.status
	switch {
	case l.alarm != "":
		s.d.ErrorCode = "ALARM_ACTIVE"
		s.d.ErrorMessage = "One or more alarms have been activated according to the Amazon CloudWatch metrics you selected, and the affected deployments have been stopped. Activated alarms: " + l.alarm
		f.aliases[s.f.Name] = shift.Alias{Version: s.f.Current}
	case l.status == shift.Succeeded:
		f.aliases[s.f.Name] = shift.Alias{Version: s.f.Target}
	case l.status.Done():
		f.aliases[s.f.Name] = shift.Alias{Version: s.f.Current}
	default:
		f.aliases[s.f.Name] = shift.Alias{Version: s.f.Current, Weights: map[string]float64{s.f.Target: float64(l.share) / 100}}
	}
	return s.d, nil
}

func (f *fakeTraffic) Stop(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopErr != nil {
		return f.stopErr
	}
	s := f.shifts[id]
	s.d.Status = shift.Stopped
	f.aliases[s.f.Name] = shift.Alias{Version: s.f.Current}
	f.stopped = append(f.stopped, s.f.Name)
	return nil
}

func (f *fakeTraffic) Alias(_ context.Context, function, _ string) (shift.Alias, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if a, ok := f.aliases[function]; ok {
		return a, nil
	}
	return shift.Alias{Version: "1"}, nil
}

// publishes makes the harness's updates publish version v of every
// function.
func (h *harness) publishes(v string) {
	h.stack.up = func(context.Context, string) (outcome.Result, error) {
		return withTraffic(changes(outcome.KindUpdate, outcome.Step{Type: "aws:lambda/function:Function", Name: "api-handler", Op: outcome.OpUpdate}), v), nil
	}
}

var apiFunction = "tap-dev-api-handler"

func TestDeploy_ShiftsEveryNewVersionWithThePreference(t *testing.T) {
	h := pushHarness(t)
	h.inputs["deployment-preference"] = "Canary10Percent5Minutes"
	h.publishes("2")
	h.traffic.script[apiFunction] = []look{{status: shift.InProgress, share: 10}, {status: shift.InProgress, share: 10}, {status: shift.Succeeded, share: 100}}

	require.NoError(t, h.run(), h.log())
	require.Len(t, h.traffic.started, 3, "one shift per function")
	for _, s := range h.traffic.started {
		assert.Equal(t, "CodeDeployDefault.LambdaCanary10Percent5Minutes", s.config)
		assert.Equal(t, "1", s.from)
		assert.Equal(t, "2", s.to)
		assert.Contains(t, s.description, "commit "+pushedSHA)
	}
	assert.Contains(t, h.log(), "tap-dev-api-handler: version 2 takes 10% of traffic")
	assert.Contains(t, h.log(), "alarms that stop it: tap-dev-api-handler-live-errors")
	assert.Equal(t, "2", h.traffic.aliases[apiFunction].Version)
	assert.Empty(t, h.traffic.stopped)
	assert.Contains(t, h.summaryText(), "Traffic moved to the new versions (Canary10Percent5Minutes, through CodeDeploy)")
	assert.Contains(t, h.summaryText(), "tap-dev-api-handler: version 1 → 2, succeeded")
	require.Len(t, h.gh.statuses, 2)
	assert.Contains(t, h.gh.statuses[1], ":success:", "the GitHub deployment ends with the shift")
	// The poll backs off: 1s, 2s between the looks at the api's shift.
	assert.Equal(t, []string{"1s", "2s"}, durations(h.clock.slept))
}

// alarmedRollout is a linear rollout of version 2 whose api-handler shift
// an alarm stops at 10%, while the other two are at 20%.
func alarmedRollout(t *testing.T) *harness {
	t.Helper()
	h := pushHarness(t)
	h.inputs["deployment-preference"] = "Linear10PercentEvery1Minute"
	h.publishes("2")
	h.traffic.script[apiFunction] = []look{{status: shift.InProgress, share: 10}, {status: shift.Stopped, alarm: "tap-dev-api-handler-live-errors"}}
	for _, f := range []string{"tap-dev-file-processor", "tap-dev-stream-processor"} {
		h.traffic.script[f] = []look{{status: shift.InProgress, share: 20}}
	}
	return h
}

func TestDeploy_AnAlarmStopsTheWholeRolloutAndFailsTheRun(t *testing.T) {
	h := alarmedRollout(t)

	require.ErrorIs(t, h.run(), ErrReported)
	assert.Contains(t, h.log(), "The traffic shift stopped: alarm tap-dev-api-handler-live-errors fired")
	assert.Contains(t, h.log(), "the new versions stay published without traffic, and the next deploy shifts to its own versions")
	assert.ElementsMatch(t, []string{"tap-dev-file-processor", "tap-dev-stream-processor"}, h.traffic.stopped, "the other shifts stop with the rollout")
	for _, f := range []string{apiFunction, "tap-dev-file-processor", "tap-dev-stream-processor"} {
		assert.Equal(t, shift.Alias{Version: "1"}, h.traffic.aliases[f], "%s serves the old version", f)
	}
	assert.Contains(t, h.summaryText(), "[!CAUTION]")
	assert.Contains(t, h.summaryText(), "applied, but the new versions take no traffic")
	assert.Contains(t, h.summaryText(), "tap-dev-api-handler: version 1 → 2 stopped by alarm tap-dev-api-handler-live-errors at 10%")
	require.Len(t, h.gh.statuses, 2)
	assert.Contains(t, h.gh.statuses[1], ":failure:")
}

// A stop that fails leaves a shift running: the run must not say the new
// versions take no traffic.
func TestDeploy_AShiftThatCannotBeStoppedIsReportedAsGoingOn(t *testing.T) {
	h := alarmedRollout(t)
	h.traffic.stopErr = errors.New("operation error CodeDeploy: StopDeployment, ThrottlingException: Rate exceeded")

	require.ErrorIs(t, h.run(), ErrReported)
	assert.Contains(t, h.log(), "The traffic shift could not be stopped everywhere: 2 shift(s) go on in CodeDeploy")
	assert.Contains(t, h.log(), "ThrottlingException: Rate exceeded")
	assert.Contains(t, h.summaryText(), "applied, but its traffic shift could not be stopped everywhere")
	assert.NotContains(t, h.summaryText(), "take no traffic")
	assert.Contains(t, h.summaryText(), "tap-dev-file-processor: version 1 → 2 could not be stopped; CodeDeploy deployment")
}

func TestDeploy_AVersionAlreadyLiveIsNotShiftedAgain(t *testing.T) {
	h := pushHarness(t)
	h.publishes("2")
	for _, f := range []string{apiFunction, "tap-dev-file-processor"} {
		h.traffic.aliases[f] = shift.Alias{Version: "2"}
	}
	require.NoError(t, h.run(), h.log())
	require.Len(t, h.traffic.started, 1)
	assert.Equal(t, "tap-dev-stream-processor", h.traffic.started[0].function)
	assert.Equal(t, "CodeDeployDefault.LambdaAllAtOnce", h.traffic.started[0].config, "the default preference")
	assert.Contains(t, h.summaryText(), "tap-dev-api-handler: version 2 was already live")
}

func TestDeploy_WaitsForAnEarlierShiftBeforeThePreview(t *testing.T) {
	h := pushHarness(t)
	earlier := &shift.Deployment{ID: "d-EARLIER", Status: shift.InProgress, Config: "CodeDeployDefault.LambdaCanary10Percent5Minutes", Start: h.clock.now.Add(-2 * time.Minute)}
	h.traffic.running["tap-dev-api-handler"] = []*shift.Deployment{earlier, earlier, nil}

	h.traffic.shifts["d-EARLIER"] = &fakeShift{f: shift.Function{Name: apiFunction, Current: "1", Target: "2"},
		d: shift.Deployment{ID: "d-EARLIER", Status: shift.Stopped, ErrorCode: "ALARM_ACTIVE", ErrorMessage: "… Activated alarms: tap-dev-api-handler-live-errors"}}
	require.NoError(t, h.run(), h.log())
	assert.Contains(t, h.log(), "waiting for the traffic shift of an earlier deploy to end: CodeDeploy deployment d-EARLIER")
	assert.Contains(t, h.log(), "tap-dev-api-handler: the earlier traffic shift d-EARLIER was stopped by alarm tap-dev-api-handler-live-errors, and CodeDeploy returned its traffic; version 1 is live")
	assert.Equal(t, []string{"1s", "2s"}, durations(h.clock.slept))
	assert.Len(t, h.stack.ups, 1)
}

func TestDeploy_AShiftRunningPastTheLockTimeoutStopsTheDeployBeforeAnyChange(t *testing.T) {
	h := pushHarness(t)
	h.inputs["lock-timeout"] = "5s"
	stuck := &shift.Deployment{ID: "d-STUCK", Status: shift.InProgress, Config: "CodeDeployDefault.LambdaCanary10Percent30Minutes", Start: h.clock.now.Add(-time.Minute)}
	h.traffic.running["tap-dev-file-processor"] = []*shift.Deployment{stuck, stuck, stuck, stuck, stuck}

	require.ErrorIs(t, h.run(), ErrReported)
	assert.Contains(t, h.log(), "A traffic shift of an earlier deploy is still running; nothing was changed")
	assert.Contains(t, h.log(), "d-STUCK")
	assert.Contains(t, h.log(), "had not ended after 5s (lock-timeout)")
	assert.Empty(t, h.stack.previews)
	assert.Empty(t, h.stack.ups)
}

func TestDeploy_CodeDeployRefusingTheShiftFailsTheRunAndSaysWhatIsLive(t *testing.T) {
	h := pushHarness(t)
	h.publishes("2")
	h.traffic.startErr = errors.New("starting the shift of tap-dev-api-handler to version 2 (codedeploy:CreateDeployment): AccessDeniedException: not authorized")
	require.ErrorIs(t, h.run(), ErrReported)
	assert.Contains(t, h.log(), "The traffic shift stopped; the new versions take no traffic")
	assert.Contains(t, h.log(), "codedeploy:CreateDeployment")
	assert.Contains(t, h.gh.statuses[1], ":failure:")
}

func TestDeploy_AnUpdateWithoutTrafficOutputIsNotCalledLive(t *testing.T) {
	h := pushHarness(t)
	h.stack.up = func(context.Context, string) (outcome.Result, error) {
		res := changes(outcome.KindUpdate)
		res.Outputs = map[string]any{"traffic": "unexpected"}
		return res, nil
	}
	require.ErrorIs(t, h.run(), ErrReported)
	assert.Contains(t, h.log(), "Could not shift traffic to the new versions")
	assert.Contains(t, h.log(), "the stack has no `traffic` output")
}

func TestDeploy_CancelledDuringAShiftLeavesItToCodeDeploy(t *testing.T) {
	h := pushHarness(t)
	h.publishes("2")
	h.traffic.script[apiFunction] = []look{{status: shift.InProgress, share: 10}}
	h.clock.cancelAfter = 1
	require.ErrorIs(t, h.run(), ErrReported)
	assert.Contains(t, h.log(), "Cancelled while CodeDeploy shifts traffic")
	assert.Contains(t, h.log(), "rolls back on its own if an alarm fires; the next deploy waits for it to end")
	assert.Empty(t, h.traffic.stopped, "a cancelled run leaves the shift to CodeDeploy")
}

func TestRollback_ShiftsAllAtOnceWhateverThePreference(t *testing.T) {
	h := newHarness(t)
	h.event("workflow_dispatch", "workflow_dispatch.json", nil)
	h.inputs["command"] = "rollback"
	h.inputs["rollback-to"] = "1"
	h.inputs["deployment-preference"] = "Canary10Percent30Minutes"
	v1 := engine.Update{Version: 1, Kind: "update", Result: "succeeded", Config: stack.Record(stacktest.Config(t, nil), stacktest.Packages(t, "old"), stack.Provenance{Commit: "cccc"})}
	v2 := engine.Update{Version: 2, Kind: "update", Result: "succeeded", Config: stack.Record(stacktest.Config(t, nil), stacktest.Packages(t, "a"), stack.Provenance{Commit: "dddd"})}
	h.stack.history = func(context.Context) ([]engine.Update, error) { return []engine.Update{v2, v1}, nil }
	h.publishes("3")

	require.NoError(t, h.run(), h.log())
	require.Len(t, h.traffic.started, 3)
	for _, s := range h.traffic.started {
		assert.Equal(t, "CodeDeployDefault.LambdaAllAtOnce", s.config, "the versions a rollback returns to ran before")
	}
}

func TestShiftPreference_IsValidatedWithTheList(t *testing.T) {
	h := pushHarness(t)
	h.inputs["deployment-preference"] = "Canary50Percent1Minute"
	require.ErrorIs(t, h.run(), ErrReported)
	assert.Contains(t, h.log(), `"Canary50Percent1Minute" is not a deployment preference; use one of AllAtOnce, Canary10Percent5Minutes`)
	assert.Empty(t, h.stack.ups)
}

func TestClipDescription_KeepsWholeCharacters(t *testing.T) {
	long := strings.Repeat("·", 200)
	got := clipDescription(long)
	assert.LessOrEqual(t, len(got), 256)
	assert.True(t, strings.HasSuffix(got, "…"))
	assert.NotContains(t, got, "\uFFFD")
	assert.Equal(t, "short", clipDescription("short"))
}

func durations(ds []time.Duration) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.String()
	}
	return out
}
