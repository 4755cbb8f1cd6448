package e2e_test

import (
	"context"
	"encoding/base64"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/stack"
	"github.com/org/tap-deploy/test/githubtest"
	"github.com/org/tap-deploy/test/sandbox"
)

func TestSecrets_ACredentialTheCloudEchoesLeavesNowhere(t *testing.T) {
	e := newEnv(t)
	credentials := map[string]string{
		"AWS_ACCESS_KEY_ID":     "AKIA5E2ETEXAMPLE0042",
		"AWS_SECRET_ACCESS_KEY": "e2e_secret*key@with+marks/42",
		"AWS_SESSION_TOKEN":     "IQoJb3_session*token@e2e_oidc",
	}
	for k, v := range credentials {
		e.Vars[k] = v
	}
	e.Vars[sandbox.EnvEcho] = "AWS_ACCESS_KEY_ID,AWS_SECRET_ACCESS_KEY,AWS_SESSION_TOKEN,PULUMI_CONFIG_PASSPHRASE"
	e.Vars[sandbox.EnvFailCheck] = `aws:lambda/function:Function::api-handler$`
	res := e.run("pull_request", fixture(t, "pull_request.opened.json"), nil)
	require.Equal(t, 1, res.Exit, res.String())

	comments := e.GitHub.Comments(2)
	require.Len(t, comments, 1, "the PR hears that the preview failed")
	assert.Contains(t, comments[0].Body, "InvalidClientTokenId")
	var log []string
	for _, line := range strings.Split(res.Stdout, "\n") {
		if !strings.HasPrefix(line, "::add-mask::") {
			log = append(log, line)
		}
	}
	places := map[string]string{"comment": comments[0].Body, "summary": res.Summary, "log": strings.Join(log, "\n"), "stderr": res.Stderr}
	for name, v := range res.Outputs {
		places["output "+name] = v
	}
	secrets := []string{passphrase, githubtest.Token}
	for _, v := range credentials {
		secrets = append(secrets, v)
	}
	for where, text := range places {
		for _, secret := range secrets {
			assert.NotContains(t, text, secret, where)
			assert.NotContains(t, text, strings.NewReplacer("_", `\_`, "*", `\*`, "@", "@\u200b").Replace(secret), "%s (markdown-escaped)", where)
			assert.NotContains(t, text, base64.StdEncoding.EncodeToString([]byte(secret))[:16], "%s (base64)", where)
		}
	}
}

func TestTriggers_UpNeverRunsFromAPullRequestATagOrAnotherBranch(t *testing.T) {
	tests := []struct {
		name, event, payload string
		inputs               map[string]string
		says                 string
	}{
		{"a pull request", "pull_request", "pull_request.opened.json", map[string]string{"command": "up"}, "command up never runs from a pull_request event (pull request #2)"},
		{"a tag push", "push", "tag", map[string]string{"command": "up"}, "command up never runs from a tag push (refs/tags/v1.0.0)"},
		{"a tag deletion", "push", "push.json", map[string]string{"command": "rollback", "rollback-to": "previous"}, "never runs from a push that deletes refs/tags/simple-tag"},
		{"another branch", "push", "push.with-new-branch.json", map[string]string{"command": "up", "deploy-branches": "main\nrelease/*"}, "never runs from a push to refs/heads/master: deploy-branches allows main, release/*"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			var payload string
			if tt.payload == "tag" {
				payload = modified(t, "push.with-new-branch.json", func(p map[string]any) { p["ref"] = "refs/tags/v1.0.0" })
			} else {
				payload = fixture(t, tt.payload)
			}
			res := e.run(tt.event, payload, tt.inputs)
			assert.Equal(t, 1, res.Exit, res.String())
			assert.Contains(t, res.Stdout, "::error::Refusing to run "+tt.inputs["command"]+"; nothing was touched: ")
			assert.Contains(t, res.Stdout, tt.says)
			assert.NoDirExists(t, e.state, "the state was never opened")
			assert.Zero(t, e.cloudCreates())
			assert.Zero(t, e.GitHub.Total(), "GitHub was not touched")
		})
	}
}

func TestFork_ValidatesWithNoBackendPassphraseTokenOrCredentials(t *testing.T) {
	e := newEnv(t)
	payload := modified(t, "pull_request.opened.json", func(p map[string]any) {
		p["pull_request"].(map[string]any)["head"].(map[string]any)["repo"].(map[string]any)["full_name"] = "someone/Hello-World"
	})
	// GitHub gives a fork PR neither secrets nor variables.
	e.Vars["PULUMI_CONFIG_PASSPHRASE"] = ""
	res := e.run("pull_request", payload, map[string]string{"backend-url": "", "github-token": ""})
	require.Equal(t, 0, res.Exit, res.String())
	assert.Equal(t, "validate", res.Outputs["command"])
	assert.Contains(t, res.Summary, "Validation of `tap` / `dev`")
	assert.Zero(t, e.GitHub.Total(), "no GitHub write, nor read")
	assert.NoDirExists(t, e.state)
}

