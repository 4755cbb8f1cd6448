package engine_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/engine"
	"github.com/org/tap-deploy/internal/outcome"
	"github.com/org/tap-deploy/internal/problems"
	"github.com/org/tap-deploy/test/enginetest"
	"github.com/org/tap-deploy/test/sandbox"
)

func bucketProgram(versioning string) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		p, err := aws.NewProvider(ctx, "aws", &aws.ProviderArgs{
			Region:      pulumi.String("eu-west-1"),
			DefaultTags: &aws.ProviderDefaultTagsArgs{Tags: pulumi.StringMap{"project": pulumi.String("tap")}},
		})
		if err != nil {
			return err
		}
		b, err := s3.NewBucketV2(ctx, "files", &s3.BucketV2Args{Bucket: pulumi.String("tap-engine-test-files")}, pulumi.Provider(p))
		if err != nil {
			return err
		}
		_, err = s3.NewBucketVersioningV2(ctx, "files", &s3.BucketVersioningV2Args{
			Bucket:                  b.ID(),
			VersioningConfiguration: &s3.BucketVersioningV2VersioningConfigurationArgs{Status: pulumi.String(versioning)},
		}, pulumi.Provider(p))
		ctx.Export("bucketArn", b.Arn)
		return err
	}
}

// opener opens the stack with the bucket program at a versioning status,
// closed when the test ends.
func opener(t *testing.T, env *enginetest.Env, stack string) func(versioning string) *engine.Stack {
	return func(versioning string) *engine.Stack {
		st, err := engine.Open(context.Background(), env.Settings("engine-test", stack), bucketProgram(versioning))
		require.NoError(t, err)
		t.Cleanup(func() { st.Close() })
		return st
	}
}

func TestStack_PreviewUpThenNoChanges(t *testing.T) {
	env := enginetest.New(t)
	ctx := context.Background()

	open := opener(t, env, "dev")

	st := open("Enabled")
	pre, err := st.Preview(ctx, engine.PreviewOptions{})
	require.NoError(t, err)
	assert.Equal(t, 2, pre.Counts[outcome.OpCreate], "the bucket and its versioning are created: %+v", pre.Steps)
	assert.Equal(t, 1, pre.Pulumi[outcome.OpCreate], "and the provider, counted apart")
	assert.Empty(t, env.Cloud(t).Resources, "a preview must not create anything")

	up, err := st.Up(ctx, "first deploy", engine.UpOptions{})
	require.NoError(t, err)
	assert.Equal(t, 2, up.Counts[outcome.OpCreate])
	cloud := env.Cloud(t)
	buckets := cloud.ByType("aws:s3/bucketV2:BucketV2")
	require.Len(t, buckets, 1)
	assert.Equal(t, "eu-west-1", buckets[0].Region)
	assert.Equal(t, map[string]any{"project": "tap"}, buckets[0].Outputs["tagsAll"])

	assert.Equal(t, "arn:aws:s3:::tap-engine-test-files", up.Outputs["bucketArn"], "outputs come from the engine's events")
	assert.Contains(t, pre.Outputs, "bucketArn")
	assert.Equal(t, outcome.Unknown, pre.Outputs["bucketArn"], "a computed attribute is unknown until the bucket exists")
	assert.Nil(t, pre.KnownOutputs()["bucketArn"], "and null for a machine")

	again, err := open("Enabled").Up(ctx, "second deploy", engine.UpOptions{})
	require.NoError(t, err)
	assert.False(t, again.HasChanges(), "a second identical deploy changes nothing: %+v", again.Counts)

	changed, err := open("Suspended").Preview(ctx, engine.PreviewOptions{})
	require.NoError(t, err)
	require.Equal(t, 1, changed.Counts[outcome.OpUpdate])
	steps := changed.ByOp(outcome.OpUpdate)
	assert.Equal(t, "aws:s3/bucketVersioningV2:BucketVersioningV2", steps[0].Type)
	assert.Contains(t, steps[0].Changed, "versioningConfiguration")
}

func TestStack_InjectedCreateFailureNamesTheResource(t *testing.T) {
	env := enginetest.New(t)
	env.Env[sandbox.EnvFailCreate] = `BucketVersioningV2::files$`
	ctx := context.Background()
	st, err := engine.Open(ctx, env.Settings("engine-test", "dev"), bucketProgram("Enabled"))
	require.NoError(t, err)
	defer st.Close()

	res, err := st.Up(ctx, "deploy", engine.UpOptions{})
	require.Error(t, err)
	var runErr *engine.RunError
	require.ErrorAs(t, err, &runErr)
	failed := res.Failed()
	require.Len(t, failed, 1, "%+v", res.Steps)
	assert.Equal(t, "aws:s3/bucketVersioningV2:BucketVersioningV2", failed[0].Type)
	assert.Contains(t, failed[0].Error, "injected failure")
	assert.Len(t, env.Cloud(t).ByType("aws:s3/bucketV2:BucketV2"), 1)
}

func TestOpen_WithoutCLIGivesClearError(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := engine.Open(context.Background(), engine.Settings{Project: "p", Stack: "s", BackendURL: "file://" + filepath.Join(t.TempDir())}, bucketProgram("Enabled"))
	require.ErrorIs(t, err, engine.ErrNoCLI)
}

