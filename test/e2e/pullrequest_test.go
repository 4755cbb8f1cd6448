package e2e_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/test/githubtest"
)

func TestPullRequest_OneCommentCreatedThenUpdatedAndNothingDeployed(t *testing.T) {
	e := newEnv(t)
	opened := e.run("pull_request", fixture(t, "pull_request.opened.json"), nil)
	require.Equal(t, 0, opened.Exit, opened.String())
	comments := e.GitHub.Comments(2)
	require.Len(t, comments, 1)
	first := comments[0]
	assert.Contains(t, first.Body, "<!-- tap-deploy:comment repo=Codertocat/Hello-World pr=2 project=tap stack=dev -->")
	assert.Contains(t, first.Body, "Preview of `tap` / `dev`")
	assert.Contains(t, first.Body, "to create")
	assert.Equal(t, "true", opened.Outputs["has-changes"])
	assert.Equal(t, "preview", opened.Outputs["command"])
	assert.Contains(t, opened.Outputs["change-summary"], `"create":`)
	assert.NotEmpty(t, opened.Outputs["comment-id"])
	assert.Contains(t, opened.Summary, "Validation of `tap` / `dev`")
	assert.Contains(t, opened.Summary, "Preview of `tap` / `dev`")

	sync := e.run("pull_request", fixture(t, "pull_request.synchronize.json"), nil)
	require.Equal(t, 0, sync.Exit, sync.String())
	comments = e.GitHub.Comments(2)
	require.Len(t, comments, 1, "the same comment is updated, never a second one")
	assert.Equal(t, first.ID, comments[0].ID)
	assert.Equal(t, opened.Outputs["comment-id"], sync.Outputs["comment-id"])
	assert.Contains(t, comments[0].Body, "**Commit** `ec26c3e`", "the comment shows the new head")
	assert.Equal(t, 1, e.GitHub.Calls("PATCH comment"))
	assert.Equal(t, 1, e.GitHub.Calls("POST comments"))

	cloud := e.cloudState()
	assert.Empty(t, cloud.Resources, "a preview creates nothing")
	assert.Zero(t, cloud.Calls["create"])
}

func TestPullRequest_SecretsNeverLeave(t *testing.T) {
	e := newEnv(t)
	res := e.run("pull_request", fixture(t, "pull_request.opened.json"), map[string]string{"config": "alarmEmail=ops@example.com"})
	require.Equal(t, 0, res.Exit, res.String())
	// The ::add-mask:: commands carry the secrets to the runner, which
	// hides them; nothing else may.
	var shown []string
	for _, line := range strings.Split(res.Stdout, "\n") {
		if !strings.HasPrefix(line, "::add-mask::") {
			shown = append(shown, line)
		}
	}
	stdout := strings.Join(shown, "\n")
	for _, secret := range []string{passphrase, githubtest.Token} {
		assert.NotContains(t, stdout, secret)
		assert.NotContains(t, res.Stderr, secret)
		assert.NotContains(t, res.Summary, secret)
		for _, v := range res.Outputs {
			assert.NotContains(t, v, secret)
		}
		for _, c := range e.GitHub.Comments(2) {
			assert.NotContains(t, c.Body, secret)
		}
	}
	assert.Contains(t, res.Stdout, "::add-mask::"+passphrase, "masks come first")
	assert.Less(t, strings.Index(res.Stdout, "::add-mask::"), strings.Index(res.Stdout, "::stop-commands::"))
	assert.Contains(t, res.Stdout, "::stop-commands::", "engine output is fenced off from workflow commands")
}

func TestPullRequest_FromForkOnlyValidates(t *testing.T) {
	e := newEnv(t)
	payload := modified(t, "pull_request.opened.json", func(p map[string]any) {
		p["pull_request"].(map[string]any)["head"].(map[string]any)["repo"].(map[string]any)["full_name"] = "someone/Hello-World"
	})
	res := e.run("pull_request", payload, map[string]string{"github-token": ""})
	require.Equal(t, 0, res.Exit, res.String())
	assert.Equal(t, "validate", res.Outputs["command"])
	assert.Contains(t, res.Stdout, "comes from a fork")
	assert.Contains(t, res.Summary, "Validation of `tap` / `dev`")
	assert.NotContains(t, res.Summary, "Preview of")
	assert.Empty(t, e.GitHub.Comments(2))
	assert.NoFileExists(t, e.state+"/.pulumi", "nothing touched the state")
}

func TestPullRequest_ForbiddenCommentStillWritesTheSummary(t *testing.T) {
	e := newEnv(t)
	e.GitHub.Fail(githubtest.Fault{Method: "POST", Path: "comments$", Status: 403, Message: "Resource not accessible by integration"})
	res := e.run("pull_request", fixture(t, "pull_request.opened.json"), nil)
	assert.Equal(t, 0, res.Exit, "a report that cannot be published is a warning, never the run's failure: %s", res.String())
	assert.Contains(t, res.Stdout, "::warning::could not update the comment on #2 (the result is in the job summary)")
	assert.Contains(t, res.Stdout, "pull-requests: write")
	assert.Contains(t, res.Summary, "Preview of `tap` / `dev`", "the preview is in the job summary")
	assert.Equal(t, "true", res.Outputs["has-changes"])
}

func TestPullRequest_ClosedDoesNothing(t *testing.T) {
	e := newEnv(t)
	res := e.run("pull_request", fixture(t, "pull_request.closed.json"), nil)
	require.Equal(t, 0, res.Exit, res.String())
	assert.Equal(t, "none", res.Outputs["command"])
	assert.Contains(t, res.Stdout, "::notice::")
	assert.Empty(t, e.GitHub.Comments(2))
}

func TestInvalidInputs_AllProblemsAndNothingTouched(t *testing.T) {
	e := newEnv(t)
	res := e.run("pull_request", fixture(t, "pull_request.opened.json"), map[string]string{
		"aws-region": "mars-east-1", "command": "explode", "config": "logRetentionDays=13",
	})
	assert.Equal(t, 1, res.Exit)
	assert.Contains(t, res.Stdout, `aws-region: "mars-east-1" is not an AWS region name`)
	assert.Contains(t, res.Stdout, `command: "explode" is not a command`)
	assert.Contains(t, res.Stdout, `config logRetentionDays: must be one of`, "config problems are in the same report")
	assert.Contains(t, res.Summary, "The inputs are not valid")
	assert.Empty(t, e.GitHub.Comments(2))
	assert.NoFileExists(t, e.state+"/.pulumi")
}

func TestInvalidConfig_NamesTheKey(t *testing.T) {
	e := newEnv(t)
	res := e.run("pull_request", fixture(t, "pull_request.opened.json"), map[string]string{"config": "logRetentionDays=13\nmemory=1"})
	assert.Equal(t, 1, res.Exit)
	assert.Contains(t, res.Stdout, "config logRetentionDays: must be one of")
	assert.Contains(t, res.Stdout, `config key "memory" is unknown`)
	comments := e.GitHub.Comments(2)
	require.Len(t, comments, 1, "the PR comment says what failed")
	assert.Contains(t, comments[0].Body, "invalid configuration")
	assert.Contains(t, comments[0].Body, "memory")
}
