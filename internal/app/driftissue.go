package app

import (
	"context"
	"fmt"

	"github.com/org/tap-deploy/internal/issue"
	"github.com/org/tap-deploy/internal/outcome"
	"github.com/org/tap-deploy/internal/render"
)

// syncDriftIssue keeps one issue per stack while drift is found
// (drift-issue): opened the first time, updated on later runs, closed with
// a comment once a run finds none. GitHub refusing (no `issues: write`) is
// a warning.
func (r *run) syncDriftIssue(ctx context.Context, res outcome.Result, drifted bool) {
	if r.github == nil {
		r.Runtime.Warningf("drift-issue needs a github-token with `issues: write`; no issue was updated")
		return
	}
	repo := r.repository()
	target := issue.Target{Owner: repo.Owner, Repo: repo.Name, Subject: "drift", Project: r.in.ProjectName, Stack: r.in.StackName,
		Labels: []string{"drift", r.in.Environment}}
	title := fmt.Sprintf("Drift in %s/%s (%s)", r.in.ProjectName, r.in.StackName, r.in.AWSRegion)
	// Everyone with read access reads issues: the issue names what
	// drifted, property by property; the values stay in the run's job
	// summary (masked), which the run link leads to.
	meta := r.resultMeta("Drift check", r.decision.SHA, r.cfg, res)
	meta.Note = "Property names only: the values are in the job summary of the workflow run."
	body := r.Runtime.Redact(resultDoc(meta, namesOnly(res))("", render.CommentLimit-200, r.Runtime.Redact))
	closing := fmt.Sprintf("No drift found by the check of %s: closing.", firstNonEmpty(r.runURL(), r.Now().UTC().Format("2006-01-02 15:04 UTC")))
	got, err := issue.Sync(ctx, r.github, target, drifted, title, body, closing)
	switch {
	case err != nil:
		r.Runtime.Warningf("could not update the drift issue: %v", err)
	case got.Created:
		r.Runtime.Noticef("opened drift issue #%d", got.Issue.Number)
	case got.Updated:
		r.Runtime.Noticef("updated drift issue #%d", got.Issue.Number)
	case got.Closed:
		r.Runtime.Noticef("closed drift issue #%d: no drift", got.Issue.Number)
	}
}

// namesOnly is a result without values: its steps keep the names of the
// properties that changed, not their old and new values, and there are no
// outputs.
func namesOnly(res outcome.Result) outcome.Result {
	out := res
	out.Outputs = nil
	out.Steps = make([]outcome.Step, len(res.Steps))
	for i, s := range res.Steps {
		s.Changes, s.Old, s.New = nil, nil, nil
		out.Steps[i] = s
	}
	return out
}
