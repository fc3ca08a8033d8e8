package plugins

import (
	"context"
	"log/slog"
	"testing"
)

// BenchmarkCall measures one push admission on a warm pool: a small request, the
// deny-latest plugin, close-on-context-done on.
func BenchmarkCall(b *testing.B) {
	h := newHost(b)
	bd := bind(b, h, "denylatest", BindingConfig{Capabilities: grantAll})
	req := push("v1")
	ctx := context.Background()
	for b.Loop() {
		var d decision
		if err := bd.Call(ctx, "push", nil, req, &d); err != nil || !d.Allow {
			b.Fatalf("%+v, %v", d, err)
		}
	}
}

// BenchmarkColdStart measures a new Host loading and binding a module and
// answering its first call, with a warm on-disk compilation cache and without one.
// Run it with -benchtime=3x: without the cache each iteration compiles for seconds.
func BenchmarkColdStart(b *testing.B) {
	wasm := plugin(b, "denylatest")
	warm := b.TempDir()
	coldStart(b, wasm, warm) // fill the cache
	b.Run("cache", func(b *testing.B) {
		for b.Loop() {
			coldStart(b, wasm, warm)
		}
	})
	b.Run("nocache", func(b *testing.B) {
		for b.Loop() {
			coldStart(b, wasm, "")
		}
	})
}

func coldStart(b *testing.B, wasm []byte, cacheDir string) {
	ctx := context.Background()
	h, err := NewHost(ctx, slog.New(slog.DiscardHandler), Config{CacheDir: cacheDir})
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close(ctx)
	m, err := h.Load(ctx, "denylatest", wasm)
	if err != nil {
		b.Fatal(err)
	}
	bd, err := m.Bind(ctx, BindingConfig{Capabilities: grantAll})
	if err != nil {
		b.Fatal(err)
	}
	var d decision
	if err := bd.Call(ctx, "push", nil, push("latest"), &d); err != nil || d.Allow {
		b.Fatalf("%+v, %v", d, err)
	}
}
