// Package awsfake serves, on loopback, the AWS APIs that tap-deploy itself
// calls with the AWS SDK (the provider's calls go to the sandbox plugin),
// over the same sandbox cloud: what the action reads of the account agrees
// with what the sandbox enforces. The SDK finds it through its standard
// endpoint variables (AWS_ENDPOINT_URL_<SERVICE>). Every call is counted.
package awsfake

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync"

	"github.com/org/tap-deploy/test/sandbox"
)

// Server is the fake AWS.
type Server struct {
	*httptest.Server
	cloud sandbox.Store

	mu    sync.Mutex
	calls map[string]int
	cd    codeDeploy
}

// New serves the AWS APIs over the sandbox cloud at cloudPath.
func New(cloudPath string) *Server {
	s := &Server{cloud: sandbox.Store{Path: cloudPath}, calls: map[string]int{}, cd: codeDeploy{alarms: map[string]string{}, hold: map[string]bool{}}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /codedeploy/", s.codeDeployTarget)
	mux.HandleFunc("GET /2015-03-31/functions/{name}/aliases/{alias}", s.lambdaGetAlias)
	mux.HandleFunc("GET /2016-08-19/account-settings", s.lambdaAccountSettings)
	mux.HandleFunc("GET /2016-08-19/account-settings/", s.lambdaAccountSettings)
	mux.HandleFunc("GET /2019-09-30/functions/{name}/concurrency", s.lambdaFunctionConcurrency)
	s.Server = httptest.NewServer(mux)
	return s
}

// Env is what points the AWS SDK at the fake: endpoints and credentials
// that sign requests nobody checks.
func (s *Server) Env() map[string]string {
	return map[string]string{
		"AWS_ENDPOINT_URL_LAMBDA":     s.URL,
		"AWS_ENDPOINT_URL_CODEDEPLOY": s.URL + "/codedeploy/",
		"AWS_ACCESS_KEY_ID":           "AKIAFAKEFAKEFAKEFAKE",
		"AWS_SECRET_ACCESS_KEY":       "fake-secret-key-for-the-loopback-aws",
		"AWS_EC2_METADATA_DISABLED":   "true",
	}
}

// Calls is how often an operation ("lambda:GetAccountSettings") was called.
func (s *Server) Calls(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

func (s *Server) count(op string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[op]++
}

// regionOf reads the region a request was signed for (SigV4's credential
// scope: <key>/<date>/<region>/<service>/aws4_request).
var credentialScope = regexp.MustCompile(`Credential=[^/]+/[0-9]+/([a-z0-9-]+)/`)

func regionOf(r *http.Request) string {
	if m := credentialScope.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		return m[1]
	}
	return ""
}

// https://docs.aws.amazon.com/lambda/latest/api/API_GetAccountSettings.html
func (s *Server) lambdaAccountSettings(w http.ResponseWriter, r *http.Request) {
	s.count("lambda:GetAccountSettings")
	st, err := s.cloud.Load()
	if err != nil {
		awsError(w, http.StatusInternalServerError, "ServiceException", err.Error())
		return
	}
	region := regionOf(r)
	limit := st.Account.ConcurrencyLimit()
	reserved := 0
	for _, f := range st.ByType("aws:lambda/function:Function") {
		if n, ok := f.Inputs["reservedConcurrentExecutions"].(float64); ok && n > 0 && f.Region == region {
			reserved += int(n)
		}
	}
	writeJSON(w, map[string]any{
		"AccountLimit": map[string]any{"ConcurrentExecutions": limit, "UnreservedConcurrentExecutions": limit - reserved,
			"CodeSizeUnzipped": 262144000, "CodeSizeZipped": 52428800, "TotalCodeSize": 80530636800},
		"AccountUsage": map[string]any{"FunctionCount": len(st.ByType("aws:lambda/function:Function")), "TotalCodeSize": 0},
	})
}

// https://docs.aws.amazon.com/lambda/latest/api/API_GetFunctionConcurrency.html
func (s *Server) lambdaFunctionConcurrency(w http.ResponseWriter, r *http.Request) {
	s.count("lambda:GetFunctionConcurrency")
	st, err := s.cloud.Load()
	if err != nil {
		awsError(w, http.StatusInternalServerError, "ServiceException", err.Error())
		return
	}
	name, region := r.PathValue("name"), regionOf(r)
	for _, f := range st.ByType("aws:lambda/function:Function") {
		if f.ID != name || f.Region != region {
			continue
		}
		out := map[string]any{}
		if n, ok := f.Inputs["reservedConcurrentExecutions"].(float64); ok && n >= 0 {
			out["ReservedConcurrentExecutions"] = int(n)
		}
		writeJSON(w, out)
		return
	}
	awsError(w, http.StatusNotFound, "ResourceNotFoundException", "Function not found: arn:aws:lambda:"+region+":123456789012:function:"+name)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v) //nolint:errcheck // test server
}

// awsError answers as AWS's REST-JSON services do.
func awsError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Errortype", code)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"Type": "User", "message": message}) //nolint:errcheck // test server
}
