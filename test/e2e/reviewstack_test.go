package e2e_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/test/sandbox"
)

// reviewResources are the sandbox resources of pull request pr's review
// stack, by type and id.
func reviewResources(st sandbox.State, stackName string) map[string]string {
	out := map[string]string{}
	for k, r := range st.Resources {
		if strings.HasPrefix(r.URN, "urn:pulumi:"+stackName+"::") {
			out[k] = r.ID
		}
	}
	return out
}

// prEvent is a copy of a real pull_request payload for pull request n.
func prEvent(t *testing.T, fixture string, n int) string {
	return modified(t, fixture, func(p map[string]any) {
		p["number"] = n
		p["pull_request"].(map[string]any)["number"] = n
	})
}

// assertRemoved checks that the backend no longer has the stack: not
// listed, no history. Pulumi's file and S3 backends keep copies of a
// removed stack's last checkpoint (<stack>.json.bak and
// .pulumi/backups/<project>/<stack>/): they must record no resources.
func assertRemoved(t *testing.T, e *env, stackName string) {
	t.Helper()
	pulumiDir := filepath.Join(e.state, "review", ".pulumi")
	_, err := os.Stat(filepath.Join(pulumiDir, "stacks", "tap", stackName+".json"))
	assert.True(t, os.IsNotExist(err), "the stack's checkpoint is gone")
	history, _ := filepath.Glob(filepath.Join(pulumiDir, "history", "tap", stackName, "*"))
	assert.Empty(t, history, "the stack's history is removed")
	backups, _ := filepath.Glob(filepath.Join(pulumiDir, "backups", "tap", stackName, "*.json"))
	backups = append(backups, filepath.Join(pulumiDir, "stacks", "tap", stackName+".json.bak"))
	for _, path := range backups {
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		var backup struct {
			Checkpoint struct {
				Latest struct {
					Resources []any `json:"resources"`
				} `json:"latest"`
			} `json:"checkpoint"`
		}
		require.NoError(t, json.Unmarshal(b, &backup))
		assert.Empty(t, backup.Checkpoint.Latest.Resources, "%s records resources", path)
	}
}

func TestReviewStack_LivesFromOpenedToClosed(t *testing.T) {
	e := newEnv(t)
	require.Equal(t, 0, e.run("push", fixture(t, "push.with-new-branch.json"), nil).Exit)
	mainStack := reviewResources(e.cloudState(), "dev")
	require.Greater(t, len(mainStack), 60)
	on := map[string]string{"review-stack": "on"}

	opened := e.run("pull_request", fixture(t, "pull_request.opened.json"), on)
	require.Equal(t, 0, opened.Exit, opened.String())
	url := opened.Outputs["review-stack-url"]
	assert.Regexp(t, `^https://[a-z0-9]+\.execute-api\.eu-west-1\.amazonaws\.com/tap-dev-pr-2/items$`, url)
	assert.Equal(t, "preview", opened.Outputs["command"])
	review := reviewResources(e.cloudState(), "dev-pr-2")
	assert.Greater(t, len(review), 60, "the review stack is a whole copy")
	for k, id := range review {
		if strings.Contains(id, "tap-dev") {
			assert.Contains(t, id, "tap-dev-pr-2", "every name of the copy carries the PR: %s", k)
		}
		_, clash := mainStack[k]
		assert.False(t, clash, "%s is shared with the environment's stack", k)
	}
	for k := range review {
		if strings.HasPrefix(k, "aws:dynamodb/table:Table|") {
			assert.Equal(t, "tap-dev-pr-2-items", review[k])
		}
	}
	assert.Equal(t, mainStack, reviewResources(e.cloudState(), "dev"), "the environment's stack is untouched")
	comments := e.GitHub.Comments(2)
	require.Len(t, comments, 1)
	assert.Contains(t, comments[0].Body, "Preview of `tap` / `dev`: no changes")
	assert.Contains(t, comments[0].Body, "#### 🧪 Review stack `dev-pr-2`")
	assert.Contains(t, comments[0].Body, "API: ["+url+"]("+url+")")
	var deps []string
	for _, d := range e.GitHub.Deployments() {
		if d.Environment == "dev-pr-2" {
			assert.True(t, d.Transient)
			deps = append(deps, d.State())
		}
	}
	assert.Equal(t, []string{"success"}, deps)

	creates := e.cloudState().Calls["create"]
	again := e.run("pull_request", prEvent(t, "pull_request.synchronize.json", 2), on)
	require.Equal(t, 0, again.Exit, again.String())
	assert.Equal(t, creates, e.cloudState().Calls["create"], "a push updates the review stack in place")
	assert.Equal(t, url, again.Outputs["review-stack-url"])
	require.Len(t, e.GitHub.Comments(2), 1, "still one comment")
	assert.Equal(t, 1, strings.Count(e.GitHub.Comments(2)[0].Body, "Review stack `dev-pr-2`"))

	closed := e.run("pull_request", fixture(t, "pull_request.closed.json"), on)
	require.Equal(t, 0, closed.Exit, closed.String())
	assert.Equal(t, "destroy-review-stack", closed.Outputs["command"])
	assert.Empty(t, reviewResources(e.cloudState(), "dev-pr-2"), "nothing of the review stack is left in the cloud")
	assert.Equal(t, mainStack, reviewResources(e.cloudState(), "dev"), "the environment's stack is untouched")
	assertRemoved(t, e, "dev-pr-2")
	body := e.GitHub.Comments(2)[0].Body
	assert.Contains(t, body, "Preview of `tap` / `dev`", "the preview stays in the comment")
	assert.Contains(t, body, "🗑️ **Destroyed**")
	assert.NotContains(t, body, url)
	for _, d := range e.GitHub.Deployments() {
		if d.Environment == "dev-pr-2" {
			assert.Equal(t, "inactive", d.State())
		}
	}

	// A second close (a re-run) finds nothing and says so.
	rerun := e.run("pull_request", fixture(t, "pull_request.closed.json"), on)
	require.Equal(t, 0, rerun.Exit, rerun.String())
	assert.Contains(t, rerun.Stdout, "has no review stack dev-pr-2: nothing to destroy")
}

