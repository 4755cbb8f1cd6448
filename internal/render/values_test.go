package render

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestValueText_AnAssetReadsByItsContentNotItsPath(t *testing.T) {
	asset := func(path string) map[string]any {
		return map[string]any{"4dabf18193072939515e22adb298388d": "c44067f5952c0a294b673a41bacd8c17", "hash": "1de07e4081a47e99a134f5b01039421a", "path": path}
	}
	a, b := valueText(asset("/tmp/tap-deploy-code-1/api-handler.zip"), true), valueText(asset("/tmp/tap-deploy-code-2/api-handler.zip"), true)
	assert.Equal(t, "asset sha256:1de07e40", a)
	assert.Equal(t, a, b, "two runs of the same package read the same")
}

func TestFirstDifference_NamesTheFirstLineThatDiffersQuotingBoth(t *testing.T) {
	assert.Empty(t, FirstDifference("the comment", "| a |\n| b |", "| a |\n| b |"))
	assert.Equal(t, `line 2 of the comment shows "", a fresh rendering of the plan has "| b |"`, FirstDifference("the comment", "| a |", "| a |\n| b |"))
}
