// Package graph holds the types of a stack's resource graph: the form in
// which the policy rules see resources, whether they came from the offline
// model (internal/offline) or from the engine's events (internal/outcome). It
// holds types only.
package graph

import "strings"

// Resource is one node of the graph, in the form both the offline gate and
// the engine's events can give.
type Resource struct {
	URN    string `json:"urn"`
	Type   string `json:"type"`
	Name   string `json:"name"`
	Custom bool   `json:"custom"`
	Parent string `json:"parent,omitempty"`
	// Provider is the provider reference ("<provider urn>::<id>"); empty
	// means the ambient default provider.
	Provider string         `json:"provider,omitempty"`
	Inputs   map[string]any `json:"inputs"`
	// Outputs are the resource's computed attributes (its ARN...) where
	// they are known: always offline, for existing resources in a
	// preview. Rules that link resources by ARN use them.
	Outputs map[string]any `json:"-"`
	// DependsOn are the URNs the resource waits for (explicit dependsOn),
	// and Retain is RetainOnDelete, where the program's registration is
	// seen (offline).
	DependsOn []string `json:"dependsOn,omitempty"`
	Retain    bool     `json:"retainOnDelete,omitempty"`
}

// ProviderURN is the URN part of the provider reference.
func (r Resource) ProviderURN() string {
	if i := strings.LastIndex(r.Provider, "::"); i >= 0 {
		return r.Provider[:i]
	}
	return r.Provider
}

// Graph is every resource a program registers, in registration order.
type Graph struct {
	Resources []Resource `json:"resources"`
	byURN     map[string]int
}

// New builds a graph from resources (for tests and engine events).
func New(resources []Resource) *Graph {
	g := &Graph{Resources: resources, byURN: map[string]int{}}
	for i, r := range resources {
		g.byURN[r.URN] = i
	}
	return g
}

// Get returns the resource with the given URN.
func (g *Graph) Get(urn string) (Resource, bool) {
	i, ok := g.byURN[urn]
	if !ok {
		return Resource{}, false
	}
	return g.Resources[i], true
}

// OfType lists the resources of one type.
func (g *Graph) OfType(typ string) []Resource {
	var out []Resource
	for _, r := range g.Resources {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	return out
}
