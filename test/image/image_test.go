// Package image_test builds the action's image the way the release does
// (make image-context, then the Dockerfile on a base image) and runs it the
// way GitHub's runner runs a Docker container action: the /github/* bind
// mounts, INPUT_<NAME> variables for every input action.yml declares, the
// entrypoint and args from action.yml. The base is a stand-in made from
// local files (no registry is reachable in CI) and the aws plugin is the
// sandbox cloud, in the place the real plugin goes.
package image_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
	"golang.org/x/mod/modfile"

	"github.com/org/tap-deploy/test/actionstest"
	"github.com/org/tap-deploy/test/awsfake"
	"github.com/org/tap-deploy/test/fixtures"
	"github.com/org/tap-deploy/test/githubtest"
	"github.com/org/tap-deploy/test/requires"
	"github.com/org/tap-deploy/test/sandbox"
)

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

const passphrase = "image-test-passphrase"

func TestImage_BuiltFromTheTestedBinariesAndRunAsGitHubRunsIt(t *testing.T) {
	// make image-context copies the pinned CLI into the image; it would
	// build it (minutes) rather than skip.
	requires.PulumiCLI(t)
	rt := detectRuntime(t)
	root := repoRoot()
	suffix := randomHex(t)
	base := "localhost/tap-deploy-base-standin:" + suffix
	image := "localhost/tap-deploy:test-" + suffix

	// The build context as the release lays it out: the Dockerfile, the
	// .dockerignore and dist/image, staged by the same make target.
	contextDir := t.TempDir()
	plugin, err := sandbox.Build(context.Background())
	require.NoError(t, err)
	make := exec.Command("make", "--no-print-directory", "image-context",
		"IMAGE_CONTEXT="+filepath.Join(contextDir, "dist", "image"), "AWS_PLUGIN="+plugin)
	make.Dir = root
	out, err := make.CombinedOutput()
	require.NoError(t, err, "make image-context:\n%s", out)
	for _, f := range []string{"Dockerfile", ".dockerignore"} {
		b, err := os.ReadFile(filepath.Join(root, f))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(contextDir, f), b, 0o644))
	}
	// Anything else in the context stays out of the image.
	require.NoError(t, os.WriteFile(filepath.Join(contextDir, "stray-secret.txt"), []byte("not for the image"), 0o644))

	start := time.Now()
	rt.standInBase(t, base)
	rt.build(t, contextDir, image, "BASE_IMAGE="+base)
	t.Logf("image built with %s in %.1f s", filepath.Base(rt.name), time.Since(start).Seconds())

	awsVersion := moduleVersion(t, "go.mod", "github.com/pulumi/pulumi-aws/sdk/v6")
	t.Run("holds the binaries, the plugin under PULUMI_HOME and nothing else", func(t *testing.T) {
		added := map[string]fileEntry{}
		baseFiles := rt.files(t, base)
		for name, f := range rt.files(t, image) {
			if _, ok := baseFiles[name]; !ok && !f.Dir {
				added[name] = f
			}
		}
		want := []string{"usr/local/bin/tap-deploy", "usr/local/bin/pulumi",
			"pulumi/plugins/resource-aws-" + awsVersion + "/pulumi-resource-aws"}
		assert.ElementsMatch(t, want, keys(added), "the files the image adds to its base")
		for _, f := range want {
			assert.Equal(t, os.FileMode(0o755), added[f].Mode.Perm(), f)
		}
		all := rt.files(t, image)
		assert.NotContains(t, keys(all), "bin/sh", "no shell")
		// World-writable; the sticky bit does not survive buildah's COPY.
		assert.True(t, all["tmp"].Dir, "/tmp exists")
		assert.Equal(t, os.FileMode(0o777), all["tmp"].Mode.Perm(), "/tmp is world-writable")
		assert.Contains(t, keys(all), "etc/ssl/certs/ca-certificates.crt")

		assert.Contains(t, []string{"", "root", "0", "0:0"}, rt.inspect(t, image, "{{.Config.User}}"), "GitHub runs container actions as root")
		assert.Equal(t, "[/usr/local/bin/tap-deploy]", rt.inspect(t, image, "{{.Config.Entrypoint}}"))
		env := rt.inspect(t, image, "{{json .Config.Env}}")
		assert.Contains(t, env, "PULUMI_HOME=/pulumi")
		assert.Contains(t, env, "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true")
		t.Logf("image size: %s (base %s)", humanBytes(rt.size(t, image)), humanBytes(rt.size(t, base)))
	})

	t.Run("the build context holds only dist/image", func(t *testing.T) {
		probe := filepath.Join(t.TempDir(), "Dockerfile.context-probe")
		require.NoError(t, os.WriteFile(probe, []byte("FROM "+base+"\nCOPY . /context/\n"), 0o644))
		probeImage := "localhost/tap-deploy-context-probe:" + suffix
		rt.buildFile(t, contextDir, probe, probeImage)
		var inContext []string
		for name, f := range rt.files(t, probeImage) {
			if rest, ok := strings.CutPrefix(name, "context/"); ok && !f.Dir {
				inContext = append(inContext, rest)
			}
		}
		slices.Sort(inContext)
		assert.Equal(t, []string{"dist/image/bin/pulumi", "dist/image/bin/tap-deploy",
			"dist/image/plugins/resource-aws-" + awsVersion + "/pulumi-resource-aws"}, inContext)
	})

	r := newRunner(t, rt, image)
	t.Run("validate runs with no network and no credentials", func(t *testing.T) {
		res := r.run(t, job{event: "pull_request", payload: fixtures.Read(t, "pull_request.opened.json"), network: "none",
			inputs: map[string]string{"command": "validate", "environment": "prod", "aws-region": "eu-central-1", "github-token": ""}})
		require.Equal(t, 0, res.exit, res)
		assert.Equal(t, "validate", res.outputs["command"])
		assert.Equal(t, "0", res.outputs["policy-violations"])
		assert.Contains(t, res.summary, "Validation of `tap` / `prod`")
	})

	t.Run("a pull request preview leaves one comment and its outputs", func(t *testing.T) {
		gh := githubtest.New()
		defer gh.Close()
		res := r.run(t, job{event: "pull_request", payload: fixtures.Read(t, "pull_request.opened.json"), network: "host", github: gh,
			inputs: map[string]string{"environment": "dev", "aws-region": "eu-west-1", "backend-url": "file:///github/workspace/state"}})
		require.Equal(t, 0, res.exit, res)
		comments := gh.Comments(2)
		require.Len(t, comments, 1)
		assert.Contains(t, comments[0].Body, "Preview of `tap` / `dev`")
		assert.Equal(t, "preview", res.outputs["command"])
		assert.Equal(t, "true", res.outputs["has-changes"])
		assert.NotEmpty(t, res.outputs["comment-id"])
		assert.Contains(t, res.summary, "Preview of `tap` / `dev`")
		for _, line := range strings.Split(res.stdout, "\n") {
			if !strings.HasPrefix(line, "::add-mask::") {
				assert.NotContains(t, line, passphrase)
			}
		}
		assert.NotContains(t, res.summary+comments[0].Body, passphrase)

		host := r.runOnHost(t, contextDir, job{event: "pull_request", payload: fixtures.Read(t, "pull_request.opened.json"), github: gh,
			inputs: map[string]string{"environment": "dev", "aws-region": "eu-west-1"}})
		require.Equal(t, 0, host.exit, host)
		t.Logf("PR run (validate + preview + comment): %.2f s in the container, %.2f s on the host", res.elapsed.Seconds(), host.elapsed.Seconds())
	})

	t.Run("a deploy to a file backend in the workspace, one that changes nothing, then a canary", func(t *testing.T) {
		workspace := t.TempDir()
		require.NoError(t, sandbox.Store{Path: filepath.Join(workspace, "cloud.json")}.Bootstrap("eu-west-1"), "the account is set up as the quick start leaves it")
		in := map[string]string{"environment": "dev", "aws-region": "eu-west-1", "backend-url": "file:///github/workspace/state", "github-token": ""}
		// The provider's calls go to the sandbox plugin in the image; the
		// action's own (CodeDeploy's traffic shifts) to the loopback AWS.
		aws := awsfake.New(filepath.Join(workspace, "cloud.json"))
		defer aws.Close()
		first := r.run(t, job{event: "push", payload: fixtures.Read(t, "push.with-new-branch.json"), network: "host", aws: aws, inputs: in, workspace: workspace})
		require.Equal(t, 0, first.exit, first)
		assert.Equal(t, "up", first.outputs["command"])
		assert.Equal(t, "true", first.outputs["has-changes"])
		assert.Equal(t, "1", first.outputs["deployed-version"])
		var outputs map[string]any
		require.NoError(t, json.Unmarshal([]byte(first.outputs["stack-outputs"]), &outputs))
		assert.Equal(t, "tap-dev-items", outputs["tableName"])
		assert.Contains(t, first.summary, "Deploy of `tap` / `dev`: deployed")
		assert.DirExists(t, filepath.Join(workspace, "state", ".pulumi"), "the state is in the mounted workspace")
		cloud, err := sandbox.Store{Path: filepath.Join(workspace, "cloud.json")}.Load()
		require.NoError(t, err)
		assert.Greater(t, len(cloud.Resources), 60)

		second := r.run(t, job{event: "push", payload: fixtures.Read(t, "push.with-new-branch.json"), network: "host", aws: aws, inputs: in, workspace: workspace})
		require.Equal(t, 0, second.exit, second)
		assert.Equal(t, "false", second.outputs["has-changes"], second.outputs["change-summary"])
		assert.Equal(t, "2", second.outputs["deployed-version"])

		in["config"] = "lambdaMemoryMb=512"
		in["deployment-preference"] = "Canary10Percent5Minutes"
		aws.MinuteIs(100 * time.Millisecond)
		third := r.run(t, job{event: "push", payload: fixtures.Read(t, "push.with-new-branch.json"), network: "host", aws: aws, inputs: in, workspace: workspace})
		require.Equal(t, 0, third.exit, third)
		shifts := aws.Deployments()
		require.Len(t, shifts, 3, "the image shifted every function's new version through CodeDeploy")
		for _, d := range shifts {
			assert.Equal(t, []int{10, 100}, d.Shares, d.Group)
		}
	})
}

