// Command build writes the functions' zips into a folder (by default the one
// the action embeds): go run ./internal/artifacts/build/cmd [-out dir].
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"

	"github.com/org/tap-deploy/internal/artifacts/build"
)

func main() {
	out := flag.String("out", filepath.Join(build.RepoRoot(), "internal", "artifacts", "zips"), "folder for the zips")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	zips, err := build.All(ctx, *out)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, z := range zips {
		fmt.Printf("%-18s %8d bytes  sha256 %s\n", z.Function, z.Size, z.SHA256)
	}
}
