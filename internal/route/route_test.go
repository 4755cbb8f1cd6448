package route_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/inputs"
	"github.com/org/tap-deploy/internal/route"
	"github.com/org/tap-deploy/test/fixtures"
)

func TestDecide_EveryFixturePayload(t *testing.T) {
	tests := []struct {
		fixture   string
		event     string
		requested inputs.Command
		want      inputs.Command
		skip      bool
		reason    string
	}{
		{"pull_request.opened.json", "pull_request", inputs.Auto, inputs.Preview, false, ""},
		{"pull_request.opened.with-organization.json", "pull_request", inputs.Auto, inputs.Preview, false, ""},
		{"pull_request.reopened.json", "pull_request", inputs.Auto, inputs.Preview, false, ""},
		{"pull_request.synchronize.json", "pull_request", inputs.Auto, inputs.Preview, false, ""},
		{"pull_request.closed.json", "pull_request", inputs.Auto, "", true, `"closed" needs no preview`},
		{"pull_request.labeled.json", "pull_request", inputs.Auto, "", true, `"labeled" needs no preview`},
		{"push.with-new-branch.json", "push", inputs.Auto, inputs.Up, false, ""},
		{"push.json", "push", inputs.Auto, "", true, "deletes refs/tags/simple-tag"},
		{"push.1.json", "push", inputs.Auto, "", true, "deletes refs/tags/simple-tag"},
		{"push.with-organization.json", "push", inputs.Auto, "", true, "deletes refs/tags/simple-tag"},
		{"workflow_dispatch.json", "workflow_dispatch", inputs.Rollback, inputs.Rollback, false, ""},
		{"workflow_dispatch.json", "workflow_dispatch", inputs.Drift, inputs.Drift, false, ""},
		{"issue_comment.created.json", "issue_comment", inputs.Auto, "", true, "no automatic command"},
		{"pull_request.labeled.json", "pull_request", inputs.Validate, inputs.Validate, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.fixture+"/"+string(tt.requested), func(t *testing.T) {
			d, err := route.Decide(route.Event{Name: tt.event, Payload: fixtures.Read(t, tt.fixture)}, tt.requested, route.Options{})
			require.NoError(t, err)
			assert.Equal(t, tt.want, d.Command)
			assert.Equal(t, tt.skip, d.Skip)
			if tt.reason != "" {
				assert.Contains(t, d.Reason, tt.reason)
			}
			assert.Equal(t, "master", d.Repository.DefaultBranch)
			assert.NotEmpty(t, d.Repository.Owner)
		})
	}
}

func TestDecide_PullRequestCarriesHeadAndNumber(t *testing.T) {
	d, err := route.Decide(route.Event{Name: "pull_request", Payload: fixtures.Read(t, "pull_request.synchronize.json")}, inputs.Auto, route.Options{})
	require.NoError(t, err)
	require.NotNil(t, d.PullRequest)
	assert.Equal(t, 2, d.PullRequest.Number)
	assert.False(t, d.PullRequest.Fork)
	assert.Equal(t, d.PullRequest.HeadSHA, d.SHA)
	assert.Equal(t, "Codertocat/Hello-World", d.Repository.FullName())
}

func TestDecide_ForkPullRequestOnlyValidates(t *testing.T) {
	body := withChange(t, "pull_request.opened.json", func(p map[string]any) {
		head := p["pull_request"].(map[string]any)["head"].(map[string]any)
		head["repo"].(map[string]any)["full_name"] = "someone/Hello-World"
	})
	for _, requested := range []inputs.Command{inputs.Auto, inputs.Preview} {
		d, err := route.Decide(route.Event{Name: "pull_request", Payload: body}, requested, route.Options{})
		require.NoError(t, err)
		assert.Equal(t, inputs.Validate, d.Command, "requested %s", requested)
		assert.True(t, d.PullRequest.Fork)
		assert.Contains(t, d.Reason, "fork")
	}
}

