package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
)

// PendingOperation is an operation an interrupted update left unfinished:
// the cloud may hold a resource the state does not know about.
type PendingOperation struct {
	Type string
	URN  string
}

// State is what the stack's checkpoint holds, as far as a run needs it.
type State struct {
	// Digest identifies the checkpoint's resources: two exports of the
	// same state have the same digest, and any update changes it.
	Digest  string
	Pending []PendingOperation
	// Outputs are the stack's outputs as the last update left them (a
	// secret value stays an encrypted envelope).
	Outputs map[string]any
	// Resources are the checkpoint's resources (the root stack left out),
	// with what guards them against deletion.
	Resources []StateResource
}

// StateResource is one resource of the checkpoint.
type StateResource struct {
	URN, Type, ID string
	// Protect is Pulumi's protect option: the engine refuses to delete it.
	Protect bool
	// RetainOnDelete: a delete leaves it in the cloud.
	RetainOnDelete bool
	// Inputs are the resource's inputs as last applied.
	Inputs map[string]any
}

// State reads the checkpoint (one `stack export`).
func (s *Stack) State(ctx context.Context) (State, error) {
	dep, err := s.stack.Export(ctx)
	if err != nil {
		return State{}, fmt.Errorf("reading the stack state: %w", trimAutoError(err))
	}
	return stateOf(dep.Deployment)
}

// stateOf digests a deployment's resources (in URN order, without the
// created/modified timestamps) and reads its pending operations. The root
// pulumi:pulumi:Stack resource is left out: an update registers (or, on a
// new stack, creates) it before the program runs, and rewrites its outputs
// at the end, whatever else happens.
func stateOf(deployment []byte) (State, error) {
	kept := []map[string]any{}
	if len(deployment) == 0 {
		return State{Digest: digestJSON(kept)}, nil
	}
	var d struct {
		Resources []map[string]any `json:"resources"`
		Pending   []struct {
			Type     string `json:"type"`
			Resource struct {
				URN string `json:"urn"`
			} `json:"resource"`
		} `json:"pending_operations"`
	}
	if err := json.Unmarshal(deployment, &d); err != nil {
		return State{}, fmt.Errorf("reading the stack state: %w", err)
	}
	var outputs map[string]any
	var resources []StateResource
	for _, r := range d.Resources {
		if r["type"] == "pulumi:pulumi:Stack" {
			outputs, _ = r["outputs"].(map[string]any)
			continue
		}
		delete(r, "created")
		delete(r, "modified")
		kept = append(kept, r)
		res := StateResource{}
		res.URN, _ = r["urn"].(string)
		res.Type, _ = r["type"].(string)
		res.ID, _ = r["id"].(string)
		res.Protect, _ = r["protect"].(bool)
		res.RetainOnDelete, _ = r["retainOnDelete"].(bool)
		res.Inputs, _ = r["inputs"].(map[string]any)
		resources = append(resources, res)
	}
	sort.Slice(kept, func(i, j int) bool { return fmt.Sprint(kept[i]["urn"]) < fmt.Sprint(kept[j]["urn"]) })
	sort.Slice(resources, func(i, j int) bool { return resources[i].URN < resources[j].URN })
	st := State{Digest: digestJSON(kept), Outputs: outputs, Resources: resources}
	for _, p := range d.Pending {
		st.Pending = append(st.Pending, PendingOperation{Type: p.Type, URN: p.Resource.URN})
	}
	return st, nil
}

func digestJSON(v any) string {
	b, _ := json.Marshal(v)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
