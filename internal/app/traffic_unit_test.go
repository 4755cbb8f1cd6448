package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/outcome"
	"github.com/org/tap-deploy/internal/shift"
	"github.com/org/tap-deploy/stack"
)

// These tests drive traffic alone: a fake traffic client, a fake clock, a
// log and a failure reporter that record what they are given. The
// full-run tests (traffic_test.go) check the same paths through a deploy.

// trafficRecord is what a traffic said and how it failed.
type trafficRecord struct {
	lines  []string
	titles []string
}

func (l *trafficRecord) Infof(format string, args ...any) {
	l.lines = append(l.lines, "info: "+fmt.Sprintf(format, args...))
}
func (l *trafficRecord) Warningf(format string, args ...any) {
	l.lines = append(l.lines, "warning: "+fmt.Sprintf(format, args...))
}
func (l *trafficRecord) Errorf(format string, args ...any) {
	l.lines = append(l.lines, "error: "+fmt.Sprintf(format, args...))
}

func (l *trafficRecord) text() string { return strings.Join(l.lines, "\n") }

var errTrafficFailed = errors.New("reported")

// newTestTraffic is a traffic over client in eu-west-1, with the lock
// timeout given; the client's shifts are dated by the same fake clock.
func newTestTraffic(client *fakeTraffic, lockTimeout time.Duration) (traffic, *fakeClock, *trafficRecord) {
	clock := &fakeClock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	client.clock = clock
	rec := &trafficRecord{}
	tr := traffic{
		client: func(_ context.Context, region string) (Traffic, error) {
			if region != "eu-west-1" {
				return nil, fmt.Errorf("this test opens no traffic client in %s", region)
			}
			if client.unreachable != nil {
				return nil, client.unreachable
			}
			return client, nil
		},
		now: clock.Now, sleep: clock.Sleep, lockTimeout: lockTimeout, log: rec,
		fail: func(title string, err error) error {
			rec.titles = append(rec.titles, title)
			return fmt.Errorf("%s: %w: %w", title, err, errTrafficFailed)
		},
	}
	return tr, clock, rec
}

func trafficConfig() stack.Config {
	return stack.Config{Base: stack.Base{Project: "tap", Region: "eu-west-1"}, EnvironmentSuffix: "dev"}
}

func TestTraffic_WaitForShifts(t *testing.T) {
	earlier := func(status shift.Status) *fakeShift {
		d := shift.Deployment{ID: "d-EARLIER", Status: status}
		if status == shift.Stopped {
			d.ErrorCode, d.ErrorMessage = "ALARM_ACTIVE", "… Activated alarms: tap-dev-api-handler-live-errors"
		}
		return &fakeShift{f: shift.Function{Name: apiFunction, Current: "1", Target: "2"}, d: d}
	}
	running := &shift.Deployment{ID: "d-EARLIER", Status: shift.InProgress, Config: "CodeDeployDefault.LambdaCanary10Percent5Minutes"}
	tests := []struct {
		name        string
		lockTimeout time.Duration
		// looks are what Active answers for the api's group, in turn.
		looks       []*shift.Deployment
		ended       *fakeShift
		unreachable error
		wantTitle   string
		wantLog     []string
		wantSlept   []string
	}{
		{name: "nothing running: no wait", lockTimeout: time.Minute},
		{name: "an earlier shift that succeeds is waited for", lockTimeout: time.Minute,
			looks: []*shift.Deployment{running, running, nil}, ended: earlier(shift.Succeeded),
			wantLog:   []string{"waiting for the traffic shift of an earlier deploy to end: CodeDeploy deployment d-EARLIER", "tap-dev-api-handler: the earlier traffic shift d-EARLIER succeeded"},
			wantSlept: []string{"1s", "2s"}},
		{name: "an earlier shift an alarm stops is reported as a warning", lockTimeout: time.Minute,
			looks: []*shift.Deployment{running, nil}, ended: earlier(shift.Stopped),
			wantLog:   []string{"warning: tap-dev-api-handler: the earlier traffic shift d-EARLIER was stopped by alarm tap-dev-api-handler-live-errors, and CodeDeploy returned its traffic"},
			wantSlept: []string{"1s"}},
		{name: "a shift past the lock timeout fails before any change", lockTimeout: 3 * time.Second,
			looks:     []*shift.Deployment{running, running, running, running, running},
			wantTitle: "A traffic shift of an earlier deploy is still running; nothing was changed",
			wantSlept: []string{"1s", "2s"}},
		{name: "a lock timeout of zero looks once", lockTimeout: 0,
			looks:     []*shift.Deployment{running, nil},
			wantTitle: "A traffic shift of an earlier deploy is still running; nothing was changed"},
		{name: "an unreachable client fails before any change", lockTimeout: time.Minute,
			unreachable: errors.New("no credentials"),
			wantTitle:   "Could not check for a traffic shift in progress; nothing was changed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := newFakeTraffic()
			client.unreachable = tt.unreachable
			tr, clock, rec := newTestTraffic(client, tt.lockTimeout)
			if tt.looks != nil {
				client.running[apiFunction] = tt.looks
			}
			if tt.ended != nil {
				client.shifts["d-EARLIER"] = tt.ended
			}
			err := tr.waitForShifts(context.Background(), trafficConfig())
			if tt.wantTitle == "" {
				require.NoError(t, err, rec.text())
				assert.Empty(t, rec.titles)
			} else {
				require.ErrorIs(t, err, errTrafficFailed)
				assert.Equal(t, []string{tt.wantTitle}, rec.titles)
			}
			for _, want := range tt.wantLog {
				assert.Contains(t, rec.text(), want)
			}
			assert.Equal(t, tt.wantSlept, nilIfEmpty(durations(clock.slept)))
			assert.Empty(t, client.started, "waiting starts no shift")
		})
	}
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

