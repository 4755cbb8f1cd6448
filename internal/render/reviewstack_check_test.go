package render_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/render"
)

func TestCheckReviewStack_TakesEverySectionTheRendererWrites(t *testing.T) {
	for _, v := range []render.ReviewStack{
		{State: render.ReviewStackDeploying, Commit: "ec26c3e57ca3a959ca5aad62de7213c562f8c821"},
		{State: render.ReviewStackNotUpdated, Commit: "ec26c3e57ca3a959ca5aad62de7213c562f8c821"},
		{State: render.ReviewStackDeployed, Commit: "ec26c3e", URL: "https://abc.execute-api.eu-west-1.amazonaws.com/dev",
			Expires: "Destroyed when the pull request closes or loses the label deploy_me, or by the scheduled sweep once it has gone 3 days without an update (after 2026-11-28 12:00 UTC)."},
		{State: render.ReviewStackDeployed, Commit: "ec26c3e", URL: "not a url"},
		{State: render.ReviewStackFailed, Error: "creating ```x```: AccessDenied"},
		{State: render.ReviewStackDestroyed},
		{State: render.ReviewStackDestroyFailed, Error: "one\ntwo"},
	} {
		v.Stack = "dev-pr-2"
		md := strings.TrimRight(render.ReviewStackMarkdown(v), "\n")
		assert.NoError(t, render.CheckReviewStack(md, "dev-pr-2"), md)
	}
}

// Anyone with write access can write into the review stack's section:
// what the renderer would not write there is named.
func TestCheckReviewStack_RefusesWhatTheRendererDoesNotWrite(t *testing.T) {
	deployed := strings.TrimRight(render.ReviewStackMarkdown(render.ReviewStack{Stack: "dev-pr-2", State: render.ReviewStackDeployed, Commit: "ec26c3e"}), "\n")
	for name, md := range map[string]string{
		"another stack's heading": strings.Replace(deployed, "dev-pr-2", "dev", 1),
		"a status of its own":     strings.Replace(deployed, "✅ **Deployed**", "✅ **Approved by security**", 1),
		"a fake plan table below": deployed + "\n\n| Create | Update |\n|---:|---:|\n| 0 | 0 |",
		"HTML below":              deployed + "\n\n<details><summary>the real plan</summary>",
		"a link in the status":    strings.Replace(deployed, "`ec26c3e`", "`ec26c3e` [docs](https://evil.example)", 1),
		"an unclosed error fence": deployed + "\n\n```text\nall good",
	} {
		t.Run(name, func(t *testing.T) {
			err := render.CheckReviewStack(md, "dev-pr-2")
			require.Error(t, err)
		})
	}
}
