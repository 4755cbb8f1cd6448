package app

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/org/tap-deploy/internal/deployment"
	"github.com/org/tap-deploy/internal/engine"
	"github.com/org/tap-deploy/internal/inputs"
	"github.com/org/tap-deploy/internal/outcome"
	"github.com/org/tap-deploy/internal/problems"
	"github.com/org/tap-deploy/internal/render"
	"github.com/org/tap-deploy/stack"
)

// reviewStackSection names the review stack's section of the PR comment: the
// run that deploys or destroys the stack writes it, a preview keeps it.
const reviewStackSection = "review-stack"

// reviewStackConfig is pull request pr's review stack's configuration:
// the environment's (values, the file's and the overrides') for that pull
// request.
func reviewStackConfig(in inputs.Inputs, values map[string]string, pr int) (stack.Config, error) {
	return stack.NewReviewStackConfig(stack.Base{Project: in.ProjectName, Environment: in.Environment, Region: in.AWSRegion}, values, pr)
}

// reviewStackDoc renders the review stack's section.
func reviewStackDoc(v render.ReviewStack) document {
	return func(_ string, _ int, redact func(string) string) string {
		v.Error, v.URL, v.Expires, v.Stack, v.Commit = redact(v.Error), redact(v.URL), redact(v.Expires), redact(v.Stack), redact(v.Commit)
		return render.ReviewStackMarkdown(v)
	}
}

// deployReviewStack brings pull request pr's review stack to this run's
// commit through the same preview → gate → planned up as a deploy, and
// returns what its section says.
func (r *run) deployReviewStack(ctx context.Context, pr int) (render.ReviewStack, error) {
	name := reviewStackName(r.in.StackName, pr)
	view := render.ReviewStack{Stack: name, State: render.ReviewStackFailed, Commit: r.decision.SHA}
	cfg, err := reviewStackConfig(r.in, r.config.Values, pr)
	if err != nil {
		view.Error = strings.Join(problems.Of(err), "\n")
		return view, r.fail("The review stack's configuration is not valid", err)
	}
	code, err := r.packages.get(packagesToDeploy)
	if err != nil {
		return view, r.fail("Could not load the Lambda packages", err)
	}
	var res outcome.Result
	err = func() error {
		st, state, err := r.openForUpdate(ctx, reviewStack(r.in, pr), cfg, code, stack.Provenance{Commit: r.decision.SHA})
		if err != nil {
			return err
		}
		defer st.Close()
		res, err = r.previewThenUp(ctx, st, update{
			title: "Review stack deploy", message: r.updateMessage(r.decision.SHA), cfg: cfg, sha: r.decision.SHA,
			start: state.Digest, kind: reviewStackUpdate, stack: name,
		})
		return err
	}()
	if err != nil {
		view.Error = firstLine(res.Error)
		return view, err
	}
	view.State = render.ReviewStackDeployed
	view.URL, _ = res.KnownOutputs()["apiUrl"].(string)
	view.Expires = reviewStackExpiry(r.in.ReviewStack.Label, r.in.ReviewStackTTL, r.Now())
	if view.URL != "" {
		if err := r.setOutputs(map[string]string{OutReviewStackURL: view.URL}); err != nil {
			return view, r.fail("Could not write the step outputs", err)
		}
	}
	return view, nil
}

// deployReviewStackOnly deploys the pull request's review stack in a run
// that reaches only the review stacks' backend: the environment's preview
// is another job's (with another role), so this run writes only the
// comment's review stack section.
func (r *run) deployReviewStackOnly(ctx context.Context) error {
	pr := pullRequestNumber(r.decision)
	deploying := render.ReviewStack{Stack: reviewStackName(r.in.StackName, pr), State: render.ReviewStackDeploying, Commit: r.decision.SHA}
	r.publish.section(ctx, pr, reviewStackSection, reviewStackDoc(deploying))
	return r.reviewStackAfterPreview(ctx)
}

// reviewStackExpiry says when the review stack goes away.
func reviewStackExpiry(label string, ttl time.Duration, now time.Time) string {
	when := "the pull request closes"
	if label != "" {
		when += " or loses the label " + label
	}
	return fmt.Sprintf("Destroyed when %s, or by the scheduled sweep once it has gone %s without an update (after %s UTC).",
		when, humanDuration(ttl), now.Add(ttl).UTC().Format("2006-01-02 15:04"))
}

// closeReviewStack is a pull request's closing (or losing its label):
// its review stack is destroyed and removed from the backend.
func (r *run) closeReviewStack(ctx context.Context) error {
	pr := pullRequestNumber(r.decision)
	name := reviewStackName(r.in.StackName, pr)
	destroyed, err := r.destroyReviewStack(ctx, pr, nil)
	view := render.ReviewStack{Stack: name, State: render.ReviewStackDestroyed}
	switch {
	case err != nil:
		view.State, view.Error = render.ReviewStackDestroyFailed, strings.Join(problems.Of(err), "\n")
	case destroyed == reviewStackAbsent:
		return nil
	}
	r.publish.section(ctx, pr, reviewStackSection, reviewStackDoc(view))
	if err != nil {
		return r.fail(fmt.Sprintf("Could not destroy the review stack %s", name), err)
	}
	return nil
}

