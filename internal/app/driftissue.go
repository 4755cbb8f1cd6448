package app

import (
	"cmp"
	"context"
	"fmt"

	"github.com/org/tap-deploy/internal/issue"
	"github.com/org/tap-deploy/internal/outcome"
)

// syncDriftIssue keeps one issue per stack while drift is found
// (drift-issue): opened the first time, updated on later runs, closed with
// a comment once a run finds none; the publisher decides where.
func (r *run) syncDriftIssue(ctx context.Context, res outcome.Result, drifted bool) {
	repo := r.facts.repo
	target := issue.Target{Owner: repo.Owner, Repo: repo.Name, Subject: "drift", Project: r.in.ProjectName, Stack: r.in.StackName,
		Labels: []string{"drift", r.in.Environment}}
	title := fmt.Sprintf("Drift in %s/%s (%s)", r.in.ProjectName, r.in.StackName, r.in.AWSRegion)
	// Everyone with read access reads issues: the issue names what
	// drifted, property by property; the values stay in the run's job
	// summary (masked), which the run link leads to.
	meta := r.resultMeta("Drift check", r.decision.SHA, r.cfg, res)
	meta.Note = "Property names only: the values are in the job summary of the workflow run."
	closing := fmt.Sprintf("No drift found by the check of %s: closing.", cmp.Or(r.facts.runURL, r.Now().UTC().Format("2006-01-02 15:04 UTC")))
	r.publish.issue(ctx, target, drifted, title, resultDoc(meta, namesOnly(res)), closing)
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
