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

func TestReviewedPart_IsWhatReviewersReadAndComparesByLine(t *testing.T) {
	doc := "<!-- marker -->\n### head\n[workflow run](x)\n\n" + ReviewedStart + "\n| a |\n| b |\n" + ReviewedEnd + "\n<sub>12:00</sub>\n"
	part, ok := ReviewedPart(doc)
	assert.True(t, ok)
	assert.Equal(t, "| a |\n| b |\n", part)
	_, ok = ReviewedPart("no markers")
	assert.False(t, ok)
	assert.Empty(t, FirstDifference(part, "| a |\n| b |\n"))
	assert.Equal(t, `line 2 of the reviewed plan: the comment shows "", this deploy's preview renders "| b |"`, FirstDifference("| a |\n", "| a |\n| b |\n"))
}
