package e2e_test

import (
	"bytes"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/test/iamtest"
)

// s3Call is one request the S3 backend received, and its answer.
type s3Call struct {
	method, path string
	query        url.Values
	copySource   string
	body         []byte
	status       int
}

// s3Recorder records every request before the fake S3 answers it.
type s3Recorder struct {
	next  http.Handler
	mu    sync.Mutex
	calls []s3Call
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (s *s3Recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	s.next.ServeHTTP(sw, r)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, s3Call{method: r.Method, path: r.URL.Path, query: r.URL.Query(),
		copySource: r.Header.Get("X-Amz-Copy-Source"), body: body, status: sw.status})
}

func (s *s3Recorder) take() []s3Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.calls
	s.calls = nil
	return out
}

// authorized is how IAM authorizes one S3 request (path style): the
// action, the resource and the request's s3:prefix; a read of a missing
// key also needs s3:ListBucket on it, or S3 answers 403 instead of 404.
func authorized(t *testing.T, c s3Call) []iamtest.Request {
	t.Helper()
	bucket, key, _ := strings.Cut(strings.TrimPrefix(c.path, "/"), "/")
	object := "arn:aws:s3:::" + bucket + "/" + key
	list := func(prefix string) iamtest.Request {
		return iamtest.Request{Action: "s3:ListBucket", Resource: "arn:aws:s3:::" + bucket, Context: map[string]string{"s3:prefix": prefix}}
	}
	one := func(action, resource string) []iamtest.Request {
		return []iamtest.Request{{Action: action, Resource: resource}}
	}
	q := c.query
	if key == "" {
		switch {
		case c.method == http.MethodGet && q.Has("location"):
			return one("s3:GetBucketLocation", "arn:aws:s3:::"+bucket)
		case c.method == http.MethodGet && q.Has("versions"):
			return []iamtest.Request{{Action: "s3:ListBucketVersions", Resource: "arn:aws:s3:::" + bucket, Context: map[string]string{"s3:prefix": q.Get("prefix")}}}
		case c.method == http.MethodGet:
			return []iamtest.Request{list(q.Get("prefix"))}
		case c.method == http.MethodPost && q.Has("delete"):
			var del struct {
				Objects []struct{ Key string } `xml:"Object"`
			}
			require.NoError(t, xml.Unmarshal(c.body, &del))
			var out []iamtest.Request
			for _, o := range del.Objects {
				out = append(out, one("s3:DeleteObject", "arn:aws:s3:::"+bucket+"/"+o.Key)...)
			}
			return out
		}
		t.Fatalf("the test does not know how IAM authorizes %s %s?%s", c.method, c.path, q.Encode())
	}
	switch c.method {
	case http.MethodGet, http.MethodHead:
		action := "s3:GetObject"
		if q.Has("tagging") {
			action = "s3:GetObjectTagging"
		}
		out := one(action, object)
		if c.status == http.StatusNotFound {
			out = append(out, list(key))
		}
		return out
	case http.MethodPut:
		if q.Has("tagging") {
			return one("s3:PutObjectTagging", object)
		}
		out := one("s3:PutObject", object)
		if c.copySource != "" {
			src, err := url.PathUnescape(strings.TrimPrefix(c.copySource, "/"))
			require.NoError(t, err)
			out = append(out, one("s3:GetObject", "arn:aws:s3:::"+src)...)
		}
		return out
	case http.MethodPost:
		return one("s3:PutObject", object) // starting or completing a multipart upload
	case http.MethodDelete:
		if q.Has("uploadId") {
			return one("s3:AbortMultipartUpload", object)
		}
		return one("s3:DeleteObject", object)
	}
	t.Fatalf("the test does not know how IAM authorizes %s %s", c.method, c.path)
	return nil
}

// administratorLogin runs, with the pinned Pulumi CLI and credentials
// that may write anything, the one command the template's header asks of
// the administrator: the backend's first login, which writes its layout
// (.pulumi/meta.yaml) that no role of the template may write.
func administratorLogin(t *testing.T, e *env, backendURL string) {
	t.Helper()
	cmd := exec.Command("pulumi", "login", backendURL)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "PULUMI_HOME=" + t.TempDir(), "PULUMI_SKIP_UPDATE_CHECK=true"}
	for k, v := range e.Vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
}

// roleS3 answers S3 as IAM would for one role's writes: a PUT, POST or
// DELETE of an object the role may not write is refused (403
// AccessDenied) before the fake S3 sees it. Reads go through; the other
// test checks them. With no role, every write goes through (the
// administrator).
type roleS3 struct {
	next http.Handler
	mu   sync.Mutex
	role []iamtest.Statement
	// denied and written are the refused and the accepted writes, as
	// "action key".
	denied, written []string
}

