package e2e_test

// Attacks on the guarantees of SECURITY.md from outside (the built
// binary, real payloads, the fake GitHub, the sandbox cloud), found by a
// red-team review: each comment says the attack and what now holds.

import (
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/comment"
	"github.com/org/tap-deploy/internal/reviewed"
	"github.com/org/tap-deploy/stack"
	"github.com/org/tap-deploy/test/githubtest"
)

// queueLands makes queueHead the merge of pull request #2 into master,
// pushed on top of headSHA (what the merge queue does when the check
// passes).
func queueLands(e *env) {
	e.GitHub.SetCommitPRs(queueHead, githubtest.PR{Number: 2, HeadSHA: prHeadSHA, MergeCommit: queueHead})
	e.GitHub.SetCompare(headSHA, queueHead, "ahead")
}

// sectionPlan decodes the plan line that heads the merge-queue section of
// pull request #2's comment.
func sectionPlan(t *testing.T, e *env) reviewed.Plan {
	t.Helper()
	p, err := reviewed.DecodeFirstLine(queueSection(t, e))
	require.NoError(t, err, "the merge-queue section starts with its plan line")
	return p
}

// withPlanLine replaces the plan line of a pull request comment (its line
// after the marker) by line, as a person with write access can in
// GitHub's web interface.
func withPlanLine(t *testing.T, body, line string) string {
	t.Helper()
	parts := strings.SplitN(body, "\n", 3)
	require.Len(t, parts, 3)
	require.True(t, strings.HasPrefix(parts[1], "<!-- tap-deploy:plan "), "line 2 is the plan line: %q", parts[1])
	return parts[0] + "\n" + line + "\n" + parts[2]
}

// Attack (laundered edit): GraphQL's editor and lastEditedAt name only
// the LAST edit. Any later write by the action's own account (here: the
// failing merge-queue check writing its section, which it does even when
// it refuses the entry) would hide a human edit made before it.
//
// The attack, by someone with write access:
//  1. The reviewed plan of pull request #2 sets lambdaMemoryMb=512; the
//     commit that lands sets 1024. The queue check (require) refuses it
//     and writes the 1024 plan into the merge-queue section.
//  2. Mallory copies that plan into the pull request's plan line (setting
//     its head to the pull request's head), in the web interface. The
//     visible preview still says 512.
//  3. She re-queues: the check names her edit and fails, but its own
//     section write makes the action's account the last editor.
//  4. She re-queues again: the check passes, the queue merges, and the
//     deploy (require) applies 1024, which no reviewer was shown.
//
// What holds: the whole edit history is read (GraphQL userContentEdits,
// every editor since the comment was created), so step 4 fails naming
// mallory, and nothing deploys; only a new preview, which replaces the
// comment, clears it.
func TestMergeQueue_AnEditUnderTheChecksOwnWritesIsStillRefused(t *testing.T) {
	e := newEnv(t)
	require.Equal(t, 0, e.run("push", fixture(t, "push.with-new-branch.json"), nil).Exit, "the base is deployed")
	e.GitHub.SetPullRequestHead(2, prHeadSHA)
	previewPR(t, e, map[string]string{"config": "lambdaMemoryMb=512"})
	lands := mergeInputs(map[string]string{"config": "lambdaMemoryMb=1024"}, "require")

	first := e.run("merge_group", mergeGroup(t, headSHA), lands)
	require.Equal(t, 1, first.Exit, "the entry differs from its review: %s", first.String())

	// Mallory pastes the landing plan into the reviewed plan's place.
	forged := sectionPlan(t, e)
	forged.Head = prHeadSHA
	c := e.GitHub.Comments(2)[0]
	require.Contains(t, c.Body, "`memorySize`: `256` → `512`", "what reviewers read")
	e.GitHub.EditAs(c.ID, "mallory", withPlanLine(t, c.Body, forged.Encode()))

	second := e.run("merge_group", mergeGroup(t, headSHA), lands)
	require.Equal(t, 1, second.Exit, second.String())
	require.Contains(t, second.Stdout, "the comment was edited by mallory", "the edit is seen once")
	require.Contains(t, e.GitHub.Comments(2)[0].Body, "`memorySize`: `256` → `512`", "the visible review is unchanged")

	third := e.run("merge_group", mergeGroup(t, headSHA), lands)
	assert.Equal(t, 1, third.Exit, "mallory's edit is still in the comment; the check must still refuse it: %s", third.String())
	assert.True(t, strings.Contains(third.Stdout, "edited by mallory"), "the check must still name the edit")

	queueLands(e)
	deploy := e.run("push", pushOf(t, queueHead, headSHA), lands)
	assert.Equal(t, 1, deploy.Exit, "the deploy must refuse a plan nobody reviewed: %s", deploy.String())
	assert.EqualValues(t, 256, functionState(t, e, "api-handler").Inputs["memorySize"], "the unreviewed 1024 must not reach the cloud")
}