// destroyOutcome is what a destroy of a review stack came to.
type destroyOutcome int

const (
	// reviewStackAbsent: the pull request has no review stack.
	reviewStackAbsent destroyOutcome = iota
	// reviewStackDestroyed: destroyed and removed from the backend.
	reviewStackDestroyed
	// reviewStackKept: a second look, taken just before the destroy (after
	// any wait for the stack's lock), found it in use again.
	reviewStackKept
)

// secondLook says, just before a destroy, why a review stack should stay
// after all ("" when it should go); it sees the opened stack and the
// history read when the destroy began.
type secondLook func(ctx context.Context, st Stack, before []engine.Update) string

// errKept stops a destroy whose second look keeps the stack.
type errKept struct{ why string }

func (e errKept) Error() string { return e.why }

// destroyReviewStack destroys pull request pr's review stack, removes it with
// its history from the backend and marks its GitHub deployments inactive.
// Only a stack whose every recorded operation carries the PR's review
// marker is touched: a stack that happens to have the name is left alone.
// look, when given, is asked again on every attempt, after any wait for
// another update's lock: the sweep's reasons were read before that wait.
func (r *run) destroyReviewStack(ctx context.Context, pr int, look secondLook) (destroyOutcome, error) {
	name := reviewStackName(r.in.StackName, pr)
	cfg, err := reviewStackConfig(r.in, r.config.Values, pr)
	if err != nil {
		return reviewStackAbsent, err
	}
	// A destroy does not run the program: the packages only fill the
	// recorded configuration, so a binary without them still destroys.
	code, err := r.packages.get(packagesForGraph)
	if err != nil {
		return reviewStackAbsent, err
	}
	st, err := r.openNamed(ctx, reviewStack(r.in, pr), mustExist, cfg, code, stack.Provenance{Commit: r.decision.SHA})
	if errors.Is(err, engine.ErrNoStack) {
		r.Runtime.Infof("pull request #%d has no review stack %s: nothing to destroy", pr, name)
		return reviewStackAbsent, nil
	}
	if err != nil {
		return reviewStackDestroyed, err
	}
	defer st.Close()
	hist, err := st.History(ctx)
	if err != nil {
		return reviewStackDestroyed, fmt.Errorf("reading the history of %s: %w", name, err)
	}
	if err := checkReviewMarker(name, hist, pr); err != nil {
		return reviewStackDestroyed, err
	}
	if len(hist) > 0 {
		var res outcome.Result
		err = r.Runtime.Group("Pulumi destroy "+name, func() error {
			var err error
			res, err = r.withLockRetry(ctx, "destroying", func() (outcome.Result, error) {
				if look != nil {
					if why := look(ctx, st, hist); why != "" {
						return outcome.Result{}, errKept{why}
					}
				}
				return st.Destroy(ctx)
			})
			return err
		})
		var kept errKept
		if errors.As(err, &kept) {
			r.Runtime.Noticef("review stack %s of pull request #%d stays: %s", name, pr, kept.why)
			return reviewStackKept, nil
		}
		for _, f := range res.Failed() {
			r.Runtime.Errorf("%s %q: %s", f.Type, f.Name, f.Error)
		}
		if err != nil {
			return reviewStackDestroyed, fmt.Errorf("destroying %s (the stack and what is left of it stay; the next close, label change or sweep tries again): %w", name, err)
		}
		r.Runtime.Infof("destroyed %d resource(s) of %s", res.Counts[outcome.OpDelete], name)
	}
	// Removing refuses a stack that still holds resources.
	if err := st.Remove(ctx); err != nil {
		return reviewStackDestroyed, err
	}
	r.Runtime.Noticef("review stack %s of pull request #%d destroyed and removed", name, pr)
	if r.in.Deployments && r.github != nil {
		repo := r.facts.repo
		if err := deployment.Deactivate(ctx, r.github, repo.Owner, repo.Name, name); err != nil {
			r.Runtime.Warningf("could not mark the GitHub deployments of %s inactive: %v", name, err)
		}
	}
	return reviewStackDestroyed, nil
}

// checkReviewMarker refuses a stack whose history does not show it to be
// pull request pr's review stack. An empty history (a stack made, never
// updated) holds nothing to destroy; removing it is safe, as the backend
// refuses to remove a stack with resources.
func checkReviewMarker(name string, hist []engine.Update, pr int) error {
	want := strconv.Itoa(pr)
	for _, u := range hist {
		if got := u.Config[stack.ReviewStackKey]; got != want {
			return fmt.Errorf("stack %s has an update (version %d) without %s=%s in its configuration: it is not (only) the review stack tap-deploy made for pull request #%d, so it is left alone; remove it by hand if it should go",
				name, u.Version, stack.ReviewStackKey, want, pr)
		}
	}
	return nil
}

// reviewStackAfterPreview deploys the pull request's review stack once its
// preview passed, and says how that went in the comment's section.
func (r *run) reviewStackAfterPreview(ctx context.Context) error {
	pr := pullRequestNumber(r.decision)
	view, err := r.deployReviewStack(ctx, pr)
	r.publish.section(ctx, pr, reviewStackSection, reviewStackDoc(view))
	return err
}