// runner plays GitHub's runner for a Docker container action.
type runner struct {
	rt     containerRuntime
	image  string
	action actionFile
}

type actionFile struct {
	Inputs map[string]struct {
		Default string
	}
	Runs struct {
		Image      string
		Entrypoint string
		Args       []string
	}
}

func newRunner(t *testing.T, rt containerRuntime, image string) runner {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(), "action.yml"))
	require.NoError(t, err)
	var a actionFile
	require.NoError(t, yaml.Unmarshal(b, &a))
	require.NotEmpty(t, a.Inputs)
	return runner{rt: rt, image: image, action: a}
}

// job is one step run.
type job struct {
	event   string
	payload []byte
	// inputs are the step's `with:`; every other input gets its default.
	inputs map[string]string
	// network is "none" or "host" (to reach a fake GitHub on loopback).
	network string
	github  *githubtest.Server
	// aws is the AWS the action itself calls (CodeDeploy, Lambda) over
	// the workspace's sandbox cloud; it needs network "host".
	aws *awsfake.Server
	// workspace is the checkout, kept between runs of one scenario.
	workspace string
}

type outcome struct {
	exit           int
	stdout, stderr string
	summary        string
	outputs        map[string]string
	elapsed        time.Duration
}

func (o outcome) String() string {
	return fmt.Sprintf("exit %d\n--- stdout\n%s\n--- stderr\n%s\n--- summary\n%s", o.exit, o.stdout, o.stderr, o.summary)
}

