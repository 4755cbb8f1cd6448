// The local command-line front end: outside GitHub Actions every action
// input is a flag of the same name and the first argument is the command.

package main

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
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
// them from here, so the two never disagree. outDir is where it writes.
func bootstrapFlags() (fs *flag.FlagSet, options func(getenv func(string) string) (bootstrap.Options, string)) {
	fs = flag.NewFlagSet("tap-deploy bootstrap", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	envs := fs.String("environment", "", "The environments this AWS account holds, comma-separated (like dev,staging,prod); each is checked as the environment input is. Run bootstrap once per account: an environment in an account of its own is bootstrapped there.")
	region := fs.String("aws-region", "", "The region of the stacks and the state bucket; defaults to AWS_REGION, then AWS_DEFAULT_REGION.")
	repo := fs.String("repository", "", "The GitHub repository whose workflows assume the roles, as owner/repo, spelled as GitHub spells it (the OIDC subject is compared exactly).")
	repoID := fs.String("repository-id", "", "The repository's numeric id (gh api repos/OWNER/REPO --jq .id): every role then also requires the OIDC token's repository_id, so a repository re-created under the old name by someone else is not trusted.")
	project := fs.String("project-name", inputs.DefaultProject, "The Pulumi project and prefix of every name, as the project-name input.")
	bucket := fs.String("state-bucket", "", "The state bucket's name; default <project>-pulumi-state-<account>-<region>.")
	oidc := fs.Bool("create-oidc-provider", true, "Create GitHub's OIDC provider (the default of the account template's CreateGitHubOidcProvider parameter); false when the account has one (aws iam list-open-id-connect-providers): AWS allows one per account.")
	apigw := fs.String("api-gateway-logging", bootstrap.OwnerNone, "Who sets the region's API Gateway CloudWatch logging role, an account-wide setting every REST API's logging needs: none (leave it alone: it is set already, or something else sets it), account (the account's template sets it), or an environment whose stack sets manageApiGatewayAccount=true.")
	review := fs.String("review-environment", "", "The environment whose review stacks the review role deploys (default: the first environment), or none for no review role.")
	mergeQueue := fs.Bool("merge-queue", false, "Also let merge-queue checks (refs/heads/gh-readonly-queue/*) assume the preview role.")
	promotions := fs.String("promotion", "", "Environments of this account that a deploy in another account promotes from, as source:target (like staging:prod), comma-separated: the source's read-only drift role also trusts the target's deploy job.")
	out := fs.String("out-dir", "bootstrap", "Where to write the templates: account.yaml and one <environment>.yaml per environment.")
	return fs, func(getenv func(string) string) (bootstrap.Options, string) {
		o := bootstrap.Options{
			Project:            strings.TrimSpace(*project),
			Region:             strings.TrimSpace(*region),
			Repository:         strings.TrimSpace(*repo),
			RepositoryID:       strings.TrimSpace(*repoID),
			StateBucket:        strings.TrimSpace(*bucket),
			CreateOIDCProvider: *oidc,
			APIGatewayLogging:  strings.TrimSpace(*apigw),
			ReviewEnvironment:  strings.TrimSpace(*review),
			MergeQueue:         *mergeQueue,
		}
		for _, e := range strings.Split(*envs, ",") {
			if e = strings.TrimSpace(e); e != "" {
				o.Environments = append(o.Environments, e)
			}
		}
		for _, p := range strings.Split(*promotions, ",") {
			if p = strings.TrimSpace(p); p != "" {
				from, to, _ := strings.Cut(p, ":")
				o.Promotions = append(o.Promotions, bootstrap.Promotion{From: strings.TrimSpace(from), To: strings.TrimSpace(to)})
			}
		}
		o.Region = cmp.Or(o.Region, getenv("AWS_REGION"), getenv("AWS_DEFAULT_REGION"))
		if o.ReviewEnvironment == "" && len(o.Environments) > 0 {
			o.ReviewEnvironment = o.Environments[0]
		}
		return o, strings.TrimSpace(*out)
	}
}

// parseBootstrap reads the flags that follow `tap-deploy bootstrap`, and
// returns the options and the directory to write to.
func parseBootstrap(args []string, getenv func(string) string) (bootstrap.Options, string, error) {
	fs, options := bootstrapFlags()
	if err := fs.Parse(boolValues(fs, args)); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return bootstrap.Options{}, "", err
		}
		return bootstrap.Options{}, "", fmt.Errorf("%w (tap-deploy --help lists bootstrap's flags)", err)
	}
	if fs.NArg() > 0 {
		return bootstrap.Options{}, "", fmt.Errorf("bootstrap takes flags only, not %q (tap-deploy --help lists them)", strings.Join(fs.Args(), " "))
	}
	o, dir := options(getenv)
	if dir == "" {
		return bootstrap.Options{}, "", errors.New("--out-dir: must name a directory to write the templates to (like --out-dir bootstrap)")
	}
	return o, dir, nil
}

// boolValues lets a boolean flag take its value as the next argument, as
// every other flag does (--merge-queue false), besides --merge-queue=false
// and --merge-queue alone; Go's flag package would read the value as the
// first positional argument.
func boolValues(fs *flag.FlagSet, args []string) []string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		name := strings.TrimLeft(a, "-")
		f := fs.Lookup(name)
		isBool := false
		if f != nil && strings.HasPrefix(a, "-") && !strings.Contains(a, "=") {
			b, ok := f.Value.(interface{ IsBoolFlag() bool })
			isBool = ok && b.IsBoolFlag()
		}
		if isBool && i+1 < len(args) {
			if _, err := strconv.ParseBool(args[i+1]); err == nil {
				out = append(out, a+"="+args[i+1])
				i++
				continue
			}
		}
		out = append(out, a)
		if a == "--" {
			out = append(out, args[i+1:]...)
			break
		}
	}
	return out
}