// Attack (the deploy's require trusts the check's mode): a push deploy
// whose commit is the head of the comment's merge-queue section compares
// itself only with that section's plan. Whether the queue check compared
// that plan with the pull request's reviewed plan, and under which mode,
// is not checked: a check that ran under reviewed-plan warn (the input's
// default, e.g. a preview workflow that only added the merge_group
// trigger), or that found no reviewed plan at all (a pull request nobody
// previewed: a fork's, which only validates), writes a section that a
// `reviewed-plan: require` deploy applies.
//
// What holds: in the queued path, the deploy also reads the pull request's
// own reviewed plan (its place after the marker, head = the pull request's
// final head) and compares the section's plan with it (the starting state
// aside), as the check does. Both subtests are refused and memorySize
// stays 256.
func TestMergeQueue_ARequireDeployRefusesWhatAWarnCheckLetThrough(t *testing.T) {
	for name, reviewedPR := range map[string]bool{
		"a plan that differs from the review": true,
		"a pull request nobody previewed":     false,
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			require.Equal(t, 0, e.run("push", fixture(t, "push.with-new-branch.json"), nil).Exit)
			e.GitHub.SetPullRequestHead(2, prHeadSHA)
			if reviewedPR {
				previewPR(t, e, map[string]string{"config": "lambdaMemoryMb=512"})
			}
			check := e.run("merge_group", mergeGroup(t, headSHA), mergeInputs(map[string]string{"config": "lambdaMemoryMb=1024"}, "warn"))
			require.Equal(t, 0, check.Exit, "warn lets the entry through: %s", check.String())
			require.Contains(t, queueSection(t, e), "differs from the one reviewed", "the check said so, and let it land")

			queueLands(e)
			deploy := e.run("push", pushOf(t, queueHead, headSHA), mergeInputs(map[string]string{"config": "lambdaMemoryMb=1024"}, "require"))
			assert.Equal(t, 1, deploy.Exit, "require must refuse a plan that differs from the reviewed one: %s", deploy.String())
			assert.EqualValues(t, 256, functionState(t, e, "api-handler").Inputs["memorySize"], "nothing unreviewed reaches the cloud")
		})
	}
}

// registeredCommands are the workflow commands the runner knows
// (actions/runner's ActionCommandManager registers them).
var registeredCommands = []string{"add-mask", "add-matcher", "add-path", "debug", "echo", "endgroup", "error", "group",
	"notice", "remove-matcher", "save-state", "set-env", "set-output", "stop-commands", "warning"}

// runnerCommands lists the lines of stdout the runner acts on as it
// parses them (src/Runner.Common/ActionCommand.cs): a line that starts
// with "::" after .NET's TrimStart (every Unicode white space), or, when
// it is not one, a line that holds "##[<command>" followed by "]"
// ANYWHERE (the old format, TryParse, which searches with IndexOf); both
// outside ::stop-commands:: blocks. honoured() sees only the first kind
// at the very start of a line.
func runnerCommands(stdout string) (v2, v1 []string) {
	resume := ""
	for _, line := range strings.Split(stdout, "\n") {
		trimmed := strings.TrimLeftFunc(line, unicode.IsSpace)
		if resume != "" {
			if trimmed == "::"+resume+"::" {
				resume = ""
			}
			continue
		}
		if strings.HasPrefix(trimmed, "::") {
			if rest, ok := strings.CutPrefix(trimmed, "::stop-commands::"); ok {
				resume = rest
			}
			v2 = append(v2, line)
			continue
		}
		if i := strings.Index(line, "##["); i >= 0 {
			info, _, ok := strings.Cut(line[i+3:], "]")
			name, _, _ := strings.Cut(info, " ")
			for _, c := range registeredCommands {
				if ok && strings.EqualFold(name, c) {
					v1 = append(v1, line)
				}
			}
		}
	}
	return v2, v1
}

