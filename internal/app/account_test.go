package app

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/awsaccount"
)

// fakeAccount is an AWS account's Lambda concurrency.
type fakeAccount struct {
	limit, unreserved int
	reserved          map[string]int
	calls             int
}

func (f *fakeAccount) Concurrency(context.Context) (awsaccount.Concurrency, error) {
	f.calls++
	return awsaccount.Concurrency{Region: "eu-west-1", Limit: f.limit, Unreserved: f.unreserved}, nil
}

func (f *fakeAccount) Reserved(context.Context, []string) (map[string]int, error) {
	f.calls++
	return f.reserved, nil
}

func TestDeploy_AReservationTheAccountCannotTakeStopsBeforeThePreview(t *testing.T) {
	h := newHarness(t)
	h.event("push", "push.with-new-branch.json", nil)
	h.inputs["config"] = "reservedConcurrency=5"
	h.account = &fakeAccount{limit: 10, unreserved: 10}
	err := h.run()
	require.Error(t, err)
	assert.Contains(t, h.log(), "The reserved concurrency does not fit the AWS account; nothing was changed")
	assert.Contains(t, h.log(), "its Lambda concurrency limit is 10")
	assert.Empty(t, h.stack.previews, "nothing was previewed")
	assert.Empty(t, h.stack.ups, "nothing was applied")
}

func TestDeploy_ReservationsThatFitAreApplied(t *testing.T) {
	h := newHarness(t)
	h.event("push", "push.with-new-branch.json", nil)
	h.inputs["config"] = "reservedConcurrency=5"
	h.inputs["commit-order"] = "warn"
	h.account = &fakeAccount{limit: 1000, unreserved: 1000}
	require.NoError(t, h.run(), h.log())
	assert.Len(t, h.stack.ups, 1)
}

func TestDeploy_WithoutReservationsAWSIsNotAsked(t *testing.T) {
	h := newHarness(t)
	h.event("push", "push.with-new-branch.json", nil)
	h.inputs["commit-order"] = "warn"
	require.NoError(t, h.run(), h.log()) // h.account is nil: any call fails the run
	assert.Len(t, h.stack.ups, 1)
}