func TestDecide_PushToOtherBranchSkips(t *testing.T) {
	body := withChange(t, "push.with-new-branch.json", func(p map[string]any) { p["ref"] = "refs/heads/feature" })
	d, err := route.Decide(route.Event{Name: "push", Payload: body}, inputs.Auto, route.Options{})
	require.NoError(t, err)
	assert.True(t, d.Skip)
	assert.Contains(t, d.Reason, "which deploy-branches (master) does not name")
}

func TestDecide_PushOfTagSkips(t *testing.T) {
	body := withChange(t, "push.with-new-branch.json", func(p map[string]any) { p["ref"] = "refs/tags/v1.0.0" })
	d, err := route.Decide(route.Event{Name: "push", Payload: body}, inputs.Auto, route.Options{})
	require.NoError(t, err)
	assert.True(t, d.Skip)
	assert.Contains(t, d.Reason, "tag v1.0.0")
}

func TestDecide_PushCarriesShaAndActor(t *testing.T) {
	d, err := route.Decide(route.Event{Name: "push", Payload: fixtures.Read(t, "push.with-new-branch.json")}, inputs.Auto, route.Options{})
	require.NoError(t, err)
	assert.Len(t, d.SHA, 40)
	assert.Equal(t, "Codertocat", d.Actor)
}

func TestDecide_WorkflowDispatchNeedsExplicitCommand(t *testing.T) {
	_, err := route.Decide(route.Event{Name: "workflow_dispatch", Payload: fixtures.Read(t, "workflow_dispatch.json")}, inputs.Auto, route.Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "explicit command")
}

func TestDecide_ScheduleDefaultsToDrift(t *testing.T) {
	d, err := route.Decide(route.Event{Name: "schedule", Payload: []byte(`{"schedule":"0 6 * * *"}`)}, inputs.Auto, route.Options{})
	require.NoError(t, err)
	assert.Equal(t, inputs.Drift, d.Command)
}

func TestDecide_LocalRunPreviewsByDefault(t *testing.T) {
	d, err := route.Decide(route.Event{Name: "", Payload: nil}, inputs.Auto, route.Options{})
	require.NoError(t, err)
	assert.Equal(t, inputs.Preview, d.Command)
}

func TestDecide_BrokenPayloadIsAnError(t *testing.T) {
	_, err := route.Decide(route.Event{Name: "push", Payload: []byte("{not json")}, inputs.Auto, route.Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "push event payload")
}

func withChange(t *testing.T, fixture string, change func(map[string]any)) []byte {
	t.Helper()
	var p map[string]any
	require.NoError(t, json.Unmarshal(fixtures.Read(t, fixture), &p))
	change(p)
	b, err := json.Marshal(p)
	require.NoError(t, err)
	return b
}

