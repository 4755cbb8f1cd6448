// Package route decides what a run does from the GitHub event that started
// it, and whether that event may change the stack at all. It is a pure
// function over the webhook payload.
package route

import (
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/org/tap-deploy/internal/inputs"
)

// Repository is the repository the event belongs to.
type Repository struct {
	Owner         string
	Name          string
	DefaultBranch string
}

// FullName is owner/name.
func (r Repository) FullName() string { return r.Owner + "/" + r.Name }

// PullRequest is what the PR path needs to know about a pull request.
type PullRequest struct {
	Number  int
	HeadSHA string
	// Fork is true when the head lives in another repository: such runs get a
	// read-only token and no secrets.
	Fork bool
}

// Decision is what the run will do and the facts it needs to do it.
type Decision struct {
	// Command is the command to run; empty when Skip is set.
	Command inputs.Command
	// Skip means the event needs nothing; Reason says why, as a notice.
	Skip   bool
	Reason string
	// Event is the GitHub event name ("" for a local run).
	Event       string
	Repository  Repository
	PullRequest *PullRequest
	// SHA is the commit the run is about: the PR head, the pushed commit,
	// or GITHUB_SHA for workflow_dispatch and schedule.
	SHA string
	// Ref is the pushed ref (refs/heads/main, refs/tags/v1) or GITHUB_REF.
	Ref   string
	Actor string
	// DeployReviewStack means the pull request's review stack is deployed
	// after its preview (the command destroy-review-stack removes it).
	DeployReviewStack bool
	// MergeGroup is the merge queue's entry a merge_group run checks; SHA
	// is then its head, the commit that will land.
	MergeGroup *MergeGroup
}

// MergeGroup is a merge queue's entry: the commit that will land (Head)
// on top of Base, for pull request PR (0 when its queue branch does not
// say).
type MergeGroup struct {
	Head, Base string
	BaseRef    string
	PR         int
}

// Options are what routing needs besides the command.
type Options struct {
	// DeployBranches are the branches a push may deploy from; empty means
	// the repository's default branch.
	DeployBranches []string
	ReviewStack    inputs.ReviewStack
	// ReviewStacksOnly means the run reaches only the review stacks'
	// backend (no backend-url): a pull request's review stack is deployed
	// without the environment's preview, which another job posts.
	ReviewStacksOnly bool
}

// Event is what started the run.
type Event struct {
	// Name is GITHUB_EVENT_NAME; "" means a local run.
	Name    string
	Payload []byte
	// SHA and Ref are GITHUB_SHA and GITHUB_REF: the only commit a
	// workflow_dispatch or schedule run knows (their payloads carry none).
	SHA string
	Ref string
}

// Refusal is an event asking for a command it may not run; nothing ran.
type Refusal struct{ Reason string }

func (r *Refusal) Error() string { return r.Reason }

// payload holds the fields of the webhook payloads that routing reads.
type payload struct {
	Action string `json:"action"`
	Label  *struct {
		Name string `json:"name"`
	} `json:"label"`
	Number      int    `json:"number"`
	Ref         string `json:"ref"`
	After       string `json:"after"`
	Deleted     bool   `json:"deleted"`
	PullRequest *struct {
		Number int `json:"number"`
		Labels []struct {
			Name string `json:"name"`
		} `json:"labels"`
		Head struct {
			SHA  string `json:"sha"`
			Repo *struct {
				FullName string `json:"full_name"`
			} `json:"repo"`
		} `json:"head"`
		Base struct {
			Repo struct {
				FullName string `json:"full_name"`
			} `json:"repo"`
		} `json:"base"`
	} `json:"pull_request"`
	Repository struct {
		Name          string `json:"name"`
		FullName      string `json:"full_name"`
		DefaultBranch string `json:"default_branch"`
		Owner         struct {
			Login string `json:"login"`
			Name  string `json:"name"`
		} `json:"owner"`
	} `json:"repository"`
	Sender struct {
		Login string `json:"login"`
	} `json:"sender"`
	MergeGroup *struct {
		HeadSHA string `json:"head_sha"`
		HeadRef string `json:"head_ref"`
		BaseSHA string `json:"base_sha"`
		BaseRef string `json:"base_ref"`
	} `json:"merge_group"`
}

const zeroSHA = "0000000000000000000000000000000000000000"

