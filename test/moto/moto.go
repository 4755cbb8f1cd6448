// Package moto starts moto_server (moto, an independent AWS emulator in
// Python) on a free loopback port for tests, as package dynalite starts
// dynalite, and configures the AWS SDK for Go v2 to call it.
//
// moto is a second opinion on the sandbox (test/sandbox): it implements
// S3, DynamoDB, Lambda, IAM, KMS, SNS, SQS, STS, CloudWatch and Logs, API
// Gateway and part of CodeDeploy, and validates many inputs as AWS does.
// It does not enforce IAM (every request is allowed) and it is wrong in
// places; where a test works around moto, the workaround names moto's
// behaviour.
package moto

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/org/tap-deploy/test/requires"
)

// Account is the account moto answers for by default: the same as the
// sandbox's and the offline model's (internal/cloudsim), so ARNs the
// stack's offline model computes name what moto creates.
const Account = "123456789012"

// Credentials moto accepts (it checks none); fixed so tests can tell them
// apart from real ones in what they print.
const (
	AccessKeyID     = "AKIAMOTOLOOPBACK0000"
	SecretAccessKey = "moto-loopback-secret-not-real"
)

// Start runs moto_server on a free loopback port until the test ends and
// returns its endpoint ("http://127.0.0.1:<port>"). Without moto the test
// skips, naming `make test-deps` (it fails when CI is set, and always
// skips under -short: see package requires).
func Start(t testing.TB) string {
	t.Helper()
	bin := requires.Moto(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_, port, _ := net.SplitHostPort(addr)
	l.Close()

	cmd := exec.Command(bin, "--host", "127.0.0.1", "--port", port)
	// moto knows AWS's managed policies (AWSCodeDeployRoleForLambda, ...)
	// only when asked to load them; without them AttachRolePolicy of one
	// answers NoSuchEntity, which AWS never does.
	cmd.Env = append(os.Environ(), "MOTO_IAM_LOAD_MANAGED_POLICIES=true")
	// moto_server may be a shim (pyenv) that starts Python as its child:
	// its own process group lets the cleanup stop both, and nothing else.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) //nolint:errcheck // the test is over
		cmd.Wait()                                      //nolint:errcheck // killed on purpose
	})
	endpoint := "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := ping(endpoint)
		if err == nil {
			return endpoint
		}
		if time.Now().After(deadline) {
			t.Fatalf("moto_server did not start on %s: %v", addr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ping asks moto's own API whether the server answers.
func ping(endpoint string) error {
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get(endpoint + "/moto-api/")
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /moto-api/: %s", resp.Status)
	}
	return nil
}

// Reset forgets every resource moto holds, so that one server serves many
// independent cases.
func Reset(t testing.TB, endpoint string) {
	t.Helper()
	resp, err := http.Post(endpoint+"/moto-api/reset", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("resetting moto: %s", resp.Status)
	}
}

// Config is an AWS SDK configuration that calls moto at endpoint for
// every service, in region.
func Config(endpoint, region string) aws.Config {
	return aws.Config{
		Region:       region,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
		// moto answers some calls it does not implement with 404 or 500:
		// those are never retried, so a test says so at once. A dropped
		// connection (a loaded machine) is retried, and only that.
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = 3
				o.Retryables = []retry.IsErrorRetryable{retry.RetryableConnectionError{}}
			})
		},
	}
}

// Env is what a process that loads the SDK's default configuration (the
// project's own clients, the Pulumi CLI's secrets provider) needs to call
// moto: credentials, a region, and AWS_ENDPOINT_URL for every service.
func Env(endpoint, region string) map[string]string {
	return map[string]string{
		"AWS_ACCESS_KEY_ID":           AccessKeyID,
		"AWS_SECRET_ACCESS_KEY":       SecretAccessKey,
		"AWS_SESSION_TOKEN":           "",
		"AWS_REGION":                  region,
		"AWS_DEFAULT_REGION":          region,
		"AWS_ENDPOINT_URL":            endpoint,
		"AWS_PROFILE":                 "",
		"AWS_CONFIG_FILE":             "/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
		"AWS_EC2_METADATA_DISABLED":   "true",
	}
}

// Setenv sets Env for the rest of the test (so not in parallel tests).
func Setenv(t testing.TB, endpoint, region string) {
	t.Helper()
	for k, v := range Env(endpoint, region) {
		t.Setenv(k, v)
	}
}

// Context is a context for one call to moto that gives up with the test.
func Context(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}
