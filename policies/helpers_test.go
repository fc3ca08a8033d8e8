package policies_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"berth.dev/berth/plugins"
	"berth.dev/berth/plugins/wasmbuild"
)

// Built-ins are compiled from source once per test binary. Compiled modules go to
// a wazero cache that outlives the run, so only the first run pays 2-3 s per module;
// the committed modules have the same bytes, so embed_test.go hits the same cache.

var (
	builds    *wasmbuild.Builds
	cacheRoot string
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "berth-policies-test-")
	if err != nil {
		panic(err)
	}
	builds = wasmbuild.NewBuilds(dir)
	if c, err := os.UserCacheDir(); err == nil {
		cacheRoot = filepath.Join(c, "berth", "policies-test", "wazero")
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// compile returns the module of builtin/name, building it on first use.
func compile(t testing.TB, name string) []byte {
	t.Helper()
	wasm, err := builds.Get(context.Background(), filepath.Join("builtin", name))
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

// bind binds m with the JSON configuration cfg and no capability. The deadline is
// generous because tests compile modules side by side on few cores.
func bind(m *plugins.Module, cfg string) (*plugins.Binding, error) {
	return m.Bind(context.Background(), plugins.BindingConfig{
		Config: json.RawMessage(cfg),
		Limits: plugins.Limits{Timeout: 10 * time.Second},
	})
}
