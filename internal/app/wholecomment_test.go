package app

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/comment"
	"github.com/org/tap-deploy/internal/github"
	"github.com/org/tap-deploy/internal/render"
)

// Under reviewed-plan: require the whole comment as it stands, marker to
// footer, is rendered again from the deploy's own preview and compared.
// Every workflow whose token has pull-requests: write, and every person
// with write access through the web interface, can edit it while its
// author (and, for a workflow, its editor) stays github-actions[bot]: these
// edits leave the plan line and the edit history as the action wrote them.
func TestReview_RequireRefusesAnyEditOfTheWholeComment(t *testing.T) {
	for name, tt := range map[string]struct {
		edit func(string) string
		says string
	}{
		"a heading edited to read no changes": {
			func(b string) string {
				return strings.Replace(b, "### 📝 Preview of `tap` / `dev`: 1 to update", "### ✅ Preview of `tap` / `dev`: no changes", 1)
			},
			`line 3 of the comment shows "### ✅ Preview of ` + "`tap` / `dev`" + `: no changes"`,
		},
		"a fake 42-unchanged table, the real one folded into a collapsed details": {
			func(b string) string {
				real := "| Create | Update | Replace | Delete | Unchanged |\n|---:|---:|---:|---:|---:|\n| 0 | 1 | 0 | 0 | 0 |\n"
				fake := "| Create | Update | Replace | Delete | Unchanged |\n|---:|---:|---:|---:|---:|\n| 0 | 0 | 0 | 0 | 42 |\n\n<details><summary>details</summary>\n\n" + real + "</details>\n"
				return strings.Replace(b, real, fake, 1)
			},
			`line 11 of the comment shows "| 0 | 0 | 0 | 0 | 42 |"`,
		},
		"HTML added after the footer": {
			// The body ends at the first section (the configuration's,
			// which every preview writes).
			func(b string) string {
				return strings.Replace(b, "\n<!-- tap-deploy:section ", "\n<img src=\"https://evil.example/approved.png\">\n<!-- tap-deploy:section ", 1)
			},
			`of the comment shows "<img src=\"https://evil.example/approved.png\">", a fresh rendering of the plan has ""`,
		},
		"HTML added after the sections": {
			func(b string) string {
				return strings.TrimRight(b, "\n") + "\n<img src=\"https://evil.example/approved.png\">\n"
			},
			`the comment holds text the action did not write after its sections: "<img src=\"https://evil.example/approved.png\">"`,
		},
		"a note added under the heading": {
			func(b string) string {
				return strings.Replace(b, "\n<!-- tap-deploy:reviewed -->", "\n> Security approved this change.\n<!-- tap-deploy:reviewed -->", 1)
			},
			`line 7 of the comment shows "> Security approved this change."`,
		},
		"the footer's version edited": {
			func(b string) string {
				return strings.Replace(b, "tap-deploy v1.0.0-test ·", "tap-deploy v9.9.9 ·", 1)
			},
			`shows "<sub>tap-deploy v9.9.9 · 2026-11-28 12:00:00 UTC</sub>"`,
		},
		"the run link pointed elsewhere": {
			func(b string) string {
				return strings.Replace(b, "(https://github.com/Codertocat/Hello-World/actions/runs/7)", "(https://evil.example/runs/7)", 1)
			},
			`line 5 of the comment shows`,
		},
		"a section the action does not write": {
			func(b string) string { return b + "\n" + comment.Section("approval", "✅ approved by security") },
			`the comment holds a section the action does not write: "approval"`,
		},
		"the deploy section twice": {
			func(b string) string {
				return b + "\n" + comment.Section(deploySection, "a") + "\n" + comment.Section(deploySection, "b")
			},
			`the comment holds the section "deploy" twice`,
		},
		"a configuration section that says what the action does not write": {
			func(b string) string {
				return strings.Replace(b, comment.Section(configurationSection, ""),
					comment.Section(configurationSection, "#### ⚙️ Configuration\n\nApproved by security: nothing changes."), 1)
			},
			`the configuration section holds text the action does not write: "Approved by security: nothing changes."`,
		},
		"a review stack section with a fake plan": {
			func(b string) string {
				return b + "\n" + comment.Section(reviewStackSection, "#### 🧪 Review stack `dev-pr-2`\n\n✅ **Deployed** at commit `ec26c3e`\n\n| Create | Update |\n|---:|---:|\n| 0 | 0 |")
			},
			`the review stack's section holds text the action does not write`,
		},
	} {
		t.Run(name, func(t *testing.T) {
			h := reviewedThenMerged(t, "require", previewed(512), prHead)
			forged(h, tt.edit)
			require.ErrorIs(t, h.run(), ErrReported)
			assert.Empty(t, h.stack.ups, "nothing was changed")
			assert.Contains(t, h.log(), "Refusing to deploy what was not reviewed")
			assert.Contains(t, h.log(), tt.says)
		})
	}
}

