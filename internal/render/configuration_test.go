package render_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/outcome"
	"github.com/org/tap-deploy/internal/render"
)

func TestCompareConfiguration_ListsWhatDiffersAndEveryOverride(t *testing.T) {
	deployed := map[string]string{"lambdaMemoryMb": "256", "logRetentionDays": "14", "apiThrottleRate": "100", "alarmEmail": "old@example.com"}
	now := map[string]string{"lambdaMemoryMb": "512", "logRetentionDays": "14", "apiThrottleRate": "100", "alarmEmail": "ops@example.com", "reservedConcurrency": "0"}
	tests := []struct {
		name       string
		secret     []string
		overridden []string
		want       []render.ConfigChange
	}{
		{"a changed key, an unrecorded key", nil, nil, []render.ConfigChange{
			{Key: "alarmEmail", Old: "old@example.com", HasOld: true, New: "ops@example.com", Source: render.SourceFile},
			{Key: "lambdaMemoryMb", Old: "256", HasOld: true, New: "512", Source: render.SourceFile},
			{Key: "reservedConcurrency", New: "0"},
		}},
		{"an override that changes nothing is still listed", nil, []string{"logRetentionDays"}, []render.ConfigChange{
			{Key: "alarmEmail", Old: "old@example.com", HasOld: true, New: "ops@example.com", Source: render.SourceFile},
			{Key: "lambdaMemoryMb", Old: "256", HasOld: true, New: "512", Source: render.SourceFile},
			{Key: "logRetentionDays", Old: "14", HasOld: true, New: "14", Source: render.SourceInput},
			{Key: "reservedConcurrency", New: "0"},
		}},
		{"a recorded secret is hidden on both sides and shown as a change", []string{"apiThrottleRate"}, nil, []render.ConfigChange{
			{Key: "alarmEmail", Old: "old@example.com", HasOld: true, New: "ops@example.com", Source: render.SourceFile},
			{Key: "apiThrottleRate", Old: outcome.Secret, HasOld: true, New: outcome.Secret},
			{Key: "lambdaMemoryMb", Old: "256", HasOld: true, New: "512", Source: render.SourceFile},
			{Key: "reservedConcurrency", New: "0"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, render.CompareConfiguration(deployed, tt.secret, now, []string{"alarmEmail", "lambdaMemoryMb"}, tt.overridden))
		})
	}
	assert.Empty(t, render.CompareConfiguration(now, nil, now, nil, nil), "the same configuration has no changes")
}

func TestConfigurationMarkdown_Golden(t *testing.T) {
	long := "https://hooks.example.com/" + strings.Repeat("x", 80)
	changes := []render.ConfigChange{
		{Key: "alarmEmail", Old: outcome.Secret, HasOld: true, New: outcome.Secret, Source: render.SourceFile},
		{Key: "environmentSuffix", Old: "dev", HasOld: true, New: long, Source: render.SourceFile},
		{Key: "lambdaMemoryMb", Old: "256", HasOld: true, New: "512", Source: render.SourceFile},
		{Key: "logRetentionDays", Old: "14", HasOld: true, New: "30", Source: render.SourceInput},
		{Key: "reservedConcurrency", New: "0"},
		{Key: "apiThrottleRate", Old: "5", HasOld: true, New: "5", Source: render.SourceInput},
	}
	tests := []struct {
		name string
		c    render.Configuration
	}{
		{"configuration-deployed", render.Configuration{Baseline: render.BaselineDeployed, Version: 14, File: "Pulumi.dev.yaml", Input: "config", Changes: changes}},
		{"configuration-first-deploy", render.Configuration{Baseline: render.BaselineDefaults, File: "Pulumi.dev.yaml", Input: "--config", Changes: changes[2:4]}},
		{"configuration-unknown", render.Configuration{Baseline: render.BaselineUnknown, Why: "reading the stack history: backend unreachable"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			golden(t, tt.name+".md", render.ConfigurationMarkdown(tt.c, render.CommentLimit))
		})
	}
}

func TestConfigurationMarkdown_NothingToSayIsEmpty(t *testing.T) {
	for _, b := range []render.Baseline{render.BaselineDeployed, render.BaselineDefaults} {
		assert.Empty(t, render.ConfigurationMarkdown(render.Configuration{Baseline: b, Version: 3, Input: "config"}, render.CommentLimit))
	}
}

