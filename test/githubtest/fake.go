// Package githubtest is a fake GitHub REST API for tests: comments on
// issues with real Link-header paging, the commit and compare endpoints the
// deploy path uses, call counts, and injected faults (5xx after the write
// was done, 429 with Retry-After, 403).
package githubtest

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/org/tap-deploy/internal/github"
)

// Comment is a stored comment.
type Comment struct {
	ID     int64  `json:"id"`
	Body   string `json:"body"`
	Author string `json:"author"`
	Issue  int    `json:"issue"`
	// Editor made the last edit (GraphQL's editor), EditedAt is when
	// (lastEditedAt); empty for a comment never edited.
	Editor   string `json:"editor,omitempty"`
	EditedAt string `json:"editedAt,omitempty"`
	// History is GraphQL's userContentEdits, oldest first: once a comment
	// is edited, its first entry is the original, by its author.
	History []github.CommentEdit `json:"history,omitempty"`
}

// edited records an edit by editor, as GitHub's edit history does.
func (c *Comment) edited(editor, body string) {
	now := time.Now().UTC().Format(time.RFC3339)
	if len(c.History) == 0 {
		c.History = append(c.History, github.CommentEdit{Editor: c.Author, At: now})
	}
	c.Body, c.Editor, c.EditedAt = body, editor, now
	c.History = append(c.History, github.CommentEdit{Editor: editor, At: now})
}

// NodeID is the comment's GraphQL id, as REST reports it in node_id.
func (c Comment) NodeID() string { return fmt.Sprintf("IC_kwDOfake%d", c.ID) }

// Fault is an injected failure for the next matching request.
type Fault struct {
	Method string // "" matches any
	Path   string // regular expression on the path; "" matches any
	Status int
	// RetryAfter sets the Retry-After header (seconds).
	RetryAfter string
	// AfterWrite carries the request out, then answers Status anyway (a
	// lost answer).
	AfterWrite bool
	Message    string
}

// Server is the fake GitHub.
type Server struct {
	*httptest.Server

	mu       sync.Mutex
	comments []Comment
	nextID   int64
	faults   []Fault
	calls    map[string]int
	// tokens maps a token to the login it acts as; "github-actions[bot]"
	// cannot read /user, as with the workflow's GITHUB_TOKEN.
	tokens map[string]string
	// commitPRs maps a commit SHA to the PRs it belongs to.
	commitPRs map[string][]PR
	// compare maps "base...head" to a status (ahead, behind, identical,
	// diverged); missing pairs answer 404.
	compare map[string]string
	perPage int
	// deployments and issues, by id and number.
	deployments []*Deployment
	issues      []*Issue
	nextIssue   int
	// prs maps a pull request number to its state (open or closed), and
	// heads to its head commit when the test set one.
	prs   map[int]string
	heads map[int]string
}

// Deployment is a stored deployment and the statuses it went through.
type Deployment struct {
	ID          int64
	Ref         string
	Environment string
	Description string
	Transient   bool
	Payload     map[string]any
	Statuses    []DeploymentStatus
}

// DeploymentStatus is one status of a deployment.
type DeploymentStatus struct {
	State          string
	EnvironmentURL string
	LogURL         string
}

// State is the deployment's latest state.
func (d Deployment) State() string {
	if len(d.Statuses) == 0 {
		return "pending"
	}
	return d.Statuses[len(d.Statuses)-1].State
}

// Issue is a stored issue.
type Issue struct {
	Number      int
	Title       string
	Body        string
	State       string
	StateReason string
	Labels      []string
	Author      string
}

// Deployments returns copies of every deployment, oldest first.
func (s *Server) Deployments() []Deployment {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Deployment
	for _, d := range s.deployments {
		c := *d
		c.Statuses = append([]DeploymentStatus(nil), d.Statuses...)
		out = append(out, c)
	}
	return out
}

// Issues returns copies of every issue, oldest first.
func (s *Server) Issues() []Issue {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Issue
	for _, i := range s.issues {
		out = append(out, *i)
	}
	return out
}

