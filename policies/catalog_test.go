package policies_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"berth.dev/berth/kvnode"
	"berth.dev/berth/plugins"
	"berth.dev/berth/policies"
	"berth.dev/berth/sdk"
	"berth.dev/berth/storage"
)

// replicas is one metadata store and blob storage shared by two gateways, each
// with its own host, catalog and following engine.
type replicas struct {
	cat     *policies.Catalog // replica a's catalog
	a, b    *policies.Engine
	storeOf kvnode.Store
}

func newReplicas(t *testing.T) *replicas {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	dir := t.TempDir()
	store, err := kvnode.StartEmbedded(ctx, kvnode.EmbeddedConfig{Dir: filepath.Join(dir, "kv")},
		log)
	if err != nil {
		t.Fatal(err)
	}
	blobs, err := storage.NewFilesystem(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	r := &replicas{storeOf: store}
	engines := make([]*policies.Engine, 2)
	done := make(chan struct{}, 2)
	for i := range engines {
		cat := policies.NewCatalog(store, blobs, newHost(t))
		e, err := policies.NewEngine(ctx, newHost(t), nil, cat, log)
		if err != nil {
			t.Fatal(err)
		}
		engines[i] = e
		r.cat = cat
		go func() { e.Follow(ctx); done <- struct{}{} }()
	}
	r.a, r.b = engines[0], engines[1]
	t.Cleanup(func() {
		cancel()
		<-done
		<-done
		r.a.Close(context.Background())
		r.b.Close(context.Background())
		store.Close()
	})
	return r
}

// await waits until e's bindings in force are the IDs want.
func await(t *testing.T, e *policies.Engine, want ...string) {
	t.Helper()
	// Generous: under -race on a loaded machine, binding compiles a module for seconds.
	deadline := time.Now().Add(3 * time.Minute)
	for {
		var got []string
		for _, b := range e.Active() {
			got = append(got, b.ID)
		}
		if strings.Join(got, ",") == strings.Join(want, ",") {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			t.Fatalf("bindings in force %v, want %v; goroutines:\n%s", got, want, buf[:n])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestBindingsFollowTheCatalog(t *testing.T) {
	ctx := context.Background()
	r := newReplicas(t)
	latest := sdk.PushRequest{Repository: "team/app", Tag: "latest"}

	deny, err := r.cat.Attach(ctx, policies.Binding{Plugin: "deny-tags",
		Hook: policies.HookPush, Scope: "team", Config: json.RawMessage(`{"patterns":["latest"]}`)})
	if err != nil {
		t.Fatal(err)
	}
	await(t, r.b, deny.ID)
	if err := r.b.Push(ctx, latest, nil); !errors.Is(err, policies.ErrDenied) {
		t.Fatalf("push of latest on the other replica: %v, want a denial", err)
	}
	pool := policies.PluginBinding(r.b, deny.ID)

	// A second binding leaves the first one's pool in place.
	size, err := r.cat.Attach(ctx, policies.Binding{Plugin: "max-image-size",
		Hook: policies.HookPush, Config: json.RawMessage(`{"max_bytes":1000}`)})
	if err != nil {
		t.Fatal(err)
	}
	await(t, r.b, deny.ID, size.ID)
	if got := policies.PluginBinding(r.b, deny.ID); got != pool {
		t.Error("an unchanged binding was bound anew")
	}

	for _, id := range []string{deny.ID, size.ID} {
		if err := r.cat.Detach(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	await(t, r.b)
	if err := r.b.Push(ctx, latest, nil); err != nil {
		t.Fatalf("push of latest after detaching: %v", err)
	}
	if err := r.cat.Detach(ctx, deny.ID); !errors.Is(err, policies.ErrNoBinding) {
		t.Errorf("second detach: %v, want ErrNoBinding", err)
	}
}

func TestAttachRefuses(t *testing.T) {
	ctx := context.Background()
	r := newReplicas(t)
	tests := []struct {
		name string
		b    policies.Binding
		want error
	}{
		{"unknown plugin", policies.Binding{Plugin: "nope", Hook: "push"}, policies.ErrNoPlugin},
		{"unknown hook", policies.Binding{Plugin: "deny-tags", Hook: "upload"},
			policies.ErrInvalid},
		{"hook not implemented", policies.Binding{Plugin: "deny-tags", Hook: "pull",
			Config: json.RawMessage(`{"patterns":["x"]}`)}, policies.ErrInvalid},
		{"bad scope", policies.Binding{Plugin: "deny-tags", Hook: "push", Scope: "A/B"},
			policies.ErrInvalid},
		{"config refused by the plugin", policies.Binding{Plugin: "deny-tags", Hook: "push",
			Config: json.RawMessage(`{"patterns":"latest"}`)}, plugins.ErrInvalidConfig},
		{"unknown capability", policies.Binding{Plugin: "deny-tags", Hook: "push",
			Grant: []plugins.Capability{"network"}}, policies.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := r.cat.Attach(ctx, tt.b); !errors.Is(err, tt.want) {
				t.Fatalf("Attach = %v, want %v", err, tt.want)
			}
		})
	}
	if bs, err := r.cat.Bindings(ctx); err != nil || len(bs) != 0 {
		t.Errorf("refused attaches left bindings %v (%v)", bs, err)
	}
}

func TestInstall(t *testing.T) {
	ctx := context.Background()
	r := newReplicas(t)
	wasm := compile(t, "../../examples/plugins/require-signature-referrer")

	rec, err := r.cat.Install(ctx, "signed", wasm)
	if err != nil {
		t.Fatal(err)
	}
	if rec.ABI != "1.1" || len(rec.Hooks) != 1 || rec.Hooks[0] != "pull" {
		t.Errorf("record = %+v", rec)
	}
	cfg := json.RawMessage(`{"artifact_type":"application/x-sig"}`)
	if _, err := r.cat.Attach(ctx, policies.Binding{Plugin: "signed", Hook: "pull",
		Config: cfg}); !errors.Is(err, plugins.ErrCapabilityNotGranted) {
		t.Fatalf("attach without the referrers grant: %v", err)
	}
	b, err := r.cat.Attach(ctx, policies.Binding{Plugin: "signed", Hook: "pull", Config: cfg,
		Grant: []plugins.Capability{plugins.CapReferrers}})
	if err != nil {
		t.Fatal(err)
	}
	await(t, r.b, b.ID)
	err = r.b.Pull(ctx, sdk.PullRequest{Repository: "team/app", Reference: "v1"}, nil)
	if !errors.Is(err, policies.ErrDenied) || !strings.Contains(err.Error(), "sign it first") {
		t.Fatalf("pull of an unsigned image: %v", err)
	}
	if err := r.cat.Uninstall(ctx, "signed"); !errors.Is(err, policies.ErrInUse) {
		t.Errorf("uninstall while bound: %v, want ErrInUse", err)
	}
	plugs, err := r.cat.Plugins(ctx)
	if err != nil || len(plugs) != 6 || plugs[5].Name != "signed" {
		t.Errorf("Plugins = %+v, %v", plugs, err)
	}
}

func TestInstallRefuses(t *testing.T) {
	ctx := context.Background()
	r := newReplicas(t)
	badABI := compile(t, "../../plugins/testdata/badabi")
	tests := []struct {
		name, plugin string
		wasm         []byte
		want         error
	}{
		{"wrong ABI major", "bad", badABI, plugins.ErrABIVersion},
		{"not WebAssembly", "junk", []byte("\x00asm junk"), nil},
		{"built-in name", "deny-tags", badABI, policies.ErrBuiltin},
		{"bad name", "Bad/Name", badABI, policies.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.cat.Install(ctx, tt.plugin, tt.wasm)
			if err == nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("Install = %v, want %v", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
	if plugs, _ := r.cat.Plugins(ctx); len(plugs) != 5 {
		t.Errorf("refused installs left records: %+v", plugs)
	}
}

// TestBuiltinRecords checks the listed hooks of the built-in policies against
// what their modules declare.
func TestBuiltinRecords(t *testing.T) {
	r := newReplicas(t)
	plugs, err := r.cat.Plugins(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	h := newHost(t)
	for _, p := range plugs {
		m := load(t, h, p.Name, policies.Builtin()[p.Name])
		got := strings.Join(m.Description().Hooks, ",")
		abi := fmt.Sprintf("1.%d", m.Minor())
		if !p.Builtin || got != strings.Join(p.Hooks, ",") || m.Digest() != p.Digest ||
			abi != p.ABI {
			t.Errorf("%s: listed %+v, module declares hooks %s", p.Name, p, got)
		}
	}
}
