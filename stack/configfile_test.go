package stack_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/stack"
)

func TestConfigFileName_IsPulumisConventionForTheStacksLastPart(t *testing.T) {
	assert.Equal(t, "Pulumi.dev.yaml", stack.ConfigFileName("dev"))
	assert.Equal(t, "Pulumi.prod.yaml", stack.ConfigFileName("acme/tap/prod"))
}

func TestParseConfigFile_ReadsTapKeysAsStrings(t *testing.T) {
	fc, found := stack.ParseConfigFile("Pulumi.dev.yaml", []byte("config:\n  tap:alarmEmail: ops@example.com\n  tap:logRetentionDays: 30\n  tap:manageApiGatewayAccount: true\n"))
	require.Empty(t, found)
	assert.Equal(t, map[string]string{"alarmEmail": "ops@example.com", "logRetentionDays": "30", "manageApiGatewayAccount": "true"}, fc.Values)
	assert.Equal(t, 3, fc.Lines["logRetentionDays"])
	assert.Empty(t, stack.CheckFile(fc))
}

func TestParseConfigFile_EmptyFileIsNoConfiguration(t *testing.T) {
	for _, text := range []string{"", "\n# nothing yet\n", "config:\n"} {
		fc, found := stack.ParseConfigFile("Pulumi.dev.yaml", []byte(text))
		assert.Empty(t, found, text)
		assert.Empty(t, fc.Values, text)
	}
}

func TestParseConfigFile_NamesTheFileAndLineOfEachProblem(t *testing.T) {
	text := "config:\n" +
		"  tap:logRetentionDays: 17\n" + // 2: bad value
		"  tap:colour: blue\n" + // 3: unknown
		"  aws:region: eu-west-1\n" + // 4: the input's
		"  lambdaMemoryMb: 512\n" + // 5: no namespace
		"  tap:alarmEmail:\n    secure: AAABAxyz\n" + // 6-7: a secret
		"  tap:apiThrottleRate: [1, 2]\n" + // 8: a list
		"  tap:logRetentionDays: 30\n" + // 9: twice
		"encryptionsalt: v1:abc\n" + // 10
		"backend: s3://x\n" // 11
	fc, found := stack.ParseConfigFile("deploy/Pulumi.dev.yaml", []byte(text))
	found = append(found, stack.CheckFile(fc)...)
	want := []string{
		"deploy/Pulumi.dev.yaml line 3: key tap:colour is unknown; known keys: ",
		"deploy/Pulumi.dev.yaml line 2: tap:logRetentionDays must be one of 1, 3, 5",
		"deploy/Pulumi.dev.yaml line 4: aws:region is not read from the file",
		"deploy/Pulumi.dev.yaml line 5: key \"lambdaMemoryMb\" has no namespace; write it as tap:lambdaMemoryMb",
		"deploy/Pulumi.dev.yaml line 7: tap:alarmEmail is a secret (secure:)",
		"deploy/Pulumi.dev.yaml line 8: tap:apiThrottleRate must be a single value",
		"deploy/Pulumi.dev.yaml line 9: key tap:logRetentionDays is set twice (first on line 2)",
		"deploy/Pulumi.dev.yaml line 10: encryptionsalt is not read",
		"deploy/Pulumi.dev.yaml line 11: \"backend\" is not a key of a stack configuration file",
	}
	require.Len(t, found, len(want), "%q", found)
	for _, w := range want {
		assert.True(t, containsPrefix(found, w), "no problem starts %q in %q", w, found)
	}
	for _, f := range found {
		assert.NotContains(t, f, "AAABAxyz", "values are never echoed")
		assert.NotContains(t, f, "17", "values are never echoed")
	}
}

func TestParseConfigFile_RefusesWhatIsNotYAMLOrAMapping(t *testing.T) {
	_, found := stack.ParseConfigFile("Pulumi.dev.yaml", []byte("config: [\n"))
	require.Len(t, found, 1)
	assert.Contains(t, found[0], "Pulumi.dev.yaml: not valid YAML")
	_, found = stack.ParseConfigFile("Pulumi.dev.yaml", []byte("- tap:x\n"))
	require.Len(t, found, 1)
	assert.Contains(t, found[0], "Pulumi.dev.yaml line 1: the file must be a mapping")
}

func TestLayer_TheConfigInputOverridesTheFileAndSaysSo(t *testing.T) {
	fc := stack.FileConfig{Path: "Pulumi.dev.yaml", Values: map[string]string{"logRetentionDays": "30", "alarmEmail": "ops@example.com"}}
	l := stack.Layer(fc, map[string]string{"logRetentionDays": "60", "lambdaMemoryMb": "512"})
	assert.Equal(t, map[string]string{"logRetentionDays": "60", "alarmEmail": "ops@example.com", "lambdaMemoryMb": "512"}, l.Values)
	assert.Equal(t, "Configuration from Pulumi.dev.yaml. The config input overrides lambdaMemoryMb, logRetentionDays for this run (over the file's value of logRetentionDays).", l.Describe("config"))
	assert.Equal(t, "", stack.Layer(stack.FileConfig{}, nil).Describe("config"))
	assert.Equal(t, "The --config input overrides alarmEmail for this run.", stack.Layer(stack.FileConfig{}, map[string]string{"alarmEmail": "a@b.c"}).Describe("--config"))
}

func containsPrefix(list []string, prefix string) bool {
	for _, s := range list {
		if len(s) >= len(prefix) && s[:len(prefix)] == prefix {
			return true
		}
	}
	return false
}
