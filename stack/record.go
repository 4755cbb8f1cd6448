package stack

import (
	"encoding/json"
	"fmt"
	"regexp"
)

// Keys written to the Pulumi stack configuration on every run. The stack
// history keeps each update's configuration, which is what rollback reads.
const (
	// ArtifactsKey holds the SHA-256 of each function's package (JSON).
	ArtifactsKey = ConfigNamespace + ":artifacts"
	// CommitKey holds the commit the update deployed.
	CommitKey = ConfigNamespace + ":commit"
)

// Record is what an update runs with, as Pulumi configuration values.
func Record(c Config, code Artifacts, commit string) map[string]string {
	out := map[string]string{}
	for k, v := range c.Values() {
		out[ConfigNamespace+":"+k] = v
	}
	digests := map[string]string{}
	for k, v := range code {
		digests[k] = v.SHA256
	}
	b, _ := json.Marshal(digests)
	out[ArtifactsKey] = string(b)
	if commit != "" {
		out[CommitKey] = commit
	}
	return out
}

// Recorded is what a past update ran with.
type Recorded struct {
	Config Config
	// Digests maps FunctionSpec.Key to the package's SHA-256.
	Digests map[string]string
	Commit  string
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
	rec := Recorded{Config: cfg, Commit: values[CommitKey], Digests: map[string]string{}}
	raw, ok := values[ArtifactsKey]
	if !ok {
		return Recorded{}, fmt.Errorf("the update has no %s record: it was not deployed by tap-deploy", ArtifactsKey)
	}
	if err := json.Unmarshal([]byte(raw), &rec.Digests); err != nil {
		return Recorded{}, fmt.Errorf("the update's %s record is not valid: %w", ArtifactsKey, err)
	}
	for _, f := range Functions {
		if !sha256Hex.MatchString(rec.Digests[f.Key]) {
			return Recorded{}, fmt.Errorf("the update's %s record has no package digest for %s", ArtifactsKey, f.Key)
		}
	}
	return rec, nil
}

// CodeFor returns the code a recorded update ran: packages this binary
// embeds are uploaded again (same bytes, no change); older ones are already
// in the artifacts bucket, retained by content address.
func (r Recorded) CodeFor(current Artifacts) Artifacts {
	out := Artifacts{}
	for _, f := range Functions {
		digest := r.Digests[f.Key]
		if c, ok := current[f.Key]; ok && c.SHA256 == digest {
			out[f.Key] = c
			continue
		}
		out[f.Key] = Code{SHA256: digest}
	}
	return out
}
