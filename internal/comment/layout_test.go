package comment_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/comment"
)

func TestSplit_ReadsTheBodyAndTheActionsSections(t *testing.T) {
	text := body("### preview\n\n---\n<sub>footer</sub>\n") + "\n" + comment.Section("review-stack", "stack up") +
		"\n\n" + comment.Section("deploy", "deployed\n")
	l, err := comment.Split(text, "review-stack", "deploy")
	require.NoError(t, err)
	assert.Equal(t, body("### preview\n\n---\n<sub>footer</sub>"), l.Body)
	assert.Equal(t, map[string]string{"review-stack": "stack up", "deploy": "deployed"}, l.Sections)
}

// Anyone with write access can add to the action's comment, and the
// action's account stays its author: what the action does not write is
// named and refused.
func TestSplit_RefusesWhatTheActionDoesNotWrite(t *testing.T) {
	preview := body("### preview\n")
	for name, tt := range map[string]struct{ text, err string }{
		"a section of another name": {preview + "\n" + comment.Section("approval", "approved by security"),
			`a section the action does not write: "approval"`},
		"a duplicated section": {preview + "\n" + comment.Section("deploy", "a") + "\n" + comment.Section("deploy", "b"),
			`the section "deploy" twice`},
		"text after the sections": {preview + "\n" + comment.Section("deploy", "a") + "\n<details><summary>the real rows</summary>\n",
			`text the action did not write after its sections: "<details><summary>the real rows</summary>"`},
		"a section closed under another name": {preview + "\n<!-- tap-deploy:section deploy -->\nx\n<!-- /tap-deploy:section review-stack -->\n",
			`section "deploy" is closed as "review-stack"`},
		"a section inside another": {preview + "\n<!-- tap-deploy:section deploy -->\n<!-- tap-deploy:section review-stack -->\nx\n<!-- /tap-deploy:section deploy -->\n",
			`section "deploy" holds another section`},
		"a section closed in the body": {preview + "<!-- /tap-deploy:section deploy -->\n",
			"closes a section it never opened"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := comment.Split(tt.text, "deploy", "review-stack")
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.err)
		})
	}
}
