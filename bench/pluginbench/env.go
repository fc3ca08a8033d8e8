package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"

	"berth.dev/berth/gateway"
	"berth.dev/berth/kvnode"
	"berth.dev/berth/plugins"
	"berth.dev/berth/plugins/wasmbuild"
	"berth.dev/berth/policies"
	"berth.dev/berth/registry"
	"berth.dev/berth/sdk"
	"berth.dev/berth/storage"
)

// repo is the repository the benchmark pushes to and pulls from.
const repo = "library/bench"

// env is a registry, its gateway and its policy engine in this process.
type env struct {
	store    kvnode.Store
	host     *plugins.Host
	cat      *policies.Catalog
	engine   *policies.Engine
	reg      *registry.Registry
	srv      *gateway.Server
	addr     string
	adm      *admission
	pullWasm []byte
	config   digest.Digest // config blob of every manifest
	layer    digest.Digest // layer blob of every manifest
}

func start(ctx context.Context, dir string, log *slog.Logger) (*env, error) {
	e := &env{}
	var err error
	if e.pullWasm, err = buildAllowPull(ctx, dir); err != nil {
		return nil, err
	}
	kvDir := filepath.Join(dir, "kv")
	if e.store, err = kvnode.StartEmbedded(ctx, kvnode.EmbeddedConfig{Dir: kvDir}, log); err != nil {
		return nil, err
	}
	blobs, err := storage.NewFilesystem(filepath.Join(dir, "storage"))
	if err != nil {
		return nil, err
	}
	cache := filepath.Join(dir, "cache")
	if e.host, err = plugins.NewHost(ctx, log, plugins.Config{CacheDir: cache}); err != nil {
		return nil, err
	}
	e.cat = policies.NewCatalog(e.store, blobs, e.host)
	if e.engine, err = policies.NewEngine(ctx, e.host, nil, e.cat, log); err != nil {
		return nil, err
	}
	if _, err := e.cat.Install(ctx, "allowpull", e.pullWasm); err != nil {
		return nil, err
	}
	e.adm = &admission{e: e.engine}
	e.reg = registry.New(e.store, blobs, log, registry.Options{Admission: e.adm})
	if err := e.reg.Start(ctx); err != nil {
		return nil, err
	}
	if err := e.serve(log); err != nil {
		return nil, err
	}
	return e, e.putBlobs(ctx)
}

// buildAllowPull compiles the benchmark's pull plugin.
func buildAllowPull(ctx context.Context, dir string) ([]byte, error) {
	out := filepath.Join(dir, "allowpull.wasm")
	if err := wasmbuild.Build(ctx, "bench/pluginbench/allowpull", out); err != nil {
		return nil, fmt.Errorf("run from the repository's root: %w", err)
	}
	return os.ReadFile(out)
}

func (e *env) serve(log *slog.Logger) error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	e.addr = l.Addr().String()
	e.srv = gateway.New(e.reg, log, gateway.Config{})
	go e.srv.Serve(l)
	e.srv.SetReady()
	return nil
}

// putBlobs stores the config and layer blobs that every manifest names.
func (e *env) putBlobs(ctx context.Context) error {
	cfg, layer := []byte(`{"architecture":"amd64","os":"linux"}`), bytes.Repeat([]byte("x"), 1024)
	e.config, e.layer = digest.FromBytes(cfg), digest.FromBytes(layer)
	if err := e.reg.PutBlob(ctx, repo, e.config, bytes.NewReader(cfg)); err != nil {
		return err
	}
	return e.reg.PutBlob(ctx, repo, e.layer, bytes.NewReader(layer))
}

// bindN replaces the bindings with n push policies and n pull policies.
func (e *env) bindN(ctx context.Context, n int) error {
	bs, err := e.cat.Bindings(ctx)
	if err != nil {
		return err
	}
	for _, b := range bs {
		if err := e.cat.Detach(ctx, b.ID); err != nil {
			return err
		}
	}
	push := []policies.Binding{
		{Plugin: "deny-tags", Config: json.RawMessage(`{"patterns":["latest"]}`)},
		{Plugin: "max-image-size", Config: json.RawMessage(`{"max_bytes":1073741824}`)},
		{Plugin: "required-annotations", Config: json.RawMessage(`{"keys":["bench"]}`)},
	}
	for i := range n {
		b := push[i]
		b.Hook = policies.HookPush
		if _, err := e.cat.Attach(ctx, b); err != nil {
			return err
		}
		if _, err := e.cat.Attach(ctx, policies.Binding{Plugin: "allowpull",
			Hook: policies.HookPull}); err != nil {
			return err
		}
	}
	return e.engine.Reload(ctx)
}

func (e *env) close() {
	ctx := context.Background()
	e.srv.Shutdown(ctx)
	e.reg.Close()
	e.engine.Close(ctx)
	e.host.Close(ctx)
	e.store.Close()
}

// admission asks the engine for pushes and pulls, as berth serve does (without
// the tag state that tag-immutability needs, which no policy here reads), and
// times each admission: the latency the plugins add to a request, measured
// inside it rather than as the difference of two tails.
type admission struct {
	e          *policies.Engine
	mu         sync.Mutex      // guards push and pull
	push, pull []time.Duration // admission times since the last take
}

func (a *admission) AdmitPush(ctx context.Context, p registry.PushInfo) error {
	defer a.record(&a.push, time.Now())
	if !a.e.Binds(policies.HookPush, p.Repository) {
		return nil
	}
	return denied(a.e.Push(ctx, sdk.PushRequest{Repository: p.Repository, Tag: p.Tag,
		Digest: p.Digest.String(), MediaType: p.MediaType,
		Manifest: policies.Summarize(p.Manifest)}, nil))
}

func (a *admission) AdmitPull(ctx context.Context, p registry.PullInfo) error {
	defer a.record(&a.pull, time.Now())
	if !a.e.Binds(policies.HookPull, p.Repository) {
		return nil
	}
	return denied(a.e.Pull(ctx, sdk.PullRequest{Repository: p.Repository,
		Reference: p.Reference, Digest: p.Digest.String(), MediaType: p.MediaType}, nil))
}

func (a *admission) record(series *[]time.Duration, began time.Time) {
	d := time.Since(began)
	a.mu.Lock()
	*series = append(*series, d)
	a.mu.Unlock()
}

// take returns the push and pull admission times recorded since the last take.
func (a *admission) take() (push, pull []time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	push, pull = a.push, a.pull
	a.push, a.pull = nil, nil
	return push, pull
}

func (a *admission) AdmitDelete(context.Context, registry.DeleteInfo) error { return nil }

func denied(err error) error {
	if errors.Is(err, policies.ErrDenied) {
		return fmt.Errorf("%w: %s", registry.ErrDenied, policies.Reason(err))
	}
	return err
}
