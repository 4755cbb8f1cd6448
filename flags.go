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

// parseFlags reads `[command] --input value ...`: every action input is a
// flag of the same name.
func parseFlags(args []string, stderr io.Writer) (map[string]string, error) {
	fs := flag.NewFlagSet("tap-deploy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	values := map[string]*string{}
	for _, name := range inputs.Names {
		values[name] = fs.String(name, "", "the "+name+" input")
	}
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: tap-deploy [%s] --environment NAME [flags]\n\n", commandList())
		fmt.Fprintln(stderr, "Runs the action locally; every action input is a flag. Multi-line inputs (config,")
		fmt.Fprintln(stderr, "policy-overrides) take '\\n'-separated or repeated key=value pairs separated by ';'.")
		fs.PrintDefaults()
	}
	var positional []string
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) > 0 {
			positional = append(positional, args[0])
			args = args[1:]
		}
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
		if out[inputs.NameCommand] != "" && out[inputs.NameCommand] != positional[0] {
			return nil, fmt.Errorf("the command is given twice: %q and --command %q", positional[0], out[inputs.NameCommand])
		}
		out[inputs.NameCommand] = positional[0]
	default:
		return nil, errors.New("only one command may be given: " + strings.Join(positional, ", "))
	}
	return out, nil
}

func commandList() string {
	s := make([]string, len(inputs.Commands))
	for i, c := range inputs.Commands {
		s[i] = string(c)
	}
	return strings.Join(s, "|")
}
