// Package wasmbuild compiles Go plugins into WebAssembly modules reproducibly:
// the same source built by the same Go release gives the same bytes, whatever the
// checkout's path, the build cache or the caller's environment.
//
// Berth commits the modules of its built-in policies (policies/wasm) and CI
// rebuilds them to check that they match their source; the tests of policies and
// examples/plugins build their plugins the same way.
//
// Reproducibility comes from Flags and Env:
//
//  1. -trimpath drops the checkout's absolute paths from the module.
//  2. -buildvcs=false leaves out the VCS revision and the "modified" bit, which
//     change with every commit and every uncommitted edit.
//  3. -ldflags=-buildid= empties the build ID, a hash of the build's inputs
//     that would otherwise differ with flags set outside this package.
//  4. Env pins GOOS, GOARCH, CGO_ENABLED, GOWASM, GOEXPERIMENT, GOFLAGS and GOWORK,
//     so that a setting in the caller's environment cannot change the output.
//
// GOEXPERIMENT is pinned empty. (Built with jsonv2, encoding/json was about 40%
// cheaper per call while the SDK decoded requests with it; since the SDK decodes
// hook requests with its own reader, jsonv2 changes nothing measurable per call
// and adds about 1 MB to a module: docs/benchmarks.md, "Plugins".)
//
// The Go release still matters: a module built by another release differs.
package wasmbuild

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// Flags are the go build flags of a reproducible plugin module.
var Flags = []string{"-buildmode=c-shared", "-trimpath", "-buildvcs=false", "-ldflags=-buildid="}

// pinned are the environment variables Env sets; the variables that select the
// target or could change the generated code.
var pinned = map[string]string{
	"GOOS":         "wasip1",
	"GOARCH":       "wasm",
	"CGO_ENABLED":  "0",
	"GOWASM":       "",
	"GOEXPERIMENT": "",
	"GOFLAGS":      "",
	"GOWORK":       "off",
}

// Env returns environ with the variables of a reproducible build pinned.
func Env(environ []string) []string {
	out := make([]string, 0, len(environ)+len(pinned))
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := pinned[k]; !ok {
			out = append(out, kv)
		}
	}
	for k, v := range pinned {
		out = append(out, k+"="+v)
	}
	return out
}

// Build compiles the main package in dir, which must lie inside a Go module, to
// the module file out. The go command's output is in the error.
func Build(ctx context.Context, dir, out string) error {
	abs, err := filepath.Abs(out)
	if err != nil {
		return err
	}
	args := append([]string{"build"}, Flags...)
	cmd := exec.CommandContext(ctx, "go", append(args, "-o", abs, ".")...)
	cmd.Dir = dir
	cmd.Env = Env(os.Environ())
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("wasmbuild: %s: %w\n%s", dir, err, msg)
	}
	return nil
}

// Builds compiles each plugin directory at most once and keeps the modules in
// memory: for tests and tools that need several modules, some of them many times.
// It is safe for concurrent use.
type Builds struct {
	dir string
	m   sync.Map // source dir -> *build
}

type build struct {
	once sync.Once
	wasm []byte
	err  error
}

// NewBuilds returns Builds that write their module files into dir.
func NewBuilds(dir string) *Builds { return &Builds{dir: dir} }

// Get returns the module of the plugin in srcDir, building it on first use.
func (b *Builds) Get(ctx context.Context, srcDir string) ([]byte, error) {
	v, _ := b.m.LoadOrStore(srcDir, &build{})
	e := v.(*build)
	e.once.Do(func() {
		name := strings.NewReplacer("/", "_", string(filepath.Separator), "_").Replace(srcDir)
		out := filepath.Join(b.dir, name+".wasm")
		if e.err = Build(ctx, srcDir, out); e.err == nil {
			e.wasm, e.err = os.ReadFile(out)
		}
	})
	return e.wasm, e.err
}