// AddIssue stores an issue as if someone had opened it.
func (s *Server) AddIssue(author, title, body string, labels ...string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextIssue++
	s.issues = append(s.issues, &Issue{Number: s.nextIssue, Title: title, Body: body, State: "open", Labels: labels, Author: author})
	return s.nextIssue
}

// SetPullRequest says whether a pull request is open or closed.
func (s *Server) SetPullRequest(number int, state string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prs[number] = state
}

// SetPullRequestHead makes pull request number open with head commit sha.
func (s *Server) SetPullRequestHead(number int, sha string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.prs[number] == "" {
		s.prs[number] = "open"
	}
	s.heads[number] = sha
}

// PR is a pull request a commit belongs to. By default it was merged into
// master as that commit (commits/{sha}/pulls lists it for its merge
// commit); Open lists an open pull request whose head is the commit, as
// GitHub does too.
type PR struct {
	Number  int
	HeadSHA string
	Open    bool
	// Base is the branch it merges into ("master" when empty) and
	// MergeCommit the commit it was merged as (the looked-up commit when
	// empty).
	Base        string
	MergeCommit string
}

// SetCommitPRs says which pull requests a commit belongs to.
func (s *Server) SetCommitPRs(sha string, prs ...PR) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.commitPRs[sha] = prs
}

// SetCompare sets the answer of the compare API for base...head.
func (s *Server) SetCompare(base, head, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.compare[base+"..."+head] = status
}

// The three kinds of token a workflow has, and the account each acts as:
// the workflow's GITHUB_TOKEN and a GitHub App's installation token cannot
// read /user (only GraphQL's viewer names their bot); a personal token can.
const (
	Token    = "ghs_faketoken0123456789" // GITHUB_TOKEN: github-actions[bot]
	AppToken = "ghs_fakeapptoken98765"   // actions/create-github-app-token: tap-deployer[bot]
	PAT      = "ghp_fakepersonaltoken42" // a personal access token: octocat

	AppLogin = "tap-deployer[bot]"
	PATLogin = "octocat"
)

// New starts a fake GitHub; Close it when done.
func New() *Server {
	s := &Server{
		nextID:    1000,
		calls:     map[string]int{},
		tokens:    map[string]string{Token: "github-actions[bot]", AppToken: AppLogin, PAT: PATLogin},
		commitPRs: map[string][]PR{},
		compare:   map[string]string{},
		perPage:   30,
		nextIssue: 100,
		prs:       map[int]string{},
		heads:     map[int]string{},
	}
	s.Server = httptest.NewServer(s.authenticate(s.routes()))
	return s
}

// APIURL is the API base URL to give as GITHUB_API_URL.
func (s *Server) APIURL() string { return s.Server.URL + "/" }

// AddComment stores a comment as if someone had written it.
func (s *Server) AddComment(issue int, author, body string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	s.comments = append(s.comments, Comment{ID: s.nextID, Body: body, Author: author, Issue: issue})
	return s.nextID
}

// Comments returns the comments of an issue, oldest first.
func (s *Server) Comments(issue int) []Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Comment
	for _, c := range s.comments {
		if c.Issue == issue {
			out = append(out, c)
		}
	}
	return out
}

// AllComments returns every comment on every issue and pull request,
// oldest first.
func (s *Server) AllComments() []Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Comment(nil), s.comments...)
}

// Fail queues a fault.
func (s *Server) Fail(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, f)
}

// Total is how many requests the fake answered, of any kind.
func (s *Server) Total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls["any"]
}

// Calls returns how often "METHOD name" was called, by the names routes
// gives the endpoints ("POST comments", "PATCH comment", "GET pull"), or
// "METHOD /path" for a path the fake does not know.
func (s *Server) Calls(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[name]
}

