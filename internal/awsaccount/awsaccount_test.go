package awsaccount_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/awsaccount"
)

func TestCheckReservations(t *testing.T) {
	fns := []string{"a", "b", "c"}
	for _, tt := range []struct {
		name        string
		c           awsaccount.Concurrency
		per         int
		current     map[string]int
		wantErr     string
		wantMaxHint string
	}{
		{"nothing reserved fits every account", awsaccount.Concurrency{Limit: 10, Unreserved: 10}, 0, nil, "", ""},
		{"a new account reserves nothing", awsaccount.Concurrency{Region: "eu-west-1", Limit: 10, Unreserved: 10}, 1, nil,
			"its Lambda concurrency limit is 10, 10 of it unreserved now, and Lambda keeps 10 unreserved", "at most 0"},
		{"the default account keeps 100", awsaccount.Concurrency{Limit: 1000, Unreserved: 1000}, 300, nil, "", ""},
		{"one too many", awsaccount.Concurrency{Limit: 1000, Unreserved: 400}, 101, nil, "Lambda keeps 100 unreserved", "at most 100"},
		{"the functions' own reservations are given back", awsaccount.Concurrency{Limit: 1000, Unreserved: 100}, 50, map[string]int{"a": 50, "b": 50, "c": 50}, "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := awsaccount.CheckReservations(tt.c, tt.per, fns, tt.current)
			if tt.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
			assert.Contains(t, err.Error(), tt.wantMaxHint)
			assert.Contains(t, err.Error(), "nothing was changed")
		})
	}
}