func TestDecide_OnlyPushesToDeployBranchesDispatchAndScheduleMayChangeTheStack(t *testing.T) {
	push := func(ref string, deleted bool) []byte {
		return withChange(t, "push.with-new-branch.json", func(p map[string]any) {
			p["ref"] = ref
			if deleted {
				p["deleted"] = true
				p["after"] = "0000000000000000000000000000000000000000"
			}
		})
	}
	tests := []struct {
		name      string
		event     string
		payload   []byte
		requested inputs.Command
		branches  []string
		want      inputs.Command // "" when refused
		refusal   string
	}{
		{"up from a pull request", "pull_request", fixtures.Read(t, "pull_request.opened.json"), inputs.Up, nil, "", "command up never runs from a pull_request event (pull request #2)"},
		{"rollback from pull_request_target", "pull_request_target", fixtures.Read(t, "pull_request.opened.json"), inputs.Rollback, nil, "", "never runs from a pull_request_target event"},
		{"up from a fork PR", "pull_request", withChange(t, "pull_request.opened.json", func(p map[string]any) {
			p["pull_request"].(map[string]any)["head"].(map[string]any)["repo"].(map[string]any)["full_name"] = "someone/Hello-World"
		}), inputs.Up, nil, "", "never runs from a pull_request event"},
		{"up from a tag push", "push", push("refs/tags/v1.0.0", false), inputs.Up, nil, "", "never runs from a tag push (refs/tags/v1.0.0)"},
		{"up from a branch deletion", "push", fixtures.Read(t, "push.json"), inputs.Up, nil, "", "never runs from a push that deletes refs/tags/simple-tag"},
		{"up from a deleted branch", "push", push("refs/heads/master", true), inputs.Up, nil, "", "never runs from a push that deletes refs/heads/master"},
		{"up from another branch", "push", push("refs/heads/feature", false), inputs.Up, nil, "", "never runs from a push to refs/heads/feature: deploy-branches allows master"},
		{"rollback from another branch", "push", push("refs/heads/feature", false), inputs.Rollback, nil, "", "deploy-branches allows master"},
		{"up from the default branch", "push", push("refs/heads/master", false), inputs.Up, nil, inputs.Up, ""},
		{"auto from a deploy branch glob", "push", push("refs/heads/release/1.2", false), inputs.Auto, []string{"main", "release/*"}, inputs.Up, ""},
		{"the glob does not cross a slash", "push", push("refs/heads/release/1/2", false), inputs.Up, []string{"release/*"}, "", "deploy-branches allows release/*"},
		{"deploy-branches replaces the default branch", "push", push("refs/heads/master", false), inputs.Up, []string{"main"}, "", "deploy-branches allows main"},
		{"up from workflow_dispatch", "workflow_dispatch", fixtures.Read(t, "workflow_dispatch.json"), inputs.Up, nil, inputs.Up, ""},
		{"rollback from a schedule", "schedule", []byte(`{"schedule":"0 6 * * *"}`), inputs.Rollback, nil, inputs.Rollback, ""},
		{"up from an issue comment", "issue_comment", fixtures.Read(t, "issue_comment.created.json"), inputs.Up, nil, "", "never runs from a issue_comment event"},
		{"preview from an issue comment", "issue_comment", fixtures.Read(t, "issue_comment.created.json"), inputs.Preview, nil, inputs.Preview, ""},
		{"drift from a pull request", "pull_request", fixtures.Read(t, "pull_request.opened.json"), inputs.Drift, nil, inputs.Drift, ""},
		{"validate from a tag push", "push", push("refs/tags/v1.0.0", false), inputs.Validate, nil, inputs.Validate, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := route.Decide(route.Event{Name: tt.event, Payload: tt.payload}, tt.requested, route.Options{DeployBranches: tt.branches})
			if tt.refusal != "" {
				var refusal *route.Refusal
				require.ErrorAs(t, err, &refusal)
				assert.Contains(t, refusal.Reason, tt.refusal)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, d.Command)
		})
	}
}

func TestDecide_AutoOnAPushToABranchNotNamedSkips(t *testing.T) {
	body := withChange(t, "push.with-new-branch.json", func(p map[string]any) { p["ref"] = "refs/heads/release/2" })
	d, err := route.Decide(route.Event{Name: "push", Payload: body}, inputs.Auto, route.Options{DeployBranches: []string{"main"}})
	require.NoError(t, err)
	assert.True(t, d.Skip)
	assert.Contains(t, d.Reason, "release/2, which deploy-branches (main) does not name")
}

func TestDecide_DispatchAndScheduleCarryTheRunsCommit(t *testing.T) {
	const sha = "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c"
	for _, name := range []string{"workflow_dispatch", "schedule"} {
		d, err := route.Decide(route.Event{Name: name, Payload: fixtures.Read(t, "workflow_dispatch.json"), SHA: sha, Ref: "refs/heads/main"}, inputs.Up, route.Options{})
		require.NoError(t, err)
		assert.Equal(t, sha, d.SHA, name)
		assert.Equal(t, "refs/heads/main", d.Ref, name)
	}
}