// routes is the fake's one router: each endpoint is a Go 1.22 method and
// path pattern with the name its calls are counted by (Calls("POST
// comments")). REST endpoints answer under /api/v3 too, as on GitHub
// Enterprise Server, whose GraphQL endpoint is /api/graphql.
func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	rest := func(pattern, name string, h handler) {
		s.route(mux, pattern, name, h)
		method, path, _ := strings.Cut(pattern, " ")
		s.route(mux, method+" /api/v3"+path, name, h)
	}
	rest("GET /user", "user", s.user)
	s.route(mux, "POST /graphql", "graphql", s.graphql)
	s.route(mux, "POST /api/graphql", "graphql", s.graphql)
	rest("GET /repos/{owner}/{repo}/issues/{number}/comments", "comments", s.listComments)
	rest("POST /repos/{owner}/{repo}/issues/{number}/comments", "comments", s.createComment)
	rest("PATCH /repos/{owner}/{repo}/issues/comments/{id}", "comment", s.editComment)
	rest("DELETE /repos/{owner}/{repo}/issues/comments/{id}", "comment", s.deleteComment)
	rest("GET /repos/{owner}/{repo}/commits/{sha}/pulls", "commit pulls", s.commitPulls)
	rest("GET /repos/{owner}/{repo}/compare/{basehead...}", "compare", s.compareCommits)
	rest("GET /repos/{owner}/{repo}/pulls/{number}", "pull", s.pull)
	rest("GET /repos/{owner}/{repo}/deployments", "deployments", s.listDeployments)
	rest("POST /repos/{owner}/{repo}/deployments", "deployments", s.createDeployment)
	rest("POST /repos/{owner}/{repo}/deployments/{id}/statuses", "deployment statuses", s.createDeploymentStatus)
	rest("GET /repos/{owner}/{repo}/issues", "issues", s.listIssues)
	rest("POST /repos/{owner}/{repo}/issues", "issues", s.createIssue)
	rest("PATCH /repos/{owner}/{repo}/issues/{number}", "issue", s.editIssue)
	// Anything else is counted by its method and path, and not found.
	s.route(mux, "/", "", func(w http.ResponseWriter, _ *http.Request, _ string) {
		writeError(w, http.StatusNotFound, "Not Found")
	})
	return mux
}

// handler answers one endpoint for the account login.
type handler func(w http.ResponseWriter, r *http.Request, login string)

type loginKey struct{}

// authenticate counts every request (Total) and answers 401 to a token the
// fake does not know, as GitHub does, before any endpoint sees it.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		login, ok := s.tokens[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
		s.calls["any"]++
		s.mu.Unlock()
		if !ok {
			writeError(w, http.StatusUnauthorized, "Bad credentials")
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), loginKey{}, login)))
	})
}

// route registers pattern under name ("" names a call by its path): the
// call is counted, then a queued fault for it answers instead of h, or
// after h (a lost answer).
func (s *Server) route(mux *http.ServeMux, pattern, name string, h handler) {
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		path := strings.TrimPrefix(r.URL.Path, "/api/v3")
		s.mu.Lock()
		s.calls[r.Method+" "+cmp.Or(name, path)]++
		fault, faulted := s.takeFault(r.Method, path)
		s.mu.Unlock()
		if faulted && !fault.AfterWrite {
			writeFault(w, fault)
			return
		}
		rec := httptest.NewRecorder()
		h(rec, r, r.Context().Value(loginKey{}).(string))
		if faulted {
			writeFault(w, fault)
			return
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes()) //nolint:errcheck // test server
	})
}

func (s *Server) takeFault(method, path string) (Fault, bool) {
	for i, f := range s.faults {
		if (f.Method == "" || f.Method == method) && (f.Path == "" || regexp.MustCompile(f.Path).MatchString(path)) {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
			return f, true
		}
	}
	return Fault{}, false
}

func writeFault(w http.ResponseWriter, f Fault) {
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	msg := f.Message
	if msg == "" {
		msg = http.StatusText(f.Status)
	}
	writeError(w, f.Status, msg)
}

