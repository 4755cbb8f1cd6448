// Package offline is the offline model of a stack: it runs the program
// under Pulumi mocks (no CLI, no plugin, no network, no credentials), with
// the simulated cloud (internal/cloudsim) filling in ids and ARNs, and
// records the resource graph the policy rules check before anything runs.
package offline

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/org/tap-deploy/internal/cloudsim"
	"github.com/org/tap-deploy/internal/graph"
)

// Collect runs program under mocks for the given project and stack.
func Collect(program pulumi.RunFunc, project, stack, region string) (*graph.Graph, error) {
	g, _, err := CollectWithCalls(program, project, stack, region)
	return g, err
}

// Call is one invoke (data source) the program made: what it reads from
// the cloud besides its resources.
type Call struct {
	Token string
	Args  map[string]any
}

// CollectWithCalls is Collect, with the invokes the program made, in the
// order it made them (the bootstrap template grants what they read).
func CollectWithCalls(program pulumi.RunFunc, project, stack, region string) (*graph.Graph, []Call, error) {
	m := &mocks{project: project, stack: stack, region: region, providers: map[string]map[string]any{}}
	if err := pulumi.RunErr(program, pulumi.WithMocks(project, stack, m)); err != nil {
		return nil, nil, fmt.Errorf("running the program offline: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	sort.SliceStable(m.resources, func(i, j int) bool { return m.order[m.resources[i].URN] < m.order[m.resources[j].URN] })
	return graph.New(m.resources), m.calls, nil
}

type mocks struct {
	project, stack, region string

	mu        sync.Mutex
	resources []graph.Resource
	order     map[string]int
	calls     []Call
	// providers holds each provider's default tags, keyed by URN, so the
	// simulated state gets tagsAll as AWS would report it.
	providers map[string]map[string]any
}

func (m *mocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	in := args.Inputs.Mappable()
	parent := ""
	var dependsOn []string
	retain := false
	if rpc := args.RegisterRPC; rpc != nil {
		parent = rpc.GetParent()
		dependsOn = rpc.GetDependencies()
		retain = rpc.GetRetainOnDelete()
	}
	urn := m.urn(parent, args.TypeToken, args.Name)

	m.mu.Lock()
	if m.order == nil {
		m.order = map[string]int{}
	}
	m.order[urn] = len(m.order)
	m.resources = append(m.resources, graph.Resource{
		URN: urn, Type: args.TypeToken, Name: args.Name, Custom: args.Custom,
		Parent: parent, Provider: args.Provider, Inputs: in, DependsOn: dependsOn, Retain: retain,
	})
	defaultTags := map[string]any{}
	if prov := providerURN(args.Provider); prov != "" {
		defaultTags = m.providers[prov]
	}
	if strings.HasPrefix(args.TypeToken, "pulumi:providers:") {
		if dt, ok := in["defaultTags"].(map[string]any); ok {
			tags, _ := dt["tags"].(map[string]any)
			m.providers[urn] = tags
		}
	}
	m.mu.Unlock()

	if !args.Custom || strings.HasPrefix(args.TypeToken, "pulumi:providers:") {
		return args.Name + "_id", args.Inputs, nil
	}
	region := m.region
	id, state := cloudsim.Create(args.TypeToken, region, urn, in, defaultTags)
	m.mu.Lock()
	m.resources[m.order[urn]].Outputs = state
	m.mu.Unlock()
	return id, resource.NewPropertyMapFromMap(state), nil
}

func (m *mocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	in := args.Args.Mappable()
	m.mu.Lock()
	m.calls = append(m.calls, Call{Token: args.Token, Args: in})
	m.mu.Unlock()
	out, err := cloudsim.Invoke(args.Token, m.region, in)
	if err != nil {
		return nil, err
	}
	return resource.NewPropertyMapFromMap(out), nil
}

// urn builds the URN the engine would give the resource (the same rule the
// mock monitor uses).
func (m *mocks) urn(parent, typ, name string) string {
	parentType := tokens.Type("")
	if p := resource.URN(parent); p != "" && p.QualifiedType() != resource.RootStackType {
		parentType = p.QualifiedType()
	}
	return string(resource.NewURN(tokens.QName(m.stack), tokens.PackageName(m.project), parentType, tokens.Type(typ), name))
}

func providerURN(ref string) string {
	if i := strings.LastIndex(ref, "::"); i >= 0 {
		return ref[:i]
	}
	return ref
}
