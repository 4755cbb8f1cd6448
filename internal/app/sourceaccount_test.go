package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/internal/engine"
	"github.com/org/tap-deploy/internal/oidcrole"
	"github.com/org/tap-deploy/internal/outcome"
	"github.com/org/tap-deploy/internal/shift"
	"github.com/org/tap-deploy/stack"
	"github.com/org/tap-deploy/test/stacktest"
)

const (
	sourceBackend = "s3://tap-pulumi-state-111111111111-eu-west-1/tap?region=eu-west-1"
	sourceRole    = "arn:aws:iam::111111111111:role/tap-staging-drift-eu-west-1"
	// The runner's OIDC token service, as the runner's environment names it.
	idTokenURL     = "https://pipelines.actions.githubusercontent.com/abc/_apis/pipelines/1/runs/7/idtoken?api-version=2.0"
	idRequestToken = "runner-request-token-for-unit-tests"
)

// fakeSourceAccount is another AWS account, as strict as AWS: GitHub's
// token service gives the job's OIDC token to a job that holds the request
// token; STS gives the drift role's credentials for that token only; the
// account's state backend and its Lambda and CodeDeploy answer only those
// credentials, while they last.
type fakeSourceAccount struct {
	t *testing.T
	// stacks are the stacks in its backend.
	stacks map[string]*fakeStack
	// traffic is its functions' aliases and CodeDeploy.
	traffic *fakeTraffic
	// lifetime is how long the credentials STS gives last.
	lifetime time.Duration
	// refuse makes STS refuse the role (its trust names another job).
	refuse error
	// tokens and issued are what the token service and STS gave.
	tokens []string
	issued []oidcrole.Credentials
	// opened are the settings its backend was opened with.
	opened []engine.Settings
	now    func() time.Time
}

func newSourceAccount(t *testing.T) *fakeSourceAccount {
	return &fakeSourceAccount{t: t, stacks: map[string]*fakeStack{}, traffic: newFakeTraffic(), lifetime: time.Hour}
}

// valid says whether credentials are ones STS gave and still takes.
func (f *fakeSourceAccount) valid(key, secret, session string) error {
	for _, c := range f.issued {
		if c.AccessKeyID == key {
			if c.SecretAccessKey != secret || c.SessionToken != session {
				return errors.New("SignatureDoesNotMatch")
			}
			if !f.now().Before(c.Expires) {
				return errors.New("ExpiredToken: The provided token has expired")
			}
			return nil
		}
	}
	return fmt.Errorf("AccessDenied: %q is not a key of account 111111111111", key)
}

// isSourceKey says whether key is one the source account gave.
func (f *fakeSourceAccount) isSourceKey(key string) bool {
	for _, c := range f.issued {
		if c.AccessKeyID == key {
			return true
		}
	}
	return false
}

