package stack

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
)

// Keys written to the Pulumi stack configuration on every run. The stack
// history keeps each update's configuration, which is what rollback reads.
const (
	// PackagesKey holds the SHA-256 of each function's package (JSON).
	PackagesKey = ConfigNamespace + ":artifacts"
	// CommitKey holds the commit the update deployed.
	CommitKey = ConfigNamespace + ":commit"
	// ActorKey holds who started the update.
	ActorKey = ConfigNamespace + ":actor"
	// ActionVersionKey holds the version of tap-deploy that made it.
	ActionVersionKey = ConfigNamespace + ":actionVersion"
	// PromotedFromKey holds the stack and update a promoted update
	// repeats ("staging@14").
	PromotedFromKey = ConfigNamespace + ":promotedFrom"
	// RunCommitKey holds the commit of the workflow run that made the
	// update when it is not the commit deployed (a rollback's run): a
	// re-run of an old run replays its old workflow, and is behind it.
	RunCommitKey = ConfigNamespace + ":runCommit"
	// ReviewStackKey marks a review stack with its pull request's number: a
	// sweep destroys only stacks that carry it.
	ReviewStackKey = ConfigNamespace + ":reviewOf"
)

// Provenance says where an update came from.
type Provenance struct {
	Commit        string
	Actor         string
	ActionVersion string
	// PromotedFrom is the stack and update a promotion repeats
	// ("staging@14"); empty for other updates.
	PromotedFrom string
	// RunCommit is the commit of the workflow run that made the update,
	// when it is not Commit.
	RunCommit string
}

// Newest is the newest commit the update came from: its run's, or the
// one it deployed.
func (p Provenance) Newest() string {
	if p.RunCommit != "" {
		return p.RunCommit
	}
	return p.Commit
}

// Record is what an update runs with, as Pulumi configuration values.
func Record(c Config, code Packages, p Provenance) map[string]string {
	out := map[string]string{}
	for k, v := range c.Values() {
		out[ConfigNamespace+":"+k] = v
	}
	digests := map[string]string{}
	for k, v := range code {
		digests[k] = v.SHA256
	}
	b, _ := json.Marshal(digests)
	out[PackagesKey] = string(b)
	if c.ReviewStackPR > 0 {
		out[ReviewStackKey] = strconv.Itoa(c.ReviewStackPR)
	}
	if p.RunCommit == p.Commit {
		p.RunCommit = ""
	}
	for k, v := range map[string]string{CommitKey: p.Commit, ActorKey: p.Actor, ActionVersionKey: p.ActionVersion, PromotedFromKey: p.PromotedFrom, RunCommitKey: p.RunCommit} {
		if v != "" {
			out[k] = v
		}
	}
	return out
}

// Recorded is what a past update ran with.
type Recorded struct {
	Config Config
	// Digests maps FunctionSpec.Key to the package's SHA-256.
	Digests map[string]string
	Provenance
}

// ProvenanceOf reads where a recorded update came from; what an update
// from an older tap-deploy did not record stays empty.
func ProvenanceOf(values map[string]string) Provenance {
	return Provenance{Commit: values[CommitKey], Actor: values[ActorKey], ActionVersion: values[ActionVersionKey], PromotedFrom: values[PromotedFromKey],
		RunCommit: values[RunCommitKey]}
}

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

// FromRecord reads a past update's configuration back.
func FromRecord(base Base, values map[string]string) (Recorded, error) {
	overrides := map[string]string{}
	for _, k := range Keys {
		if v, ok := values[ConfigNamespace+":"+k.Name]; ok && v != "" {
			overrides[k.Name] = v
		}
	}
	cfg, err := NewConfig(base, overrides)
	if err != nil {
		return Recorded{}, err
	}
	rec := Recorded{Config: cfg, Digests: map[string]string{}, Provenance: ProvenanceOf(values)}
	raw, ok := values[PackagesKey]
	if !ok {
		return Recorded{}, fmt.Errorf("the update has no %s record: it was not deployed by tap-deploy", PackagesKey)
	}
	if err := json.Unmarshal([]byte(raw), &rec.Digests); err != nil {
		return Recorded{}, fmt.Errorf("the update's %s record is not valid: %w", PackagesKey, err)
	}
	for _, f := range Functions {
		if !sha256Hex.MatchString(rec.Digests[f.Key]) {
			return Recorded{}, fmt.Errorf("the update's %s record has no package digest for %s", PackagesKey, f.Key)
		}
	}
	return rec, nil
}

// PackagesFor returns the Lambda packages a recorded update ran: packages this binary
// embeds are uploaded again (same bytes, no change); older ones are already
// in the artifacts bucket, retained by content address.
func (r Recorded) PackagesFor(current Packages) Packages {
	out := Packages{}
	for _, f := range Functions {
		digest := r.Digests[f.Key]
		if c, ok := current[f.Key]; ok && c.SHA256 == digest {
			out[f.Key] = c
			continue
		}
		out[f.Key] = Package{SHA256: digest}
	}
	return out
}