func TestStack_AnUpdateStopsWhenTheStackChangedSinceItsPreview(t *testing.T) {
	env := enginetest.New(t)
	ctx := context.Background()
	open := opener(t, env, "dev")
	first := open("Enabled")
	_, err := first.Up(ctx, "first deploy", engine.UpOptions{})
	require.NoError(t, err)

	// A deploy previews and saves its plan...
	mine := open("Suspended")
	start, err := mine.State(ctx)
	require.NoError(t, err)
	planFile := filepath.Join(t.TempDir(), "plan.json")
	pre, err := mine.Preview(ctx, engine.PreviewOptions{SaveUpdatePlan: planFile})
	require.NoError(t, err)
	assert.Equal(t, 1, pre.Counts[outcome.OpUpdate])

	// ...someone else's update lands before its up...
	other := open("Disabled")
	_, err = other.Up(ctx, "someone else", engine.UpOptions{})
	require.NoError(t, err)
	updatesBefore := env.Cloud(t).Calls["update"]

	// ...and the planned update stops before changing anything.
	_, err = mine.Up(ctx, "planned", engine.UpOptions{UpdatePlan: planFile, ExpectState: start.Digest})
	require.Error(t, err)
	assert.ErrorIs(t, err, engine.ErrStateChanged)
	assert.Equal(t, updatesBefore, env.Cloud(t).Calls["update"], "nothing was updated")
	for _, r := range env.Cloud(t).ByType("aws:s3/bucketVersioningV2:BucketVersioningV2") {
		assert.Equal(t, "Disabled", r.Inputs["versioningConfiguration"].(map[string]any)["status"], "the other update's value stays")
	}

	// From the new state, with a new preview, it applies.
	again, err := mine.State(ctx)
	require.NoError(t, err)
	require.NotEqual(t, start.Digest, again.Digest)
	_, err = mine.Preview(ctx, engine.PreviewOptions{SaveUpdatePlan: planFile})
	require.NoError(t, err)
	_, err = mine.Up(ctx, "planned again", engine.UpOptions{UpdatePlan: planFile, ExpectState: again.Digest})
	require.NoError(t, err)
}

func TestStack_MustExistListDestroyRemove(t *testing.T) {
	env := enginetest.New(t)
	ctx := context.Background()

	missing := env.Settings("engine-test", "dev-pr-7")
	missing.MustExist = true
	_, err := engine.Open(ctx, missing, bucketProgram("Enabled"))
	require.ErrorIs(t, err, engine.ErrNoStack)
	none, err := engine.ListStacks(ctx, env.Settings("engine-test", ""))
	require.NoError(t, err)
	assert.Empty(t, none, "opening with MustExist created nothing")

	st, err := engine.Open(ctx, env.Settings("engine-test", "dev-pr-7"), bucketProgram("Enabled"))
	require.NoError(t, err)
	defer st.Close()
	_, err = st.Up(ctx, "deploy", engine.UpOptions{})
	require.NoError(t, err)
	listed, err := engine.ListStacks(ctx, env.Settings("engine-test", ""))
	require.NoError(t, err)
	require.Len(t, listed, 1)
	assert.True(t, strings.HasSuffix(listed[0].Name, "dev-pr-7"), listed[0].Name)
	assert.WithinDuration(t, time.Now(), listed[0].LastUpdate, 5*time.Minute, "the backend's update time is read")
	assert.False(t, listed[0].UpdateInProgress)

	require.Error(t, st.Remove(ctx), "a stack that still holds resources is not removed")
	destroyed, err := st.Destroy(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, destroyed.Counts[outcome.OpDelete])
	assert.Empty(t, env.Cloud(t).Resources)
	require.NoError(t, st.Remove(ctx))
	after, err := engine.ListStacks(ctx, env.Settings("engine-test", ""))
	require.NoError(t, err)
	assert.Empty(t, after)
}

func TestFindTools_NamesWhatIsMissingAndTheCommandThatInstallsIt(t *testing.T) {
	bin, home := t.TempDir(), t.TempDir()
	t.Setenv("PATH", bin)
	plugin := engine.AWSPluginDir(home)

	err := engine.FindTools(home)
	require.Error(t, err)
	assert.Equal(t, []string{
		engine.ErrNoCLI.Error(),
		"the Pulumi aws plugin v" + engine.AWSPluginVersion + " is not installed: " + plugin + " was not found: install it with `pulumi plugin install resource aws " + engine.AWSPluginVersion + "`",
	}, problems.Of(err), "both at once")
	assert.Contains(t, engine.ErrNoCLI.Error(), "`curl -fsSL https://get.pulumi.com | sh`")

	require.NoError(t, os.WriteFile(filepath.Join(bin, "pulumi"), []byte("#!/bin/sh\n"), 0o755))
	err = engine.FindTools(home)
	require.Error(t, err)
	assert.Equal(t, []string{"the Pulumi aws plugin v" + engine.AWSPluginVersion + " is not installed: " + plugin + " was not found: install it with `pulumi plugin install resource aws " + engine.AWSPluginVersion + "`"}, problems.Of(err))

	require.NoError(t, os.MkdirAll(plugin, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(plugin, "pulumi-resource-aws"), []byte("#!/bin/sh\n"), 0o755))
	assert.NoError(t, engine.FindTools(home))

	require.NoError(t, os.Remove(filepath.Join(bin, "pulumi")))
	assert.ErrorIs(t, engine.FindTools(home), engine.ErrNoCLI, "the CLI alone is ErrNoCLI")
}

func TestFindTools_LooksInHomeDotPulumiByDefault(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("PATH", t.TempDir())
	assert.Contains(t, engine.FindTools("").Error(), filepath.Join(home, ".pulumi", "plugins", "resource-aws-v"+engine.AWSPluginVersion))
}