// Attack (workflow command injection): plain log lines escape line
// breaks and a leading "::", but the runner also runs the old command
// format "##[command]data" found anywhere in a line (ActionCommand.
// TryParse), and trims all Unicode white space, not only spaces and
// tabs, before looking for "::". A merge deploy logs the id of the plan
// it read from the comment's merge-queue section (queuedPlan's Infof) as
// it stands there: anyone with write access who edits a plan line with
// an id of their choosing into the comment runs a workflow command in
// the deploy job (an error annotation here; add-mask, stop-commands to
// silence the action's own annotations, set-output and save-state work
// the same way).
//
// What holds: a plan whose id is not 12 hex digits (or whose head or
// action version is not what the action writes) is not read; plain lines
// break "##[" anywhere and "::" after any Unicode space; and the edit is
// named and refused.
func TestDeploy_APlanIDEditedIntoTheCommentRunsNoWorkflowCommand(t *testing.T) {
	e := newEnv(t)
	require.Equal(t, 0, e.run("push", fixture(t, "push.with-new-branch.json"), nil).Exit)
	e.GitHub.SetPullRequestHead(2, prHeadSHA)
	previewPR(t, e, nil)
	queueLands(e)

	// Mallory adds a merge-queue section whose plan is of the pushed commit.
	c := e.GitHub.Comments(2)[0]
	p, err := reviewed.DecodeComment(c.Body, strings.SplitN(c.Body, "\n", 2)[0])
	require.NoError(t, err)
	p.Head, p.ID = queueHead, "0 ##[error]pwned-by-a-comment-edit"
	e.GitHub.EditAs(c.ID, "mallory", c.Body+"\n"+comment.Section("merge-queue", p.Encode()+"\nqueued"))

	deploy := e.run("push", pushOf(t, queueHead, headSHA), map[string]string{"reviewed-plan": "require"})
	v2, injected := runnerCommands(deploy.Stdout)
	assert.Empty(t, injected, "the runner would run these lines as workflow commands")
	for _, line := range v2 {
		assert.NotContains(t, line, "pwned", "the edited id never reaches a workflow command")
	}
	assert.Contains(t, deploy.Stdout, "edited by mallory", "the edit is named")
	assert.Equal(t, 1, deploy.Exit, "require refuses a comment someone else edited: %s", deploy.String())
}

// functionOf reads a function of any stack from the sandbox cloud.
func functionOf(t *testing.T, e *env, name string) map[string]any {
	t.Helper()
	for _, f := range e.cloudState().ByType(functionType) {
		if f.ID == name {
			return f.Inputs
		}
	}
	t.Fatalf("no function %s", name)
	return nil
}

// Attack (promotion of a rollback): a rollback records the commit of the
// update it restores but the tap-deploy version of the run that rolls
// back, while it restores that update's Lambda packages, which an older
// release built. promote-from then sees "the same commit and the same
// tap-deploy" and lets the next stage deploy the packages of the current
// release, which the source stack does not run (the README: "the same
// version and commit deploy the same code" is what the check relies on).
//
// The attack needs no special access: dev ran commit C with release
// v0.9.0 (its packages), then the current release deployed a later
// commit, and dev was rolled back to C (dispatched rollback, current
// release). Promoting C to staging with the current release passes; staging
// gets code dev never ran. (Here dev's first update is a local deploy of
// other packages whose history then says "commit C, v0.9.0", as that
// release would have written it.)
//
// What holds: a promotion compares the package digests the source's
// latest update recorded (tap:artifacts) with the ones this deploy ships,
// so staging is refused and nothing of it is created.
func TestPromote_ASourceRolledBackToAnOlderReleasesCodeIsRefused(t *testing.T) {
	e := newEnv(t)
	const commitC = "c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0"
	first := e.local("up", nil, map[string]string{"TAP_LAMBDA_ZIPS_DIR": otherCode(t)})
	require.Equal(t, 0, first.Exit, first.String())
	rewriteLatestHistory(t, e, "dev", func(cfg map[string]any) {
		cfg[stack.CommitKey], cfg[stack.ActionVersionKey] = commitC, "v0.9.0"
	})
	upgraded := e.run("push", fixture(t, "push.with-new-branch.json"), map[string]string{"commit-order": "warn"})
	require.Equal(t, 0, upgraded.Exit, upgraded.String())
	rb := e.run("workflow_dispatch", fixture(t, "workflow_dispatch.json"), map[string]string{"command": "rollback", "rollback-to": "1"})
	require.Equal(t, 0, rb.Exit, rb.String())
	devRuns := functionOf(t, e, "tap-dev-api-handler")["sourceCodeHash"]

	promote := e.run("push", pushOf(t, commitC, headSHA), map[string]string{"environment": "staging", "promote-from": "dev"})
	assert.Equal(t, 1, promote.Exit, "dev runs v0.9.0's packages, not this release's: %s", promote.String())
	if promote.Exit == 0 {
		assert.Equal(t, devRuns, functionOf(t, e, "tap-staging-api-handler")["sourceCodeHash"], "a promotion must deploy the code its source runs")
	}
}

