package pin_test

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/pin"
)

const digest = "sha256:0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"

func repoActionYML(t *testing.T) []byte {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	b, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "action.yml"))
	require.NoError(t, err)
	return b
}

func TestPinImage_RewritesOnlyTheImageOfTheRealActionYML(t *testing.T) {
	before := repoActionYML(t)
	require.Error(t, pin.CheckPinned(before), "the development branch names no released image")

	after, err := pin.PinImage(before, "ghcr.io/org/tap-deploy@"+digest)
	require.NoError(t, err)
	require.NoError(t, pin.CheckPinned(after))

	old, neu := strings.Split(string(before), "\n"), strings.Split(string(after), "\n")
	require.Len(t, neu, len(old), "no line added or removed")
	var changed []string
	for i := range old {
		if old[i] != neu[i] {
			changed = append(changed, neu[i])
		}
	}
	assert.Equal(t, []string{"  image: docker://ghcr.io/org/tap-deploy@" + digest}, changed)

	again, err := pin.PinImage(after, "ghcr.io/org/tap-deploy@"+strings.Replace(digest, "0f1e", "aaaa", 1))
	require.NoError(t, err, "a pinned file can be pinned again")
	assert.Contains(t, string(again), "@sha256:aaaa")
}

func TestPinImage_RefusesWhatCanMoveAndWhatIsNotADockerAction(t *testing.T) {
	docker := "name: x\nruns:\n  using: docker\n  image: docker://ghcr.io/org/tap-deploy:v1 # moved by every release\n"
	tests := []struct {
		name, yml, image, wantErr string
	}{
		{"a tag", docker, "ghcr.io/org/tap-deploy:v1.2.3", "not named by digest"},
		{"a short digest", docker, "ghcr.io/org/tap-deploy@sha256:abc", "not named by digest"},
		{"no repository", docker, "@" + digest, "not named by digest"},
		{"an image with a shell in it", docker, "ghcr.io/org/tap-deploy@" + digest + " ; rm -rf /", "not named by digest"},
		{"a JavaScript action", "runs:\n  using: node20\n  main: index.js\n", "ghcr.io/o/r@" + digest, "does not run a Docker image"},
		{"no runs", "name: x\n", "ghcr.io/o/r@" + digest, "no runs section"},
		{"not YAML", "runs: [\n", "ghcr.io/o/r@" + digest, "not YAML"},
		{"a block value", "runs:\n  using: docker\n  image: |\n    docker://x\n", "ghcr.io/o/r@" + digest, "one-line value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := pin.PinImage([]byte(tt.yml), tt.image)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}

func TestPinImage_KeepsTheLineCommentAndQuotes(t *testing.T) {
	tests := map[string]string{
		"comment": "runs:\n  using: docker\n  image: docker://ghcr.io/org/tap-deploy:v1 # the release image\n",
		"quoted":  "runs:\n  using: 'docker'\n  image: \"docker://ghcr.io/org/tap-deploy:v1\"\n",
		"port":    "runs:\n  using: docker\n  image: docker://localhost:5000/tap:v1\n",
	}
	for name, yml := range tests {
		t.Run(name, func(t *testing.T) {
			out, err := pin.PinImage([]byte(yml), "registry.example.com:5000/org/tap-deploy@"+digest)
			require.NoError(t, err)
			require.NoError(t, pin.CheckPinned(out))
			if name == "comment" {
				assert.Contains(t, string(out), "@"+digest+" # the release image\n")
			}
		})
	}
}

func TestCheckPinned_RejectsTagsAndDockerfiles(t *testing.T) {
	for _, image := range []string{"docker://ghcr.io/org/tap-deploy:v1", "Dockerfile", "docker://ghcr.io/org/tap-deploy"} {
		err := pin.CheckPinned([]byte("runs:\n  using: docker\n  image: " + image + "\n"))
		require.Error(t, err, image)
		assert.Contains(t, err.Error(), "must name its image")
	}
}
