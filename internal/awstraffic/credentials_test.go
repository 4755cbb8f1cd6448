package awstraffic

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A client made with credentials signs with them, whatever the
// environment holds: a promotion's source is read with the source's role
// only.
func TestNewWithCredentials_SignsWithThemNotTheEnvironments(t *testing.T) {
	var signed []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		signed = append(signed, r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"Name":"live","FunctionVersion":"4"}`))
	}))
	defer srv.Close()
	t.Setenv("AWS_ENDPOINT_URL_LAMBDA", srv.URL)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIATARGETACCOUNT")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "target-secret")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	c, err := NewWithCredentials(context.Background(), "eu-west-1", "ASIASOURCEACCOUNT", "source-secret", "source-session")
	require.NoError(t, err)
	a, err := c.Alias(context.Background(), "tap-staging-api-handler", "live")
	require.NoError(t, err)
	assert.Equal(t, "4", a.Version)
	require.Len(t, signed, 1)
	assert.True(t, strings.Contains(signed[0], "Credential=ASIASOURCEACCOUNT/"), signed[0])
}
