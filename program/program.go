// Package program describes a team's own Pulumi Go program to tap-deploy:
// its configuration keys (their kinds, defaults and which changes loosen a
// guard), the Lambda packages compiled into the team's image, the functions
// whose traffic shifts through CodeDeploy, its own policy rules, and the
// function that declares its resources.
//
// A Program is a plain value. Validate checks it whole before anything
// runs, and names each problem: a key declared twice, a package whose zip
// is missing, a function asked to shift that has no package.
//
// # Stability
//
// The package follows semantic versioning from v1.0.0 of the module (see
// docs/program-api.md): exported names and their documented behaviour
// change only with a major version. Until then, breaking changes are listed
// in CHANGELOG.md under "program API".
package program

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Program is a Pulumi program as tap-deploy runs it.
type Program struct {
	// Name says what the program is in messages and the PR comment
	// ("queue worker").
	Name string
	// Namespace is the Pulumi configuration namespace of its keys: the
	// stack file's <namespace>:<key>. It is also the prefix of the keys
	// tap-deploy records with every update (<namespace>:commit...).
	Namespace string
	// Keys are the configuration keys users may set (config input,
	// Pulumi.<stack>.yaml); any other key is refused.
	Keys []Key
	// Packages are the Lambda packages compiled into the image, one per
	// function.
	Packages []Package
	// Shift lists the functions (by Package.Function) whose traffic moves
	// through CodeDeploy with alarm rollback. Each must be declared with
	// the canary component; a shifted function is one with a package.
	Shift []string
	// Rules are the program's own policy rules, evaluated beside the
	// built-in ones on every validation, preview and update.
	Rules []Rule
	// Run declares the program's resources for one stack.
	Run func(ctx *pulumi.Context, s Stack) error
}

// Kind is what values a key takes.
type Kind int

const (
	// String is any text.
	String Kind = iota
	// Int is a whole number.
	Int
	// Number is a decimal number.
	Number
	// Bool is true or false.
	Bool
)

func (k Kind) String() string {
	switch k {
	case String:
		return "string"
	case Int:
		return "int"
	case Number:
		return "number"
	case Bool:
		return "bool"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Key is one configuration key.
type Key struct {
	// Name is the key as users write it (camelCase: logRetentionDays).
	Name string
	Kind Kind
	// Default is the value when nobody sets one; empty means unset.
	Default string
	// ReviewDefault, when set, is the default in a pull request's review
	// stack: a copy that lives a few days can keep logs for less time.
	ReviewDefault string
	// Doc says what the key does, for the comment and the docs.
	Doc string
	// Check refuses a value the kind allows but the program does not. Its
	// message completes "<key> …" ("must be at most 1000"); the value is
	// never echoed, since it may be a secret pasted by mistake.
	Check func(v string) error
	// Loosens reports whether changing the value from one to another
	// weakens a guard (logs kept for less time, a higher alarm threshold).
	// A rollback or promotion that would make such a change says so and
	// needs the allow-config-relaxation input. Nil: no change loosens.
	Loosens func(from, to string) bool
}

// Package is one function's Lambda package, compiled into the binary.
type Package struct {
	// Function is the name the program reads the package by
	// (Stack.Package) and that Shift lists.
	Function string
	// FS holds the zip at Path (usually an embed.FS).
	FS   fs.FS
	Path string
}

// Code is a function's package as a run deploys it.
type Code struct {
	// SHA256 is the hex digest of the zip: a rollback redeploys the code
	// of an old update by it.
	SHA256 string
	// Path is a local copy of the zip to upload. Empty means the object
	// is already uploaded (a rollback to older code).
	Path string
}

// Rule is one of the program's own policy rules.
type Rule struct {
	// ID names the rule in reports and in the policy-overrides input.
	ID    string
	Title string
	// Advisory rules warn; the others fail the run.
	Advisory bool
	// Types limits the rule to these resource types
	// ("aws:sqs/queue:Queue"); empty means every resource.
	Types []string
	// Check returns what to change, one message per problem.
	Check func(r Resource) []string
}

// Resource is one resource as a rule sees it: its inputs as the program
// declared them.
type Resource struct {
	URN, Type, Name string
	Inputs          map[string]any
}

var (
	namePattern      = regexp.MustCompile(`^[a-z][A-Za-z0-9]{0,63}$`)
	namespacePattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)
	ruleIDPattern    = regexp.MustCompile(`^[A-Z][A-Z0-9_]{1,39}$`)
)

// Validate reports every problem with the program at once, each naming
// what it is about. A program that fails Validate never runs.
func (p Program) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if strings.TrimSpace(p.Name) == "" {
		bad("program: Name is empty")
	}
	if !namespacePattern.MatchString(p.Namespace) {
		bad("program %q: Namespace %q must be 1-32 lowercase letters, digits or '-', starting with a letter", p.Name, p.Namespace)
	}
	if p.Run == nil {
		bad("program %q: Run is nil", p.Name)
	}
	keys := map[string]bool{}
	for _, k := range p.Keys {
		if keys[k.Name] {
			bad("program %q: key %q is declared twice", p.Name, k.Name)
			continue
		}
		keys[k.Name] = true
		if !namePattern.MatchString(k.Name) {
			bad("program %q: key %q must be camelCase: a lowercase letter, then letters or digits (64 at most)", p.Name, k.Name)
			continue
		}
		if _, reserved := reservedKeys[k.Name]; reserved {
			bad("program %q: key %q is tap-deploy's own record of every update; name the key otherwise", p.Name, k.Name)
		}
		for _, d := range [...]struct{ what, v string }{{"default", k.Default}, {"review default", k.ReviewDefault}} {
			if d.v == "" {
				continue
			}
			if err := k.check(d.v); err != nil {
				bad("program %q: the %s of key %q %v", p.Name, d.what, k.Name, err)
			}
		}
	}
	functions := map[string]bool{}
	for _, pkg := range p.Packages {
		if functions[pkg.Function] {
			bad("program %q: function %q has two packages", p.Name, pkg.Function)
			continue
		}
		functions[pkg.Function] = true
		if !namePattern.MatchString(pkg.Function) {
			bad("program %q: function %q must be camelCase: a lowercase letter, then letters or digits", p.Name, pkg.Function)
		}
		if _, err := pkg.zip(); err != nil {
			bad("program %q: %v", p.Name, err)
		}
	}
	shifted := map[string]bool{}
	for _, f := range p.Shift {
		switch {
		case shifted[f]:
			bad("program %q: function %q is listed twice in Shift", p.Name, f)
		case !functions[f]:
			bad("program %q: function %q is asked to shift but has no package; Shift lists functions of Packages, declared with canary.NewFunction", p.Name, f)
		}
		shifted[f] = true
	}
	rules := map[string]bool{}
	for _, r := range p.Rules {
		switch {
		case rules[r.ID]:
			bad("program %q: policy rule %q is declared twice", p.Name, r.ID)
		case !ruleIDPattern.MatchString(r.ID):
			bad("program %q: policy rule %q: an ID is 2-40 capital letters, digits or '_' (QUEUE_ENCRYPTED)", p.Name, r.ID)
		case r.Check == nil:
			bad("program %q: policy rule %q has no Check", p.Name, r.ID)
		}
		rules[r.ID] = true
	}
	return errors.Join(errs...)
}

