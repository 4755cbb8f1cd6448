// Command pulumi-resource-aws is the sandbox cloud's provider plugin. Tests
// and the local demo install it as the "aws" plugin in a temporary
// PULUMI_HOME; it never talks to AWS.
package main

import (
	"fmt"
	"os"

	"github.com/org/tap-deploy/test/sandbox"
)

func main() {
	if err := sandbox.Main(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