// The comment's run link and time are another run's: the deploy renders
// them from what its plan line records, so a deploy later, from another
// run, with the sections the action writes, still matches.
func TestReview_TheWholeCommentOfAnotherRunAndTheActionsOwnSectionsDeploy(t *testing.T) {
	h := reviewedThenMerged(t, "require", previewed(512), prHead)
	h.clock.now = h.clock.now.Add(3 * time.Hour)
	h.env["GITHUB_RUN_ID"] = "8"
	forged(h, func(b string) string {
		stack := strings.TrimRight(render.ReviewStackMarkdown(render.ReviewStack{Stack: "dev-pr-2", State: render.ReviewStackDeployed, Commit: prHead,
			URL: "https://abc.execute-api.eu-west-1.amazonaws.com/dev"}), "\n")
		return b + "\n" + comment.Section(reviewStackSection, stack) + "\n\n" + comment.Section(deploySection, "an earlier attempt's report")
	})
	require.NoError(t, h.run(), h.log())
	assert.Len(t, h.stack.ups, 1)
	assert.Contains(t, h.gh.bodies(fixturePR)[0], "[workflow run](https://github.com/Codertocat/Hello-World/actions/runs/7)", "the preview's own run stays")
}

// The configuration section is compared as the body is: rendered again
// from the deploy's configuration and the history the preview compared
// with. An edit as the bot (any workflow with pull-requests: write) that
// empties it, rewrites a row or puts a line of its own in it stops a
// require deploy.
func TestRequire_AConfigurationSectionTheActionDidNotRenderStopsTheDeploy(t *testing.T) {
	for name, forgedSection := range map[string]string{
		"a could-not-be-read line of its own": "#### ⚙️ Configuration\n\nThe deployed configuration could not be read, so no key is compared: " +
			"**Security approved this configuration, nothing to check** https://evil.example/approval @octocat.",
		"emptied, as if nothing differed": "",
		"a row that lies": "#### ⚙️ Configuration\n\nCompared with update 1, the one deployed now (the configuration it recorded).\n\n" +
			"| Key | Deployed → this run | Set by |\n|---|---|---|\n" +
			"| `apiAuthorization` | `\"AWS_IAM\"` (unchanged) | `approved by security` |",
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			h.inputs["config"] = "apiAuthorization=NONE"
			h.event("pull_request", "pull_request.opened.json", nil)
			h.stack.preview = previewed(512)
			require.NoError(t, h.run(), h.log())
			body := h.gh.bodies(fixturePR)[0]
			require.Contains(t, body, "`apiAuthorization`", "the preview lists the change")

			h.event("push", "push.with-new-branch.json", nil)
			h.inputs["reviewed-plan"] = "require"
			h.stack.preview = previewed(512)
			h.gh.prsOfCommit = func(sha string) ([]github.PullRequest, error) {
				return []github.PullRequest{{Number: 2, HeadSHA: prHead, Merged: true, BaseRef: "master", MergeCommitSHA: sha}}, nil
			}
			forged(h, func(b string) string {
				const end = "<!-- /tap-deploy:section configuration -->"
				i, j := strings.Index(b, "<!-- tap-deploy:section configuration"), strings.Index(b, end)
				require.True(t, i >= 0 && j > i, b)
				return b[:i] + comment.Section(configurationSection, forgedSection) + b[j+len(end):]
			})
			err := h.run()
			require.ErrorIs(t, err, ErrReported, "a configuration section the action did not render must stop a require deploy")
			assert.Empty(t, h.stack.ups, "nothing may change")
			assert.Contains(t, h.log(), "configuration section")
		})
	}
}

// The same section, as the preview wrote it, lets the deploy go on: the
// comparison renders it byte for byte.
func TestRequire_TheConfigurationSectionAsThePreviewWroteItPasses(t *testing.T) {
	h := newHarness(t)
	h.inputs["config"] = "apiAuthorization=NONE"
	h.event("pull_request", "pull_request.opened.json", nil)
	h.stack.preview = previewed(512)
	require.NoError(t, h.run(), h.log())
	section, ok := comment.SectionText(h.gh.bodies(fixturePR)[0], configurationSection)
	require.True(t, ok)
	require.Contains(t, section, "`apiAuthorization`")

	h.event("push", "push.with-new-branch.json", nil)
	h.inputs["reviewed-plan"] = "require"
	h.stack.preview = previewed(512)
	h.gh.prsOfCommit = func(sha string) ([]github.PullRequest, error) {
		return []github.PullRequest{{Number: 2, HeadSHA: prHead, Merged: true, BaseRef: "master", MergeCommitSHA: sha}}, nil
	}
	require.NoError(t, h.run(), h.log())
	assert.Len(t, h.stack.ups, 1)
}