func TestReviewStack_SweepDestroysClosedAndIdleOnesAndNothingElse(t *testing.T) {
	e := newEnv(t)
	require.Equal(t, 0, e.run("push", fixture(t, "push.with-new-branch.json"), nil).Exit)
	mainStack := reviewResources(e.cloudState(), "dev")
	on := map[string]string{"review-stack": "on"}
	for _, pr := range []int{2, 3, 4} {
		res := e.run("pull_request", prEvent(t, "pull_request.opened.json", pr), on)
		require.Equal(t, 0, res.Exit, res.String())
		require.NotEmpty(t, reviewResources(e.cloudState(), fmt.Sprintf("dev-pr-%d", pr)))
	}
	e.GitHub.SetPullRequest(2, "closed") // its close never ran
	e.GitHub.SetPullRequest(3, "open")
	e.GitHub.SetPullRequest(4, "open")
	age(t, e, "dev-pr-3", 100*time.Hour) // idle for longer than the TTL

	// From a pull request, a sweep is refused.
	refused := e.run("pull_request", fixture(t, "pull_request.opened.json"), map[string]string{"command": "sweep"})
	assert.Equal(t, 1, refused.Exit, refused.String())
	require.NotEmpty(t, reviewResources(e.cloudState(), "dev-pr-2"))

	// The sweep runs in the pull requests' repository (the dispatch
	// payload's is another).
	dispatch := modified(t, "workflow_dispatch.json", func(p map[string]any) {
		repo := p["repository"].(map[string]any)
		repo["name"], repo["full_name"] = "Hello-World", "Codertocat/Hello-World"
		repo["owner"].(map[string]any)["login"] = "Codertocat"
	})
	sweep := e.run("workflow_dispatch", dispatch, map[string]string{"command": "sweep"})
	require.Equal(t, 0, sweep.Exit, sweep.String())
	assert.Empty(t, reviewResources(e.cloudState(), "dev-pr-2"), "the closed PR's stack is gone")
	assert.Empty(t, reviewResources(e.cloudState(), "dev-pr-3"), "the idle PR's stack is gone")
	assert.NotEmpty(t, reviewResources(e.cloudState(), "dev-pr-4"), "the open, recent PR's stack stays")
	assert.Equal(t, mainStack, reviewResources(e.cloudState(), "dev"), "the environment's stack is untouched")
	assertRemoved(t, e, "dev-pr-2")
	assertRemoved(t, e, "dev-pr-3")
	assert.Contains(t, sweep.Summary, "Review stack sweep of `tap` / `dev`: 2 destroyed, 0 failed, 1 kept")
	assert.Contains(t, sweep.Summary, "pull request #2 is closed")
	assert.Contains(t, sweep.Summary, "no update for 100h (review-stack-ttl 72h)")
	assert.Regexp(t, regexp.MustCompile(`updated \d+m ago \(review-stack-ttl 72h\)`), sweep.Summary, "the backend's last update time is read")
	for _, pr := range []int{2, 3} {
		require.Len(t, e.GitHub.Comments(pr), 1)
		assert.Contains(t, e.GitHub.Comments(pr)[0].Body, "🗑️ **Destroyed**", "PR #%d's comment says the sweep destroyed it", pr)
	}
	assert.Contains(t, e.GitHub.Comments(4)[0].Body, "✅ **Deployed**")
}