func TestDecide_ReviewStackActions(t *testing.T) {
	on := inputs.ReviewStack{On: true}
	label := inputs.ReviewStack{On: true, Label: "bug"}
	unlabeled := withChange(t, "pull_request.labeled.json", func(p map[string]any) { p["action"] = "unlabeled" })
	fork := withChange(t, "pull_request.closed.json", func(p map[string]any) {
		p["pull_request"].(map[string]any)["head"].(map[string]any)["repo"].(map[string]any)["full_name"] = "someone/Hello-World"
	})
	tests := []struct {
		name    string
		payload []byte
		review  inputs.ReviewStack
		want    inputs.Command
		deploy  bool
		skip    bool
	}{
		{"off: a preview", fixtures.Read(t, "pull_request.opened.json"), inputs.ReviewStack{}, inputs.Preview, false, false},
		{"on: opened deploys", fixtures.Read(t, "pull_request.opened.json"), on, inputs.Preview, true, false},
		{"on: synchronize updates", fixtures.Read(t, "pull_request.synchronize.json"), on, inputs.Preview, true, false},
		{"on: reopened deploys", fixtures.Read(t, "pull_request.reopened.json"), on, inputs.Preview, true, false},
		{"on: closed destroys", fixtures.Read(t, "pull_request.closed.json"), on, inputs.DestroyReviewStack, false, false},
		{"off: closed needs nothing", fixtures.Read(t, "pull_request.closed.json"), inputs.ReviewStack{}, "", false, true},
		{"label: opened without it previews only", fixtures.Read(t, "pull_request.opened.json"), inputs.ReviewStack{On: true, Label: "review"}, inputs.Preview, false, false},
		{"label: opened with it deploys (the payload's PR carries bug)", fixtures.Read(t, "pull_request.opened.json"), label, inputs.Preview, true, false},
		{"label: labeled with it deploys", fixtures.Read(t, "pull_request.labeled.json"), label, inputs.Preview, true, false},
		{"label: another label needs nothing", fixtures.Read(t, "pull_request.labeled.json"), inputs.ReviewStack{On: true, Label: "review"}, "", false, true},
		{"label: unlabeled destroys", unlabeled, label, inputs.DestroyReviewStack, false, false},
		{"on: labeled needs nothing", fixtures.Read(t, "pull_request.labeled.json"), on, "", false, true},
		{"a fork never has one", fork, on, "", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := route.Decide(route.Event{Name: "pull_request", Payload: tt.payload}, inputs.Auto, route.Options{ReviewStack: tt.review})
			require.NoError(t, err)
			assert.Equal(t, tt.skip, d.Skip, d.Reason)
			assert.Equal(t, tt.want, d.Command)
			assert.Equal(t, tt.deploy, d.DeployReviewStack)
		})
	}
	forkOpened := withChange(t, "pull_request.opened.json", func(p map[string]any) {
		p["pull_request"].(map[string]any)["head"].(map[string]any)["repo"].(map[string]any)["full_name"] = "someone/Hello-World"
	})
	d, err := route.Decide(route.Event{Name: "pull_request", Payload: forkOpened}, inputs.Auto, route.Options{ReviewStack: on})
	require.NoError(t, err)
	assert.Equal(t, inputs.Validate, d.Command)
	assert.False(t, d.DeployReviewStack, "a fork PR never gets a review stack")
}

func TestDecide_SweepRunsOnlyWhereDeploysRun(t *testing.T) {
	_, err := route.Decide(route.Event{Name: "pull_request", Payload: fixtures.Read(t, "pull_request.opened.json")}, inputs.Sweep, route.Options{})
	var refusal *route.Refusal
	require.ErrorAs(t, err, &refusal)
	d, err := route.Decide(route.Event{Name: "schedule", Payload: []byte(`{"schedule":"0 3 * * *"}`)}, inputs.Sweep, route.Options{})
	require.NoError(t, err)
	assert.Equal(t, inputs.Sweep, d.Command)
}

