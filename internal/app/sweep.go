package app

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/org/tap-deploy/internal/engine"
	"github.com/org/tap-deploy/internal/github"
	"github.com/org/tap-deploy/internal/problems"
	"github.com/org/tap-deploy/internal/render"
)

// sweep destroys the review stacks left behind: those whose pull request
// is closed (a close whose run never happened or failed) and those without
// an update for review-stack-ttl. It only ever touches stacks named
// <stack-name>-pr-<N> whose history carries the review marker.
func (r *run) sweep(ctx context.Context) error {
	s, err := r.settings(reviewStacks(r.in))
	if err != nil {
		return r.fail("Could not prepare the backend", err)
	}
	var list []engine.StackSummary
	err = r.Runtime.Group("Pulumi stack ls", func() error {
		var err error
		list, err = r.Backend.ListStacks(ctx, s)
		return err
	})
	if err != nil {
		return r.fail("Could not list the project's stacks", err)
	}
	var rows []render.SweptStack
	var failed []string
	reviewStackOf := reviewStackMatcher(r.in.StackName)
	judge := sweepJudge{now: r.Now, ttl: r.in.ReviewStackTTL, log: r.Runtime}
	if gh, repo := r.github, r.facts.repo; gh != nil {
		judge.pullRequest = func(ctx context.Context, pr int) (github.PullRequest, error) {
			return gh.PullRequest(ctx, repo.Owner, repo.Name, pr)
		}
	}
	for _, sum := range list {
		pr, ok := reviewStackOf(sum.Name)
		if !ok {
			continue
		}
		row := render.SweptStack{Stack: reviewStackName(r.in.StackName, pr), PR: pr, Action: render.SweepKept}
		why, expired := judge.expired(ctx, pr, sum)
		row.Why = why
		if expired {
			destroyed, err := r.destroyReviewStack(ctx, pr, judge.secondLook(pr, sum))
			view := render.ReviewStack{Stack: row.Stack, State: render.ReviewStackDestroyed}
			switch {
			case err != nil:
				row.Action, row.Why = render.SweepFailed, why+"; "+strings.Join(problems.Of(err), "; ")
				view.State, view.Error = render.ReviewStackDestroyFailed, strings.Join(problems.Of(err), "\n")
				failed = append(failed, fmt.Sprintf("%s: %v", row.Stack, err))
			case destroyed == reviewStackDestroyed:
				row.Action = render.SweepDestroyed
			case destroyed == reviewStackKept:
				row.Why = why + ", but a second look kept it"
			default:
				row.Why = why + "; it was gone already"
			}
			if err != nil || destroyed == reviewStackDestroyed {
				r.publish.section(ctx, pr, reviewStackSection, reviewStackDoc(view))
			}
		}
		r.Runtime.Infof("%s (pull request #%d): %s, %s", row.Stack, pr, row.Action, row.Why)
		rows = append(rows, row)
	}
	doc := func(_ string, limit int, redact func(string) string) string {
		shown := make([]render.SweptStack, len(rows))
		for i, row := range rows {
			row.Why = redact(row.Why)
			shown[i] = row
		}
		return render.Sweep(r.meta("Review stack sweep", "").Redacted(redact), shown, limit)
	}
	r.publish.report(ctx, 0, doc)
	if len(failed) > 0 {
		return r.fail(fmt.Sprintf("The sweep could not destroy %d review stack(s)", len(failed)), errors.New(strings.Join(failed, "; ")))
	}
	return nil
}

// reviewStackMatcher reads the pull request number of a review stack of
// stackName from a stack name the backend lists (which may carry an
// organization/project prefix); ok is false for any other stack.
func reviewStackMatcher(stackName string) func(listed string) (pr int, ok bool) {
	base := stackName[strings.LastIndex(stackName, "/")+1:]
	re := regexp.MustCompile(`^` + regexp.QuoteMeta(base) + `-pr-([1-9][0-9]{0,5})$`)
	return func(listed string) (int, bool) {
		m := re.FindStringSubmatch(listed[strings.LastIndex(listed, "/")+1:])
		if m == nil {
			return 0, false
		}
		pr, err := strconv.Atoi(m[1])
		return pr, err == nil
	}
}

// sweepJudge is what the sweep's decisions reach of a run: the clock,
// review-stack-ttl, the repository's pull requests and the log.
type sweepJudge struct {
	now func() time.Time
	ttl time.Duration
	// pullRequest reads one of the run's repository's pull requests; nil
	// when the run has no GitHub client.
	pullRequest func(ctx context.Context, pr int) (github.PullRequest, error)
	log         interface {
		Warningf(format string, args ...any)
	}
}

// expired says whether a review stack is due to go, and why (or why not):
// the TTL is judged first, from what the backend listed; GitHub is asked
// about the pull request only for a stack the TTL keeps. A pull request
// GitHub cannot tell about is judged by the TTL alone.
func (j sweepJudge) expired(ctx context.Context, pr int, sum engine.StackSummary) (string, bool) {
	if sum.UpdateInProgress {
		return "an update of it is running", false
	}
	age := j.now().Sub(sum.LastUpdate)
	if !sum.LastUpdate.IsZero() && age > j.ttl {
		return fmt.Sprintf("no update for %s (review-stack-ttl %s)", humanDuration(age), humanDuration(j.ttl)), true
	}
	if j.pullRequest != nil {
		got, err := j.pullRequest(ctx, pr)
		switch {
		case err != nil:
			j.log.Warningf("could not read pull request #%d (judging its review stack by review-stack-ttl alone): %v", pr, err)
		case got.State == "closed":
			return fmt.Sprintf("pull request #%d is closed", pr), true
		}
	}
	if sum.LastUpdate.IsZero() {
		return "never updated (nothing deployed); its pull request's close removes it", false
	}
	return fmt.Sprintf("updated %s ago (review-stack-ttl %s)", humanDuration(age), humanDuration(j.ttl)), false
}

// secondLook looks again, just before the destroy and after any wait
// for the stack's lock, at what the sweep decided from: an update since
// the destroy began (a reopened pull request redeploys its stack) or a
// pull request open again keeps the stack.
func (j sweepJudge) secondLook(pr int, listed engine.StackSummary) secondLook {
	return func(ctx context.Context, st Stack, before []engine.Update) string {
		hist, err := st.History(ctx)
		if err != nil {
			return fmt.Sprintf("its history could not be read again (%v)", err)
		}
		if len(hist) > len(before) {
			return fmt.Sprintf("it was updated (version %d, %s) while the sweep waited for it", hist[0].Version, hist[0].StartTime)
		}
		// A stack the TTL condemned goes whatever its pull request's state;
		// one condemned for a closed pull request stays if it reopened.
		idle := !listed.LastUpdate.IsZero() && j.now().Sub(listed.LastUpdate) > j.ttl
		if !idle && j.pullRequest != nil {
			if got, err := j.pullRequest(ctx, pr); err == nil && got.State == "open" {
				return fmt.Sprintf("pull request #%d is open again", pr)
			}
		}
		return ""
	}
}

// humanDuration is a duration to the minute without zero units: 72h,
// 1h30m, 5m.
func humanDuration(d time.Duration) string {
	s := d.Round(time.Minute).String()
	s = strings.TrimSuffix(s, "0s")
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	if s == "" {
		return "0m"
	}
	return s
}
