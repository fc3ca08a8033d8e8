package plugins

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// Config holds a Host's settings. The zero value works: no on-disk cache.
type Config struct {
	// CacheDir is where compiled modules are kept across processes. Empty means
	// an in-memory cache only, so each process compiles each module again.
	CacheDir string
}

// Host runs plugins. It is safe for concurrent use.
type Host struct {
	logger *slog.Logger
	cache  wazero.CompilationCache
	live   atomic.Int64 // instances open, over all bindings

	mu       sync.Mutex                // guards runtimes and closed
	runtimes map[uint32]wazero.Runtime // by memory cap in pages
	closed   bool
}

// NewHost returns a Host that logs to logger (nil discards).
func NewHost(ctx context.Context, logger *slog.Logger, cfg Config) (*Host, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cache := wazero.NewCompilationCache()
	if cfg.CacheDir != "" {
		c, err := wazero.NewCompilationCacheWithDir(cfg.CacheDir)
		if err != nil {
			return nil, fmt.Errorf("plugins: compilation cache: %w", err)
		}
		cache = c
	}
	h := &Host{logger: logger, cache: cache, runtimes: map[uint32]wazero.Runtime{}}
	return h, nil
}

// LiveInstances returns the number of open instances over all bindings.
func (h *Host) LiveInstances() int { return int(h.live.Load()) }

// runtime returns the runtime whose memory cap is pages, creating it on first use.
// wazero fixes the cap per runtime; runtimes share the compilation cache, so a
// module compiles once whatever the caps of its bindings.
func (h *Host) runtime(ctx context.Context, pages uint32) (wazero.Runtime, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, ErrClosed
	}
	if r, ok := h.runtimes[pages]; ok {
		return r, nil
	}
	cfg := wazero.NewRuntimeConfig().
		WithCompilationCache(h.cache).
		WithCloseOnContextDone(true). // mandatory: stops loops at the deadline
		WithMemoryLimitPages(pages)
	r := wazero.NewRuntimeWithConfig(ctx, cfg)
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, r); err != nil {
		r.Close(ctx)
		return nil, fmt.Errorf("plugins: wasi: %w", err)
	}
	if err := instantiateHostModule(ctx, r); err != nil {
		r.Close(ctx)
		return nil, fmt.Errorf("plugins: host module: %w", err)
	}
	h.runtimes[pages] = r
	return r, nil
}

// Close closes every runtime, hence every module, binding and instance.
func (h *Host) Close(ctx context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil
	}
	h.closed = true
	for _, r := range h.runtimes {
		r.Close(ctx)
	}
	h.runtimes = nil
	return h.cache.Close(ctx)
}
