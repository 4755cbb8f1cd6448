// The command line's help: every flag is an action input, described by
// action.yml itself (embedded), so the help and the action never disagree.

package main

import (
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/org/tap-deploy/internal/inputs"
)

//go:embed action.yml
var actionYML []byte

// actionInput is one input as action.yml declares it.
type actionInput struct {
	Name        string
	Description string
	Required    bool
	Default     string
}

// actionInputs reads action.yml's inputs in the file's order.
func actionInputs(doc []byte) ([]actionInput, error) {
	var top struct {
		Inputs yaml.Node `yaml:"inputs"`
	}
	if err := yaml.Unmarshal(doc, &top); err != nil {
		return nil, fmt.Errorf("reading action.yml: %w", err)
	}
	if top.Inputs.Kind != yaml.MappingNode {
		return nil, errors.New("action.yml declares no inputs")
	}
	var out []actionInput
	for i := 0; i+1 < len(top.Inputs.Content); i += 2 {
		var in struct {
			Description string
			Required    bool
			Default     string
		}
		if err := top.Inputs.Content[i+1].Decode(&in); err != nil {
			return nil, fmt.Errorf("reading action.yml's input %s: %w", top.Inputs.Content[i].Value, err)
		}
		out = append(out, actionInput{Name: top.Inputs.Content[i].Value, Description: in.Description, Required: in.Required, Default: in.Default})
	}
	return out, nil
}

// inputGroups sorts the flags by what they are for; a test checks that
// every input is in exactly one group.
var inputGroups = []struct {
	title string
	names []string
}{
	{"What to run", []string{inputs.NameCommand, inputs.NameEnvironment, inputs.NameRollbackTo, inputs.NameOutput}},
	{"Teardown", []string{inputs.NameConfirmDestroy, inputs.NameDestroyProtected}},
	{"Where the stack lives", []string{inputs.NameAWSRegion, inputs.NameProjectName, inputs.NameStackName,
		inputs.NameBackendURL, inputs.NameSecretsProvider, inputs.NameConfigFile, inputs.NameConfig}},
	{"Deploy safety", []string{inputs.NamePolicyOverrides, inputs.NameDeployBranches, inputs.NameCommitOrder,
		inputs.NameReviewedPlan, inputs.NameLockTimeout, inputs.NameDeploymentPreference, inputs.NamePromoteFrom,
		inputs.NamePromoteFromBackendURL, inputs.NamePromoteFromRoleARN}},
	{"Pull requests and GitHub (in Actions: a local run never talks to GitHub)", []string{inputs.NameGitHubToken,
		inputs.NameCommentOnPR, inputs.NameDeployments}},
	{"Drift", []string{inputs.NameFailOnDrift, inputs.NameDriftIssue}},
	{"Review stacks", []string{inputs.NameReviewStack, inputs.NameReviewStackTTL, inputs.NameReviewStackBackendURL, inputs.NameReviewBackendToken}},
}

// commandUsage is one usage line per command a user may name.
var commandUsage = []struct {
	command inputs.Command
	args    string
	what    string
}{
	{inputs.Validate, "--environment NAME", "Check the program and the policy rules offline: no CLI, no credentials, no backend."},
	{inputs.Preview, "--environment NAME", "Show what an update would change, as the pull request comment would."},
	{inputs.Up, "--environment NAME", "Preview, check the policy rules on what the engine plans, then deploy."},
	{inputs.Rollback, "--environment NAME --rollback-to VERSION|previous", "Deploy an earlier update's configuration and code again."},
	{inputs.Drift, "--environment NAME", "Compare the cloud with the state."},
	{inputs.History, "--environment NAME", "List the stack's updates: version, time, result, commit and who ran it."},
	{inputs.Sweep, "--environment NAME", "Destroy review stacks that are idle or whose pull request closed."},
	{inputs.Destroy, "--environment NAME --confirm-destroy NAME [--destroy-protected refuse|keep|delete]", "Tear the environment's stack down; the table, buckets and kept packages are refused, kept or deleted."},
	{inputs.Auto, "--environment NAME", "Decided by the GitHub event replayed through GITHUB_EVENT_NAME and GITHUB_EVENT_PATH; without one, preview."},
	{inputs.Bootstrap, "--environment dev,staging,prod --aws-region REGION --repository OWNER/REPO", "Write the CloudFormation templates that prepare an AWS account: one for the account (the state bucket, GitHub's OIDC provider, the preview and review roles) and one per environment (its deploy and drift roles, each with the permissions the stack needs). It takes the flags listed under Bootstrap, and runs on your machine only."},
}