func TestDecide_AMergeGroupPreviewsTheCommitThatWillLand(t *testing.T) {
	d, err := route.Decide(route.Event{Name: "merge_group", Payload: fixtures.Read(t, "merge_group.checks_requested.json"), SHA: "ignored"}, inputs.Auto, route.Options{})
	require.NoError(t, err)
	assert.Equal(t, inputs.Preview, d.Command)
	require.NotNil(t, d.MergeGroup)
	assert.Equal(t, route.MergeGroup{Head: "2ffea6db159f6b6c47a24e778fb9ef40cf6b1c7d", Base: "380387fbc80638b734a49e1be1c4dfec1c01b33c", BaseRef: "refs/heads/main", PR: 104}, *d.MergeGroup)
	assert.Equal(t, d.MergeGroup.Head, d.SHA, "the run is about the merge group's head")
	assert.Nil(t, d.PullRequest, "the pull request's own preview is not replaced")
	assert.Equal(t, "octo-org/octo-repo", d.Repository.FullName())
}

func TestDecide_MergeGroupEdges(t *testing.T) {
	destroyed := withChange(t, "merge_group.checks_requested.json", func(p map[string]any) { p["action"] = "destroyed" })
	d, err := route.Decide(route.Event{Name: "merge_group", Payload: destroyed}, inputs.Auto, route.Options{})
	require.NoError(t, err)
	assert.True(t, d.Skip)
	assert.Contains(t, d.Reason, `merge_group "destroyed" needs no check`)

	for _, cmd := range []inputs.Command{inputs.Up, inputs.Rollback, inputs.Sweep} {
		_, err = route.Decide(route.Event{Name: "merge_group", Payload: fixtures.Read(t, "merge_group.checks_requested.json")}, cmd, route.Options{})
		var refusal *route.Refusal
		require.ErrorAs(t, err, &refusal, "a merge group never changes the stack (%s)", cmd)
		assert.Contains(t, refusal.Reason, "never runs from a merge_group event")
	}

	for ref, pr := range map[string]int{
		"refs/heads/gh-readonly-queue/release/1.2/pr-7-929f8209d40f77f4abc622a499c93a83babdbe64": 7,
		"refs/heads/gh-readonly-queue/main/pr-x-929f8209d40f77f4abc622a499c93a83babdbe64":        0,
		"refs/heads/feature/pr-7-929f8209d40f77f4abc622a499c93a83babdbe64":                       0,
	} {
		body := withChange(t, "merge_group.checks_requested.json", func(p map[string]any) { p["merge_group"].(map[string]any)["head_ref"] = ref })
		d, err := route.Decide(route.Event{Name: "merge_group", Payload: body}, inputs.Auto, route.Options{})
		require.NoError(t, err)
		assert.Equal(t, pr, d.MergeGroup.PR, ref)
	}
}

func TestDecide_DestroyRunsOnlyFromWorkflowDispatch(t *testing.T) {
	d, err := route.Decide(route.Event{Name: "workflow_dispatch", Payload: fixtures.Read(t, "workflow_dispatch.json")}, inputs.Destroy, route.Options{})
	require.NoError(t, err)
	assert.Equal(t, inputs.Destroy, d.Command)

	local, err := route.Decide(route.Event{}, inputs.Destroy, route.Options{})
	require.NoError(t, err)
	assert.Equal(t, inputs.Destroy, local.Command, "a laptop run is an administrator's, as for up")

	for _, ev := range []struct{ name, fixture string }{
		{"push", "push.with-new-branch.json"},
		{"pull_request", "pull_request.opened.json"},
		{"pull_request_target", "pull_request.opened.json"},
		{"schedule", "workflow_dispatch.json"},
		{"merge_group", "merge_group.checks_requested.json"},
		{"issue_comment", "issue_comment.created.json"},
	} {
		t.Run(ev.name, func(t *testing.T) {
			_, err := route.Decide(route.Event{Name: ev.name, Payload: fixtures.Read(t, ev.fixture)}, inputs.Destroy, route.Options{})
			var refusal *route.Refusal
			require.ErrorAs(t, err, &refusal)
			assert.Contains(t, refusal.Reason, "command destroy never runs from a "+ev.name+" event")
			assert.Contains(t, refusal.Reason, "workflow_dispatch")
		})
	}
}
