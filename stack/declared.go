package stack

import (
	"fmt"
	"strconv"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/org/tap-deploy/program"
)

// keyKinds are the kinds of TAP's keys, as the public program model
// declares them.
var keyKinds = map[string]program.Kind{
	"environmentSuffix": program.String, "errorRateThreshold": program.Number, "logRetentionDays": program.Int,
	"apiThrottleRate": program.Number, "apiThrottleBurst": program.Int, "lambdaMemoryMb": program.Int,
	"lambdaTimeoutSeconds": program.Int, "alarmEmail": program.String, "apiAuthorization": program.String,
	"reservedConcurrency": program.Int, "manageApiGatewayAccount": program.Bool, "bootstrapped": program.Bool,
}

// Declared is the TAP stack as a program.Program: the same keys and
// checks as Keys, the same loosening rules as ConfigChanges, its three
// functions' packages (artifacts supplies them), all three shifted, and
// the same resources as Program. It is the first program of the public
// model; the engine still runs TAP through Program until it consumes
// program.Program (issue 34).
func Declared(packages []program.Package) program.Program {
	p := program.Program{Name: "TAP stack", Namespace: ConfigNamespace, Packages: packages}
	for _, k := range Keys {
		kind, ok := keyKinds[k.Name]
		if !ok {
			// A key added to Keys without its kind would read as a
			// string and parse nothing: a programming error, met by
			// every test that declares TAP.
			panic("stack: key " + k.Name + " has no kind in keyKinds")
		}
		set := k.set
		p.Keys = append(p.Keys, program.Key{
			Name: k.Name, Kind: kind, Default: k.Default, ReviewDefault: ReviewStackDefaults[k.Name], Doc: k.Doc,
			Check: func(v string) error {
				if v == "" && k.Default == "" {
					return nil
				}
				var c Config
				return set(&c, v)
			},
			Loosens: func(from, to string) bool {
				a, badA := apply(Base{}, map[string]string{k.Name: from}, "")
				b, badB := apply(Base{}, map[string]string{k.Name: to}, "")
				return len(badA) == 0 && len(badB) == 0 && relaxes(k.Name, a, b)
			},
		})
	}
	for _, f := range Functions {
		p.Shift = append(p.Shift, f.Key)
	}
	p.Run = func(ctx *pulumi.Context, s program.Stack) error {
		cfg, err := configOf(s)
		if err != nil {
			return err
		}
		code := Packages{}
		for _, f := range Functions {
			c := s.Package(f.Key)
			code[f.Key] = Package{SHA256: c.SHA256, Path: c.Path}
		}
		_, err = New(ctx, cfg, code)
		return err
	}
	return p
}

// configOf is TAP's typed configuration of a declared stack.
func configOf(s program.Stack) (Config, error) {
	overrides := map[string]string{}
	for _, k := range Keys {
		var v string
		switch keyKinds[k.Name] {
		case program.Int:
			v = strconv.Itoa(s.Int(k.Name))
		case program.Number:
			v = strconv.FormatFloat(s.Number(k.Name), 'f', -1, 64)
		case program.Bool:
			v = strconv.FormatBool(s.Bool(k.Name))
		default:
			v = s.String(k.Name)
		}
		if v != "" {
			overrides[k.Name] = v
		}
	}
	base := Base{Project: s.Project, Environment: s.Environment, Region: s.Region}
	if s.ReviewStackPR > 0 {
		// A review stack's suffix ends in -pr-<n>, which the key refuses
		// (environments may not take those names); the review stack's own
		// constructor derives it.
		delete(overrides, "environmentSuffix")
		cfg, err := NewReviewStackConfig(base, overrides, s.ReviewStackPR)
		if err != nil {
			return Config{}, fmt.Errorf("the TAP stack's configuration: %w", err)
		}
		if cfg.EnvironmentSuffix != s.Suffix {
			return Config{}, fmt.Errorf("the TAP stack's review stack for pull request %d is named %s, not %s", s.ReviewStackPR, cfg.EnvironmentSuffix, s.Suffix)
		}
		return cfg, nil
	}
	overrides["environmentSuffix"] = s.Suffix
	cfg, err := NewConfig(base, overrides)
	if err != nil {
		return Config{}, fmt.Errorf("the TAP stack's configuration: %w", err)
	}
	if s.DeletesData && s.ReviewStackPR == 0 {
		cfg.Teardown = TeardownDelete
	}
	return cfg, nil
}
