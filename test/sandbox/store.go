package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"syscall"

	"github.com/org/tap-deploy/internal/cloudsim"
	"github.com/org/tap-deploy/internal/iampattern"
)

// Resource is one "cloud" resource as the sandbox keeps it.
type Resource struct {
	ID      string         `json:"id"`
	Type    string         `json:"type"`
	URN     string         `json:"urn"`
	Region  string         `json:"region"`
	Inputs  map[string]any `json:"inputs"`
	Outputs map[string]any `json:"outputs"`
}

// State is the whole sandbox cloud: every resource keyed by type, region
// (for regional types) and id, the account's settings, and what other
// accounts hold.
type State struct {
	Resources map[string]Resource `json:"resources"`
	// Calls counts provider operations by kind ("create", "update", ...), so
	// tests can prove that a preview created nothing.
	Calls map[string]int `json:"calls"`
	// Account holds the account-wide settings AWS checks against.
	Account Account `json:"account"`
	// Taken lists, per resource type, the names other accounts hold in
	// namespaces AWS shares between accounts (S3 bucket names).
	Taken map[string][]string `json:"taken,omitempty"`
}

// Account is what the simulated account is set to, per region where AWS
// keeps it per region.
type Account struct {
	// LambdaConcurrency is the account's concurrent executions limit per
	// region; 0 means AWS's default of 1,000. New accounts often have 10.
	LambdaConcurrency int `json:"lambdaConcurrency,omitempty"`
	// APIGatewayCloudWatchRole is each region's API Gateway account setting
	// (the role stage logging goes through); set by an
	// aws:apigateway/account:Account or, in tests, by hand (as the
	// bootstrap template would).
	APIGatewayCloudWatchRole map[string]string `json:"apiGatewayCloudWatchRole,omitempty"`
	// Policies and Roles are the ARNs (IAM patterns) of the managed
	// policies and roles the account holds outside every stack: what
	// `tap-deploy bootstrap`'s templates create (permissions boundaries, the
	// deploy roles a key's policy names). A boundary or key principal that
	// is none of them is refused, as IAM and KMS refuse what does not exist.
	Policies []string `json:"policies,omitempty"`
	Roles    []string `json:"roles,omitempty"`
}

func (a Account) hasPolicy(arn string) bool { return matchesAny(a.Policies, arn) }
func (a Account) hasRole(arn string) bool   { return matchesAny(a.Roles, arn) }

func matchesAny(patterns []string, arn string) bool {
	for _, p := range patterns {
		if iampattern.Match(p, arn) {
			return true
		}
	}
	return false
}

// DefaultLambdaConcurrency is AWS's default concurrency limit.
const DefaultLambdaConcurrency = 1000

// ConcurrencyLimit is the account's Lambda concurrency limit.
func (a Account) ConcurrencyLimit() int {
	if a.LambdaConcurrency > 0 {
		return a.LambdaConcurrency
	}
	return DefaultLambdaConcurrency
}

// MinUnreserved is what Lambda keeps unreserved: 100, or the whole limit
// of an account whose limit is lower (which can reserve nothing).
func (a Account) MinUnreserved() int { return min(100, a.ConcurrencyLimit()) }

func key(typ, id string) string { return typ + "|" + id }

// Store is the JSON file that holds the sandbox cloud. Several provider
// processes may run at once (one per provider resource), so every access
// takes an exclusive flock on a lock file beside it.
type Store struct{ Path string }

// Load reads the state without changing it.
func (s Store) Load() (State, error) {
	var st State
	err := s.locked(func() error {
		var err error
		st, err = s.read()
		return err
	})
	return st, err
}

// Update applies fn to the state under the lock and writes the result.
func (s Store) Update(fn func(*State) error) error {
	return s.locked(func() error {
		st, err := s.read()
		if err != nil {
			return err
		}
		if err := fn(&st); err != nil {
			return err
		}
		return s.write(st)
	})
}

// ByType lists the resources of one type, sorted by id.
func (st State) ByType(typ string) []Resource {
	var out []Resource
	for _, r := range st.Resources {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (s Store) locked(fn func() error) error {
	if err := os.MkdirAll(filepath.Dir(s.Path), 0o755); err != nil {
		return err
	}
	lock, err := os.OpenFile(s.Path+".lock", os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("locking the sandbox cloud: %w", err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) //nolint:errcheck // closing the file unlocks too
	return fn()
}

func (s Store) read() (State, error) {
	st := State{Resources: map[string]Resource{}, Calls: map[string]int{}, Account: Account{APIGatewayCloudWatchRole: map[string]string{}}}
	b, err := os.ReadFile(s.Path)
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("reading the sandbox cloud %s: %w", s.Path, err)
	}
	if st.Resources == nil {
		st.Resources = map[string]Resource{}
	}
	if st.Calls == nil {
		st.Calls = map[string]int{}
	}
	if st.Account.APIGatewayCloudWatchRole == nil {
		st.Account.APIGatewayCloudWatchRole = map[string]string{}
	}
	return st, nil
}

func (s Store) write(st State) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	tmp := s.Path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, s.Path)
}

// BootstrapRoleArn is the API Gateway logging role that the bootstrap
// template (or an owning stack) set in a test's account.
const BootstrapRoleArn = "arn:aws:iam::123456789012:role/tap-bootstrap-apigw-logs"

// Bootstrap sets what an account set up for tap-deploy already has in
// each region: the API Gateway account setting's logging role (deployed by
// `tap-deploy bootstrap`'s template, or owned by one stack), and, for
// every environment of the project tap, what the environment's template
// creates: its permissions boundary and deploy role (and the review
// boundary and role of the account's template). Without them, stage
// logging, a role's creation and a key's creation fail as in AWS.
func (s Store) Bootstrap(regions ...string) error {
	return s.Update(func(st *State) error {
		for _, r := range regions {
			st.Account.APIGatewayCloudWatchRole[r] = BootstrapRoleArn
			st.Account.Policies = append(st.Account.Policies, BootstrapPolicies(r)...)
			st.Account.Roles = append(st.Account.Roles, BootstrapRoles(r)...)
		}
		return nil
	})
}

// BootstrapPolicies are the boundaries bootstrap creates in a region for
// the project tap (stack.BoundaryName, stack.ReviewBoundaryName), as
// patterns over the environment.
func BootstrapPolicies(region string) []string {
	return []string{"arn:aws:iam::" + cloudsim.Account + ":policy/tap-*-boundary-" + region}
}

// BootstrapRoles are the deploy roles bootstrap creates in a region for
// the project tap (stack.DeployRoleName, stack.ReviewRoleName).
func BootstrapRoles(region string) []string {
	return []string{"arn:aws:iam::" + cloudsim.Account + ":role/tap-*-github-deploy-" + region,
		"arn:aws:iam::" + cloudsim.Account + ":role/" + "tap-github-review-" + region}
}
