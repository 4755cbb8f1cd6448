package e2e_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/test/githubtest"
	"github.com/org/tap-deploy/test/sandbox"
)

func TestDeployments_EveryUpAndRollbackIsAGitHubDeployment(t *testing.T) {
	e := newEnv(t)
	first := e.run("push", fixture(t, "push.with-new-branch.json"), nil)
	require.Equal(t, 0, first.Exit, first.String())
	var outputs map[string]any
	require.NoError(t, json.Unmarshal([]byte(first.Outputs["stack-outputs"]), &outputs))
	ds := e.GitHub.Deployments()
	require.Len(t, ds, 1)
	assert.Equal(t, headSHA, ds[0].Ref)
	assert.Equal(t, "dev", ds[0].Environment)
	assert.Contains(t, ds[0].Description, "tap-deploy · commit "+headSHA[:7])
	require.Len(t, ds[0].Statuses, 2)
	assert.Equal(t, "in_progress", ds[0].Statuses[0].State)
	assert.Equal(t, githubtest.DeploymentStatus{State: "success", EnvironmentURL: outputs["apiUrl"].(string), LogURL: "https://github.com/Codertocat/Hello-World/actions/runs/4242"}, ds[0].Statuses[1])

	second := e.run("push", fixture(t, "push.with-new-branch.json"), map[string]string{"config": "lambdaMemoryMb=512"})
	require.Equal(t, 0, second.Exit, second.String())
	rb := e.run("workflow_dispatch", fixture(t, "workflow_dispatch.json"), map[string]string{"command": "rollback", "rollback-to": "1"})
	require.Equal(t, 0, rb.Exit, rb.String())
	ds = e.GitHub.Deployments()
	require.Len(t, ds, 3)
	assert.Equal(t, "inactive", ds[0].State(), "an older deployment of the environment becomes inactive")
	assert.Equal(t, "inactive", ds[1].State())
	assert.Equal(t, "success", ds[2].State())
	assert.Contains(t, ds[2].Description, "rollback to version 1")
	assert.Equal(t, headSHA, ds[2].Ref, "the rollback deploys version 1's commit")
}

func TestDeployments_WithoutThePermissionTheDeployStillHappens(t *testing.T) {
	e := newEnv(t)
	e.GitHub.Fail(githubtest.Fault{Method: "POST", Path: "/deployments$", Status: 403, Message: "Resource not accessible by integration"})
	res := e.run("push", fixture(t, "push.with-new-branch.json"), nil)
	require.Equal(t, 0, res.Exit, res.String())
	assert.Contains(t, res.Stdout, "::warning::could not record a GitHub deployment (the update goes on)")
	assert.Contains(t, res.Stdout, "deployments: write")
	assert.Greater(t, len(e.cloudState().Resources), 60)
	assert.Empty(t, e.GitHub.Deployments())
}

func TestDriftIssue_OpenedThenUpdatedThenClosed(t *testing.T) {
	e := newEnv(t)
	require.Equal(t, 0, e.run("push", fixture(t, "push.with-new-branch.json"), nil).Exit)
	for i := 0; i < 40; i++ { // other open issues, over more than one page
		e.GitHub.AddIssue("someone", "unrelated", "text", "drift")
	}
	drift := map[string]string{"command": "drift", "drift-issue": "true"}
	clean := e.run("workflow_dispatch", fixture(t, "workflow_dispatch.json"), drift)
	require.Equal(t, 0, clean.Exit, clean.String())
	assert.Len(t, e.GitHub.Issues(), 40, "no drift, no issue")

	setMemory := func(mb float64) {
		require.NoError(t, sandbox.Store{Path: e.cloud}.Update(func(st *sandbox.State) error {
			for k, r := range st.Resources {
				if r.Type == functionType && r.ID == "tap-dev-api-handler" {
					r.Inputs["memorySize"], r.Outputs["memorySize"] = mb, mb
					st.Resources[k] = r
				}
			}
			return nil
		}))
	}
	setMemory(2048)
	found := e.run("workflow_dispatch", fixture(t, "workflow_dispatch.json"), drift)
	require.Equal(t, 0, found.Exit, found.String())
	ours := driftIssues(e)
	require.Len(t, ours, 1)
	assert.Equal(t, "Drift in tap/dev (eu-west-1)", ours[0].Title)
	assert.Equal(t, []string{"drift", "dev"}, ours[0].Labels)
	assert.Contains(t, ours[0].Body, "`memorySize`", "the issue names what drifted")
	assert.NotContains(t, ours[0].Body, "2048", "everyone with read access reads issues: values stay in the job summary")
	assert.Contains(t, found.Summary, "`memorySize`: `256` → `2048`", "the job summary says how the value drifted")
	assert.Contains(t, found.Stdout, "::notice::opened drift issue #")

	setMemory(4096)
	again := e.run("workflow_dispatch", fixture(t, "workflow_dispatch.json"), drift)
	require.Equal(t, 0, again.Exit, again.String())
	updated := driftIssues(e)
	require.Len(t, updated, 1, "the same issue is updated, not another opened")
	assert.Equal(t, ours[0].Number, updated[0].Number)
	assert.NotContains(t, updated[0].Body, "4096")
	assert.Contains(t, again.Summary, "`256` → `4096`")

	setMemory(256)
	gone := e.run("workflow_dispatch", fixture(t, "workflow_dispatch.json"), drift)
	require.Equal(t, 0, gone.Exit, gone.String())
	closed := driftIssues(e)
	assert.Equal(t, "closed", closed[0].State)
	require.Len(t, e.GitHub.Comments(closed[0].Number), 1)
	assert.Contains(t, e.GitHub.Comments(closed[0].Number)[0].Body, "No drift found")
	assert.Equal(t, e.cloudState().Calls["update"], 0, "the drift check never changed the cloud")
}

func driftIssues(e *env) []githubtest.Issue {
	var out []githubtest.Issue
	for _, i := range e.GitHub.Issues() {
		if strings.HasPrefix(i.Body, "<!-- tap-deploy:drift ") {
			out = append(out, i)
		}
	}
	return out
}

func TestPreview_ShowsValuesAndNoUnknownSentinel(t *testing.T) {
	e := newEnv(t)
	require.Equal(t, 0, e.run("push", fixture(t, "push.with-new-branch.json"), nil).Exit)
	res := e.run("pull_request", fixture(t, "pull_request.opened.json"), map[string]string{"config": "lambdaMemoryMb=512\nalarmEmail=ops@example.com"})
	require.Equal(t, 0, res.Exit, res.String())
	body := e.GitHub.Comments(2)[0].Body
	assert.Contains(t, body, "| `api-handler` | `lambda.Function` | `memorySize`: `256` → `512` |")
	assert.Contains(t, body, "1 to create, 9 to update")
	assert.NotContains(t, body, "04da6b54-80e4-46f7-96ec-b56ff0331ba9")

	fresh := newEnv(t)
	first := fresh.run("pull_request", fixture(t, "pull_request.opened.json"), nil)
	require.Equal(t, 0, first.Exit, first.String())
	assert.NotContains(t, first.Outputs["stack-outputs"], "04da6b54-80e4-46f7-96ec-b56ff0331ba9", "unknowns nested in maps are null")
	assert.Contains(t, first.Outputs["stack-outputs"], `"tap-dev-api-5xx":null`)
	assert.Contains(t, fresh.GitHub.Comments(2)[0].Body, "Preview of `tap` / `dev`: 82 to create")
	assert.Contains(t, fresh.GitHub.Comments(2)[0].Body, "Not counted: Pulumi's own components and providers (13 to create)")
}
