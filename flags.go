// The local command-line front end: outside GitHub Actions every action
// input is a flag of the same name and the first argument is the command.

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

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
		if out[inputs.NameCommand] != "" && out[inputs.NameCommand] != positional[0] {
			return nil, fmt.Errorf("the command is given twice: %q and --command %q", positional[0], out[inputs.NameCommand])
		}
		out[inputs.NameCommand] = positional[0]
	default:
		return nil, errors.New("only one command may be given: " + strings.Join(positional, ", "))
	}
	return out, nil
}
