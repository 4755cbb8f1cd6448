// Package clock is the real clock's wait, the one every wait of a run goes
// through (polls for locks, shifts and checks; the GitHub client's
// backoff). A run takes it as Deps.Sleep beside Deps.Now, and tests pass a
// fake that advances a fake time instead.
package clock

import (
	"context"
	"time"
)

// Sleep waits d, or less when ctx ends first (with its error).
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
