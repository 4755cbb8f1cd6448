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
			d, err := route.Decide(tt.event, fixtures.Read(t, tt.fixture), tt.requested)
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
	d, err := route.Decide("pull_request", fixtures.Read(t, "pull_request.synchronize.json"), inputs.Auto)
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
	for _, requested := range []inputs.Command{inputs.Auto, inputs.Up, inputs.Preview} {
		d, err := route.Decide("pull_request", body, requested)
		require.NoError(t, err)
		assert.Equal(t, inputs.Validate, d.Command, "requested %s", requested)
		assert.True(t, d.PullRequest.Fork)
		assert.Contains(t, d.Reason, "fork")
	}
}

func TestDecide_PushToOtherBranchSkips(t *testing.T) {
	body := withChange(t, "push.with-new-branch.json", func(p map[string]any) { p["ref"] = "refs/heads/feature" })
	d, err := route.Decide("push", body, inputs.Auto)
	require.NoError(t, err)
	assert.True(t, d.Skip)
	assert.Contains(t, d.Reason, "not the default branch master")
}

func TestDecide_PushOfTagSkips(t *testing.T) {
	body := withChange(t, "push.with-new-branch.json", func(p map[string]any) { p["ref"] = "refs/tags/v1.0.0" })
	d, err := route.Decide("push", body, inputs.Auto)
	require.NoError(t, err)
	assert.True(t, d.Skip)
	assert.Contains(t, d.Reason, "tag v1.0.0")
}

func TestDecide_PushCarriesShaAndActor(t *testing.T) {
	d, err := route.Decide("push", fixtures.Read(t, "push.with-new-branch.json"), inputs.Auto)
	require.NoError(t, err)
	assert.Len(t, d.SHA, 40)
	assert.Equal(t, "Codertocat", d.Actor)
}

func TestDecide_WorkflowDispatchNeedsExplicitCommand(t *testing.T) {
	_, err := route.Decide("workflow_dispatch", fixtures.Read(t, "workflow_dispatch.json"), inputs.Auto)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "explicit command")
}

func TestDecide_ScheduleDefaultsToDrift(t *testing.T) {
	d, err := route.Decide("schedule", []byte(`{"schedule":"0 6 * * *"}`), inputs.Auto)
	require.NoError(t, err)
	assert.Equal(t, inputs.Drift, d.Command)
}

func TestDecide_LocalRunPreviewsByDefault(t *testing.T) {
	d, err := route.Decide("", nil, inputs.Auto)
	require.NoError(t, err)
	assert.Equal(t, inputs.Preview, d.Command)
}

func TestDecide_BrokenPayloadIsAnError(t *testing.T) {
	_, err := route.Decide("push", []byte("{not json"), inputs.Auto)
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
