package policies

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"time"

	"github.com/opencontainers/go-digest"

	"berth.dev/berth/kvnode"
	"berth.dev/berth/plugins"
	"berth.dev/berth/sdk"
)

// MaxModuleSize is the largest module Install accepts (a Go plugin is 3-6 MB).
const MaxModuleSize = 64 << 20

// Blobs is the part of a storage.Driver that holds installed modules by digest.
type Blobs interface {
	Put(ctx context.Context, d digest.Digest, r io.Reader) error
	Open(ctx context.Context, d digest.Digest, offset int64) (io.ReadCloser, error)
}

// Admin is the method set of Catalog: what the admin API serves and what the CLI
// asks, of a Catalog in process or of a gateway's through the admin API.
type Admin interface {
	Install(ctx context.Context, name string, wasm []byte) (PluginRecord, error)
	Plugins(ctx context.Context) ([]PluginRecord, error)
	Uninstall(ctx context.Context, name string) error
	Attach(ctx context.Context, b Binding) (Binding, error)
	Bindings(ctx context.Context) ([]Binding, error)
	Binding(ctx context.Context, id string) (Binding, error)
	Detach(ctx context.Context, id string) error
}

var _ Admin = (*Catalog)(nil)

// Catalog is the domain API of plugins and bindings: what the CLI and the admin
// API call. Installed modules live in blob storage by digest and their records
// in metadata; bindings are records in metadata. Every gateway's Engine follows
// the records. Authorization is the caller's job. Safe for concurrent use.
type Catalog struct {
	kv    kvnode.Store
	blobs Blobs
	host  *plugins.Host
}

// NewCatalog returns a catalog on kv and blobs. host loads modules to check them
// at install and to validate configurations at attach.
func NewCatalog(kv kvnode.Store, blobs Blobs, host *plugins.Host) *Catalog {
	return &Catalog{kv: kv, blobs: blobs, host: host}
}

// Install checks wasm (ABI version, compilation, description), stores it by
// digest and records it as name, replacing an earlier module of that name:
// bindings of name then use the new module.
func (c *Catalog) Install(ctx context.Context, name string, wasm []byte) (PluginRecord, error) {
	if !validName(name) {
		return PluginRecord{}, fmt.Errorf("%w: plugin name %q: use 1-64 of a-z 0-9 - _ .",
			ErrInvalid, name)
	}
	if _, ok := builtin()[name]; ok {
		return PluginRecord{}, fmt.Errorf("%w: %q", ErrBuiltin, name)
	}
	if len(wasm) > MaxModuleSize {
		return PluginRecord{}, fmt.Errorf("%w: module of %d bytes exceeds %d", ErrInvalid,
			len(wasm), MaxModuleSize)
	}
	m, err := c.host.Load(ctx, name, wasm)
	if err != nil {
		return PluginRecord{}, fmt.Errorf("%w: %w", ErrBadModule, err)
	}
	defer m.Close(ctx)
	rec := record(m, int64(len(wasm)))
	rec.Installed = time.Now().UTC()
	if err := c.blobs.Put(ctx, digest.Digest(rec.Digest), bytes.NewReader(wasm)); err != nil {
		return PluginRecord{}, fmt.Errorf("policies: store module: %w", err)
	}
	b, _ := json.Marshal(rec)
	if err := c.kv.Put(ctx, prefixModule+name, b); err != nil {
		return PluginRecord{}, fmt.Errorf("policies: record plugin: %w", err)
	}
	return rec, nil
}

// record describes a loaded module.
func record(m *plugins.Module, size int64) PluginRecord {
	d := m.Description()
	return PluginRecord{Name: m.Name(), Digest: m.Digest(), Size: size,
		ABI: fmt.Sprintf("%d.%d", plugins.ABIMajor, m.Minor()), Hooks: d.Hooks,
		Capabilities: d.Capabilities, Version: d.Version}
}

// Plugins lists the built-in plugins, then the installed ones, by name.
func (c *Catalog) Plugins(ctx context.Context) ([]PluginRecord, error) {
	out := builtinRecords()
	kvs, err := c.kv.Range(ctx, prefixModule, "", 0)
	if err != nil {
		return nil, fmt.Errorf("policies: list plugins: %w", err)
	}
	for _, kv := range kvs {
		var rec PluginRecord
		if err := json.Unmarshal(kv.Value, &rec); err != nil {
			return nil, fmt.Errorf("policies: %s: %w", kv.Key, err)
		}
		out = append(out, rec)
	}
	return out, nil
}

// Uninstall removes the record of an installed plugin. It refuses while a stored
// binding uses the plugin. The module's blob stays in storage (another name may
// hold the same digest).
func (c *Catalog) Uninstall(ctx context.Context, name string) error {
	if _, ok := builtin()[name]; ok {
		return fmt.Errorf("%w: %q cannot be removed", ErrBuiltin, name)
	}
	bindings, err := c.Bindings(ctx)
	if err != nil {
		return err
	}
	for _, b := range bindings {
		if b.Plugin == name {
			return fmt.Errorf("%w: binding %s uses %s; detach it first", ErrInUse, b.ID, name)
		}
	}
	return c.kv.Update(ctx, func(tx kvnode.Txn) error {
		if _, err := tx.Get(prefixModule + name); errors.Is(err, kvnode.ErrNotFound) {
			return fmt.Errorf("%w: %q", ErrNoPlugin, name)
		} else if err != nil {
			return err
		}
		tx.Delete(prefixModule + name)
		return nil
	})
}

