// Command pin-action-image writes the pushed image's digest into action.yml
// during a release, or checks that action.yml names an image by digest:
//
//	go run ./cmd/pin-action-image -image ghcr.io/org/tap-deploy@sha256:<digest> action.yml
//	go run ./cmd/pin-action-image -check action.yml
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/org/tap-deploy/internal/pin"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "pin-action-image:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("pin-action-image", flag.ContinueOnError)
	image := fs.String("image", "", "the pushed image, registry/repository@sha256:<digest>")
	check := fs.Bool("check", false, "only check that action.yml names an image by digest")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("give the path of action.yml")
	}
	path := fs.Arg(0)
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if *check {
		return pin.CheckPinned(data)
	}
	pinned, err := pin.PinImage(data, *image)
	if err != nil {
		return err
	}
	return os.WriteFile(path, pinned, 0o644)
}
