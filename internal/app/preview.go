package app

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/org/tap-deploy/internal/comment"
	"github.com/org/tap-deploy/internal/engine"
	"github.com/org/tap-deploy/internal/inputs"
	"github.com/org/tap-deploy/internal/outcome"
	"github.com/org/tap-deploy/internal/render"
	"github.com/org/tap-deploy/internal/reviewed"
	"github.com/org/tap-deploy/stack"
)

// preview runs a Pulumi preview, gates it on the policy rules with the
// engine's real values, and reports it on the pull request.
func (r *run) preview(ctx context.Context) error {
	if r.decision.MergeGroup != nil {
		return r.queuePreview(ctx)
	}
	version := 0
	firstDeploy := false
	// The history gives the version the plan is computed against and the
	// configuration deployed now, which the comment compares with.
	var hist []engine.Update
	var histErr error
	res, runErr := r.onStack(ctx, "Pulumi preview", packagesToDeploy, func(st Stack, first bool) (outcome.Result, error) {
		firstDeploy = first
		// The history is read beside the preview (another CLI process, so
		// no time is added): the plan names the version it was computed
		// against.
		read := make(chan struct{})
		go func() {
			defer close(read)
			hist, histErr = st.History(ctx)
		}()
		res, err := st.Preview(ctx, engine.PreviewOptions{})
		<-read
		if histErr == nil && len(hist) > 0 {
			version = hist[0].Version
		}
		return res, err
	})
	res, shown, blocked := gatePreview(res, runErr, r.cfg, r.in.PolicyOverrides)
	pinned := shownNow(r.facts.runID, r.Now(), res, firstDeploy)
	// A pull request's preview has no reason of its own (route gives one
	// to a fork's, which only validates): its note is what Shown pins.
	meta := r.shownMeta("Preview", r.decision.SHA, r.cfg, res.Kind, pinned, strings.TrimSpace(r.decision.Reason+" "+previewNote(r.in.StackName, firstDeploy)))
	previewOK := runErr == nil && len(blocked) == 0
	if previewOK {
		// What this preview shows is the reviewed plan a merge deploy of
		// this head compares itself with.
		rp := reviewed.Of(res, version, configFingerprint(r.cfg), r.Version, r.decision.SHA).
			Bound(reviewed.Binding{Repo: r.facts.repo.FullName(), PR: pullRequestNumber(r.decision), Stack: r.in.StackName})
		rp.Shown = pinned
		meta.Verdict = render.Verdict{Metadata: rp.Encode(), PlanID: rp.ID}
	}
	doc := resultDoc(meta, shown)
	// Always written, empty when nothing differs: a comment keeps a
	// section the new body lacks, and an earlier preview's would stay.
	doc = withConfiguration(doc, configurationView(hist, histErr, r.cfg, r.config, r.inputsEnv().Spell(inputs.NameConfig)))
	if r.decision.DeployReviewStack {
		// Reviewers see the preview at once; the section says what the
		// review stack is doing until its update ends.
		view := render.ReviewStack{Stack: reviewStackName(r.in.StackName, pullRequestNumber(r.decision)), State: render.ReviewStackDeploying, Commit: r.decision.SHA}
		if !previewOK {
			view.State = render.ReviewStackNotUpdated
		}
		doc = withSection(doc, reviewStackSection, reviewStackDoc(view))
	}
	r.publish.report(ctx, pullRequestNumber(r.decision), doc)
	if err := r.resultOutputs(res); err != nil {
		return r.fail("Could not write the step outputs", err)
	}
	var reviewErr error
	if r.decision.DeployReviewStack && previewOK {
		reviewErr = r.reviewStackAfterPreview(ctx)
	}
	switch {
	case runErr != nil:
		return r.engineFailed(ctx, r.in.StackName, "The preview failed", runErr)
	case len(blocked) > 0:
		for _, v := range blocked {
			r.Runtime.Errorf("%s", v.String())
		}
		return r.fail("The preview breaks mandatory policy rules", fmt.Errorf("%d mandatory violation(s)", len(blocked)))
	}
	return reviewErr
}

