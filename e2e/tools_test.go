package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// tool returns the path of a pinned client program in $BERTH_TOOLS. It skips
// the test when BERTH_TOOLS is unset, unless BERTH_REQUIRE_TOOLS=1, and fails
// it when the program is missing.
func tool(t *testing.T, name string) string {
	t.Helper()
	dir := os.Getenv("BERTH_TOOLS")
	if dir == "" {
		skipWithoutTools(t, name)
		t.Fatalf("BERTH_REQUIRE_TOOLS=1 but BERTH_TOOLS is unset; %s is needed", name)
	}
	path := filepath.Join(dir, name)
	if !isFile(path) {
		t.Fatalf("%s missing from BERTH_TOOLS=%s: run ./scripts/tools.sh", name, dir)
	}
	return path
}

func isFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// debianTool returns the path of a program that ./scripts/tools.sh installs with
// apt-get, looking in $BERTH_TOOLS and then in PATH. Without root the program
// cannot be installed, so a missing one skips the test.
func debianTool(t *testing.T, name, pkg string) string {
	t.Helper()
	if dir := os.Getenv("BERTH_TOOLS"); dir == "" {
		skipWithoutTools(t, name)
	} else if p := filepath.Join(dir, name); isFile(p) {
		return p
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if os.Geteuid() != 0 {
		t.Skipf("%s not installed and not root: apt-get install %s", name, pkg)
	}
	t.Fatalf("%s not found in BERTH_TOOLS or PATH: run ./scripts/tools.sh (apt-get install %s)",
		name, pkg)
	return ""
}

func skipWithoutTools(t *testing.T, name string) {
	t.Helper()
	if os.Getenv("BERTH_REQUIRE_TOOLS") == "1" {
		return
	}
	t.Skipf("BERTH_TOOLS is unset, so %s is not available: run ./scripts/test, "+
		"or ./scripts/tools.sh and export BERTH_TOOLS=$PWD/.tools/bin", name)
}

// run executes a client program in dir and returns its standard output.
// It fails the test, showing both outputs, when the program fails.
func run(t *testing.T, dir, prog string, args ...string) string {
	t.Helper()
	out, errOut, err := runErr(t, dir, prog, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\nstdout:\n%s\nstderr:\n%s",
			filepath.Base(prog), redact(strings.Join(args, " ")), err, out, errOut)
	}
	return out
}

// runErr executes a client program in dir and returns its outputs and error.
func runErr(t *testing.T, dir, prog string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	conf := clientConfigDir(t)
	env := append(os.Environ(), "DOCKER_CONFIG="+conf,
		"REGISTRY_AUTH_FILE="+filepath.Join(conf, "config.json"))
	return runEnv(t, dir, env, prog, args...)
}

// runEnv executes a client program in dir with the environment env.
func runEnv(
	t *testing.T,
	dir string,
	env []string,
	prog string,
	args ...string,
) (stdout, stderr string, err error) {
	t.Helper()
	return runInput(t, dir, env, "", prog, args...)
}

// runInput is runEnv with stdin as the program's standard input.
func runInput(
	t *testing.T,
	dir string,
	env []string,
	stdin string,
	prog string,
	args ...string,
) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	var outBuf, errBuf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &outBuf, &errBuf
	t.Logf("$ %s %s", filepath.Base(prog), redact(strings.Join(args, " ")))
	err = cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("killed after %s: %w", toolTimeout, err)
	}
	return outBuf.String(), errBuf.String(), err
}

var clientConfig struct {
	once sync.Once
	dir  string
}

// clientConfigDir returns an empty directory for clients' credential files,
// so that a developer's own ~/.docker/config.json plays no part.
func clientConfigDir(t *testing.T) string {
	clientConfig.once.Do(func() {
		dir, err := os.MkdirTemp("", "berth-e2e-docker-")
		if err != nil {
			t.Fatal(err)
		}
		clientConfig.dir = dir
	})
	return clientConfig.dir
}