// env is what the runner sets for the step: GitHub's variables, HOME, and
// INPUT_<NAME> (upper-cased, hyphens kept) for every declared input.
func (r runner) env(j job, paths map[string]string) map[string]string {
	token := ""
	apiURL := "https://api.github.com"
	if j.github != nil {
		token, apiURL = githubtest.Token, strings.TrimSuffix(j.github.APIURL(), "/")
	}
	env := map[string]string{
		"GITHUB_ACTIONS": "true", "CI": "true",
		"GITHUB_EVENT_NAME": j.event, "GITHUB_EVENT_PATH": paths["event"],
		"GITHUB_WORKSPACE": paths["workspace"], "HOME": paths["home"],
		"GITHUB_OUTPUT": paths["output"], "GITHUB_STEP_SUMMARY": paths["summary"],
		"GITHUB_REPOSITORY": "Codertocat/Hello-World", "GITHUB_REPOSITORY_OWNER": "Codertocat",
		"GITHUB_SHA": "6113728f27ae82c7b1a177c8d03f9e96e0adf246", "GITHUB_REF": "refs/heads/master",
		"GITHUB_RUN_ID": "4242", "GITHUB_RUN_ATTEMPT": "1", "GITHUB_ACTOR": "Codertocat",
		"GITHUB_SERVER_URL": "https://github.com", "GITHUB_API_URL": apiURL,
		"PULUMI_CONFIG_PASSPHRASE": passphrase,
		sandbox.EnvState:           paths["workspace"] + "/cloud.json",
	}
	if j.aws != nil {
		for k, v := range j.aws.Env() {
			env[k] = v
		}
	}
	for name, in := range r.action.Inputs {
		value, given := j.inputs[name]
		if !given {
			value = strings.ReplaceAll(in.Default, "${{ github.token }}", token)
		}
		env["INPUT_"+strings.ToUpper(name)] = value
	}
	return env
}

