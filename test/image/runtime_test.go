package image_test

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/org/tap-deploy/test/requires"
)

// containerRuntime runs docker or podman, whichever can run containers here.
type containerRuntime struct {
	name string
	// global flags before the subcommand (podman's storage and runtime)
	global []string
	env    []string
}

// detectRuntime sets up the runtime requires.ContainerRuntime finds: a
// working Docker engine (GitHub's runners), else podman with runc.
func detectRuntime(t *testing.T) containerRuntime {
	t.Helper()
	path := requires.ContainerRuntime(t)
	if !strings.HasSuffix(path, "podman") {
		return containerRuntime{name: path}
	}
	podman := path
	rt := containerRuntime{
		name: podman,
		// vfs works on any filesystem (no overlay or fuse needed);
		// cgroupfs and runc work without systemd and on cgroup v1.
		global: []string{"--storage-driver", "vfs", "--cgroup-manager", "cgroupfs", "--runtime", "runc"},
		env:    os.Environ(),
	}
	if os.Getenv("CONTAINERS_CONF") == "" {
		// podman's default nofile/nproc ulimits are refused in some
		// sandboxes; the image needs none.
		conf := filepath.Join(t.TempDir(), "containers.conf")
		if err := os.WriteFile(conf, []byte("[containers]\ndefault_ulimits = []\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		rt.env = append(rt.env, "CONTAINERS_CONF="+conf)
	}
	return rt
}

func (rt containerRuntime) isPodman() bool { return strings.HasSuffix(rt.name, "podman") }

func (rt containerRuntime) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, rt.name, append(append([]string(nil), rt.global...), args...)...)
	cmd.Env = rt.env
	return cmd
}

// output runs a runtime command and returns its stdout, failing the test
// with everything it printed when it fails.
func (rt containerRuntime) output(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := rt.command(ctx, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s", filepath.Base(rt.name), strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// build builds contextDir's Dockerfile, from local images only.
func (rt containerRuntime) build(t *testing.T, contextDir, tag string, buildArgs ...string) {
	t.Helper()
	rt.buildFile(t, contextDir, filepath.Join(contextDir, "Dockerfile"), tag, buildArgs...)
}

// buildFile builds a Dockerfile (which may live outside the context).
func (rt containerRuntime) buildFile(t *testing.T, contextDir, dockerfile, tag string, buildArgs ...string) {
	t.Helper()
	args := []string{"build", "-q", "-f", dockerfile, "-t", tag}
	if rt.isPodman() {
		args = append(args, "--pull=never")
	}
	for _, a := range buildArgs {
		args = append(args, "--build-arg", a)
	}
	rt.output(t, append(args, contextDir)...)
	t.Cleanup(func() { rt.command(context.Background(), "rmi", "-f", tag).Run() }) //nolint:errcheck // best effort
}

// size is the image's size in bytes as the runtime reports it.
func (rt containerRuntime) size(t *testing.T, image string) int64 {
	t.Helper()
	out := strings.TrimSpace(rt.output(t, "image", "inspect", "--format", "{{.Size}}", image))
	n, err := strconv.ParseInt(out, 10, 64)
	if err != nil {
		t.Fatalf("image size %q: %v", out, err)
	}
	return n
}

// inspect reads one field of the image's configuration.
func (rt containerRuntime) inspect(t *testing.T, image, format string) string {
	t.Helper()
	return strings.TrimSpace(rt.output(t, "image", "inspect", "--format", format, image))
}

// fileEntry is one path of an image's filesystem.
type fileEntry struct {
	Mode os.FileMode
	Dir  bool
}

// files lists an image's filesystem by exporting a container made from it
// (never started).
func (rt containerRuntime) files(t *testing.T, image string) map[string]fileEntry {
	t.Helper()
	// The command is never run; a base without CMD needs one to be created.
	id := strings.TrimSpace(rt.output(t, "create", image, "/never-run"))
	defer rt.command(context.Background(), "rm", "-f", id).Run() //nolint:errcheck // best effort
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := rt.command(ctx, "export", id)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	out := map[string]fileEntry{}
	tr := tar.NewReader(stdout)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("reading the exported filesystem: %v", err)
		}
		name := strings.TrimSuffix(strings.TrimPrefix(hdr.Name, "./"), "/")
		if name == "" || name == "." {
			continue
		}
		out[name] = fileEntry{Mode: hdr.FileInfo().Mode(), Dir: hdr.Typeflag == tar.TypeDir}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("export: %v\n%s", err, stderr.String())
	}
	return out
}

// run runs a container and returns its exit code and output; the runtime's
// own failures (no such image, bad flags) fail the test.
func (rt containerRuntime) run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := rt.command(ctx, append([]string{"run", "--rm"}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, stdout.String(), stderr.String()
	case errors.As(err, &exit) && exit.ExitCode() < 125:
		// 125-127 are the runtime's own failures, not the entrypoint's.
		return exit.ExitCode(), stdout.String(), stderr.String()
	}
	t.Fatalf("%s run: %v\nstdout:\n%s\nstderr:\n%s", filepath.Base(rt.name), err, stdout.String(), stderr.String())
	return 0, "", ""
}

// standInBase builds the local stand-in for distroless/static: the CA
// bundle, an /etc/passwd with root (the Pulumi CLI looks the user up, and
// cgo-less Go needs the file), and a world-writable /tmp. No shell.
func (rt containerRuntime) standInBase(t *testing.T, tag string) {
	t.Helper()
	dir := t.TempDir()
	rootfs := filepath.Join(dir, "rootfs")
	ca, err := os.ReadFile(caBundle(t))
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, body string) {
		path := filepath.Join(rootfs, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("etc/ssl/certs/ca-certificates.crt", string(ca))
	write("etc/passwd", "root:x:0:0:root:/root:/sbin/nologin\n")
	// Copied as a child of rootfs/, /tmp keeps its mode (a directory
	// copied onto a path of its own gets the default 0755).
	if err := os.Mkdir(filepath.Join(rootfs, "tmp"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(rootfs, "tmp"), 0o1777); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\nCOPY rootfs/ /\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rt.build(t, dir, tag)
}

func caBundle(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatal("no CA bundle on this machine to put into the stand-in base image")
	return ""
}

func humanBytes(n int64) string {
	return fmt.Sprintf("%.1f MB", float64(n)/1e6)
}
