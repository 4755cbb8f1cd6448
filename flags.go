// The local command-line front end: outside GitHub Actions every action
// input is a flag of the same name and the first argument is the command.

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/org/tap-deploy/internal/bootstrap"
	"github.com/org/tap-deploy/internal/inputs"
)

// errVersion asks for the version instead of a run.
var errVersion = errors.New("version requested")

// parseFlags reads `[command] --input value ...`: every action input is a
// flag of the same name. It prints nothing: --help (or `help`) comes back as
// flag.ErrHelp and --version as errVersion, for run to answer on stdout;
// a mistake comes back as an error that points at --help.
func parseFlags(args []string) (map[string]string, error) {
	fs := flag.NewFlagSet("tap-deploy", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	values := map[string]*string{}
	for _, name := range inputs.Names {
		values[name] = fs.String(name, "", "the "+name+" input (see --help)")
	}
	showVersion := fs.Bool("version", false, "print the version")
	var positional []string
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, fmt.Errorf("%w (tap-deploy --help lists the commands and flags)", err)
		}
		args = fs.Args()
		if len(args) > 0 {
			positional = append(positional, args[0])
			args = args[1:]
		}
	}
	if *showVersion {
		return nil, errVersion
	}
	out := map[string]string{}
	for k, v := range values {
		out[k] = *v
	}
	for _, multi := range []string{inputs.NameConfig, inputs.NamePolicyOverrides} {
		out[multi] = strings.NewReplacer(";", "\n", `\n`, "\n").Replace(out[multi])
	}
	switch len(positional) {
	case 0:
	case 1:
		if positional[0] == "help" {
			return nil, flag.ErrHelp
		}
		if positional[0] == string(inputs.Bootstrap) {
			return nil, errors.New("bootstrap takes flags of its own and comes first: tap-deploy bootstrap --environment dev,staging,prod --aws-region REGION --repository OWNER/REPO")
		}
		if out[inputs.NameCommand] != "" && out[inputs.NameCommand] != positional[0] {
			return nil, fmt.Errorf("the command is given twice: %q and --command %q", positional[0], out[inputs.NameCommand])
		}
		out[inputs.NameCommand] = positional[0]
	default:
		return nil, errors.New("only one command may be given: " + strings.Join(positional, ", "))
	}
	return out, nil
}

// bootstrapRequired are the bootstrap flags without a default.
var bootstrapRequired = []string{"environment", "repository"}

// bootstrapFlags are the flags of `tap-deploy bootstrap`; the help lists
// them from here, so the two never disagree.
func bootstrapFlags() (*flag.FlagSet, func(getenv func(string) string) bootstrap.Options) {
	fs := flag.NewFlagSet("tap-deploy bootstrap", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	envs := fs.String("environment", "", "The environments to deploy, comma-separated (like dev,staging,prod); each is checked as the environment input is.")
	region := fs.String("aws-region", "", "The region of the stacks and the state bucket; defaults to AWS_REGION, then AWS_DEFAULT_REGION.")
	repo := fs.String("repository", "", "The GitHub repository whose workflows assume the roles, as owner/repo, spelled as GitHub spells it (the OIDC subject is compared exactly).")
	project := fs.String("project-name", inputs.DefaultProject, "The Pulumi project and prefix of every name, as the project-name input.")
	bucket := fs.String("state-bucket", "", "The state bucket's name; default <project>-pulumi-state-<account>-<region>.")
	oidc := fs.Bool("create-oidc-provider", true, "Create GitHub's OIDC provider (the default of the template's CreateGitHubOidcProvider parameter); false when the account has one: AWS allows one per account.")
	apigw := fs.String("api-gateway-account", bootstrap.OwnerTemplate, "Who owns the region's API Gateway CloudWatch logging role: template, none (something else sets it), or an environment whose stack sets manageApiGatewayAccount=true.")
	review := fs.String("review-environment", "", "The environment whose review stacks the review role deploys (default: the first environment), or none for no review role.")
	mergeQueue := fs.Bool("merge-queue", false, "Also let merge-queue checks (refs/heads/gh-readonly-queue/*) assume the preview role.")
	return fs, func(getenv func(string) string) bootstrap.Options {
		o := bootstrap.Options{
			Project:            strings.TrimSpace(*project),
			Region:             strings.TrimSpace(*region),
			Repository:         strings.TrimSpace(*repo),
			StateBucket:        strings.TrimSpace(*bucket),
			CreateOIDCProvider: *oidc,
			APIGatewayAccount:  strings.TrimSpace(*apigw),
			ReviewEnvironment:  strings.TrimSpace(*review),
			MergeQueue:         *mergeQueue,
		}
		for _, e := range strings.Split(*envs, ",") {
			if e = strings.TrimSpace(e); e != "" {
				o.Environments = append(o.Environments, e)
			}
		}
		if o.Region == "" {
			o.Region = getenv("AWS_REGION")
		}
		if o.Region == "" {
			o.Region = getenv("AWS_DEFAULT_REGION")
		}
		if o.ReviewEnvironment == "" && len(o.Environments) > 0 {
			o.ReviewEnvironment = o.Environments[0]
		}
		return o
	}
}

// parseBootstrap reads the flags that follow `tap-deploy bootstrap`.
func parseBootstrap(args []string, getenv func(string) string) (bootstrap.Options, error) {
	fs, options := bootstrapFlags()
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return bootstrap.Options{}, err
		}
		return bootstrap.Options{}, fmt.Errorf("%w (tap-deploy --help lists bootstrap's flags)", err)
	}
	if fs.NArg() > 0 {
		return bootstrap.Options{}, fmt.Errorf("bootstrap takes flags only, not %q (tap-deploy --help lists them)", strings.Join(fs.Args(), " "))
	}
	return options(getenv), nil
}
