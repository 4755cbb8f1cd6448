package app

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/org/tap-deploy/internal/engine"
	"github.com/org/tap-deploy/internal/github"
)

// recordedWarnings keeps what the sweep's decisions warn about.
type recordedWarnings []string

func (w *recordedWarnings) Warningf(format string, args ...any) {
	*w = append(*w, fmt.Sprintf(format, args...))
}

func TestSweepJudge_ExpiredByTTLFirstThenByThePullRequest(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	pulls := func(state string, err error) func(context.Context, int) (github.PullRequest, error) {
		return func(_ context.Context, pr int) (github.PullRequest, error) {
			return github.PullRequest{Number: pr, State: state}, err
		}
	}
	asked := func(t *testing.T) func(context.Context, int) (github.PullRequest, error) {
		return func(context.Context, int) (github.PullRequest, error) {
			t.Error("GitHub was asked about a stack the TTL already condemned")
			return github.PullRequest{}, nil
		}
	}
	for name, tc := range map[string]struct {
		sum         engine.StackSummary
		pullRequest func(t *testing.T) func(context.Context, int) (github.PullRequest, error)
		wantWhy     string
		wantExpired bool
		wantWarning bool
	}{
		"an update running keeps it": {
			sum:     engine.StackSummary{LastUpdate: now.Add(-100 * time.Hour), UpdateInProgress: true},
			wantWhy: "an update of it is running",
		},
		"idle past the TTL goes without asking GitHub": {
			sum:         engine.StackSummary{LastUpdate: now.Add(-73 * time.Hour)},
			pullRequest: asked,
			wantWhy:     "no update for 73h (review-stack-ttl 72h)", wantExpired: true,
		},
		"a closed pull request condemns a recent stack": {
			sum:         engine.StackSummary{LastUpdate: now.Add(-time.Hour)},
			pullRequest: func(*testing.T) func(context.Context, int) (github.PullRequest, error) { return pulls("closed", nil) },
			wantWhy:     "pull request #7 is closed", wantExpired: true,
		},
		"an open pull request keeps a recent stack": {
			sum:         engine.StackSummary{LastUpdate: now.Add(-90 * time.Minute)},
			pullRequest: func(*testing.T) func(context.Context, int) (github.PullRequest, error) { return pulls("open", nil) },
			wantWhy:     "updated 1h30m ago (review-stack-ttl 72h)",
		},
		"GitHub failing judges by the TTL alone, with a warning": {
			sum: engine.StackSummary{LastUpdate: now.Add(-time.Hour)},
			pullRequest: func(*testing.T) func(context.Context, int) (github.PullRequest, error) {
				return pulls("", errors.New("boom"))
			},
			wantWhy: "updated 1h ago (review-stack-ttl 72h)", wantWarning: true,
		},
		"no GitHub client: the TTL alone": {
			sum:     engine.StackSummary{LastUpdate: now.Add(-time.Hour)},
			wantWhy: "updated 1h ago (review-stack-ttl 72h)",
		},
		"never updated is kept for its pull request's close": {
			sum:     engine.StackSummary{},
			wantWhy: "never updated (nothing deployed); its pull request's close removes it",
		},
	} {
		t.Run(name, func(t *testing.T) {
			var warned recordedWarnings
			j := sweepJudge{now: func() time.Time { return now }, ttl: 72 * time.Hour, log: &warned}
			if tc.pullRequest != nil {
				j.pullRequest = tc.pullRequest(t)
			}
			why, expired := j.expired(context.Background(), 7, tc.sum)
			assert.Equal(t, tc.wantWhy, why)
			assert.Equal(t, tc.wantExpired, expired)
			if tc.wantWarning {
				assert.Equal(t, recordedWarnings{"could not read pull request #7 (judging its review stack by review-stack-ttl alone): boom"}, warned)
			} else {
				assert.Empty(t, warned)
			}
		})
	}
}
