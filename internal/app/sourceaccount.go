package app

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/org/tap-deploy/internal/inputs"
	"github.com/org/tap-deploy/internal/oidcrole"
	"github.com/org/tap-deploy/internal/route"
)

// A promotion whose source lives in another AWS account (prod apart from
// dev and staging) reads the source there with the source environment's
// read-only drift role, which `bootstrap --promotion staging:prod` in that
// account makes trust this deploy's job: the run exchanges the job's
// GitHub OIDC token for the role's credentials and gives them to the
// source's reads only (its Pulumi CLI, its aliases and CodeDeploy). The
// target's own credentials stay the run's, from the environment, so the
// source role can never change the target, and the target's role needs
// nothing in the source account.

// sourceCredentialsMargin is how long before they expire credentials are
// taken again: the check under the target's lock comes after a wait of up
// to lock-timeout.
const sourceCredentialsMargin = 5 * time.Minute

// sourceStack locates the promotion's source, with the credentials that
// read it when it lives in another account (the run's own otherwise).
// previous is what an earlier look used: its credentials are kept while
// they last.
func (r *run) sourceStack(ctx context.Context, previous *stackRef) (stackRef, error) {
	ref := envStack(r.in)
	ref.name = r.in.PromoteFrom
	if r.in.PromoteFromRoleARN == "" {
		return ref, nil
	}
	ref.backendURL = r.in.PromoteFromBackendURL
	if previous != nil && previous.creds != nil && r.Now().Add(sourceCredentialsMargin).Before(previous.creds.Expires) {
		ref.creds = previous.creds
		return ref, nil
	}
	creds, err := r.assumeSourceRole(ctx)
	if err != nil {
		return ref, err
	}
	ref.creds = &creds
	return ref, nil
}

// assumeSourceRole takes promote-from-role-arn's credentials with the
// job's OIDC token. The token and the credentials are masked before
// anything could print them.
func (r *run) assumeSourceRole(ctx context.Context) (oidcrole.Credentials, error) {
	role := r.in.PromoteFromRoleARN
	reqURL, reqToken := r.Getenv(oidcrole.EnvRequestURL), r.Getenv(oidcrole.EnvRequestToken)
	if reqURL == "" || reqToken == "" {
		return oidcrole.Credentials{}, fmt.Errorf("%s and %s are not set: reading %s in another account assumes %s (%s) with the job's GitHub OIDC token, "+
			"which the runner gives only a job with `permissions: id-token: write`; add it to the job's permissions",
			oidcrole.EnvRequestURL, oidcrole.EnvRequestToken, r.in.PromoteFrom, role, inputs.NamePromoteFromRoleARN)
	}
	mask(r.Runtime, reqToken)
	token, err := r.IDToken(ctx, reqURL, reqToken, oidcrole.Audience)
	if err != nil {
		return oidcrole.Credentials{}, fmt.Errorf("getting the job's GitHub OIDC token to assume %s (%s): %w", role, inputs.NamePromoteFromRoleARN, err)
	}
	mask(r.Runtime, token)
	creds, err := r.AssumeRole(ctx, r.in.AWSRegion, role, sessionName(r.in.StackName, r.facts.runID), token)
	if err != nil {
		return oidcrole.Credentials{}, fmt.Errorf("assuming %s (%s) with the job's GitHub OIDC token: %w. Its trust must name this job (%s): run `tap-deploy bootstrap --promotion %s:%s` in the source account and deploy its %s.yaml again",
			role, inputs.NamePromoteFromRoleARN, err, jobSubject(r.facts.repo, r.in.Environment), r.in.PromoteFrom, r.in.Environment, r.in.PromoteFrom)
	}
	for _, secret := range []string{creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken} {
		mask(r.Runtime, secret)
	}
	r.Runtime.Infof("reading %s in its own account as %s", r.in.PromoteFrom, role)
	return creds, nil
}

// jobSubject is the OIDC subject of this deploy's job, as a role's trust
// names it.
func jobSubject(repo route.Repository, environment string) string {
	return fmt.Sprintf("repo:%s/%s:environment:%s", repo.Owner, repo.Name, environment)
}

var sessionUnsafe = regexp.MustCompile(`[^\w+=,.@-]`)

// sessionName names the role session in the source account's CloudTrail:
// this stack and this run. STS takes 2 to 64 characters of [\w+=,.@-]; a
// long stack name is cut, never the run id, so that two runs never share
// a session name.
func sessionName(stackName string, runID int64) string {
	run := "local"
	if runID > 0 {
		run = strconv.FormatInt(runID, 10)
	}
	const maxSession = 64
	prefix, suffix := "tap-deploy-", "-promote-"+run
	stack := sessionUnsafe.ReplaceAllString(stackName, "-")
	return prefix + stack[:min(len(stack), max(0, maxSession-len(prefix)-len(suffix)))] + suffix
}

// sourceTraffic reads the source's aliases and CodeDeploy with the
// credentials that read its stack.
func (r *run) sourceTraffic(ctx context.Context, ref stackRef, region string) (Traffic, error) {
	if ref.creds == nil {
		return r.Traffic(ctx, region)
	}
	return r.TrafficAs(ctx, region, *ref.creds)
}

// sourceBackend says where the source's state is, for messages.
func (ref stackRef) sourceBackend() string {
	if ref.creds == nil {
		return "this run's backend"
	}
	return fmt.Sprintf("%s (%s)", ref.backendURL, inputs.NamePromoteFromBackendURL)
}