const examples = `  # The program and its policy, offline: needs nothing but this binary
  tap-deploy validate --environment dev --aws-region eu-west-1
  tap-deploy validate --environment dev --aws-region eu-west-1 --output json
  # A preview against the local state in .tap/state (needs the Pulumi CLI: make tools)
  tap-deploy preview --environment dev --aws-region eu-west-1 --config 'logRetentionDays=30;lambdaMemoryMb=512'
  # Deploy from a laptop to a shared state bucket, then go back one update
  tap-deploy up --environment dev --aws-region eu-west-1 --backend-url s3://my-state/tap
  tap-deploy rollback --environment dev --aws-region eu-west-1 --backend-url s3://my-state/tap --rollback-to previous
  # Prepare an AWS account as its administrator: write the templates (the account's, one per environment),
  # deploy each with CloudFormation as bootstrap prints, then create the backend once (its layout, which
  # no role of the templates may write)
  tap-deploy bootstrap --environment dev,staging,prod --aws-region eu-west-1 --repository owner/repo --out-dir bootstrap
  aws cloudformation deploy --region eu-west-1 --stack-name tap-bootstrap --capabilities CAPABILITY_NAMED_IAM --template-file bootstrap/account.yaml
  aws cloudformation deploy --region eu-west-1 --stack-name tap-bootstrap-dev --capabilities CAPABILITY_NAMED_IAM --template-file bootstrap/dev.yaml
  pulumi login 's3://tap-pulumi-state-<account-id>-eu-west-1/tap?region=eu-west-1'
`

// help writes the usage, then every input as a flag with action.yml's
// description and default, grouped.
func help(w io.Writer, declared []actionInput) error {
	byName := map[string]actionInput{}
	for _, in := range declared {
		byName[in.Name] = in
	}
	var b strings.Builder
	b.WriteString("tap-deploy runs the GitHub Action on your machine: the first argument is the command, every\n")
	b.WriteString("action input is a flag of the same name, and every command needs a region (--aws-region, or\n")
	b.WriteString("AWS_REGION or AWS_DEFAULT_REGION). State goes to .tap/state unless --backend-url or\n")
	b.WriteString("PULUMI_BACKEND_URL names another backend; results are printed, nothing is posted to GitHub.\n")
	b.WriteString("bootstrap is the exception: it takes the flags listed under Bootstrap, and writes templates.\n\n")
	b.WriteString("Usage:\n")
	for _, u := range commandUsage {
		fmt.Fprintf(&b, "  tap-deploy %s %s [flags]\n", u.command, u.args)
		wrap(&b, u.what, "      ")
	}
	b.WriteString("  tap-deploy --help | --version\n\n")
	b.WriteString("Examples:\n" + examples + "\n")
	b.WriteString("Multi-line inputs (--config, --policy-overrides) take their lines separated by ';' or '\\n'.\n")
	for _, g := range inputGroups {
		fmt.Fprintf(&b, "\n%s:\n", g.title)
		for _, name := range g.names {
			in, ok := byName[name]
			if !ok {
				return fmt.Errorf("action.yml declares no input %s", name)
			}
			fmt.Fprintf(&b, "  --%s", in.Name)
			switch {
			case in.Required:
				b.WriteString(" (required)")
			case strings.Contains(in.Default, "${{"):
				fmt.Fprintf(&b, " (default in Actions: %s)", in.Default)
			case in.Default != "":
				fmt.Fprintf(&b, " (default: %s)", in.Default)
			}
			b.WriteString("\n")
			wrap(&b, in.Description, "      ")
		}
	}
	b.WriteString("\nBootstrap (tap-deploy bootstrap only):\n")
	fs, _ := bootstrapFlags()
	fs.VisitAll(func(f *flag.Flag) {
		fmt.Fprintf(&b, "  --%s", f.Name)
		switch {
		case slices.Contains(bootstrapRequired, f.Name):
			b.WriteString(" (required)")
		case f.DefValue != "":
			fmt.Fprintf(&b, " (default: %s)", f.DefValue)
		}
		b.WriteString("\n")
		wrap(&b, f.Usage, "      ")
	})
	_, err := io.WriteString(w, b.String())
	return err
}

// wrap writes text in lines of at most 100 columns, each after indent.
func wrap(b *strings.Builder, text, indent string) {
	const width = 100
	line := indent
	for _, word := range strings.Fields(text) {
		if len(line) > len(indent) && len(line)+1+len(word) > width {
			b.WriteString(line + "\n")
			line = indent
		}
		if len(line) > len(indent) {
			line += " "
		}
		line += word
	}
	b.WriteString(line + "\n")
}

// printHelp writes the help for the inputs this binary was built with.
func printHelp(w io.Writer) error {
	declared, err := actionInputs(actionYML)
	if err != nil {
		return err
	}
	return help(w, declared)
}