// Holds: "merge-queue checks never write the backend" and "a
// merge group never changes a stack". The check of a stack that does not
// exist yet writes nothing where the state lives; the check of a deployed
// stack, asked for review stacks too, leaves the backend byte for byte as
// it was, deploys no review stack and changes nothing in the cloud.
// TestPreview_NeverWritesTheBackend covers pull request previews and drift
// checks; nothing covered the merge queue's check.
func TestMergeQueue_TheCheckNeverWritesTheBackendNorDeploysAReviewStack(t *testing.T) {
	e := newEnv(t)
	first := e.run("merge_group", mergeGroup(t, headSHA), nil)
	require.Equal(t, 0, first.Exit, first.String())
	assert.NoDirExists(t, e.state, "a first deploy's check creates nothing where the state lives")
	assert.Contains(t, queueSection(t, e), "does not exist yet: this is its first deploy")

	require.Equal(t, 0, e.run("push", fixture(t, "push.with-new-branch.json"), nil).Exit)
	before, calls := backendFiles(t, e.state), e.cloudState().Calls
	check := e.run("merge_group", mergeGroup(t, headSHA), map[string]string{"config": "lambdaMemoryMb=1024", "review-stack": "on"})
	require.Equal(t, 0, check.Exit, check.String())
	assert.Equal(t, before, backendFiles(t, e.state), "the check wrote nothing to the backend")
	for _, op := range []string{"create", "update", "delete"} {
		assert.Equal(t, calls[op], e.cloudState().Calls[op], "the check made no %s in the cloud", op)
	}
	assert.NoDirExists(t, e.state+"/review", "no review stack")
	assert.EqualValues(t, 256, functionState(t, e, "api-handler").Inputs["memorySize"])
}

// Attack (laundered edit, without a merge queue): the same root cause as
// TestMergeQueue_AnEditUnderTheChecksOwnWritesIsStillRefused,
// on the plain merge deploy. After the review, another deploy changes the
// stack, so the merge's plan is no longer the reviewed one and require
// refuses it. Mallory (write access) makes the comment show and record
// the new plan (a preview of the same head on another pull request gives
// her its exact text; she rebinds its plan line to #2), in the web
// interface. The first deploy names her edit and refuses, but writes its
// result into the comment's deploy section: the action's account is now
// the last editor. Re-running the deploy applies the plan nobody reviewed.
//
// What holds: as for the merge queue, every edit is read
// (userContentEdits); the re-run still names mallory and refuses.
func TestDeploy_AnEditUnderTheRefusedDeploysOwnReportIsStillRefused(t *testing.T) {
	e := newEnv(t)
	pr := map[string]string{"config": "lambdaTimeoutSeconds=20"}
	require.Equal(t, 0, e.run("push", fixture(t, "push.with-new-branch.json"), nil).Exit)
	previewPR(t, e, pr)
	other := e.run("workflow_dispatch", fixture(t, "workflow_dispatch.json"), map[string]string{"command": "up", "config": "lambdaMemoryMb=512", "commit-order": "warn"})
	require.Equal(t, 0, other.Exit, other.String())
	e.GitHub.SetCompare(dispatchSHA, headSHA, "ahead")
	mergeOfPR2(e)

	// The same head previewed on pull request #9, now.
	pr9 := modified(t, "pull_request.opened.json", func(p map[string]any) {
		p["number"] = 9
		p["pull_request"].(map[string]any)["number"] = 9
	})
	require.Equal(t, 0, e.run("pull_request", pr9, pr).Exit)
	now := e.GitHub.Comments(9)[0].Body
	reviewedComment := e.GitHub.Comments(2)[0]
	marker := strings.SplitN(reviewedComment.Body, "\n", 2)[0]
	plan, err := reviewed.DecodeComment(now, strings.SplitN(now, "\n", 2)[0])
	require.NoError(t, err)
	plan.For.PR = 2
	forged := withPlanLine(t, marker+"\n"+strings.SplitN(now, "\n", 2)[1], plan.Encode())
	e.GitHub.EditAs(reviewedComment.ID, "mallory", forged)

	merge := mergeInputs(pr, "require")
	refused := e.run("push", fixture(t, "push.with-new-branch.json"), merge)
	require.Equal(t, 1, refused.Exit, refused.String())
	require.Contains(t, refused.Stdout, "the comment was edited by mallory", "the edit is seen once")
	require.NotContains(t, refused.Stdout, "the comment does not show what this deploy would apply", "her copy is exact: only the edit stops it")

	rerun := e.run("push", fixture(t, "push.with-new-branch.json"), merge)
	assert.Equal(t, 1, rerun.Exit, "mallory's edit is still what the comment shows: the re-run must refuse it too: %s", rerun.String())
	assert.EqualValues(t, 10, functionState(t, e, "api-handler").Inputs["timeout"], "the unreviewed plan must not reach the cloud")
}
