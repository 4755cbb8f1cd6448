package requires_test

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os/exec"
	"runtime"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/org/tap-deploy/stack"
	"github.com/org/tap-deploy/test/requires"
)

// recorder stands in for a test: it records how Need stopped it.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper() {}
func (r *recorder) Skipf(format string, args ...any) {
	r.skipped = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// need runs Need as a test would and reports how it ended.
func need(t *testing.T, err error) *recorder {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		requires.Need(r, "the Pulumi CLI", err)
	}()
	<-done
	return r
}

// short sets -short for one test.
func short(t *testing.T, on bool) {
	was := testing.Short()
	if err := flag.Set("test.short", strconv.FormatBool(on)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { flag.Set("test.short", strconv.FormatBool(was)) }) //nolint:errcheck // set above
}

var missingCLI = &requires.Missing{What: "the Pulumi CLI (bin/pulumi)", Target: "make tools", Err: fs.ErrNotExist}

func TestNeed_AMissingToolSkipsNamingTheMakeTarget(t *testing.T) {
	short(t, false)
	for _, ci := range []string{"", "false", "0"} {
		t.Setenv("CI", ci)
		r := need(t, missingCLI)
		assert.Empty(t, r.failed, "CI=%q", ci)
		assert.Equal(t, "skipped: missing the Pulumi CLI (bin/pulumi): run `make tools` (file does not exist)", r.skipped, "CI=%q", ci)
	}
}

func TestNeed_AMissingToolFailsWhenCIIsSet(t *testing.T) {
	short(t, false)
	for _, ci := range []string{"true", "1", "yes"} {
		t.Setenv("CI", ci)
		r := need(t, missingCLI)
		assert.Empty(t, r.skipped, "CI=%q", ci)
		assert.Contains(t, r.failed, "run `make tools`", "CI=%q", ci)
		assert.Contains(t, r.failed, "CI is set, so a missing tool fails the test instead of skipping it")
	}
}

func TestNeed_AToolThatIsThereLetsTheTestRun(t *testing.T) {
	short(t, false)
	t.Setenv("CI", "true")
	r := need(t, nil)
	assert.Empty(t, r.skipped)
	assert.Empty(t, r.failed)
}

func TestNeed_ShortSkipsEvenInCIAndEvenWhenTheToolIsThere(t *testing.T) {
	short(t, true)
	t.Setenv("CI", "true")
	for _, err := range []error{nil, missingCLI} {
		r := need(t, err)
		assert.Empty(t, r.failed)
		assert.Equal(t, "needs the Pulumi CLI: -short runs only the fast tier (make check)", r.skipped)
	}
}

func TestNeed_AnErrorThatIsNotAMissingToolFails(t *testing.T) {
	short(t, false)
	t.Setenv("CI", "")
	r := need(t, errors.New("permission denied"))
	assert.Empty(t, r.skipped)
	assert.Equal(t, "looking for the Pulumi CLI: permission denied", r.failed)
}

func TestMissing_SaysWhatToDoBeforeTheTarget(t *testing.T) {
	m := &requires.Missing{What: "node (it runs dynalite)", Before: "install Node.js with npm", Target: "make test-deps", Err: errors.New(`exec: "node": executable file not found in $PATH`)}
	assert.Equal(t, "missing node (it runs dynalite): install Node.js with npm, then run `make test-deps` (exec: \"node\": executable file not found in $PATH)", m.Error())
	assert.ErrorIs(t, &requires.Missing{Err: fs.ErrNotExist}, fs.ErrNotExist)
}

func TestZipComponents_AreTheStacksFunctions(t *testing.T) {
	var want []string
	for _, f := range stack.Functions {
		want = append(want, f.Component)
	}
	assert.Equal(t, want, requires.ZipComponents)
}

func TestFindMoto_AMissingMotoNamesTheInstallCommand(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := requires.FindMoto()
	var m *requires.Missing
	require.ErrorAs(t, err, &m)
	assert.Equal(t, "make test-deps", m.Target)
	assert.Contains(t, err.Error(), "python3 -m pip install 'moto[server]=="+requires.MotoVersion+"'")
	assert.ErrorIs(t, err, exec.ErrNotFound)
}
