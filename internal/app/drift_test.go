package app

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/engine"
)

// recordedInfo keeps what a wait says while it waits.
type recordedInfo []string

func (l *recordedInfo) Infof(format string, args ...any) { *l = append(*l, format) }

func TestUpdateWait_WaitsForTheLockUpToTheTimeout(t *testing.T) {
	locked := []string{"update by ci"}
	for name, tc := range map[string]struct {
		// answers are what the backend's locks say, one call each.
		answers   []error
		freeAfter int // calls that still see the lock
		// wantSlept are the waits: doubling to 15s, while the next one
		// still ends within the timeout (59s of a minute here).
		wantFree  bool
		wantErr   string
		wantSlept []time.Duration
	}{
		"unlocked at once":            {wantFree: true},
		"locks a backend cannot read": {answers: []error{engine.ErrLocksUnknown}, wantFree: true},
		"freed after two waits":       {freeAfter: 2, wantFree: true, wantSlept: []time.Duration{2 * time.Second, 4 * time.Second}},
		"still locked at the timeout": {freeAfter: 100, wantSlept: []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second, 15 * time.Second, 15 * time.Second, 15 * time.Second}},
		"the locks cannot be listed":  {answers: []error{errors.New("denied")}, wantErr: "Could not read the stack's locks: denied"},
	} {
		t.Run(name, func(t *testing.T) {
			now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
			var slept []time.Duration
			calls := 0
			var log recordedInfo
			w := updateWait{
				locks: func(context.Context) ([]string, error) {
					calls++
					if calls <= len(tc.answers) {
						return nil, tc.answers[calls-1]
					}
					if calls <= tc.freeAfter {
						return locked, nil
					}
					return nil, nil
				},
				now:       func() time.Time { return now },
				sleep:     func(_ context.Context, d time.Duration) error { slept = append(slept, d); now = now.Add(d); return nil },
				timeout:   time.Minute,
				stackName: "dev",
				log:       &log,
				fail:      func(title string, err error) error { return errors.New(title + ": " + err.Error()) },
			}
			free, err := w.wait(context.Background())
			if tc.wantErr != "" {
				require.EqualError(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.wantFree, free)
			assert.Equal(t, tc.wantSlept, slept)
			assert.Len(t, log, len(tc.wantSlept), "one line a wait")
		})
	}
}
