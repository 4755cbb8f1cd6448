package program

import (
	"fmt"
	"strconv"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Stack is what one run of the program declares resources for.
type Stack struct {
	Project, Environment, Region string
	// Suffix ends every resource name the program makes: the environment,
	// or <environment>-pr-<n> for a pull request's review stack, so that
	// two stacks of one account never take each other's names.
	Suffix string
	// ReviewStackPR is the pull request a review stack belongs to; 0 for
	// an environment's own stack.
	ReviewStackPR int
	// DeletesData is set when a destroy of the stack deletes its data (a
	// review stack, or a destroy asked to): resources that keep data lift
	// their deletion guards.
	DeletesData bool

	keys     map[string]Key
	values   map[string]string
	packages map[string]Code
}

// NewStack is the stack a run declares: values are the checked
// configuration (Configure), packages each function's code. Tests of a
// program build one the same way.
func (p Program) NewStack(project, environment, region, suffix string, values map[string]string, packages map[string]Code) Stack {
	keys := map[string]Key{}
	for _, k := range p.Keys {
		keys[k.Name] = k
	}
	return Stack{Project: project, Environment: environment, Region: region, Suffix: suffix, keys: keys, values: values, packages: packages}
}

// RunFunc is the Pulumi program for one stack.
func (p Program) RunFunc(s Stack) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error { return p.Run(ctx, s) }
}

// String is the value of a String key.
func (s Stack) String(key string) string { return s.value(key, String) }

// Int is the value of an Int key; 0 when unset.
func (s Stack) Int(key string) int {
	v := s.value(key, Int)
	if v == "" {
		return 0
	}
	n, _ := strconv.Atoi(v) // Configure checked it.
	return n
}

// Number is the value of a Number key; 0 when unset.
func (s Stack) Number(key string) float64 {
	v := s.value(key, Number)
	if v == "" {
		return 0
	}
	f, _ := strconv.ParseFloat(v, 64)
	return f
}

// Bool is the value of a Bool key; false when unset.
func (s Stack) Bool(key string) bool {
	b, _ := strconv.ParseBool(s.value(key, Bool))
	return b
}

// value panics on a key the program does not declare, or reads with the
// wrong kind: a programming error that the program's first offline
// validation (and its own unit tests) meet before any cloud does.
func (s Stack) value(key string, kind Kind) string {
	k, ok := s.keys[key]
	if !ok {
		panic(fmt.Sprintf("program: key %q is not declared in Program.Keys", key))
	}
	if k.Kind != kind {
		panic(fmt.Sprintf("program: key %q is a %v key, read as %v", key, k.Kind, kind))
	}
	return s.values[key]
}

// Package is a function's code for this run. It panics for a function
// without a package, which Validate would have named.
func (s Stack) Package(function string) Code {
	c, ok := s.packages[function]
	if !ok {
		panic(fmt.Sprintf("program: function %q has no package in Program.Packages", function))
	}
	return c
}

// Name is a resource name unique to the stack: <project>-<suffix>-<part>.
func (s Stack) Name(part string) string { return s.Project + "-" + s.Suffix + "-" + part }

// Loosens helpers for Key.Loosens.

// WhenRaised: a higher number loosens the guard (an alarm threshold).
func WhenRaised(from, to string) bool { return number(to) > number(from) }

// WhenLowered: a lower number loosens the guard (a retention period).
func WhenLowered(from, to string) bool { return number(to) < number(from) }

// Always: every change loosens the guard (where alarms are sent).
func Always(from, to string) bool { return true }

// WhenSetTo: the change to v loosens the guard (authorization NONE).
func WhenSetTo(v string) func(from, to string) bool {
	return func(_, to string) bool { return to == v }
}

func number(v string) float64 {
	f, _ := strconv.ParseFloat(v, 64)
	return f
}
