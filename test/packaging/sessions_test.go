package packaging_test

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/org/tap-deploy/internal/bootstrap"
)

// Every example job that assumes a bootstrap role asks for a session at
// least as long as the job may run (its timeout-minutes: a lock wait, then
// a canary), and no longer than the role allows (its MaxSessionDuration in
// the templates): past the session, AWS calls fail mid-deploy.
func TestExamples_AskForSessionsThatOutlastTheirJobsAndTheRolesAllow(t *testing.T) {
	limit := map[string]int{
		bootstrap.VarDeployRole: bootstrap.DeploySession, bootstrap.VarReviewRole: bootstrap.DeploySession,
		bootstrap.VarPreviewRole: bootstrap.ReadSession, bootstrap.VarDriftRole: bootstrap.ReadSession,
		bootstrap.VarPromoteFromRole: bootstrap.ReadSession,
	}
	files, err := filepath.Glob(filepath.Join(root, "examples/workflows/*.yml"))
	require.NoError(t, err)
	n := 0
	for _, f := range files {
		var wf struct {
			Jobs map[string]struct {
				TimeoutMinutes int `yaml:"timeout-minutes"`
				Steps          []struct {
					Uses string
					With map[string]string
				}
			}
		}
		require.NoError(t, yaml.Unmarshal(read(t, strings.TrimPrefix(f, root+"/")), &wf), f)
		for name, job := range wf.Jobs {
			for _, s := range job.Steps {
				role := s.With["role-to-assume"]
				if !strings.HasPrefix(s.Uses, "aws-actions/configure-aws-credentials@") || role == "" {
					continue
				}
				n++
				where := filepath.Base(f) + " " + name
				require.NotZero(t, job.TimeoutMinutes, "%s: a job that assumes a role says how long it may run", where)
				seconds, err := strconv.Atoi(s.With["role-duration-seconds"])
				require.NoError(t, err, "%s: role-duration-seconds", where)
				assert.GreaterOrEqual(t, seconds, job.TimeoutMinutes*60, "%s: the session ends before the job may", where)
				max := 0
				for v, l := range limit {
					if strings.Contains(role, "vars."+v) {
						max = l
					}
				}
				require.NotZero(t, max, "%s: %s is no role variable bootstrap outputs", where, role)
				assert.LessOrEqual(t, seconds, max, "%s: longer than the role's MaxSessionDuration", where)
			}
		}
	}
	require.GreaterOrEqual(t, n, 8, "the examples' role steps were read")
}