var (
	fileFunction   = "tap-dev-file-processor"
	streamFunction = "tap-dev-stream-processor"
)

func TestTraffic_RollOut(t *testing.T) {
	published := withTraffic(changes(outcome.KindUpdate), "2")
	tests := []struct {
		name  string
		pref  shift.Preference
		res   outcome.Result
		setup func(c *fakeTraffic, clock *fakeClock)
		// wantTitle is the failure reported ("": none).
		wantTitle   string
		wantSummary string
		wantLines   []string
		wantStopped []string
		wantLive    string
		wantStarted int
		// leftToCodeDeploy: the run let go of shifts that go on, which
		// the notice does not call stopped.
		leftToCodeDeploy bool
	}{
		{name: "every function moves with the preference", pref: shift.Preference("Canary10Percent5Minutes"), res: published,
			setup: func(c *fakeTraffic, _ *fakeClock) {
				c.script[apiFunction] = []look{{status: shift.InProgress, share: 10}, {status: shift.Succeeded, share: 100}}
			},
			wantSummary: "Traffic moved to the new versions (Canary10Percent5Minutes, through CodeDeploy)",
			wantLines:   []string{"tap-dev-api-handler: version 1 → 2, succeeded"}, wantLive: "2", wantStarted: 3},
		{name: "a version already live is not shifted again", pref: shift.AllAtOnce, res: published,
			setup:     func(c *fakeTraffic, _ *fakeClock) { c.aliases[apiFunction] = shift.Alias{Version: "2"} },
			wantLines: []string{"tap-dev-api-handler: version 2 was already live"}, wantLive: "2", wantStarted: 2},
		{name: "an alarm stops the whole rollout", pref: shift.Preference("Linear10PercentEvery1Minute"), res: published,
			setup: func(c *fakeTraffic, _ *fakeClock) {
				c.script[apiFunction] = []look{{status: shift.InProgress, share: 10}, {status: shift.Stopped, alarm: "tap-dev-api-handler-live-errors"}}
				c.script[fileFunction] = []look{{status: shift.InProgress, share: 20}}
				c.script[streamFunction] = []look{{status: shift.InProgress, share: 20}}
			},
			wantTitle:   "The traffic shift stopped: alarm tap-dev-api-handler-live-errors fired",
			wantSummary: "The traffic shift stopped: alarm tap-dev-api-handler-live-errors fired; CodeDeploy returned the traffic to the old versions",
			wantLines:   []string{"tap-dev-api-handler: version 1 → 2 stopped by alarm tap-dev-api-handler-live-errors at 10%"},
			wantStopped: []string{fileFunction, streamFunction}, wantLive: "1", wantStarted: 3},
		{name: "a shift that already succeeded goes back with the rollout", pref: shift.Preference("Linear10PercentEvery1Minute"), res: published,
			setup: func(c *fakeTraffic, _ *fakeClock) {
				c.script[apiFunction] = []look{{status: shift.InProgress, share: 10}, {status: shift.Stopped, alarm: "tap-dev-api-handler-live-errors"}}
				c.script[fileFunction] = []look{{status: shift.Succeeded, share: 100}, {status: shift.Succeeded, share: 100}}
				c.script[streamFunction] = []look{{status: shift.InProgress, share: 20}}
			},
			wantTitle:   "The traffic shift stopped: alarm tap-dev-api-handler-live-errors fired",
			wantLines:   []string{"tap-dev-file-processor: version 1 → 2 had already succeeded; moved back to version 1"},
			wantStopped: []string{streamFunction}, wantLive: "1", wantStarted: 4},
		{name: "CodeDeploy refusing a shift stops the rollout", pref: shift.AllAtOnce, res: published,
			setup:       func(c *fakeTraffic, _ *fakeClock) { c.startErr = errors.New("AccessDeniedException: not authorized") },
			wantTitle:   "The traffic shift stopped; the new versions take no traffic",
			wantSummary: "The traffic shift stopped; the new versions take no traffic", wantLive: "1"},
		{name: "a cancelled run leaves the shifts to CodeDeploy", pref: shift.Preference("Canary10Percent5Minutes"), res: published,
			setup: func(c *fakeTraffic, clock *fakeClock) {
				c.script[apiFunction] = []look{{status: shift.InProgress, share: 10}}
				clock.cancelAfter = 1
			},
			wantTitle:   "Cancelled while CodeDeploy shifts traffic",
			wantSummary: "Cancelled while CodeDeploy shifts traffic; the shifts go on without this run",
			wantLines:   []string{"tap-dev-api-handler: version 1 → 2, CodeDeploy deployment d-"}, wantLive: "1", wantStarted: 3, leftToCodeDeploy: true},
		{name: "an update without traffic outputs is not called live", pref: shift.AllAtOnce, res: changes(outcome.KindUpdate),
			wantTitle:   "Could not shift traffic to the new versions",
			wantSummary: "The new versions take no traffic: the update did not say where it goes", wantLive: "1"},
		{name: "a shift past its schedule and grace is stopped", pref: shift.AllAtOnce, res: published,
			setup: func(c *fakeTraffic, _ *fakeClock) {
				c.script[apiFunction] = []look{{status: shift.InProgress, share: 0}}
			},
			wantTitle: "The traffic shift stopped; the new versions take no traffic",
			// The two that had succeeded are moved back: five starts.
			wantStopped: []string{apiFunction}, wantLive: "1", wantStarted: 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := newFakeTraffic()
			tr, clock, rec := newTestTraffic(client, time.Minute)
			if tt.setup != nil {
				tt.setup(client, clock)
			}
			notice, err := tr.rollOut(context.Background(), tt.pref, "eu-west-1", "tap-deploy: commit abc", tt.res)
			if tt.wantTitle == "" {
				require.NoError(t, err, rec.text())
				assert.Empty(t, rec.titles)
				assert.False(t, notice.Stopped)
			} else {
				require.ErrorIs(t, err, errTrafficFailed)
				assert.Equal(t, []string{tt.wantTitle}, rec.titles)
				assert.Equal(t, !tt.leftToCodeDeploy, notice.Stopped)
			}
			if tt.wantSummary != "" {
				assert.Equal(t, tt.wantSummary, notice.Summary)
			}
			for _, want := range tt.wantLines {
				assert.Contains(t, strings.Join(notice.Lines, "\n"), want)
			}
			assert.ElementsMatch(t, tt.wantStopped, client.stopped)
			assert.Len(t, client.started, tt.wantStarted)
			for _, s := range client.started {
				if s.to == "2" {
					assert.Equal(t, tt.pref.ConfigName(), s.config)
					assert.Equal(t, "tap-deploy: commit abc", s.description)
				}
			}
			got, _ := client.Alias(context.Background(), apiFunction, "live")
			assert.Equal(t, tt.wantLive, got.Version, "what the api serves at the end")
		})
	}
}