// wire gives the run the account's edges; a nil account fails every call
// to them (the run reaches no other account).
func (f *fakeSourceAccount) wire(h *harness, d *Deps) {
	if f == nil {
		d.IDToken = func(context.Context, string, string, string) (string, error) {
			return "", errors.New("this test expects no OIDC token request")
		}
		d.AssumeRole = func(context.Context, string, string, string, string) (oidcrole.Credentials, error) {
			return oidcrole.Credentials{}, errors.New("this test expects no STS call")
		}
		d.TrafficAs = func(context.Context, string, oidcrole.Credentials) (Traffic, error) {
			return nil, errors.New("this test expects no call to another account")
		}
		return
	}
	f.now = h.clock.Now
	d.IDToken = func(_ context.Context, url, token, audience string) (string, error) {
		if url != idTokenURL || token != idRequestToken {
			return "", errors.New("HTTP 401: the request token is not this job's")
		}
		if audience != "sts.amazonaws.com" {
			return "", fmt.Errorf("an unexpected audience %q", audience)
		}
		f.tokens = append(f.tokens, fmt.Sprintf("eyJ.oidc-token-%d.sig", len(f.tokens)+1))
		return f.tokens[len(f.tokens)-1], nil
	}
	d.AssumeRole = func(_ context.Context, region, role, session, token string) (oidcrole.Credentials, error) {
		switch {
		case len(f.tokens) == 0 || token != f.tokens[len(f.tokens)-1]:
			return oidcrole.Credentials{}, errors.New("InvalidIdentityToken: not the job's latest token")
		case region != "eu-west-1" || role != sourceRole:
			return oidcrole.Credentials{}, fmt.Errorf("AccessDenied: unexpected role %s in %s", role, region)
		case session == "" || len(session) > 64 || strings.ContainsAny(session, "/ "):
			return oidcrole.Credentials{}, fmt.Errorf("ValidationError: RoleSessionName %q", session)
		case f.refuse != nil:
			return oidcrole.Credentials{}, f.refuse
		}
		n := len(f.issued) + 1
		c := oidcrole.Credentials{AccessKeyID: fmt.Sprintf("ASIASOURCE%010d", n), SecretAccessKey: fmt.Sprintf("source-secret-%d", n),
			SessionToken: fmt.Sprintf("source-session-token-%d", n), Expires: f.now().Add(f.lifetime)}
		f.issued = append(f.issued, c)
		return c, nil
	}
	d.TrafficAs = func(_ context.Context, region string, c oidcrole.Credentials) (Traffic, error) {
		if err := f.valid(c.AccessKeyID, c.SecretAccessKey, c.SessionToken); err != nil {
			return nil, err
		}
		return f.traffic, nil
	}
	open := d.OpenStack
	d.OpenStack = func(ctx context.Context, s engine.Settings, p pulumi.RunFunc) (Stack, error) {
		key := s.Env["AWS_ACCESS_KEY_ID"]
		if s.BackendURL != sourceBackend {
			if f.isSourceKey(key) {
				f.t.Errorf("stack %s on %s was opened with the source account's credentials", s.Stack, s.BackendURL)
				return nil, errors.New("the source's credentials used for the target")
			}
			return open(ctx, s, p)
		}
		f.opened = append(f.opened, s)
		if err := f.valid(key, s.Env["AWS_SECRET_ACCESS_KEY"], s.Env["AWS_SESSION_TOKEN"]); err != nil {
			return nil, fmt.Errorf("reading %s: %w", sourceBackend, err)
		}
		for _, k := range []string{"AWS_PROFILE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"} {
			if v, set := s.Env[k]; !set || v != "" {
				f.t.Errorf("the source's CLI may take other credentials: %s is %q", k, v)
			}
		}
		if st, ok := f.stacks[s.Stack]; ok {
			return st, nil
		}
		return nil, fmt.Errorf("stack %s: %w", s.Stack, engine.ErrNoStack)
	}
}

// crossAccountHarness deploys prod, promoted from staging, which lives in
// another account: the run's own backend and its own Traffic know nothing
// of staging (a read of staging with the run's credentials fails the
// promotion), the source account knows nothing of prod.
func crossAccountHarness(t *testing.T, latest *engine.Update) (*harness, *fakeSourceAccount) {
	h := pushHarness(t)
	h.inputs["environment"] = "prod"
	h.inputs["promote-from"] = "staging"
	h.inputs["promote-from-backend-url"] = sourceBackend
	h.inputs["promote-from-role-arn"] = sourceRole
	h.inputs["commit-order"] = "warn"
	h.env["ACTIONS_ID_TOKEN_REQUEST_URL"] = idTokenURL
	h.env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] = idRequestToken
	h.env["AWS_ACCESS_KEY_ID"] = "ASIATARGETPRODACCOUNT"
	src := newSourceAccount(t)
	src.stacks["staging"] = &fakeStack{
		history: func(context.Context) ([]engine.Update, error) {
			return []engine.Update{{Version: latest.Version + 1, Kind: "refresh", Result: "succeeded"}, *latest}, nil
		},
		state: func(context.Context) (engine.State, error) {
			return engine.State{Digest: "staging", Outputs: withTraffic(changes("update"), "4").Outputs}, nil
		},
	}
	// Staging's aliases are on the version its update published, in its
	// account only: the run's own Traffic has them on version 1.
	for _, f := range stack.FunctionNames(stack.Config{Base: stack.Base{Project: "tap", Region: "eu-west-1"}, EnvironmentSuffix: "dev"}) {
		src.traffic.aliases[f] = shift.Alias{Version: "4"}
	}
	h.source = src
	return h, src
}

func stagingsLatest(t *testing.T) *engine.Update {
	latest := stagingUpdate(14, "succeeded", pushedSHA, "v1.0.0-test")
	latest.Config[stack.PackagesKey] = ranPackages(stacktest.Packages(t, "a")) // the harness's packages
	return latest
}

