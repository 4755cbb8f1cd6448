package policy_test

import (
	"testing"

	"github.com/org/tap-deploy/internal/offline"
	"github.com/org/tap-deploy/internal/policy"
	"github.com/org/tap-deploy/stack"
	"github.com/org/tap-deploy/test/stacktest"
)

// BenchmarkValidate_FullStack is the validate command's work: run the real
// program under mocks and evaluate every rule (target: well under 1 s).
func BenchmarkValidate_FullStack(b *testing.B) {
	cfg := stacktest.Config(b, nil)
	code := stacktest.Packages(b, "bench")
	var resources int
	for b.Loop() {
		g, err := offline.Collect(stack.Program(cfg, code), "tap", "dev", cfg.Region)
		if err != nil {
			b.Fatal(err)
		}
		rep := policy.Evaluate(g, settings)
		resources = rep.Resources
	}
	b.ReportMetric(float64(resources), "resources")
}
