package examples

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"berth.dev/berth/plugins"
	"berth.dev/berth/plugins/wasmbuild"
)

// Examples are compiled once per test binary with the reproducible build of the
// built-in policies; compiled modules go to a wazero cache that outlives the run.

var (
	builds    *wasmbuild.Builds
	cacheRoot string
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "berth-examples-test-")
	if err != nil {
		panic(err)
	}
	builds = wasmbuild.NewBuilds(dir)
	if c, err := os.UserCacheDir(); err == nil {
		cacheRoot = filepath.Join(c, "berth", "examples-test", "wazero")
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// compile returns the module of the example in dir, building it on first use.
func compile(t testing.TB, dir string) []byte {
	t.Helper()
	wasm, err := builds.Get(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	return wasm
}

// newHost returns a Host on the shared test compilation cache, closed at cleanup.
func newHost(t testing.TB) *plugins.Host {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(t.Output(), nil))
	h, err := plugins.NewHost(context.Background(), logger,
		plugins.Config{CacheDir: cacheRoot})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(context.Background()) })
	return h
}

// load loads wasm as name into h, closing the module at cleanup.
func load(t testing.TB, h *plugins.Host, name string, wasm []byte) *plugins.Module {
	t.Helper()
	m, err := h.Load(context.Background(), name, wasm)
	if err != nil {
		t.Fatalf("Load %s: %v", name, err)
	}
	t.Cleanup(func() { m.Close(context.Background()) })
	return m
}