// reservedKeys are the keys tap-deploy writes under the program's
// namespace with every update (the provenance a rollback reads).
var reservedKeys = map[string]struct{}{
	"artifacts": {}, "commit": {}, "actor": {}, "actionVersion": {}, "promotedFrom": {}, "runCommit": {}, "reviewOf": {},
}

// check says whether v is a value of the key: of its kind, then its own
// Check.
func (k Key) check(v string) error {
	switch k.Kind {
	case Int:
		if _, err := strconv.Atoi(v); err != nil {
			return errors.New("must be a whole number")
		}
	case Number:
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			return errors.New("must be a number")
		}
	case Bool:
		if _, err := strconv.ParseBool(v); err != nil {
			return errors.New("must be true or false")
		}
	case String:
	default:
		return fmt.Errorf("has an unknown kind %v", k.Kind)
	}
	if k.Check != nil {
		return k.Check(v)
	}
	return nil
}

// zip reads the package's zip and says why when it cannot.
func (p Package) zip() ([]byte, error) {
	if p.FS == nil {
		return nil, fmt.Errorf("function %q: the package has no FS (embed the zip: //go:embed %s)", p.Function, cmp.Or(p.Path, "<file>.zip"))
	}
	data, err := fs.ReadFile(p.FS, p.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("function %q: the package %s is missing from the binary: build the zip before compiling the program", p.Function, p.Path)
	}
	if err != nil {
		return nil, fmt.Errorf("function %q: reading %s: %w", p.Function, p.Path, err)
	}
	if len(data) < 4 || string(data[:4]) != "PK\x03\x04" {
		return nil, fmt.Errorf("function %q: %s is not a zip file", p.Function, p.Path)
	}
	return data, nil
}

// Digest is the SHA-256 of the package's zip, as updates record it.
func (p Package) Digest() (string, error) {
	data, err := p.zip()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}

// Configure applies the defaults, then the overrides, and checks every
// value; each problem names its key (not its value). input is how the
// messages name where the overrides came from ("config").
func (p Program) Configure(overrides map[string]string, input string) (map[string]string, error) {
	return p.configure(overrides, input, false)
}

// ConfigureReviewStack is Configure for a pull request's review stack:
// each key's ReviewDefault, where it has one, stands for its Default.
func (p Program) ConfigureReviewStack(overrides map[string]string, input string) (map[string]string, error) {
	return p.configure(overrides, input, true)
}

func (p Program) configure(overrides map[string]string, input string, review bool) (map[string]string, error) {
	values := map[string]string{}
	known := map[string]Key{}
	for _, k := range p.Keys {
		known[k.Name] = k
		values[k.Name] = k.Default
		if review && k.ReviewDefault != "" {
			values[k.Name] = k.ReviewDefault
		}
	}
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(overrides)) {
		k, ok := known[name]
		if !ok {
			errs = append(errs, fmt.Errorf("%s key %q is unknown; known keys: %s", input, name, p.keyNames()))
			continue
		}
		if err := k.check(overrides[name]); err != nil {
			errs = append(errs, fmt.Errorf("%s %s: %v", input, name, err))
			continue
		}
		values[name] = overrides[name]
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return values, nil
}

// Loosened lists, in key order, the keys whose change from one set of
// values to another weakens a guard.
func (p Program) Loosened(from, to map[string]string) []string {
	var out []string
	for _, k := range p.Keys {
		if k.Loosens != nil && from[k.Name] != to[k.Name] && k.Loosens(from[k.Name], to[k.Name]) {
			out = append(out, k.Name)
		}
	}
	return out
}

func (p Program) keyNames() string {
	names := make([]string, len(p.Keys))
	for i, k := range p.Keys {
		names[i] = k.Name
	}
	if len(names) == 0 {
		return "(none: the program declares no keys)"
	}
	return strings.Join(names, ", ")
}
