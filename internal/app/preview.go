package app

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/org/tap-deploy/internal/comment"
	"github.com/org/tap-deploy/internal/github"
	"github.com/org/tap-deploy/internal/graph"
	"github.com/org/tap-deploy/internal/plan"
	"github.com/org/tap-deploy/internal/policy"
	"github.com/org/tap-deploy/internal/render"
	"github.com/org/tap-deploy/stack"
)

// meta describes this run for the renderer.
func (r *run) meta(title string) render.Meta {
	m := render.Meta{
		Title: title, Project: r.in.ProjectName, Stack: r.in.StackName, Environment: r.in.Environment,
		Region: r.in.AWSRegion, SHA: r.decision.SHA, RunURL: r.runURL(), Note: r.decision.Reason,
		Footer: fmt.Sprintf("tap-deploy %s · %s UTC", r.Version, r.Now().UTC().Format("2006-01-02 15:04:05")),
	}
	if t, ok := r.commentTarget(); ok {
		m.Marker = t.Marker()
	}
	return m
}

func (r *run) commentTarget() (comment.Target, bool) {
	pr := r.decision.PullRequest
	if pr == nil {
		return comment.Target{}, false
	}
	return comment.Target{Owner: r.decision.Repository.Owner, Repo: r.decision.Repository.Name, Number: pr.Number, Project: r.in.ProjectName, Stack: r.in.StackName}, true
}

// open opens the stack with the program for cfg and code, writing the
// configuration the update will be recorded with.
func (r *run) open(ctx context.Context, cfg stack.Config, code stack.Artifacts, commit string) (Stack, error) {
	s, err := r.settings()
	if err != nil {
		return nil, err
	}
	s.Config = stack.Record(cfg, code, commit)
	progress := r.Runtime.UntrustedWriter()
	s.Progress = progress
	st, err := r.OpenStack(ctx, s, stack.Program(cfg, code))
	if err != nil {
		progress.Close()
		return nil, err
	}
	return closing{Stack: st, progress: progress}, nil
}

// closing ends the untrusted-output block with the stack.
type closing struct {
	Stack
	progress interface{ Close() error }
}

func (c closing) Close() error {
	c.progress.Close()
	return c.Stack.Close()
}

// gate runs the policy rules on the graph the engine saw, with real values,
// and adds the findings to the result.
func (r *run) gate(res *plan.Result) []policy.Violation {
	rep := policy.Evaluate(graph.New(res.Resources), r.policySettings())
	res.Findings = append(res.Findings, findings(rep)...)
	return rep.Mandatory()
}

// onStack loads the code, opens the stack with this run's configuration and
// runs one engine operation, its output folded under group.
func (r *run) onStack(ctx context.Context, group string, graphOnly bool, op func(Stack) (plan.Result, error)) (plan.Result, error) {
	code, err := r.code(graphOnly)
	if err != nil {
		return plan.Result{}, err
	}
	var res plan.Result
	err = r.Runtime.Group(group, func() error {
		st, err := r.open(ctx, r.cfg, code, "")
		if err != nil {
			return err
		}
		defer st.Close()
		res, err = op(st)
		return err
	})
	return res, err
}

func (r *run) preview(ctx context.Context, _ policy.Report) error {
	res, runErr := r.onStack(ctx, "Pulumi preview", false, func(st Stack) (plan.Result, error) { return st.Preview(ctx) })
	if runErr != nil && res.Error == "" {
		res.Error = runErr.Error()
	}
	var blocked []policy.Violation
	if runErr == nil {
		blocked = r.gate(&res)
	}
	// A preview's outputs are partly unknown: they go to the step output,
	// not into the comment.
	outputs := res.Outputs
	res.Outputs = nil
	publishErr := r.publish(ctx, "Preview", res)
	res.Outputs = outputs
	if err := r.resultOutputs(res); err != nil {
		return r.fail("Could not write the step outputs", err)
	}
	switch {
	case runErr != nil:
		return r.fail("The preview failed", runErr)
	case len(blocked) > 0:
		for _, v := range blocked {
			r.Runtime.Errorf("%s", v.String())
		}
		return r.fail("The preview breaks mandatory policy rules", fmt.Errorf("%d mandatory violation(s)", len(blocked)))
	case publishErr != nil:
		return r.fail("Could not update the pull request comment (the preview is in the job summary)", publishErr)
	}
	return nil
}

// publish writes the result to the job summary (always, in full), then to
// the PR comment (or the terminal, locally). A comment failure is returned
// but never stops the summary.
func (r *run) publish(ctx context.Context, title string, res plan.Result) error {
	meta := r.meta(title)
	if res.Duration > 0 {
		meta.Footer += fmt.Sprintf(" · %s took %.1f s", res.Kind, res.Duration.Seconds())
	}
	if err := r.Runtime.AddSummary(render.Markdown(meta, res, render.SummaryLimit)); err != nil {
		r.Runtime.Warningf("%v", err)
	}
	return r.postComment(ctx, meta, render.Markdown(meta, res, render.CommentLimit))
}

func (r *run) commentValidation(meta render.Meta, v render.Validation) {
	if err := r.postComment(context.Background(), meta, render.ValidationMarkdown(meta, v, render.CommentLimit)); err != nil {
		r.Runtime.Warningf("could not update the pull request comment: %v", err)
	}
}

// postComment updates the sticky comment when the run has a PR to comment
// on; locally it prints the body instead.
func (r *run) postComment(ctx context.Context, meta render.Meta, body string) error {
	target, ok := r.commentTarget()
	if !ok {
		return nil
	}
	if r.Runtime.Local() {
		r.Runtime.Print(body)
		return nil
	}
	switch {
	case !r.in.CommentOnPR:
		return nil
	case r.decision.PullRequest.Fork:
		r.Runtime.Infof("fork pull request: no comment (read-only token); the result is in the job summary")
		return nil
	case r.in.GitHubToken == "":
		r.Runtime.Warningf("no github-token input: the result is in the job summary only")
		return nil
	}
	gh, err := r.NewGitHub(r.Getenv("GITHUB_API_URL"), r.in.GitHubToken)
	if err != nil {
		return err
	}
	res, err := comment.Upsert(ctx, gh, target, body)
	if err != nil {
		if github.IsPermission(err) {
			return err
		}
		return fmt.Errorf("updating the comment on #%d: %w", target.Number, err)
	}
	verb := "updated"
	if res.Created {
		verb = "created"
	}
	r.Runtime.Infof("%s comment %d on #%d", verb, res.Comment.ID, target.Number)
	return r.setOutputs(map[string]string{OutCommentID: fmt.Sprint(res.Comment.ID)})
}

// resultOutputs sets the outputs every engine command shares. Stack outputs
// come from the engine's events, where Pulumi has already hidden secret
// values: no --show-secrets call is ever made.
func (r *run) resultOutputs(res plan.Result) error {
	counts := map[string]int{}
	for op, n := range res.Counts {
		counts[string(op)] = n
	}
	summary, _ := json.Marshal(counts)
	values := map[string]string{
		OutHasChanges:    fmt.Sprint(res.HasChanges()),
		OutChangeSummary: string(summary),
	}
	if len(res.SecretOutputs) > 0 {
		r.Runtime.Infof("secret outputs left out: %s", strings.Join(res.SecretOutputs, ", "))
	}
	if res.Outputs != nil {
		b, err := json.Marshal(res.Outputs)
		if err != nil {
			return err
		}
		values[OutStackOutputs] = string(b)
	}
	return r.setOutputs(values)
}