// Module returns the module bytes and digest of a built-in or installed plugin.
func (c *Catalog) Module(ctx context.Context, name string) ([]byte, string, error) {
	if wasm, ok := builtin()[name]; ok {
		return wasm, digest.FromBytes(wasm).String(), nil
	}
	rec, err := c.plugin(ctx, name)
	if err != nil {
		return nil, "", err
	}
	r, err := c.blobs.Open(ctx, digest.Digest(rec.Digest), 0)
	if err != nil {
		return nil, "", fmt.Errorf("policies: module of %s: %w", name, err)
	}
	defer r.Close()
	wasm, err := io.ReadAll(io.LimitReader(r, MaxModuleSize+1))
	if err != nil {
		return nil, "", fmt.Errorf("policies: module of %s: %w", name, err)
	}
	if digest.FromBytes(wasm).String() != rec.Digest {
		return nil, "", fmt.Errorf("policies: module of %s does not match its digest", name)
	}
	return wasm, rec.Digest, nil
}

func (c *Catalog) plugin(ctx context.Context, name string) (PluginRecord, error) {
	var rec PluginRecord
	b, err := c.kv.Get(ctx, prefixModule+name)
	if errors.Is(err, kvnode.ErrNotFound) {
		return rec, fmt.Errorf("%w: %q (not built in, not installed)", ErrNoPlugin, name)
	}
	if err != nil {
		return rec, fmt.Errorf("policies: plugin %s: %w", name, err)
	}
	return rec, json.Unmarshal(b, &rec)
}

// Attach checks b (hook, scope, the plugin implements the hook, the grants cover
// what the plugin requests, the plugin accepts the configuration) and stores it
// with a new ID, which it returns in the stored binding.
func (c *Catalog) Attach(ctx context.Context, b Binding) (Binding, error) {
	if err := b.normalize(); err != nil {
		return Binding{}, err
	}
	wasm, _, err := c.Module(ctx, b.Plugin)
	if err != nil {
		return Binding{}, err
	}
	if err := checkBinding(ctx, c.host, b, wasm); err != nil {
		if !errors.Is(err, ErrInvalid) {
			err = fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		return Binding{}, err
	}
	b.ID, b.Created = newID(), time.Now().UTC()
	val, _ := json.Marshal(b)
	if err := c.kv.Put(ctx, prefixBinding+b.ID, val); err != nil {
		return Binding{}, fmt.Errorf("policies: record binding: %w", err)
	}
	return b, nil
}

// checkBinding loads wasm and binds it as b says, then lets the binding go.
func checkBinding(ctx context.Context, host *plugins.Host, b Binding, wasm []byte) error {
	m, err := host.Load(ctx, b.Plugin, wasm)
	if err != nil {
		return err
	}
	defer m.Close(ctx)
	bd, err := bindModule(ctx, m, b)
	if err != nil {
		return err
	}
	return bd.Close(ctx)
}

// Bindings lists the stored bindings, oldest first.
func (c *Catalog) Bindings(ctx context.Context) ([]Binding, error) {
	kvs, err := c.kv.Range(ctx, prefixBinding, "", 0)
	if err != nil {
		return nil, fmt.Errorf("policies: list bindings: %w", err)
	}
	out := make([]Binding, 0, len(kvs))
	for _, kv := range kvs {
		var b Binding
		if err := json.Unmarshal(kv.Value, &b); err != nil {
			return nil, fmt.Errorf("policies: %s: %w", kv.Key, err)
		}
		out = append(out, b)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Created.Before(out[j].Created) })
	return out, nil
}

// Binding returns the stored binding id.
func (c *Catalog) Binding(ctx context.Context, id string) (Binding, error) {
	var b Binding
	val, err := c.kv.Get(ctx, prefixBinding+id)
	if errors.Is(err, kvnode.ErrNotFound) || !validName(id) {
		return b, fmt.Errorf("%w: %q", ErrNoBinding, id)
	}
	if err != nil {
		return b, err
	}
	return b, json.Unmarshal(val, &b)
}

// Detach removes the stored binding id.
func (c *Catalog) Detach(ctx context.Context, id string) error {
	if _, err := c.Binding(ctx, id); err != nil {
		return err
	}
	return c.kv.Delete(ctx, prefixBinding+id)
}

// newID returns a random binding ID of 12 hex digits.
func newID() string {
	var b [6]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// builtinRecords describes the built-in plugins without loading them.
func builtinRecords() []PluginRecord {
	mods := builtin()
	names := make([]string, 0, len(mods))
	for name := range mods {
		names = append(names, name)
	}
	slices.Sort(names)
	out := make([]PluginRecord, 0, len(names))
	for _, name := range names {
		wasm := mods[name]
		out = append(out, PluginRecord{Name: name, Digest: digest.FromBytes(wasm).String(),
			Size: int64(len(wasm)), ABI: builtinABI, Hooks: builtinHooks[name], Builtin: true})
	}
	return out
}

// builtinABI is the ABI the built-in policies need: that of the SDK they are
// built with (builtin_test.go checks it).
var builtinABI = fmt.Sprintf("%d.%d", sdk.ABIMajor, sdk.ABIMinor)

// builtinHooks are the hooks of the built-in policies, as their sources register
// them (builtin_test.go checks this table against the modules).
var builtinHooks = map[string][]string{
	"allowed-platforms":    {HookPush},
	"deny-tags":            {HookPush},
	"max-image-size":       {HookPush},
	"required-annotations": {HookPush},
	"tag-immutability":     {HookPush},
}