// user answers GET /user: the workflow's token and an App's cannot read it.
func (s *Server) user(w http.ResponseWriter, _ *http.Request, login string) {
	if strings.HasSuffix(login, "[bot]") {
		writeError(w, http.StatusForbidden, "Resource not accessible by integration")
		return
	}
	writeJSON(w, map[string]any{"login": login})
}

// graphql answers the viewer's login, which every token may read, and a
// comment's edit history by its node id.
func (s *Server) graphql(w http.ResponseWriter, r *http.Request, login string) {
	var in struct {
		Query     string
		Variables map[string]any
	}
	err := json.NewDecoder(r.Body).Decode(&in)
	switch {
	case err == nil && strings.Contains(in.Query, "viewer"):
		writeJSON(w, map[string]any{"data": map[string]any{"viewer": map[string]any{"login": login}}})
	case err == nil && strings.Contains(in.Query, "node(") && strings.Contains(in.Query, "IssueComment"):
		id, _ := in.Variables["id"].(string)
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, c := range s.comments {
			if c.NodeID() != id {
				continue
			}
			writeJSON(w, map[string]any{"data": map[string]any{"node": editHistory(c, in.Variables["after"])}})
			return
		}
		writeJSON(w, map[string]any{"data": map[string]any{"node": nil},
			"errors": []map[string]any{{"type": "NOT_FOUND", "message": "Could not resolve to a node with the global id of '" + id + "'"}}})
	default:
		writeJSON(w, map[string]any{"errors": []map[string]any{{"message": "this fake answers only viewer { login } and node(id) { ... on IssueComment }"}}})
	}
}

// editHistoryPage is how many entries a page of userContentEdits holds
// here: small, so that a client that reads one page only misses edits.
const editHistoryPage = 2

// editHistory answers userContentEdits newest first, a page at a time,
// its cursor the index of the next entry. Actors are named as GitHub's
// GraphQL API names them: a Bot's login has no "[bot]" suffix there
// ("github-actions"), while REST's user.login and GraphQL's viewer carry
// it ("github-actions[bot]").
func editHistory(c Comment, after any) map[string]any {
	from, _ := strconv.Atoi(fmt.Sprint(after))
	var nodes []map[string]any
	for i := len(c.History) - 1 - from; i >= 0 && len(nodes) < editHistoryPage; i-- {
		var editor any
		if e := c.History[i]; e.Editor != "" {
			editor = graphQLActor(e.Editor)
		}
		nodes = append(nodes, map[string]any{"editedAt": c.History[i].At, "editor": editor, "deletedAt": nil, "deletedBy": nil})
	}
	next := from + len(nodes)
	return map[string]any{"lastEditedAt": nilIfEmpty(c.EditedAt), "userContentEdits": map[string]any{
		"pageInfo": map[string]any{"hasNextPage": next < len(c.History), "endCursor": strconv.Itoa(next)},
		"nodes":    nodes,
	}}
}

// graphQLActor is an Actor as GraphQL answers it.
func graphQLActor(login string) map[string]any {
	if bot, ok := strings.CutSuffix(login, "[bot]"); ok {
		return map[string]any{"__typename": "Bot", "login": bot}
	}
	return map[string]any{"__typename": "User", "login": login}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (s *Server) listComments(w http.ResponseWriter, r *http.Request, _ string) {
	issue, _ := strconv.Atoi(r.PathValue("number"))
	var all []map[string]any
	for _, c := range s.Comments(issue) {
		all = append(all, commentJSON(c))
	}
	s.page(w, r, all)
}

func (s *Server) createComment(w http.ResponseWriter, r *http.Request, login string) {
	issue, _ := strconv.Atoi(r.PathValue("number"))
	var in struct{ Body string }
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Body == "" {
		writeError(w, http.StatusUnprocessableEntity, "Body is required")
		return
	}
	if len(in.Body) > 65536 {
		writeError(w, http.StatusUnprocessableEntity, "Body is too long (maximum is 65536 characters)")
		return
	}
	id := s.AddComment(issue, login, in.Body)
	w.WriteHeader(http.StatusCreated)
	writeJSONBody(w, commentJSON(Comment{ID: id, Body: in.Body, Author: login, Issue: issue}))
}

// editComment lets only a comment's author change it, as GitHub does.
func (s *Server) editComment(w http.ResponseWriter, r *http.Request, login string) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	var in struct{ Body string }
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeError(w, http.StatusUnprocessableEntity, "bad body")
		return
	}
	if len(in.Body) > 65536 {
		writeError(w, http.StatusUnprocessableEntity, "Body is too long (maximum is 65536 characters)")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if i := s.ownComment(w, id, login); i >= 0 {
		s.comments[i].edited(login, in.Body)
		writeJSON(w, commentJSON(s.comments[i]))
	}
}