// configFingerprint is what the stack is built from: the configuration
// values and the project, environment and region.
func configFingerprint(cfg stack.Config) map[string]string {
	out := cfg.Values()
	out["project"], out["environment"], out["region"] = cfg.Project, cfg.Environment, cfg.Region
	return out
}

func took(kind outcome.Kind, d time.Duration) string {
	if d <= 0 {
		return ""
	}
	return fmt.Sprintf(" · %s took %.1f s", kind, d.Seconds())
}

// configurationSection names the part of a pull request's comment that
// lists the configuration keys the preview changes. It is a section, not
// part of the body, because a merge deploy renders the body again from
// its own preview and compares the two byte for byte.
const configurationSection = "configuration"

// configurationView compares this run's configuration with the one the
// stack's newest successful update recorded: that is what runs now, and
// what the preview's resource changes are computed against, so the two
// parts of the comment agree. (The base branch's file is not it: a deploy
// may have failed, used the config input, or been rolled back since.)
// With no successful update yet it compares with the keys' defaults.
func configurationView(hist []engine.Update, histErr error, cfg stack.Config, l stack.Layered, input string) render.Configuration {
	view := render.Configuration{File: l.File, Input: input}
	if histErr != nil {
		view.Baseline, view.Why = render.BaselineUnknown, histErr.Error()
		return view
	}
	var old map[string]string
	var secret []string
	view.Baseline = render.BaselineDefaults
	for _, u := range hist {
		if u.Succeeded() {
			view.Baseline, view.Version = render.BaselineDeployed, u.Version
			old = map[string]string{}
			for k, v := range u.Config {
				if name, ok := strings.CutPrefix(k, stack.ConfigNamespace+":"); ok {
					old[name] = v
				}
			}
			for _, k := range u.Secret {
				if name, ok := strings.CutPrefix(k, stack.ConfigNamespace+":"); ok {
					secret = append(secret, name)
				}
			}
			break
		}
	}
	if old == nil {
		if defaults, err := stack.NewConfig(cfg.Base, nil); err == nil {
			old = defaults.Values()
		}
	}
	var inFile []string
	for k := range l.Values {
		if !slices.Contains(l.Overridden, k) || slices.Contains(l.OverridesFile, k) {
			inFile = append(inFile, k)
		}
	}
	view.Changes = render.CompareConfiguration(old, secret, cfg.Values(), inFile, l.Overridden)
	return view
}

// configurationRoom is what a preview's body leaves for its configuration
// section, markers included: the body is rendered within its limit less
// this, so that the comment, with the sections later runs write into it,
// keeps within GitHub's limit.
func configurationRoom(limit int) int {
	return min(render.ConfigurationLimit+2*len(comment.Section(configurationSection, "")), limit/8)
}

// previewBodyLimit is the room of a preview's body within limit; a merge
// deploy renders the body again within the same.
func previewBodyLimit(limit int) int { return limit - configurationRoom(limit) }

// withConfiguration appends the configuration section to a preview's
// document, in the room the body leaves it.
func withConfiguration(doc document, view render.Configuration) document {
	return func(marker string, limit int, redact func(string) string) string {
		return doc(marker, previewBodyLimit(limit), redact) + "\n" +
			comment.Section(configurationSection, configurationText(view, limit, redact))
	}
}

// configurationText is the configuration section's markdown in a comment
// of limit bytes: the preview writes it, a merge deploy renders it again
// to compare.
func configurationText(view render.Configuration, limit int, redact func(string) string) string {
	// The section's markers and the line break before them come out of
	// its room too.
	room := configurationRoom(limit) - len(comment.Section(configurationSection, "")) - 1
	return render.ConfigurationMarkdown(view.Redacted(redact), room)
}