func TestRegion_IsNeverAssumed(t *testing.T) {
	e := newEnv(t)
	res := e.run("pull_request", fixture(t, "pull_request.opened.json"), map[string]string{"aws-region": ""})
	assert.Equal(t, 1, res.Exit, res.String())
	assert.Contains(t, res.Stdout, "aws-region: required: set it, or AWS_REGION or AWS_DEFAULT_REGION")
	assert.NoDirExists(t, e.state)
}

func TestHistory_NumbersTheUpdatesAndADispatchedUpRecordsItsCommit(t *testing.T) {
	e := newEnv(t)
	require.Equal(t, 0, e.run("push", fixture(t, "push.with-new-branch.json"), nil).Exit)
	up := e.run("workflow_dispatch", fixture(t, "workflow_dispatch.json"), map[string]string{"command": "up", "config": "lambdaMemoryMb=512", "commit-order": "warn"})
	require.Equal(t, 0, up.Exit, up.String())

	h := e.run("workflow_dispatch", fixture(t, "workflow_dispatch.json"), map[string]string{"command": "history"})
	require.Equal(t, 0, h.Exit, h.String())
	assert.Contains(t, h.Summary, "History of `tap` / `dev`: 2 update(s)")
	assert.Regexp(t, "\\| 2 \\| [^|]+ \\| update \\| \\*\\*succeeded\\*\\* \\| `0d1a26e` \\| Codertocat \\| dev \\|", h.Summary, "GITHUB_SHA is the dispatched update's commit")
	assert.Regexp(t, "\\| 1 \\| [^|]+ \\| update \\| \\*\\*succeeded\\*\\* \\| `6113728` \\| Codertocat \\|", h.Summary)
	assert.Contains(t, h.Stdout, "version 2 · ")
}

func TestRollback_RefusesAPackageThatChangedOrIsGoneAndChangesNothing(t *testing.T) {
	e := newEnv(t)
	require.Equal(t, 0, e.run("push", fixture(t, "push.with-new-branch.json"), nil).Exit)
	// Version 2: code this binary does not hold.
	require.Equal(t, 0, e.local("up", nil, map[string]string{"TAP_LAMBDA_ZIPS_DIR": otherCode(t)}).Exit)
	v2Keys := map[string]string{}
	for _, f := range stack.Functions {
		v2Keys[f.Component] = functionState(t, e, f.Component).Inputs["s3Key"].(string)
	}
	// Version 3: back to the built-in code.
	require.Equal(t, 0, e.run("push", fixture(t, "push.with-new-branch.json"), map[string]string{"config": "lambdaTimeoutSeconds=20"}).Exit)
	v3 := functionState(t, e, "api-handler")

	// object finds the retained package object of version 2.
	object := func(st *sandbox.State, component string) (string, sandbox.Resource) {
		for k, r := range st.Resources {
			if r.Type == "aws:s3/bucketObjectv2:BucketObjectv2" && r.Inputs["key"] == v2Keys[component] {
				return k, r
			}
		}
		t.Fatalf("no package object %s", v2Keys[component])
		return "", sandbox.Resource{}
	}

	// Someone replaces version 2's api-handler package in the bucket.
	var original sandbox.Resource
	require.NoError(t, sandbox.Store{Path: e.cloud}.Update(func(st *sandbox.State) error {
		k, r := object(st, "api-handler")
		original = r
		r.Outputs = map[string]any{}
		for name, v := range original.Outputs {
			r.Outputs[name] = v
		}
		r.Outputs["checksumSha256"] = base64.StdEncoding.EncodeToString(make([]byte, 32))
		r.Outputs["versionId"] = "replaced-by-someone"
		st.Resources[k] = r
		return nil
	}))
	res := e.run("workflow_dispatch", fixture(t, "workflow_dispatch.json"), map[string]string{"command": "rollback", "rollback-to": "2"})
	assert.Equal(t, 1, res.Exit, res.String())
	assert.Contains(t, res.Stdout, "api-handler: the recorded package s3://tap-dev-artifacts-123456789012-eu-west-1/"+v2Keys["api-handler"])
	assert.Contains(t, res.Stdout, "not the recorded")
	assert.Contains(t, res.Stdout, "changed after it was deployed")
	assert.Equal(t, v3.Inputs["s3Key"], functionState(t, e, "api-handler").Inputs["s3Key"], "nothing changed")
	assert.EqualValues(t, 20, functionState(t, e, "api-handler").Inputs["timeout"])

	// And one that is gone (the api-handler package is put back).
	require.NoError(t, sandbox.Store{Path: e.cloud}.Update(func(st *sandbox.State) error {
		k, _ := object(st, "api-handler")
		st.Resources[k] = original
		k, _ = object(st, "file-processor")
		delete(st.Resources, k)
		return nil
	}))
	res = e.run("workflow_dispatch", fixture(t, "workflow_dispatch.json"), map[string]string{"command": "rollback", "rollback-to": "2"})
	assert.Equal(t, 1, res.Exit, res.String())
	assert.Contains(t, res.Stdout, "file-processor: the recorded package")
	assert.Contains(t, res.Stdout, "cannot be read")
	assert.Equal(t, v3.Inputs["s3Key"], functionState(t, e, "api-handler").Inputs["s3Key"], "nothing changed")
}

