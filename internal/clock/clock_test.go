package clock_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/org/tap-deploy/internal/clock"
)

func TestSleep_WaitsTheDuration(t *testing.T) {
	start := time.Now()
	if err := clock.Sleep(context.Background(), 20*time.Millisecond); err != nil {
		t.Fatalf("Sleep: %v", err)
	}
	if waited := time.Since(start); waited < 20*time.Millisecond {
		t.Fatalf("Sleep returned after %s, before the 20ms it was asked", waited)
	}
}

func TestSleep_EndsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	err := clock.Sleep(ctx, time.Hour)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Sleep on a cancelled context = %v, want context.Canceled", err)
	}
	if waited := time.Since(start); waited > time.Second {
		t.Fatalf("Sleep on a cancelled context waited %s", waited)
	}
}