func TestDeploy_APromotionAcrossAccountsReadsTheSourceWithItsRoleOnly(t *testing.T) {
	h, src := crossAccountHarness(t, stagingsLatest(t))
	require.NoError(t, h.run(), h.log())
	require.Len(t, h.stack.ups, 1, "prod deployed")
	assert.Contains(t, h.stack.messages[0], "promoted from staging, update 14")
	assert.Contains(t, h.log(), "reading staging in its own account as "+sourceRole)

	require.Len(t, src.issued, 1, "one token, one session: the check under the lock reuses credentials that last")
	require.Len(t, src.opened, 2, "the source is read before and again under prod's lock, in its account")
	for _, s := range src.opened {
		assert.Equal(t, "staging", s.Stack)
		assert.Equal(t, src.issued[0].AccessKeyID, s.Env["AWS_ACCESS_KEY_ID"])
	}
	var prod []engine.Settings
	for _, s := range h.opened {
		if s.Stack == "prod" {
			prod = append(prod, s)
		}
	}
	require.NotEmpty(t, prod)
	for _, s := range prod {
		_, set := s.Env["AWS_ACCESS_KEY_ID"]
		assert.False(t, set, "prod is changed with the run's own credentials, from the environment")
		assert.Equal(t, "staging@14", s.Config[stack.PromotedFromKey])
	}
}

// lockedForLongerThanTheCredentials is a cross-account promotion whose
// target stays locked for 6 tries (5s, 10s, … 160s: over 5 minutes) while
// the source's credentials last 5 minutes; lastLock, if set, changes the
// source account as the lock is released.
func lockedForLongerThanTheCredentials(t *testing.T, lastLock func(*fakeSourceAccount)) (*harness, *fakeSourceAccount) {
	h, src := crossAccountHarness(t, stagingsLatest(t))
	h.inputs["lock-timeout"] = "30m"
	src.lifetime = 5 * time.Minute
	locked := 6
	h.stack.up = func(context.Context, string) (outcome.Result, error) {
		if locked > 0 {
			locked--
			if locked == 0 && lastLock != nil {
				lastLock(src)
			}
			return outcome.Result{Kind: outcome.KindUpdate}, lockedErr()
		}
		return changes(outcome.KindUpdate), nil
	}
	return h, src
}

// The credentials of the first look expire during prod's lock wait (5s,
// 10s, … 160s: over 5 minutes): the check under the lock takes new ones,
// which the source account takes, where the old ones are refused.
func TestDeploy_APromotionAcrossAccountsTakesNewCredentialsWhenTheyExpireDuringTheLockWait(t *testing.T) {
	h, src := lockedForLongerThanTheCredentials(t, nil)
	require.NoError(t, h.run(), h.log())
	require.Len(t, src.issued, 2, "taken again under the lock")
	require.Len(t, src.tokens, 2, "with a new OIDC token (the first one's few minutes are over too)")
	require.Len(t, src.opened, 2)
	assert.Equal(t, src.issued[1].AccessKeyID, src.opened[1].Env["AWS_ACCESS_KEY_ID"])
	assert.Contains(t, h.log(), "promoted from staging, update 14 still holds under the lock of prod")
}

// When STS refuses the role at the check under the lock, whether the
// source changed is not known: the deploy stops, changing nothing, and
// says the source could not be read again (not that it changed).
func TestDeploy_APromotionWhoseSourceCannotBeReadAgainUnderTheLockStopsNamingThat(t *testing.T) {
	h, _ := lockedForLongerThanTheCredentials(t, func(src *fakeSourceAccount) {
		src.refuse = errors.New("AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity")
	})
	err := h.run()
	require.ErrorIs(t, err, ErrReported)
	assert.Contains(t, h.log(), "The promotion's source could not be read again under the lock; nothing was changed")
	assert.NotContains(t, h.log(), "no longer runs what this deploy repeats")
	assert.Contains(t, h.log(), "sts:AssumeRoleWithWebIdentity")
}

// Without `permissions: id-token: write` the runner gives no token: the
// promotion is refused before anything, naming the permission.
func TestDeploy_APromotionAcrossAccountsWithoutTheOIDCPermissionIsRefused(t *testing.T) {
	h, src := crossAccountHarness(t, stagingsLatest(t))
	delete(h.env, "ACTIONS_ID_TOKEN_REQUEST_URL")
	delete(h.env, "ACTIONS_ID_TOKEN_REQUEST_TOKEN")
	require.ErrorIs(t, h.run(), ErrReported)
	assert.Contains(t, h.log(), "Refusing to promote from staging; nothing was changed: ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set")
	assert.Contains(t, h.log(), "`permissions: id-token: write`")
	assert.Empty(t, src.tokens)
	assert.Empty(t, h.stack.ups)
	assertProdUntouched(t, h)
}

