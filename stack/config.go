// Package stack is the TAP serverless stack: a Pulumi program compiled into
// the action. Program(cfg, code) returns the inline program; everything it
// creates goes through one explicit, region-pinned AWS provider.
package stack

import (
	"fmt"
	"maps"
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/org/tap-deploy/internal/problems"
)

// Base is what the action's inputs decide about the stack.
type Base struct {
	Project     string
	Environment string
	Region      string
}

// Config is the stack's typed configuration.
type Config struct {
	Base
	EnvironmentSuffix string
	// ErrorRateThreshold is the per-function error rate, in percent, that
	// raises the alarm.
	ErrorRateThreshold   float64
	LogRetentionDays     int
	APIThrottleRate      float64
	APIThrottleBurst     int
	LambdaMemoryMB       int
	LambdaTimeoutSeconds int
	AlarmEmail           string
	// APIAuthorization is the API methods' authorization: AWS_IAM, or NONE
	// for a deliberately public API (the policy gate then allows it).
	APIAuthorization string
	// ReservedConcurrency per function; 0 leaves functions unreserved.
	ReservedConcurrency int
	// ManageAPIGatewayAccount makes this stack the owner of the region's
	// API Gateway CloudWatch role, which stage logging needs. AWS keeps one
	// per account and region, so exactly one stack (or the bootstrap
	// template) may own it; the role outlives the stack.
	ManageAPIGatewayAccount bool
	// Bootstrapped says the account was prepared by tap-deploy bootstrap:
	// every role of the stack carries the permissions boundary the
	// bootstrap template made for it, and each KMS key names the role that
	// deploys the stack as its administrator. An account prepared otherwise
	// sets it false: roles without a boundary, keys administered through
	// IAM alone.
	Bootstrapped bool
	// ReviewStackPR is the pull request a review stack belongs to; 0 for
	// the environment's own stack. A review stack is disposable.
	ReviewStackPR int
	// Teardown is set only by the update that prepares a destroy: what
	// happens to the resources that keep data. Never recorded as a key.
	Teardown Teardown
}

// Teardown is how the update before a destroy treats the resources that
// keep data (the items table, the buckets, the Lambda packages).
type Teardown int

const (
	// NoTeardown is every update but the one before a destroy.
	NoTeardown Teardown = iota
	// TeardownKeep retains them: the destroy leaves them in the account
	// (and takes them out of the state).
	TeardownKeep
	// TeardownDelete lifts their guards (deletion protection, non-empty
	// buckets, retained packages) so that the destroy deletes them.
	TeardownDelete
)

// DeletesData reports whether a destroy of the stack deletes its data: a
// review stack always, an environment only when its teardown asks.
func (c Config) DeletesData() bool { return c.Disposable() || c.Teardown == TeardownDelete }

// KeepsData reports whether a destroy leaves the data resources in the
// account.
func (c Config) KeepsData() bool { return c.Teardown == TeardownKeep }

// ReviewStackDefaults are a review stack's defaults where they differ from an
// environment's: conservative limits for a copy that lives a few days. The
// config input overrides them.
var ReviewStackDefaults = map[string]string{
	"apiThrottleRate":  "5",
	"apiThrottleBurst": "10",
	"logRetentionDays": "3",
}

// NewReviewStackConfig is the configuration of pull request pr's review stack:
// the environment's, with the review defaults under the overrides, every
// name derived from "<suffix>-pr-<pr>", and the account-wide API Gateway
// setting left to the environment's stack.
func NewReviewStackConfig(base Base, overrides map[string]string, pr int) (Config, error) {
	if pr <= 0 || pr > 999999 {
		return Config{}, fmt.Errorf("a review stack needs a pull request number from 1 to 999999, not %d", pr)
	}
	merged := map[string]string{}
	for k, v := range ReviewStackDefaults {
		merged[k] = v
	}
	for k, v := range overrides {
		merged[k] = v
	}
	c, found := apply(base, merged, "config")
	if c.EnvironmentSuffix == "" {
		c.EnvironmentSuffix = base.Environment
	}
	c.EnvironmentSuffix = ReviewStackSuffix(c.EnvironmentSuffix, pr)
	c.ManageAPIGatewayAccount = false
	c.ReviewStackPR = pr
	found = append(found, checkNames(c)...)
	if len(found) > 0 {
		return Config{}, found
	}
	return c, nil
}

// ReviewStackSuffix is the name suffix of pull request pr's review stack.
func ReviewStackSuffix(suffix string, pr int) string { return fmt.Sprintf("%s-pr-%d", suffix, pr) }

// Disposable reports whether the stack goes away whole: a review stack's
// buckets, packages and table are deleted with it, nothing retained.
func (c Config) Disposable() bool { return c.ReviewStackPR > 0 }

// Key describes one configuration key users may set through `config`.
type Key struct {
	Name    string
	Default string
	Doc     string
	set     func(c *Config, v string) error
}

// LogRetentionValues are the retention periods CloudWatch Logs accepts.
var LogRetentionValues = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

var suffixPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,19}$`)

// Keys is every configuration key, with its default, meaning and check.
// The validation messages come from it, and a test keeps the README's
// table in step with it.
var Keys = []Key{
	{"environmentSuffix", "", "suffix of every resource name (default: the environment)", func(c *Config, v string) error {
		if !suffixPattern.MatchString(v) {
			return fmt.Errorf("must be 1-20 lowercase letters, digits or '-', starting with a letter or digit")
		}
		if reviewSuffix.MatchString(v) {
			return fmt.Errorf("must not end in -pr-<number>: those are the names of a pull request's review stack")
		}
		c.EnvironmentSuffix = v
		return nil
	}},
	{"errorRateThreshold", "5", "Lambda error rate in percent (0-100] that raises the alarm", func(c *Config, v string) error {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 || f > 100 {
			return fmt.Errorf("must be a percentage above 0 and at most 100")
		}
		c.ErrorRateThreshold = f
		return nil
	}},
	{"logRetentionDays", "14", "CloudWatch log retention in days (a value CloudWatch accepts)", func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || !slices.Contains(LogRetentionValues, n) {
			return fmt.Errorf("must be one of %s", joinInts(LogRetentionValues))
		}
		c.LogRetentionDays = n
		return nil
	}},
	{"apiThrottleRate", "50", "API Gateway steady-state requests per second (1-10000)", func(c *Config, v string) error {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 1 || f > 10000 {
			return fmt.Errorf("must be a number from 1 to 10000")
		}
		c.APIThrottleRate = f
		return nil
	}},
	{"apiThrottleBurst", "100", "API Gateway burst limit (1-5000)", func(c *Config, v string) error {
		return intIn(v, 1, 5000, &c.APIThrottleBurst)
	}},
	{"lambdaMemoryMb", "256", "Lambda memory in MB (128-10240)", func(c *Config, v string) error {
		return intIn(v, 128, 10240, &c.LambdaMemoryMB)
	}},
	{"lambdaTimeoutSeconds", "10", "Lambda timeout in seconds (1-29: API Gateway gives up after 29 s)", func(c *Config, v string) error {
		return intIn(v, 1, 29, &c.LambdaTimeoutSeconds)
	}},
	{"alarmEmail", "", "e-mail address subscribed to the alarm topic (optional)", func(c *Config, v string) error {
		if v == "" {
			c.AlarmEmail = ""
			return nil
		}
		addr, err := mail.ParseAddress(v)
		if err != nil || addr.Address != v {
			return fmt.Errorf("must be a plain e-mail address like ops@example.com")
		}
		// Alarms go where this says, and a review reads it in the pull
		// request: a letter that only looks Latin (ο for o) would send them
		// to a domain its author owns.
		for _, r := range v {
			if r > unicode.MaxASCII {
				return fmt.Errorf("must be an ASCII e-mail address like ops@example.com (it holds %q, which only looks like a Latin letter or is not one)", r)
			}
		}
		c.AlarmEmail = v
		return nil
	}},
	{"apiAuthorization", "AWS_IAM", "API method authorization: AWS_IAM, or NONE for a public API", func(c *Config, v string) error {
		if v != "AWS_IAM" && v != "NONE" {
			return fmt.Errorf("must be AWS_IAM or NONE")
		}
		c.APIAuthorization = v
		return nil
	}},
	{"reservedConcurrency", "0", "reserved concurrency per function (0 = unreserved, up to 1000); checked before an update against the account's limit, which keeps 100 unreserved (accounts with a limit below 100 cannot reserve any)", func(c *Config, v string) error {
		return intIn(v, 0, 1000, &c.ReservedConcurrency)
	}},
	{"manageApiGatewayAccount", "false", "make this stack the owner of the region's API Gateway CloudWatch logging role (exactly one stack, or the bootstrap template, per account and region)", func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("must be true or false")
		}
		c.ManageAPIGatewayAccount = b
		return nil
	}},
	{"bootstrapped", "true", "the account was prepared by tap-deploy bootstrap: every role carries the environment's permissions boundary and the KMS keys name its deploy role as their administrator; false for an account prepared otherwise (roles without a boundary, keys administered through IAM only)", func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("must be true or false")
		}
		c.Bootstrapped = b
		return nil
	}},
}

// ConfigNamespace prefixes the keys in the Pulumi stack configuration.
const ConfigNamespace = "tap"

// NewConfig applies the defaults, then the overrides, and validates the
// result, including the resource names it leads to. Every problem comes back
// at once, as a problems.List.
func NewConfig(base Base, overrides map[string]string) (Config, error) {
	c, found := apply(base, overrides, "config")
	if c.EnvironmentSuffix == "" {
		c.EnvironmentSuffix = base.Environment
	}
	found = append(found, checkNames(c)...)
	if len(found) > 0 {
		return Config{}, found
	}
	return c, nil
}

// CheckOverrides reports what is wrong with configuration overrides on
// their own (unknown keys, values out of range), before a configuration is
// built. input is how each problem names the overrides to the user: the
// input's name in GitHub Actions (config), its flag locally (--config).
func CheckOverrides(overrides map[string]string, input string) problems.List {
	_, found := apply(Base{}, overrides, input)
	return found
}

// apply sets the defaults, then the overrides that are valid; each problem
// starts with input, the name of what holds the overrides.
func apply(base Base, overrides map[string]string, input string) (Config, problems.List) {
	c := Config{Base: base}
	var found problems.List
	known := map[string]Key{}
	for _, k := range Keys {
		known[k.Name] = k
		if k.Default != "" {
			if err := k.set(&c, k.Default); err != nil {
				panic(fmt.Sprintf("default of %s: %v", k.Name, err))
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(overrides)) {
		k, ok := known[name]
		if !ok {
			found = append(found, fmt.Sprintf("%s key %q is unknown; known keys: %s", input, name, knownNames()))
			continue
		}
		if err := k.set(&c, overrides[name]); err != nil {
			// The value is not echoed: it may be a secret pasted by mistake.
			found = append(found, fmt.Sprintf("%s %s: %v", input, name, err))
		}
	}
	return c, found
}

// Values returns every key's effective value, as written to the Pulumi
// stack configuration so that the stack history records what each update
// ran with (rollback restores it from there).
func (c Config) Values() map[string]string {
	return map[string]string{
		"environmentSuffix":       c.EnvironmentSuffix,
		"errorRateThreshold":      strconv.FormatFloat(c.ErrorRateThreshold, 'f', -1, 64),
		"logRetentionDays":        strconv.Itoa(c.LogRetentionDays),
		"apiThrottleRate":         strconv.FormatFloat(c.APIThrottleRate, 'f', -1, 64),
		"apiThrottleBurst":        strconv.Itoa(c.APIThrottleBurst),
		"lambdaMemoryMb":          strconv.Itoa(c.LambdaMemoryMB),
		"lambdaTimeoutSeconds":    strconv.Itoa(c.LambdaTimeoutSeconds),
		"alarmEmail":              c.AlarmEmail,
		"apiAuthorization":        c.APIAuthorization,
		"reservedConcurrency":     strconv.Itoa(c.ReservedConcurrency),
		"manageApiGatewayAccount": strconv.FormatBool(c.ManageAPIGatewayAccount),
		"bootstrapped":            strconv.FormatBool(c.Bootstrapped),
	}
}

// CommonTags are on every taggable resource, through the provider's default
// tags; a review stack's also say which pull request it belongs to.
func (c Config) CommonTags() map[string]string {
	tags := map[string]string{
		"project":     c.Project,
		"environment": c.Environment,
		"managed-by":  "tap-deploy",
	}
	if c.ReviewStackPR > 0 {
		tags["review-stack"] = fmt.Sprintf("pr-%d", c.ReviewStackPR)
	}
	return tags
}

func intIn(v string, lo, hi int, dst *int) error {
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return fmt.Errorf("must be a whole number from %d to %d", lo, hi)
	}
	*dst = n
	return nil
}

func joinInts(list []int) string {
	s := make([]string, len(list))
	for i, v := range list {
		s[i] = strconv.Itoa(v)
	}
	return strings.Join(s, ", ")
}

func knownNames() string {
	names := make([]string, len(Keys))
	for i, k := range Keys {
		names[i] = k.Name
	}
	return strings.Join(names, ", ")
}

// ConfigChange is one key that two configurations set differently.
type ConfigChange struct {
	Key, From, To string
	// Relaxes means the new value loosens what the stack guards: a public
	// API, alarms that go to someone else or fire later, logs kept for
	// less time, more traffic let through.
	Relaxes bool
}

func (c ConfigChange) String() string {
	return fmt.Sprintf("%s: %s → %s", c.Key, shown(c.From), shown(c.To))
}

func shown(v string) string {
	if v == "" {
		return "(unset)"
	}
	return v
}

// ConfigChanges lists, in key order, what going from one configuration to
// another changes.
func ConfigChanges(from, to Config) []ConfigChange {
	a, b := from.Values(), to.Values()
	var out []ConfigChange
	for _, k := range Keys {
		if a[k.Name] == b[k.Name] {
			continue
		}
		out = append(out, ConfigChange{Key: k.Name, From: a[k.Name], To: b[k.Name], Relaxes: relaxes(k.Name, from, to)})
	}
	return out
}

func relaxes(key string, from, to Config) bool {
	switch key {
	case "apiAuthorization":
		return to.APIAuthorization == "NONE"
	case "alarmEmail":
		return true
	case "errorRateThreshold":
		return to.ErrorRateThreshold > from.ErrorRateThreshold
	case "logRetentionDays":
		return to.LogRetentionDays < from.LogRetentionDays
	case "apiThrottleRate":
		return to.APIThrottleRate > from.APIThrottleRate
	case "apiThrottleBurst":
		return to.APIThrottleBurst > from.APIThrottleBurst
	case "bootstrapped":
		return !to.Bootstrapped
	}
	return false
}
