// Package iamsim asks an IAM evaluator that is not ours,
// @cloud-copilot/iam-simulate (test/node_modules, AGPL: run as its own
// process, test-only), whether requests are allowed: identity policies,
// permission boundaries and resource policies (KMS key policies
// included) evaluated as AWS documents it.
package iamsim

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/org/tap-deploy/test/requires"
)

// Case is one request and the policies that decide it.
type Case struct {
	Name      string            `json:"name"`
	Principal string            `json:"principal"`
	Account   string            `json:"account"`
	Action    string            `json:"action"`
	Resource  string            `json:"resource"`
	Context   map[string]string `json:"context,omitempty"`
	// Identity are the principal's policy documents; Boundary its
	// permissions boundary (nil: none); ResourcePolicy the resource's own
	// (a key policy, a bucket policy).
	Identity       []any `json:"identity"`
	Boundary       []any `json:"boundary,omitempty"`
	ResourcePolicy any   `json:"resourcePolicy,omitempty"`
}

// Decision is iam-simulate's verdict for a case: Allowed,
// ExplicitlyDenied, ImplicitlyDenied, or error (the request or a policy
// did not validate; Errors says why).
type Decision struct {
	Name     string `json:"name"`
	Decision string `json:"decision"`
	Errors   string `json:"errors"`
}

// Allowed reports whether the evaluator allowed the request.
func (d Decision) Allowed() bool { return d.Decision == "Allowed" }

// Run evaluates every case in one process, in order.
func Run(t testing.TB, cases []Case) []Decision {
	t.Helper()
	node, module := requires.IAMSimulate(t)
	in, err := json.Marshal(cases)
	if err != nil {
		t.Fatal(err)
	}
	_ = module // simulate.cjs resolves it from test/node_modules
	cmd := exec.Command(node, filepath.Join(requires.Root(), "test", "iamsim", "simulate.cjs"))
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("iam-simulate: %v\n%s", err, stderr.String())
	}
	var decisions []Decision
	if err := json.Unmarshal(out, &decisions); err != nil {
		t.Fatalf("iam-simulate's answer: %v\n%.2000s", err, out)
	}
	if len(decisions) != len(cases) {
		t.Fatalf("iam-simulate answered %d of %d cases", len(decisions), len(cases))
	}
	return decisions
}