func TestReviewStack_LabelModeDeploysOnlyWhileThePullRequestCarriesTheLabel(t *testing.T) {
	e := newEnv(t)
	mode := map[string]string{"review-stack": "label:review-stack"}
	labelEvent := func(action string, labels ...string) string {
		return modified(t, "pull_request.labeled.json", func(p map[string]any) {
			p["action"] = action
			p["label"] = map[string]any{"name": "review-stack"}
			var ls []any
			for _, l := range labels {
				ls = append(ls, map[string]any{"name": l})
			}
			p["pull_request"].(map[string]any)["labels"] = ls
		})
	}

	opened := e.run("pull_request", fixture(t, "pull_request.opened.json"), mode)
	require.Equal(t, 0, opened.Exit, opened.String())
	assert.Equal(t, "preview", opened.Outputs["command"])
	assert.Empty(t, opened.Outputs["review-stack-url"])
	assert.Empty(t, reviewResources(e.cloudState(), "dev-pr-2"), "no label, no review stack")
	assert.NotContains(t, e.GitHub.Comments(2)[0].Body, "Review stack")

	other := e.run("pull_request", fixture(t, "pull_request.labeled.json"), mode)
	require.Equal(t, 0, other.Exit, other.String())
	assert.Equal(t, "none", other.Outputs["command"], "another label needs nothing")

	labeled := e.run("pull_request", labelEvent("labeled", "bug", "review-stack"), mode)
	require.Equal(t, 0, labeled.Exit, labeled.String())
	assert.NotEmpty(t, labeled.Outputs["review-stack-url"])
	assert.Greater(t, len(reviewResources(e.cloudState(), "dev-pr-2")), 60)
	assert.Contains(t, e.GitHub.Comments(2)[0].Body, "or loses the label review-stack")

	unlabeled := e.run("pull_request", labelEvent("unlabeled", "bug"), mode)
	require.Equal(t, 0, unlabeled.Exit, unlabeled.String())
	assert.Equal(t, "destroy-review-stack", unlabeled.Outputs["command"])
	assert.Empty(t, reviewResources(e.cloudState(), "dev-pr-2"))
	assertRemoved(t, e, "dev-pr-2")
	assert.Contains(t, e.GitHub.Comments(2)[0].Body, "🗑️ **Destroyed**")
}

// age makes the backend record the stack's last update d ago: the
// checkpoint's manifest time is what `pulumi stack ls` reports.
func age(t *testing.T, e *env, stackName string, d time.Duration) {
	t.Helper()
	path := filepath.Join(e.state, "review", ".pulumi", "stacks", "tap", stackName+".json")
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var chk map[string]any
	require.NoError(t, dec.Decode(&chk))
	manifest := chk["checkpoint"].(map[string]any)["latest"].(map[string]any)["manifest"].(map[string]any)
	manifest["time"] = time.Now().Add(-d).UTC().Format(time.RFC3339Nano)
	b, err = json.Marshal(chk)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, b, 0o644))
}

// backendFiles digests every file of a backend folder, by path.
func backendFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	require.NoError(t, filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		rel, _ := filepath.Rel(dir, path)
		out[rel] = fmt.Sprintf("%x", b)
		return err
	}))
	return out
}

func TestReviewStack_TheReviewRolesRunNeverReachesTheEnvironmentsState(t *testing.T) {
	e := newEnv(t)
	require.Equal(t, 0, e.run("push", fixture(t, "push.with-new-branch.json"), nil).Exit)
	envState := backendFiles(t, filepath.Join(e.state, ".pulumi"))
	require.NotEmpty(t, envState)

	// As examples/workflows/review-stack.yml runs it: the review role's job
	// has the review stacks' backend only.
	reviewOnly := map[string]string{"review-stack": "on", "backend-url": "", "review-stack-backend-url": "file://" + filepath.Join(e.dir, "review-state")}
	opened := e.run("pull_request", fixture(t, "pull_request.opened.json"), reviewOnly)
	require.Equal(t, 0, opened.Exit, opened.String())
	assert.Equal(t, "deploy-review-stack", opened.Outputs["command"])
	assert.NotEmpty(t, opened.Outputs["review-stack-url"])
	assert.Greater(t, len(reviewResources(e.cloudState(), "dev-pr-2")), 60)
	assert.FileExists(t, filepath.Join(e.dir, "review-state", ".pulumi", "stacks", "tap", "dev-pr-2.json"))
	comments := e.GitHub.Comments(2)
	require.Len(t, comments, 1)
	assert.Contains(t, comments[0].Body, "Review stack `dev-pr-2`")
	assert.NotContains(t, comments[0].Body, "Preview of", "the environment's preview is the preview job's")

	closed := e.run("pull_request", fixture(t, "pull_request.closed.json"), reviewOnly)
	require.Equal(t, 0, closed.Exit, closed.String())
	assert.Empty(t, reviewResources(e.cloudState(), "dev-pr-2"))
	assert.Equal(t, envState, backendFiles(t, filepath.Join(e.state, ".pulumi")), "the environment's state is byte for byte what it was")

	// A run with both backends (one role for everything) keeps review
	// stacks under the environment's backend's review/ path.
	both := e.run("pull_request", fixture(t, "pull_request.opened.json"), map[string]string{"review-stack": "on"})
	require.Equal(t, 0, both.Exit, both.String())
	assert.FileExists(t, filepath.Join(e.state, "review", ".pulumi", "stacks", "tap", "dev-pr-2.json"))
	_, err := os.Stat(filepath.Join(e.state, ".pulumi", "stacks", "tap", "dev-pr-2.json"))
	assert.True(t, os.IsNotExist(err), "never beside the environment's stack")
}