// run runs the image for a job with GitHub's docker-run layout.
func (r runner) run(t *testing.T, j job) outcome {
	t.Helper()
	host := r.dirs(t, j)
	id := randomHex(t)
	container := map[string]string{
		"workspace": "/github/workspace", "home": "/github/home", "event": "/github/workflow/event.json",
		"output": "/github/file_commands/set_output_" + id, "summary": "/github/file_commands/step_summary_" + id,
	}
	args := []string{"--workdir", "/github/workspace", "--network", j.network,
		"-v", host["workspace"] + ":/github/workspace", "-v", host["home"] + ":/github/home",
		"-v", host["workflow"] + ":/github/workflow", "-v", host["file_commands"] + ":/github/file_commands"}
	for k, v := range r.env(j, container) {
		args = append(args, "-e", k+"="+v)
	}
	if r.action.Runs.Entrypoint != "" {
		args = append(args, "--entrypoint", r.action.Runs.Entrypoint)
	}
	args = append(append(args, r.image), r.action.Runs.Args...)
	start := time.Now()
	exit, stdout, stderr := r.rt.run(t, args...)
	return collect(exit, stdout, stderr, time.Since(start),
		filepath.Join(host["file_commands"], "set_output_"+id), filepath.Join(host["file_commands"], "step_summary_"+id))
}

// runOnHost runs the staged tap-deploy binary on this machine with the same
// job, for comparing times.
func (r runner) runOnHost(t *testing.T, contextDir string, j job) outcome {
	t.Helper()
	host := r.dirs(t, j)
	pulumiHome := filepath.Join(t.TempDir(), "pulumi-home")
	require.NoError(t, sandbox.Install(context.Background(), pulumiHome))
	paths := map[string]string{"workspace": host["workspace"], "home": host["home"], "event": filepath.Join(host["workflow"], "event.json"),
		"output": filepath.Join(host["file_commands"], "output"), "summary": filepath.Join(host["file_commands"], "summary")}
	env := r.env(j, paths)
	env["INPUT_BACKEND-URL"] = "file://" + filepath.Join(host["workspace"], "state")
	env["PULUMI_HOME"] = pulumiHome
	bin := filepath.Join(contextDir, "dist", "image", "bin")
	env["PATH"] = bin + string(os.PathListSeparator) + "/usr/bin:/bin"
	cmd := exec.Command(filepath.Join(bin, "tap-deploy"))
	cmd.Dir = host["workspace"]
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	exit := 0
	if ee, ok := err.(*exec.ExitError); ok {
		exit = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return collect(exit, stdout.String(), stderr.String(), time.Since(start), paths["output"], paths["summary"])
}

// dirs makes the host side of the runner's mounts and writes the event.
func (r runner) dirs(t *testing.T, j job) map[string]string {
	t.Helper()
	d := map[string]string{"workspace": j.workspace}
	if d["workspace"] == "" {
		d["workspace"] = t.TempDir()
	}
	for _, name := range []string{"home", "workflow", "file_commands"} {
		d[name] = t.TempDir()
	}
	require.NoError(t, os.WriteFile(filepath.Join(d["workflow"], "event.json"), j.payload, 0o644))
	return d
}

func collect(exit int, stdout, stderr string, elapsed time.Duration, outputFile, summaryFile string) outcome {
	o := outcome{exit: exit, stdout: stdout, stderr: stderr, elapsed: elapsed, outputs: actionstest.ReadOutputs(outputFile)}
	if b, err := os.ReadFile(summaryFile); err == nil {
		o.summary = string(b)
	}
	return o
}

func moduleVersion(t *testing.T, file, module string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(), file))
	require.NoError(t, err)
	f, err := modfile.Parse(file, b, nil)
	require.NoError(t, err)
	for _, r := range f.Require {
		if r.Mod.Path == module {
			return r.Mod.Version
		}
	}
	t.Fatalf("%s does not require %s", file, module)
	return ""
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func randomHex(t *testing.T) string {
	t.Helper()
	b := make([]byte, 6)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return hex.EncodeToString(b)
}
