package engine

import (
	"context"
	"encoding/json"
	"fmt"
)

// PendingOperation is an operation an interrupted update left unfinished:
// the cloud may hold a resource the state does not know about.
type PendingOperation struct {
	Type string
	URN  string
}

// PendingOperations reads the state for unfinished operations.
func (s *Stack) PendingOperations(ctx context.Context) ([]PendingOperation, error) {
	dep, err := s.stack.Export(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the stack state: %w", trimAutoError(err))
	}
	var state struct {
		Pending []struct {
			Type     string `json:"type"`
			Resource struct {
				URN string `json:"urn"`
			} `json:"resource"`
		} `json:"pending_operations"`
	}
	if len(dep.Deployment) == 0 {
		return nil, nil
	}
	if err := json.Unmarshal(dep.Deployment, &state); err != nil {
		return nil, fmt.Errorf("reading the stack state: %w", err)
	}
	out := make([]PendingOperation, 0, len(state.Pending))
	for _, p := range state.Pending {
		out = append(out, PendingOperation{Type: p.Type, URN: p.Resource.URN})
	}
	return out, nil
}