// as answers for role from now on, its record of writes empty.
func (s *roleS3) as(role []iamtest.Statement) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.role, s.denied, s.written = role, nil, nil
}

func (s *roleS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	action := ""
	switch q := r.URL.Query(); {
	case key == "":
		// Bucket calls: lists and reads (Pulumi deletes objects one by one).
	case r.Method == http.MethodPut && q.Has("tagging"):
		action = "s3:PutObjectTagging"
	case r.Method == http.MethodPut, r.Method == http.MethodPost:
		action = "s3:PutObject"
	case r.Method == http.MethodDelete && q.Has("uploadId"):
		action = "s3:AbortMultipartUpload"
	case r.Method == http.MethodDelete:
		action = "s3:DeleteObject"
	}
	if action != "" {
		s.mu.Lock()
		role, call := s.role, action+" "+key
		allowed := role == nil || iamtest.Allows(role, iamtest.Request{Action: action, Resource: "arn:aws:s3:::" + bucket + "/" + key}) != ""
		if allowed {
			s.written = append(s.written, call)
		} else {
			s.denied = append(s.denied, call)
		}
		s.mu.Unlock()
		if !allowed {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`)
			return
		}
	}
	s.next.ServeHTTP(w, r)
}

// bootstrapTemplates runs `tap-deploy bootstrap` as an administrator
// would, and reads back the templates it wrote, by file name.
func bootstrapTemplates(t *testing.T, vars iamtest.Vars, args ...string) iamtest.Set {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command(binary, append([]string{"bootstrap", "--out-dir", dir}, args...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, stderr.String())
	require.Contains(t, string(out), "aws cloudformation deploy", "bootstrap says how to deploy what it wrote")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	files := map[string][]byte{}
	for _, e := range entries {
		body, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		files[e.Name()] = body
	}
	set, err := iamtest.ParseSet(files, vars)
	require.NoError(t, err)
	return set
}

// jobRole names a role of the bootstrap as the steps do: the account's
// PreviewRole and ReviewRole, an environment's "DeployRole dev".
func jobRole(t *testing.T, set iamtest.Set, name string) []iamtest.Statement {
	t.Helper()
	file, logical := "account.yaml", name
	if role, env, ok := strings.Cut(name, " "); ok {
		file, logical = env+".yaml", role
	}
	statements, err := set.Role(file, logical)
	require.NoError(t, err)
	return statements
}

// The bootstrap template's state permissions, tried on every call that
// real runs make against an S3 backend: the Pulumi CLI's and the action's
// own, each authorized as IAM would for the role of the job that made it.
// The template writes the keys of Pulumi's layout out (one environment's
// stack, not the project's prefix): a key it misses is a run that fails.
// Two environments, so that the roles read their environment from their
// tag (the policies every environment's roles share).
func TestBootstrap_EachJobsRoleAllowsEveryStateCallItMakes(t *testing.T) {
	needBinary(t)
	set := bootstrapTemplates(t, iamtest.Vars{Partition: "aws", Account: "123456789012", Region: "eu-west-1", Bucket: "tap-state"},
		"--environment", "dev,prod", "--aws-region", "eu-west-1", "--repository", "Codertocat/Hello-World", "--state-bucket", "tap-state")

	mem := s3mem.New()
	require.NoError(t, mem.CreateBucket("tap-state"))
	rec := &s3Recorder{next: gofakes3.New(mem).Server()}
	s3 := httptest.NewServer(rec)
	defer s3.Close()
	e := newEnv(t)
	e.Vars["AWS_REGION"] = "eu-west-1"
	params := "?endpoint=" + s3.URL + "&use_path_style=true&disable_https=true&region=us-east-1"
	environment := func(more ...string) map[string]string {
		in := map[string]string{"backend-url": "s3://tap-state/tap" + params}
		for i := 0; i+1 < len(more); i += 2 {
			in[more[i]] = more[i+1]
		}
		return in
	}
	// As the review-stack workflow runs: the review stacks' backend only.
	review := func(more ...string) map[string]string {
		in := map[string]string{"review-stack": "on", "backend-url": "", "review-stack-backend-url": "s3://tap-state/tap/review" + params}
		for i := 0; i+1 < len(more); i += 2 {
			in[more[i]] = more[i+1]
		}
		return in
	}
	dispatch := modified(t, "workflow_dispatch.json", func(p map[string]any) {
		repo := p["repository"].(map[string]any)
		repo["name"], repo["full_name"] = "Hello-World", "Codertocat/Hello-World"
		repo["owner"].(map[string]any)["login"] = "Codertocat"
	})

	steps := []struct {
		job, role, event, payload string
		inputs                    map[string]string
	}{
		{"the preview of a first deploy", "PreviewRole", "pull_request", fixture(t, "pull_request.opened.json"), environment()},
		{"the first deploy", "DeployRole dev", "push", fixture(t, "push.with-new-branch.json"), environment()},
		{"a deploy of a change", "DeployRole dev", "push", fixture(t, "push.with-new-branch.json"), environment("config", "lambdaTimeoutSeconds=20")},
		{"a preview of the deployed stack", "PreviewRole", "pull_request", fixture(t, "pull_request.synchronize.json"), environment()},
		{"a drift check", "DriftRole dev", "workflow_dispatch", dispatch, environment("command", "drift")},
		{"the history", "DriftRole dev", "workflow_dispatch", dispatch, environment("command", "history")},
		{"a rollback", "DeployRole dev", "workflow_dispatch", dispatch, environment("command", "rollback", "rollback-to", "1")},
		{"a review stack", "ReviewRole", "pull_request", fixture(t, "pull_request.opened.json"), review()},
		{"the sweep", "ReviewRole", "workflow_dispatch", dispatch, review("command", "sweep")},
		{"the review stack's destroy", "ReviewRole", "pull_request", fixture(t, "pull_request.closed.json"), review()},
	}
	// What the template's header asks of the administrator, once: no
	// role may write the backend's layout.
	administratorLogin(t, e, "s3://tap-state/tap"+params)
	require.Contains(t, s3Objects(t, mem, "tap-state"), "tap/.pulumi/meta.yaml")
	rec.take()
	for _, step := range steps {
		statements := jobRole(t, set, step.role)
		res := e.run(step.event, step.payload, step.inputs)
		require.Equal(t, 0, res.Exit, "%s: %s", step.job, res.String())
		calls := rec.take()
		require.NotEmpty(t, calls, "%s reads the backend", step.job)
		for _, c := range calls {
			for _, r := range authorized(t, c) {
				assert.NotEmpty(t, iamtest.Allows(statements, r), "%s (%s) needs %s (%s %s)", step.job, step.role, r, c.method, c.path)
			}
		}
		t.Logf("%s: %d S3 requests, all allowed to %s", step.job, len(calls), step.role)
	}
}

// A deploy role may not write the backend's layout (.pulumi/meta.yaml),
// which Pulumi writes on a backend's first use: the first deploy into a
// bucket nothing has used stops, names the one command the administrator
// runs, and, once the administrator has run it, the same deploy works and
// writes only its own environment's state.
func TestBootstrap_AFirstDeployWaitsForTheBackendTheAdministratorCreatesOnce(t *testing.T) {
	needBinary(t)
	set := bootstrapTemplates(t, iamtest.Vars{Partition: "aws", Account: "123456789012", Region: "eu-west-1", Bucket: "tap-state"},
		"--environment", "dev", "--aws-region", "eu-west-1", "--repository", "Codertocat/Hello-World", "--state-bucket", "tap-state")
	deployRole := jobRole(t, set, "DeployRole dev")

	mem := s3mem.New()
	require.NoError(t, mem.CreateBucket("tap-state"))
	s3 := &roleS3{next: gofakes3.New(mem).Server()}
	server := httptest.NewServer(s3)
	defer server.Close()
	e := newEnv(t)
	e.Vars["AWS_REGION"] = "eu-west-1"
	backend := "s3://tap-state/tap?endpoint=" + server.URL + "&use_path_style=true&disable_https=true&region=us-east-1"
	in := map[string]string{"backend-url": backend}
	push := fixture(t, "push.with-new-branch.json")

	s3.as(deployRole)
	first := e.run("push", push, in)
	assert.Equal(t, 1, first.Exit, first.String())
	assert.Contains(t, s3.denied, "s3:PutObject tap/.pulumi/meta.yaml", "Pulumi writes the layout on the backend's first use")
	assert.Contains(t, first.Stdout, "has no .pulumi/meta.yaml yet")
	assert.Contains(t, first.Stdout, "pulumi login '"+backend+"'")
	assert.Empty(t, s3Objects(t, mem, "tap-state"), "nothing was written")

	s3.as(nil)
	administratorLogin(t, e, backend)
	require.Contains(t, s3Objects(t, mem, "tap-state"), "tap/.pulumi/meta.yaml")

	s3.as(deployRole)
	again := e.run("push", push, in)
	require.Equal(t, 0, again.Exit, again.String())
	assert.Empty(t, s3.denied, "the deploy role writes what it may")
	require.NotEmpty(t, s3.written)
	for _, w := range s3.written {
		assert.NotContains(t, w, "meta.yaml")
		assert.Contains(t, w, "/dev", "only its environment's state")
	}
}