// ownComment finds comment id for its author, login, or answers as GitHub
// does (not found; forbidden to anyone else's token) and returns -1. The
// caller holds s.mu.
func (s *Server) ownComment(w http.ResponseWriter, id int64, login string) int {
	for i := range s.comments {
		if s.comments[i].ID != id {
			continue
		}
		if s.comments[i].Author != login {
			writeError(w, http.StatusForbidden, "Resource not accessible by integration")
			return -1
		}
		return i
	}
	writeError(w, http.StatusNotFound, "Not Found")
	return -1
}

// deleteComment lets only a comment's author delete it through the API
// here (an installation token deletes what it wrote).
func (s *Server) deleteComment(w http.ResponseWriter, r *http.Request, login string) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	s.mu.Lock()
	defer s.mu.Unlock()
	if i := s.ownComment(w, id, login); i >= 0 {
		s.comments = append(s.comments[:i], s.comments[i+1:]...)
		w.WriteHeader(http.StatusNoContent)
	}
}

func (s *Server) commitPulls(w http.ResponseWriter, r *http.Request, _ string) {
	sha := r.PathValue("sha")
	s.mu.Lock()
	prs := s.commitPRs[sha]
	s.mu.Unlock()
	out := []map[string]any{}
	for _, pr := range prs {
		base := cmpOr(pr.Base, "master")
		j := map[string]any{"number": pr.Number, "state": "closed", "merged_at": "2026-11-28T12:00:00Z",
			"merge_commit_sha": cmpOr(pr.MergeCommit, sha),
			"head":             map[string]any{"sha": pr.HeadSHA}, "base": map[string]any{"ref": base}}
		if pr.Open {
			// An open pull request's merge_commit_sha is its test merge.
			j["state"], j["merged_at"], j["merge_commit_sha"] = "open", nil, "e5bd3914e2e596debea16f433f57875b5b90bcd6"
		}
		out = append(out, j)
	}
	writeJSON(w, out)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// EditAs changes a comment's body as a person with write access does in
// GitHub's web interface: any comment, whoever wrote it; the author stays,
// the edit history records the editor.
func (s *Server) EditAs(id int64, editor, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.comments {
		if s.comments[i].ID == id {
			s.comments[i].edited(editor, body)
		}
	}
}

func (s *Server) compareCommits(w http.ResponseWriter, r *http.Request, _ string) {
	s.mu.Lock()
	status, ok := s.compare[r.PathValue("basehead")]
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	writeJSON(w, map[string]any{"status": status})
}

func (s *Server) pull(w http.ResponseWriter, r *http.Request, _ string) {
	n, _ := strconv.Atoi(r.PathValue("number"))
	s.mu.Lock()
	state, ok := s.prs[n]
	head := s.heads[n]
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	writeJSON(w, map[string]any{"number": n, "state": state, "head": map[string]any{"sha": head}})
}

func (s *Server) createDeployment(w http.ResponseWriter, r *http.Request, _ string) {
	var in struct {
		Ref, Environment, Description string
		TransientEnvironment          bool `json:"transient_environment"`
		Payload                       map[string]any
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Ref == "" {
		writeError(w, http.StatusUnprocessableEntity, "ref is required")
		return
	}
	if len([]rune(in.Description)) > 140 {
		writeError(w, http.StatusUnprocessableEntity, "description is too long (maximum is 140 characters)")
		return
	}
	s.mu.Lock()
	d := &Deployment{ID: int64(5000 + len(s.deployments)), Ref: in.Ref, Environment: in.Environment, Description: in.Description,
		Transient: in.TransientEnvironment, Payload: in.Payload}
	s.deployments = append(s.deployments, d)
	s.mu.Unlock()
	w.WriteHeader(http.StatusCreated)
	writeJSONBody(w, deploymentJSON(d))
}

func (s *Server) listDeployments(w http.ResponseWriter, r *http.Request, _ string) {
	q := r.URL.Query()
	s.mu.Lock()
	var all []map[string]any
	for i := len(s.deployments) - 1; i >= 0; i-- { // newest first, as GitHub lists them
		d := s.deployments[i]
		if (q.Get("sha") == "" || q.Get("sha") == d.Ref) && (q.Get("environment") == "" || q.Get("environment") == d.Environment) {
			all = append(all, deploymentJSON(d))
		}
	}
	s.mu.Unlock()
	s.page(w, r, all)
}

func (s *Server) createDeploymentStatus(w http.ResponseWriter, r *http.Request, _ string) {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	var in struct {
		State          string
		EnvironmentURL string `json:"environment_url"`
		LogURL         string `json:"log_url"`
		AutoInactive   *bool  `json:"auto_inactive"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.State == "" {
		writeError(w, http.StatusUnprocessableEntity, "state is required")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var d *Deployment
	for _, e := range s.deployments {
		if e.ID == id {
			d = e
		}
	}
	if d == nil {
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	d.Statuses = append(d.Statuses, DeploymentStatus{State: in.State, EnvironmentURL: in.EnvironmentURL, LogURL: in.LogURL})
	// auto_inactive (default true): a success makes the environment's
	// earlier successful deployments inactive.
	if in.State == "success" && (in.AutoInactive == nil || *in.AutoInactive) {
		for _, e := range s.deployments {
			if e != d && e.Environment == d.Environment && e.State() == "success" {
				e.Statuses = append(e.Statuses, DeploymentStatus{State: "inactive"})
			}
		}
	}
	w.WriteHeader(http.StatusCreated)
	writeJSONBody(w, map[string]any{"id": len(d.Statuses), "state": in.State})
}

func (s *Server) listIssues(w http.ResponseWriter, r *http.Request, _ string) {
	q := r.URL.Query()
	want := map[string]bool{}
	for _, l := range strings.Split(q.Get("labels"), ",") {
		if l != "" {
			want[l] = true
		}
	}
	s.mu.Lock()
	var all []map[string]any
	for _, i := range s.issues {
		have := map[string]bool{}
		for _, l := range i.Labels {
			have[l] = true
		}
		matches := q.Get("state") == "" || q.Get("state") == "all" || q.Get("state") == i.State
		for l := range want {
			matches = matches && have[l]
		}
		if matches {
			all = append(all, issueJSON(i))
		}
	}
	// The issues endpoint lists pull requests too.
	all = append(all, map[string]any{"number": 2, "title": "a pull request", "state": "open", "user": map[string]any{"login": "Codertocat"},
		"pull_request": map[string]any{"url": "https://api.github.com/repos/o/r/pulls/2"}})
	s.mu.Unlock()
	s.page(w, r, all)
}

func (s *Server) createIssue(w http.ResponseWriter, r *http.Request, login string) {
	var in struct {
		Title, Body string
		Labels      []string
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Title == "" {
		writeError(w, http.StatusUnprocessableEntity, "title is required")
		return
	}
	n := s.AddIssue(login, in.Title, in.Body, in.Labels...)
	w.WriteHeader(http.StatusCreated)
	writeJSONBody(w, issueJSON(&Issue{Number: n, Title: in.Title, Body: in.Body, State: "open", Labels: in.Labels, Author: login}))
}

func (s *Server) editIssue(w http.ResponseWriter, r *http.Request, _ string) {
	n, _ := strconv.Atoi(r.PathValue("number"))
	var in struct {
		Title, Body, State *string
		StateReason        *string `json:"state_reason"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeError(w, http.StatusUnprocessableEntity, "bad body")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, i := range s.issues {
		if i.Number != n {
			continue
		}
		for dst, src := range map[*string]*string{&i.Title: in.Title, &i.Body: in.Body, &i.State: in.State, &i.StateReason: in.StateReason} {
			if src != nil {
				*dst = *src
			}
		}
		writeJSON(w, issueJSON(i))
		return
	}
	writeError(w, http.StatusNotFound, "Not Found")
}

func deploymentJSON(d *Deployment) map[string]any {
	return map[string]any{"id": d.ID, "ref": d.Ref, "sha": d.Ref, "environment": d.Environment, "description": d.Description,
		"transient_environment": d.Transient, "payload": d.Payload}
}

func issueJSON(i *Issue) map[string]any {
	var labels []map[string]any
	for _, l := range i.Labels {
		labels = append(labels, map[string]any{"name": l})
	}
	return map[string]any{"number": i.Number, "title": i.Title, "body": i.Body, "state": i.State, "labels": labels,
		"user": map[string]any{"login": i.Author}, "html_url": fmt.Sprintf("https://github.com/o/r/issues/%d", i.Number)}
}

// page answers a list with Link-header paging, as GitHub does (next,
// last, first, prev; per_page up to 100).
func (s *Server) page(w http.ResponseWriter, r *http.Request, all []map[string]any) {
	s.mu.Lock()
	perPage := s.perPage
	s.mu.Unlock()
	if n, err := strconv.Atoi(r.URL.Query().Get("per_page")); err == nil && n > 0 {
		perPage = min(n, 100)
	}
	page := 1
	if n, err := strconv.Atoi(r.URL.Query().Get("page")); err == nil && n > 0 {
		page = n
	}
	last := max(1, (len(all)+perPage-1)/perPage)
	start := min((page-1)*perPage, len(all))
	end := min(start+perPage, len(all))
	var links []string
	link := func(p int, rel string) string {
		u := *r.URL
		q := u.Query()
		q.Set("page", strconv.Itoa(p))
		q.Set("per_page", strconv.Itoa(perPage))
		u.RawQuery = q.Encode()
		return fmt.Sprintf(`<http://%s%s>; rel="%s"`, r.Host, u.String(), rel)
	}
	if page < last {
		links = append(links, link(page+1, "next"), link(last, "last"))
	}
	if page > 1 {
		links = append(links, link(1, "first"), link(page-1, "prev"))
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ", "))
	}
	out := all[start:end]
	if out == nil {
		out = []map[string]any{}
	}
	writeJSON(w, out)
}

func commentJSON(c Comment) map[string]any {
	return map[string]any{
		"id": c.ID, "node_id": c.NodeID(), "body": c.Body, "user": map[string]any{"login": c.Author},
		"html_url":   fmt.Sprintf("https://github.com/o/r/pull/%d#issuecomment-%d", c.Issue, c.ID),
		"created_at": time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Format(time.RFC3339),
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	writeJSONBody(w, v)
}

func writeJSONBody(w http.ResponseWriter, v any) {
	json.NewEncoder(w).Encode(v) //nolint:errcheck // test server
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	writeJSONBody(w, map[string]any{"message": msg, "documentation_url": "https://docs.github.com/rest"})
}

// Client is the action's GitHub client against this server, with the
// workflow's token and retries that do not wait.
func (s *Server) Client(t testing.TB) *github.Client {
	t.Helper()
	retry := github.DefaultRetry
	retry.Sleep = func(context.Context, time.Duration) error { return nil }
	c, err := github.New(s.APIURL(), Token, retry)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