// Decide routes an event to a command. requested is the `command` input:
// auto lets the event decide, anything else is run as asked, within what
// the event may do: a fork PR never gets more than validate, a command
// that changes the stack (up, rollback) runs only from a push to one of
// deployBranches (default: the repository's default branch), from
// workflow_dispatch or schedule, or locally, and destroy only from
// workflow_dispatch or locally; anything else is a Refusal.
func Decide(ev Event, requested inputs.Command, opts Options) (Decision, error) {
	if ev.Name == "" {
		cmd := requested
		if cmd == inputs.Auto {
			cmd = inputs.Preview
		}
		return Decision{Command: cmd}, nil
	}

	var p payload
	if err := json.Unmarshal(ev.Payload, &p); err != nil {
		return Decision{}, fmt.Errorf("reading the %s event payload: %w", ev.Name, err)
	}
	d := Decision{
		Event:      ev.Name,
		Repository: repository(p),
		Actor:      p.Sender.Login,
		SHA:        ev.SHA,
		Ref:        ev.Ref,
	}
	branches := opts.DeployBranches
	if len(branches) == 0 && d.Repository.DefaultBranch != "" {
		branches = []string{d.Repository.DefaultBranch}
	}

	var err error
	switch ev.Name {
	case "pull_request", "pull_request_target":
		d, err = decidePullRequest(d, p, requested, opts)
	case "push":
		d, err = decidePush(d, p, requested, branches)
	case "merge_group":
		d, err = decideMergeGroup(d, p, requested)
	case "workflow_dispatch", "schedule":
		switch {
		case requested != inputs.Auto:
			d.Command = requested
		case ev.Name == "schedule":
			d.Command = inputs.Drift
		default:
			return Decision{}, fmt.Errorf("a workflow_dispatch run needs an explicit command (validate, preview, up, rollback or drift); pass it as the %q input", inputs.NameCommand)
		}
	default:
		if requested == inputs.Auto {
			return skip(d, fmt.Sprintf("the %s event has no automatic command; nothing to do", ev.Name)), nil
		}
		d.Command = requested
	}
	if err == nil && !d.Skip && d.Command == inputs.Destroy && ev.Name != "workflow_dispatch" {
		return Decision{}, &Refusal{Reason: fmt.Sprintf("command destroy never runs from a %s event: a teardown runs only from workflow_dispatch, "+
			"started by a person who types the environment's name into %s", ev.Name, inputs.NameConfirmDestroy)}
	}
	if err != nil || d.Skip || !changesStack(d.Command) {
		return d, err
	}
	if why := refuseChange(d, p, branches); why != "" {
		return Decision{}, &Refusal{Reason: why}
	}
	return d, nil
}

// changesStack reports whether a command changes the environment's stack
// (sweep destroys stacks of the project).
func changesStack(c inputs.Command) bool {
	return c == inputs.Up || c == inputs.Rollback || c == inputs.Sweep || c == inputs.Destroy
}

// refuseChange says why the event may not change the stack, or "".
func refuseChange(d Decision, p payload, branches []string) string {
	const where = "deploys, rollbacks and sweeps run only from a push to a deploy branch, workflow_dispatch or schedule"
	switch d.Event {
	case "workflow_dispatch", "schedule":
		return ""
	case "pull_request", "pull_request_target":
		return fmt.Sprintf("command %s never runs from a %s event (pull request #%d): a pull request validates and previews; %s", d.Command, d.Event, p.PullRequest.Number, where)
	case "push":
		switch {
		case p.Deleted || p.After == zeroSHA:
			return fmt.Sprintf("command %s never runs from a push that deletes %s; %s", d.Command, p.Ref, where)
		case strings.HasPrefix(p.Ref, "refs/tags/"):
			return fmt.Sprintf("command %s never runs from a tag push (%s); %s", d.Command, p.Ref, where)
		case !matchesBranch(strings.TrimPrefix(p.Ref, "refs/heads/"), branches):
			return fmt.Sprintf("command %s never runs from a push to %s: deploy-branches allows %s", d.Command, p.Ref, describeBranches(branches))
		}
		return ""
	}
	return fmt.Sprintf("command %s never runs from a %s event; %s", d.Command, d.Event, where)
}

// matchesBranch reports whether branch matches one of the patterns
// (path.Match globs: release/* matches release/1.2, not release/1/2).
func matchesBranch(branch string, patterns []string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, branch); ok {
			return true
		}
	}
	return false
}

func describeBranches(patterns []string) string {
	if len(patterns) == 0 {
		return "no branch (the payload names no default branch)"
	}
	return strings.Join(patterns, ", ")
}

func decidePullRequest(d Decision, p payload, requested inputs.Command, opts Options) (Decision, error) {
	if p.PullRequest == nil {
		return Decision{}, fmt.Errorf("the %s payload has no pull_request object", d.Event)
	}
	pr := &PullRequest{Number: p.PullRequest.Number, HeadSHA: p.PullRequest.Head.SHA}
	// A deleted fork has no head repo; treat it as a fork, the safe side.
	head := ""
	if p.PullRequest.Head.Repo != nil {
		head = p.PullRequest.Head.Repo.FullName
	}
	pr.Fork = head == "" || !strings.EqualFold(head, p.PullRequest.Base.Repo.FullName)
	d.PullRequest = pr
	d.SHA = pr.HeadSHA

	if requested == inputs.Auto {
		var why string
		d, why = reviewStackAction(d, p, opts.ReviewStack)
		if why != "" {
			return skip(d, why), nil
		}
		if opts.ReviewStacksOnly && d.Command == inputs.Preview {
			if !d.DeployReviewStack {
				return skip(d, fmt.Sprintf("pull request #%d gets no review stack, and this run has no backend-url for the environment's preview", pr.Number)), nil
			}
			d.Command, d.DeployReviewStack = inputs.DeployReviewStack, false
		}
	} else {
		d.Command = requested
	}
	if pr.Fork && d.Command != inputs.Validate && !changesStack(d.Command) {
		if d.Command == inputs.DestroyReviewStack || d.Command == inputs.DeployReviewStack {
			return skip(d, fmt.Sprintf("pull request #%d comes from a fork: it never gets a review stack", pr.Number)), nil
		}
		d.Command, d.DeployReviewStack = inputs.Validate, false
		d.Reason = fmt.Sprintf("pull request #%d comes from a fork (%s): it has no secrets and a read-only token, so only offline validation runs", pr.Number, head)
	}
	return d, nil
}