func TestConfigurationMarkdown_StaysWithinItsLimit(t *testing.T) {
	var changes []render.ConfigChange
	for i := 0; i < 200; i++ {
		changes = append(changes, render.ConfigChange{Key: strings.Repeat("k", 20) + string(rune('a'+i%26)), Old: strings.Repeat("o", 500), HasOld: true, New: strings.Repeat("n", 500)})
	}
	c := render.Configuration{Baseline: render.BaselineDeployed, Version: 2, File: "Pulumi.dev.yaml", Input: "config", Changes: changes}
	for _, limit := range []int{render.CommentLimit, 1000, 300} {
		got := render.ConfigurationMarkdown(c, limit)
		assert.LessOrEqual(t, len(got), min(limit, render.ConfigurationLimit))
		assert.Contains(t, got, "more", "a cut table says how many rows it left out (limit %d)", limit)
	}
	// Every key of the stack changed, with the longest values, fits whole.
	whole := render.ConfigurationMarkdown(render.Configuration{Baseline: render.BaselineDeployed, Version: 2, File: "Pulumi.dev.yaml", Input: "config", Changes: changes[:12]}, render.CommentLimit)
	assert.NotContains(t, whole, "more")
}

func TestConfiguration_RedactedHidesASecretInAValue(t *testing.T) {
	c := render.Configuration{Baseline: render.BaselineDeployed, Version: 1, Input: "config", Changes: []render.ConfigChange{{Key: "alarmEmail", Old: "a@example.com", HasOld: true, New: "tok-123456"}}}
	got := render.ConfigurationMarkdown(c.Redacted(func(s string) string { return strings.ReplaceAll(s, "tok-123456", "***") }), render.CommentLimit)
	assert.NotContains(t, got, "tok-123456")
	assert.Contains(t, got, `"***"`)
}

func TestCheckConfiguration_AcceptsWhatTheRendererWritesAndNothingElse(t *testing.T) {
	var many []render.ConfigChange
	for i := 0; i < 60; i++ {
		many = append(many, render.ConfigChange{Key: "key" + strings.Repeat("x", i%7), Old: "a|b`c", HasOld: true, New: strings.Repeat("n", 90), Source: render.SourceInput})
	}
	rendered := []string{
		"",
		render.ConfigurationMarkdown(render.Configuration{Baseline: render.BaselineDeployed, Version: 14, File: "Pulumi.dev.yaml", Input: "config", Changes: many}, 1500),
		render.ConfigurationMarkdown(render.Configuration{Baseline: render.BaselineUnknown, Why: "backend <b>down</b> [x](y) *now*"}, render.CommentLimit),
	}
	for _, name := range []string{"configuration-deployed.md", "configuration-first-deploy.md", "configuration-unknown.md"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		require.NoError(t, err)
		rendered = append(rendered, string(b))
	}
	for _, md := range rendered {
		assert.NoError(t, render.CheckConfiguration(strings.TrimRight(md, "\n")), md)
	}

	b, err := os.ReadFile(filepath.Join("testdata", "configuration-deployed.md"))
	require.NoError(t, err)
	good := strings.TrimRight(string(b), "\n")
	for name, forged := range map[string]string{
		"another heading":             strings.Replace(good, "#### ⚙️ Configuration", "#### ✅ Approved", 1),
		"a link in a row":             strings.Replace(good, "| `Pulumi.dev.yaml` |", "| [approved](https://evil.example) |", 1),
		"a row with HTML":             good + "\n| `lambdaMemoryMb` | <img src=x> | `Pulumi.dev.yaml` |",
		"text after the table":        good + "\n\nSecurity approved this change.",
		"no table":                    "#### ⚙️ Configuration\n\nCompared with update 3, the one deployed now (the configuration it recorded).",
		"a note instead":              "#### ⚙️ Configuration\n\nNothing to review here.",
		"HTML in the history's error": "#### ⚙️ Configuration\n\nThe deployed configuration could not be read, so no key is compared: <img src=x>.",
	} {
		assert.Error(t, render.CheckConfiguration(forged), name)
	}
}