func TestRollback_PreviousAfterAFailedDeployIsTheLastGoodOne(t *testing.T) {
	e := newEnv(t)
	require.Equal(t, 0, e.run("push", fixture(t, "push.with-new-branch.json"), nil).Exit)
	require.Equal(t, 0, e.run("push", fixture(t, "push.with-new-branch.json"), map[string]string{"config": "lambdaMemoryMb=512"}).Exit)
	e.Vars[sandbox.EnvFailUpdate] = `aws:lambda/function:Function::api-handler$`
	failed := e.run("push", fixture(t, "push.with-new-branch.json"), map[string]string{"config": "lambdaMemoryMb=1024"})
	require.Equal(t, 1, failed.Exit, failed.String())
	delete(e.Vars, sandbox.EnvFailUpdate)

	rb := e.run("workflow_dispatch", fixture(t, "workflow_dispatch.json"), map[string]string{"command": "rollback", "rollback-to": "previous"})
	require.Equal(t, 0, rb.Exit, rb.String())
	assert.Contains(t, rb.Summary, "Rollback to version 2", "the last successful update before the failed one")
	assert.EqualValues(t, 512, functionState(t, e, "api-handler").Inputs["memorySize"])
}

func TestCancel_AnEngineThatMustBeKilledIsReportedWithTheRecoverySteps(t *testing.T) {
	e := newEnv(t)
	e.Vars[sandbox.EnvDelay] = "40s" // an AWS call that outlasts the runner's grace
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	p := e.start(ctx, "push", fixture(t, "push.with-new-branch.json"), nil)
	deadline := time.Now().Add(90 * time.Second)
	for e.cloudCalls("started") == 0 {
		require.True(t, time.Now().Before(deadline), "the update never started")
		time.Sleep(100 * time.Millisecond)
	}
	signalled := time.Now()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	res := p.wait()
	took := time.Since(signalled)
	assert.Equal(t, 1, res.Exit, res.String())
	assert.Less(t, took, 20*time.Second, "killed after the grace, not after the 40 s call")
	assert.Contains(t, res.Stdout, "Cancelled, and the engine had to be killed")
	assert.Contains(t, res.Stdout, "the stack may still be locked")
	assert.Contains(t, res.Stdout, "pulumi refresh --clear-pending-creates --yes")
	assert.NotContains(t, res.Stdout, "stopped cleanly")
	locks, _ := filepath.Glob(filepath.Join(e.state, ".pulumi", "locks", "*", "*", "*", "*.json"))
	assert.NotEmpty(t, locks, "the report is right: the killed update left its lock")
}

func (e *env) cloudCalls(kind string) int {
	st, err := sandbox.Store{Path: e.cloud}.Load()
	if err != nil {
		return 0
	}
	return st.Calls[kind]
}

func TestLambdaZipsDir_IsRefusedInActions(t *testing.T) {
	e := newEnv(t)
	e.Vars["TAP_LAMBDA_ZIPS_DIR"] = otherCode(t)
	res := e.run("push", fixture(t, "push.with-new-branch.json"), nil)
	assert.Equal(t, 1, res.Exit, res.String())
	assert.Contains(t, res.Stdout, "TAP_LAMBDA_ZIPS_DIR is set: it replaces the Lambda code this action deploys")
	assert.Zero(t, e.cloudCreates())
}

func TestComment_AGitHubAppTokenKeepsOneComment(t *testing.T) {
	e := newEnv(t)
	in := map[string]string{"github-token": githubtest.AppToken}
	require.Equal(t, 0, e.run("pull_request", fixture(t, "pull_request.opened.json"), in).Exit)
	sync := e.run("pull_request", fixture(t, "pull_request.synchronize.json"), in)
	require.Equal(t, 0, sync.Exit, sync.String())
	comments := e.GitHub.Comments(2)
	require.Len(t, comments, 1, "the App finds its own comment again")
	assert.Equal(t, githubtest.AppLogin, comments[0].Author)
	assert.Equal(t, 1, e.GitHub.Calls("PATCH comment"))
}