// reviewStackAction decides what a pull request event does on its own:
// opened, synchronize and reopened preview (and, with review stacks, deploy
// the PR's review stack); in label mode labeled and unlabeled with that
// label deploy and destroy it; closed destroys it. It returns why the
// event needs nothing, if it does not.
func reviewStackAction(d Decision, p payload, review inputs.ReviewStack) (Decision, string) {
	labelled := !review.On || review.Label == ""
	for _, l := range p.PullRequest.Labels {
		labelled = labelled || l.Name == review.Label
	}
	eventLabel := ""
	if p.Label != nil {
		eventLabel = p.Label.Name
	}
	switch {
	case p.Action == "opened" || p.Action == "synchronize" || p.Action == "reopened":
		d.Command, d.DeployReviewStack = inputs.Preview, review.On && labelled
	case review.On && review.Label != "" && eventLabel == review.Label && p.Action == "labeled":
		d.Command, d.DeployReviewStack = inputs.Preview, true
	case review.On && review.Label != "" && eventLabel == review.Label && p.Action == "unlabeled":
		d.Command = inputs.DestroyReviewStack
	case review.On && p.Action == "closed":
		d.Command = inputs.DestroyReviewStack
	default:
		return d, fmt.Sprintf("pull_request %q needs no preview (only opened, synchronize and reopened do)", p.Action)
	}
	return d, ""
}

func decidePush(d Decision, p payload, requested inputs.Command, branches []string) (Decision, error) {
	d.SHA, d.Ref = p.After, p.Ref
	if requested != inputs.Auto {
		d.Command = requested
		return d, nil
	}
	switch {
	case p.Deleted || p.After == zeroSHA:
		return skip(d, fmt.Sprintf("the push deletes %s; nothing to deploy", p.Ref)), nil
	case strings.HasPrefix(p.Ref, "refs/tags/"):
		return skip(d, fmt.Sprintf("the push is of tag %s; only pushes to a deploy branch deploy", strings.TrimPrefix(p.Ref, "refs/tags/"))), nil
	case len(branches) == 0:
		return Decision{}, fmt.Errorf("the push payload names no repository.default_branch and deploy-branches is empty; cannot tell whether %s should deploy", p.Ref)
	case !matchesBranch(strings.TrimPrefix(p.Ref, "refs/heads/"), branches):
		return skip(d, fmt.Sprintf("the push is to %s, which deploy-branches (%s) does not name; nothing to deploy", strings.TrimPrefix(p.Ref, "refs/heads/"), describeBranches(branches))), nil
	}
	d.Command = inputs.Up
	return d, nil
}

// queueBranch is a merge group's head ref: the queue's branch names the
// base branch (which may hold slashes), the pull request and the base.
var queueBranch = regexp.MustCompile(`^refs/heads/gh-readonly-queue/.+/pr-([0-9]+)-[0-9a-f]{40}$`)

// decideMergeGroup previews a merge queue's entry: the commit that will
// land, against the stack it will meet. A merge group never deploys (the
// push after the merge does); a destroyed group needs nothing.
func decideMergeGroup(d Decision, p payload, requested inputs.Command) (Decision, error) {
	if p.MergeGroup == nil {
		return Decision{}, fmt.Errorf("the merge_group payload has no merge_group object")
	}
	if p.Action != "checks_requested" {
		return skip(d, fmt.Sprintf("merge_group %q needs no check (only checks_requested does)", p.Action)), nil
	}
	g := &MergeGroup{Head: p.MergeGroup.HeadSHA, Base: p.MergeGroup.BaseSHA, BaseRef: p.MergeGroup.BaseRef}
	if m := queueBranch.FindStringSubmatch(p.MergeGroup.HeadRef); m != nil {
		g.PR, _ = strconv.Atoi(m[1])
	}
	d.MergeGroup, d.SHA, d.Ref = g, g.Head, p.MergeGroup.HeadRef
	d.Command = requested
	if requested == inputs.Auto {
		d.Command = inputs.Preview
	}
	return d, nil
}

func repository(p payload) Repository {
	owner := p.Repository.Owner.Login
	if owner == "" {
		// push payloads carry the owner as {name, email}.
		owner = p.Repository.Owner.Name
	}
	if owner == "" {
		owner, _, _ = strings.Cut(p.Repository.FullName, "/")
	}
	return Repository{Owner: owner, Name: p.Repository.Name, DefaultBranch: p.Repository.DefaultBranch}
}

func skip(d Decision, reason string) Decision {
	d.Command = ""
	d.Skip = true
	d.Reason = reason
	return d
}
