// Package route decides what a run does from the GitHub event that started
// it. It is a pure function over the webhook payload.
package route

import (
	"encoding/json"
	"fmt"
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
	// SHA is the commit the run is about (the PR head or the pushed commit).
	SHA   string
	Actor string
}

// payload holds the fields of the webhook payloads that routing reads.
type payload struct {
	Action      string `json:"action"`
	Number      int    `json:"number"`
	Ref         string `json:"ref"`
	After       string `json:"after"`
	Deleted     bool   `json:"deleted"`
	PullRequest *struct {
		Number int `json:"number"`
		Head   struct {
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
}

const zeroSHA = "0000000000000000000000000000000000000000"

// Decide routes an event to a command. requested is the `command` input:
// auto lets the event decide, anything else is run as asked (except that a
// fork PR never gets more than validate). eventName "" means a local run.
func Decide(eventName string, body []byte, requested inputs.Command) (Decision, error) {
	if eventName == "" {
		cmd := requested
		if cmd == inputs.Auto {
			cmd = inputs.Preview
		}
		return Decision{Command: cmd}, nil
	}

	var p payload
	if err := json.Unmarshal(body, &p); err != nil {
		return Decision{}, fmt.Errorf("reading the %s event payload: %w", eventName, err)
	}
	d := Decision{
		Event:      eventName,
		Repository: repository(p),
		Actor:      p.Sender.Login,
	}

	switch eventName {
	case "pull_request", "pull_request_target":
		return decidePullRequest(d, p, requested)
	case "push":
		return decidePush(d, p, requested)
	case "workflow_dispatch", "schedule":
		if requested == inputs.Auto {
			if eventName == "schedule" {
				d.Command = inputs.Drift
				return d, nil
			}
			return Decision{}, fmt.Errorf("a workflow_dispatch run needs an explicit command (validate, preview, up, rollback or drift); pass it as the %q input", inputs.NameCommand)
		}
		d.Command = requested
		return d, nil
	default:
		if requested != inputs.Auto {
			d.Command = requested
			return d, nil
		}
		return skip(d, fmt.Sprintf("the %s event has no automatic command; nothing to do", eventName)), nil
	}
}

func decidePullRequest(d Decision, p payload, requested inputs.Command) (Decision, error) {
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
		switch p.Action {
		case "opened", "synchronize", "reopened":
			d.Command = inputs.Preview
		default:
			return skip(d, fmt.Sprintf("pull_request %q needs no preview (only opened, synchronize and reopened do)", p.Action)), nil
		}
	} else {
		d.Command = requested
	}
	if pr.Fork && d.Command != inputs.Validate {
		d.Command = inputs.Validate
		d.Reason = fmt.Sprintf("pull request #%d comes from a fork (%s): it has no secrets and a read-only token, so only offline validation runs", pr.Number, head)
	}
	return d, nil
}

func decidePush(d Decision, p payload, requested inputs.Command) (Decision, error) {
	d.SHA = p.After
	if requested != inputs.Auto {
		d.Command = requested
		return d, nil
	}
	switch {
	case p.Deleted || p.After == zeroSHA:
		return skip(d, fmt.Sprintf("the push deletes %s; nothing to deploy", p.Ref)), nil
	case strings.HasPrefix(p.Ref, "refs/tags/"):
		return skip(d, fmt.Sprintf("the push is of tag %s; only pushes to the default branch deploy", strings.TrimPrefix(p.Ref, "refs/tags/"))), nil
	case d.Repository.DefaultBranch == "":
		return Decision{}, fmt.Errorf("the push payload names no repository.default_branch; cannot tell whether %s should deploy", p.Ref)
	case p.Ref != "refs/heads/"+d.Repository.DefaultBranch:
		return skip(d, fmt.Sprintf("the push is to %s, not the default branch %s; nothing to deploy", strings.TrimPrefix(p.Ref, "refs/heads/"), d.Repository.DefaultBranch)), nil
	}
	d.Command = inputs.Up
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
