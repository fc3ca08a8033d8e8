package plugins

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"berth.dev/berth/plugins/wasmbuild"
)

// Test plugins are built from testdata/<name> once per test binary; the Go build
// cache keeps rebuilds around a second. Compiled modules go to a wazero cache that
// outlives the run, so only the first run pays 2-3 s per module.

var (
	builds    *wasmbuild.Builds
	cacheRoot string
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "berth-plugins-test-")
	if err != nil {
		panic(err)
	}
	builds = wasmbuild.NewBuilds(dir)
	if c, err := os.UserCacheDir(); err == nil {
		cacheRoot = filepath.Join(c, "berth", "plugins-test", "wazero")
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// plugin returns the wasm of testdata/name, building it on first use.
func plugin(t testing.TB, name string) []byte {
	t.Helper()
	wasm, err := builds.Get(context.Background(), filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return wasm
}

// newHost returns a Host on the shared test compilation cache, closed at cleanup.
func newHost(t testing.TB) *Host {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{
		Level: slog.LevelDebug,
	}))
	h, err := NewHost(context.Background(), logger, Config{CacheDir: cacheRoot})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(context.Background()) })
	return h
}

// bind loads testdata/name and binds it with cfg, closing both at cleanup and
// checking then that no instance outlives the binding.
func bind(t testing.TB, h *Host, name string, cfg BindingConfig) *Binding {
	t.Helper()
	ctx := context.Background()
	if cfg.Limits.Timeout == 0 {
		// Tests that are not about deadlines get room for instantiation under the
		// race detector on a loaded machine; the default (1 s) is for production.
		cfg.Limits.Timeout = 10 * time.Second
	}
	m, err := h.Load(ctx, name, plugin(t, name))
	if err != nil {
		t.Fatalf("Load %s: %v", name, err)
	}
	b, err := m.Bind(ctx, cfg)
	if err != nil {
		t.Fatalf("Bind %s: %v", name, err)
	}
	t.Cleanup(func() {
		b.Close(ctx)
		if n := b.Stats().Live; n != 0 {
			t.Errorf("%d instances live after Close", n)
		}
		m.Close(ctx)
	})
	return b
}

// checkPool fails unless every live instance of b is back in the pool.
func checkPool(t testing.TB, b *Binding) Stats {
	t.Helper()
	s := b.Stats()
	if s.Live != s.Idle || s.Live > b.Limits().MaxInstances {
		t.Errorf("leak: stats %+v, max %d instances", s, b.Limits().MaxInstances)
	}
	if got := b.Module().host.LiveInstances(); got != s.Live {
		t.Errorf("host counts %d live instances, binding %d", got, s.Live)
	}
	return s
}

// pushReq is the host side of sdk.PushRequest, spelled out so that the host's
// tests do not depend on the SDK.
type pushReq struct {
	Repository string `json:"repository"`
	Tag        string `json:"tag,omitempty"`
	Digest     string `json:"digest"`
	MediaType  string `json:"media_type"`
}

type decision struct {
	Allow  bool   `json:"allow"`
	Reason string `json:"reason"`
}

func push(tag string) pushReq {
	return pushReq{Repository: "team/app", Tag: tag, Digest: "sha256:" + tag,
		MediaType: "application/vnd.oci.image.manifest.v1+json"}
}

// call pushes tag through b and returns the decision.
func call(t testing.TB, b *Binding, subject Subject, tag string) (decision, error) {
	t.Helper()
	var d decision
	err := b.Call(context.Background(), "push", subject, push(tag), &d)
	return d, err
}

// fakeSubject serves fixed documents.
type fakeSubject struct{ manifest []byte }

func (f fakeSubject) Manifest(context.Context) ([]byte, error) { return f.manifest, nil }
func (f fakeSubject) Config(context.Context) ([]byte, error)   { return nil, ErrNoDocument }
func (f fakeSubject) Referrers(context.Context) ([]byte, error) {
	return nil, ErrNoDocument
}
