package moto

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// CodeDeployEndpoint is an endpoint for CodeDeploy clients: moto behind a
// proxy that mends one of moto's answers. moto 5.2.1 writes CodeDeploy's
// timestamps (createTime, startTime, completeTime) as ISO strings, where
// AWS's JSON protocol has epoch seconds, and the SDK refuses the answer
// ("expected Timestamp to be a JSON Number"); the proxy turns them into
// numbers and changes nothing else.
func CodeDeployEndpoint(t testing.TB, endpoint string) string {
	t.Helper()
	target, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(resp *http.Response) error {
		if !strings.HasPrefix(resp.Request.Header.Get("X-Amz-Target"), "CodeDeploy_") {
			return nil
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		var doc any
		if json.Unmarshal(body, &doc) == nil {
			if fixed, err := json.Marshal(epochTimes(doc, "")); err == nil {
				body = fixed
			}
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		resp.ContentLength = int64(len(body))
		resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
		return nil
	}
	srv := httptest.NewServer(proxy)
	t.Cleanup(srv.Close)
	return srv.URL
}

// epochTimes turns string values of keys ending in "Time" into epoch
// seconds.
func epochTimes(v any, key string) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			t[k] = epochTimes(x, k)
		}
	case []any:
		for i, x := range t {
			t[i] = epochTimes(x, key)
		}
	case string:
		if strings.HasSuffix(key, "Time") {
			for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999", "2006-01-02 15:04:05.999999"} {
				if ts, err := time.Parse(layout, t); err == nil {
					return float64(ts.UnixNano()) / 1e9
				}
			}
		}
	}
	return v
}
