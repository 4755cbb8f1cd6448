package app

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/org/tap-deploy/internal/engine"
	"github.com/org/tap-deploy/internal/inputs"
)

func TestPendingOperations_NamesEveryUnfinishedOperationAndTheRecovery(t *testing.T) {
	for name, tc := range map[string]struct {
		pending []engine.PendingOperation
		want    string
	}{
		"none": {want: ""},
		"one": {pending: []engine.PendingOperation{{Type: "creating", URN: "urn:a"}},
			want: "the state records 1 unfinished operation(s): creating of urn:a. Recover before deploying: check in AWS whether each resource exists; " +
				"then run `pulumi refresh --clear-pending-creates --yes` on stack dev (or import the resources that exist), and run this workflow again"},
		"two, in the state's order": {pending: []engine.PendingOperation{{Type: "creating", URN: "urn:a"}, {Type: "deleting", URN: "urn:b"}},
			want: "the state records 2 unfinished operation(s): creating of urn:a; deleting of urn:b. Recover before deploying: check in AWS whether each resource exists; " +
				"then run `pulumi refresh --clear-pending-creates --yes` on stack dev (or import the resources that exist), and run this workflow again"},
	} {
		t.Run(name, func(t *testing.T) {
			err := pendingOperations("dev", engine.State{Pending: tc.pending})
			if tc.want == "" {
				assert.NoError(t, err)
				return
			}
			assert.EqualError(t, err, tc.want)
		})
	}
}

func TestBackendToken_OnlyPreviewsAndReviewStacksOnPulumiCloudUseTheReviewToken(t *testing.T) {
	cloud := stackRef{backendURL: "https://api.pulumi.com"}
	review := stackRef{backendURL: "https://api.pulumi.com", review: true}
	s3 := stackRef{backendURL: "s3://state", review: true}
	withToken := inputs.Inputs{ReviewBackendToken: "rt"}
	for name, tc := range map[string]struct {
		in      inputs.Inputs
		command inputs.Command
		ref     stackRef
		want    string
	}{
		"a preview on Pulumi Cloud":           {withToken, inputs.Preview, cloud, "rt"},
		"a review stack on Pulumi Cloud":      {withToken, inputs.Up, review, "rt"},
		"a deploy of the environment's stack": {withToken, inputs.Up, cloud, ""},
		"a review stack on S3":                {withToken, inputs.Preview, s3, ""},
		"no review-backend-token":             {inputs.Inputs{}, inputs.Preview, review, ""},
	} {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, backendToken(tc.in, tc.command, tc.ref))
		})
	}
}