// STS refuses the role (its trust names another job: bootstrap ran
// without --promotion staging:prod): refused, naming the role, the job's
// subject and the bootstrap that fixes it; nothing deployed.
func TestDeploy_APromotionAcrossAccountsWhoseRoleSTSRefusesIsRefused(t *testing.T) {
	h, src := crossAccountHarness(t, stagingsLatest(t))
	src.refuse = errors.New("AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity")
	require.ErrorIs(t, h.run(), ErrReported)
	assert.Contains(t, h.log(), "Refusing to promote from staging; nothing was changed: assuming "+sourceRole+" (promote-from-role-arn) with the job's GitHub OIDC token: AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity")
	assert.Contains(t, h.log(), "Its trust must name this job (repo:Codertocat/Hello-World:environment:prod): run `tap-deploy bootstrap --promotion staging:prod` in the source account")
	assert.Empty(t, src.opened)
	assert.Empty(t, h.stack.ups)
	assertProdUntouched(t, h)
}

// The source is not in the source account's backend.
func TestDeploy_APromotionAcrossAccountsFromAStackThatIsNotThereIsRefused(t *testing.T) {
	h, src := crossAccountHarness(t, stagingsLatest(t))
	delete(src.stacks, "staging")
	require.ErrorIs(t, h.run(), ErrReported)
	assert.Contains(t, h.log(), "stack staging does not exist in "+sourceBackend+" (promote-from-backend-url): deploy it there before promoting from it")
	assert.Empty(t, h.stack.ups)
}

// An error of the source account that echoes what it was sent shows none
// of the token, the credentials or the runner's request token.
func TestDeploy_APromotionAcrossAccountsPrintsNoCredential(t *testing.T) {
	h, src := crossAccountHarness(t, stagingsLatest(t))
	src.stacks["staging"].history = func(context.Context) ([]engine.Update, error) {
		c := src.issued[0]
		return nil, fmt.Errorf("InvalidClientTokenId: signed with %s/%s, token %s, for %s (request %s)", c.AccessKeyID, c.SecretAccessKey, c.SessionToken, src.tokens[0], idRequestToken)
	}
	require.ErrorIs(t, h.run(), ErrReported)
	require.Len(t, src.issued, 1)
	c := src.issued[0]
	var log []string
	for _, line := range strings.Split(h.log(), "\n") {
		if !strings.HasPrefix(line, "::add-mask::") {
			log = append(log, line)
		}
	}
	places := map[string]string{"log and annotations": strings.Join(log, "\n"), "summary": h.summaryText(), "outputs": string(must(os.ReadFile(h.outputPath)))}
	assert.Contains(t, places["log and annotations"], "InvalidClientTokenId: signed with ***/***", "the error is shown, masked")
	for where, text := range places {
		for _, secret := range []string{c.AccessKeyID, c.SecretAccessKey, c.SessionToken, src.tokens[0], idRequestToken} {
			assert.NotContains(t, text, secret, "%s holds a credential", where)
		}
	}
}

// assertProdUntouched: a refused promotion does not even open the stack
// it would deploy.
func assertProdUntouched(t *testing.T, h *harness) {
	t.Helper()
	for _, s := range h.opened {
		assert.NotEqual(t, "prod", s.Stack)
	}
}

func TestSessionName_KeepsTheRunIDWhateverTheStackName(t *testing.T) {
	tests := []struct {
		stack string
		run   int64
		want  string
	}{
		{"prod", 12345, "tap-deploy-prod-promote-12345"},
		{"acme/payments/prod", 7, "tap-deploy-acme-payments-prod-promote-7"},
		{"prod", 0, "tap-deploy-prod-promote-local"},
		{strings.Repeat("p", 300), 9876543210, "tap-deploy-" + strings.Repeat("p", 64-len("tap-deploy-")-len("-promote-9876543210")) + "-promote-9876543210"},
	}
	for _, tt := range tests {
		got := sessionName(tt.stack, tt.run)
		assert.Equal(t, tt.want, got)
		assert.LessOrEqual(t, len(got), 64, "STS's limit")
		assert.Regexp(t, `^[\w+=,.@-]{2,64}$`, got)
	}
}
