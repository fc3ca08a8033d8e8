package policies

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"berth.dev/berth/plugins"
)

// AfterPushTimeout is the deadline of one after-push call, apart from the
// admission hooks' default of one second: the push is already committed and
// nothing waits for the answer.
const AfterPushTimeout = 5 * time.Second

// Engine makes admission decisions with the bound plugins and calls their
// after-push hooks. Its bindings are those of the configuration file plus, when
// it has a Catalog, the stored ones, which Follow keeps up to date. Safe for
// concurrent use.
type Engine struct {
	log    *slog.Logger
	host   *plugins.Host
	cat    *Catalog
	static []Binding

	mu   sync.Mutex                 // serializes Reload; guards mods
	mods map[string]*plugins.Module // loaded modules by digest
	cur  atomic.Pointer[table]      // bindings in force, swapped whole
}

// table is one immutable generation of bindings.
type table struct{ bound []*bound }

// bound is one binding in force: b is nil when it could not be bound, and then
// its hook fails as the plugin would (closed unless FailOpen).
type bound struct {
	Binding
	key string // module digest and binding: equal keys bind alike
	b   *plugins.Binding
	err error
}

// NewEngine binds specs (from the configuration file) and, when cat is not nil,
// the bindings stored in cat. A spec that cannot be bound is an error; a stored
// binding that cannot be bound is logged and fails closed (unless fail-open).
func NewEngine(ctx context.Context, host *plugins.Host, specs []BindingSpec, cat *Catalog,
	log *slog.Logger) (*Engine, error) {
	e := &Engine{log: log, host: host, cat: cat, mods: map[string]*plugins.Module{}}
	for i, spec := range specs {
		b, err := spec.binding(i)
		if err == nil {
			err = b.normalize()
		}
		if err != nil {
			return nil, fmt.Errorf("policies[%d] (%s on %s): %w", i, spec.Plugin, spec.Hook, err)
		}
		e.static = append(e.static, b)
	}
	e.cur.Store(&table{})
	if err := e.Reload(ctx); err != nil {
		e.Close(ctx)
		return nil, err
	}
	for _, b := range e.cur.Load().bound {
		if b.err != nil && !b.stored() {
			e.Close(ctx)
			return nil, fmt.Errorf("policies: %s (%s on %s): %w", b.ID, b.Plugin, b.Hook, b.err)
		}
	}
	return e, nil
}

// stored reports whether the binding comes from the catalog.
func (b *bound) stored() bool { return !b.Created.IsZero() }

// Reload binds the current set of bindings and swaps it in at once. Bindings
// whose module and settings did not change keep their pools.
func (e *Engine) Reload(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	want := slices.Clone(e.static)
	if e.cat != nil {
		stored, err := e.cat.Bindings(ctx)
		if err != nil {
			return err
		}
		want = append(want, stored...)
	}
	old := e.cur.Load()
	next := &table{}
	for _, b := range want {
		next.bound = append(next.bound, e.bindOne(ctx, b, old))
	}
	e.cur.Store(next)
	e.retire(ctx, old, next)
	return nil
}

// bindOne returns b bound, reusing the old generation's binding when equal.
func (e *Engine) bindOne(ctx context.Context, b Binding, old *table) *bound {
	out := &bound{Binding: b}
	dgst, err := e.digestOf(ctx, b.Plugin)
	if err != nil {
		return e.failed(out, err)
	}
	out.key = bindingKey(dgst, b)
	for _, o := range old.bound {
		if o.key == out.key && o.b != nil {
			out.b = o.b
			return out
		}
	}
	m, err := e.module(ctx, b.Plugin, dgst)
	if err != nil {
		return e.failed(out, err)
	}
	if out.b, err = bindModule(ctx, m, b); err != nil {
		return e.failed(out, err)
	}
	e.log.Info("policy bound", "id", b.ID, "plugin", b.Plugin, "hook", b.Hook,
		"scope", b.Scope, "fail_open", b.FailOpen, "digest", dgst)
	return out
}

func (e *Engine) failed(out *bound, err error) *bound {
	out.err = err
	e.log.Error("policy cannot be bound; its hook fails", "id", out.ID, "plugin", out.Plugin,
		"hook", out.Hook, "fail_open", out.FailOpen, "err", err)
	return out
}

// digestOf returns the digest of the plugin's module.
func (e *Engine) digestOf(ctx context.Context, name string) (string, error) {
	if d, ok := builtinDigests()[name]; ok {
		return d, nil
	}
	if e.cat == nil {
		return "", fmt.Errorf("%w: %q is not built in", ErrNoPlugin, name)
	}
	rec, err := e.cat.plugin(ctx, name)
	return rec.Digest, err
}

// module returns the loaded module of digest, loading it on first use.
func (e *Engine) module(ctx context.Context, name, dgst string) (*plugins.Module, error) {
	if m, ok := e.mods[dgst]; ok {
		return m, nil
	}
	wasm, ok := builtin()[name]
	if !ok {
		var err error
		if wasm, _, err = e.cat.Module(ctx, name); err != nil {
			return nil, err
		}
	}
	m, err := e.host.Load(ctx, name, wasm)
	if err != nil {
		return nil, err
	}
	e.mods[m.Digest()] = m
	return m, nil
}

// retire closes the bindings of old that next dropped, then the modules that no
// binding of next uses. A call still running on a closed binding is retried on
// the newer generation (see decide).
func (e *Engine) retire(ctx context.Context, old, next *table) {
	for _, o := range old.bound {
		if o.b != nil && !slices.ContainsFunc(next.bound, func(n *bound) bool { return n.b == o.b }) {
			o.b.Close(ctx)
			e.log.Info("policy unbound", "id", o.ID, "plugin", o.Plugin, "hook", o.Hook)
		}
	}
	for d, m := range e.mods {
		if !slices.ContainsFunc(next.bound, func(n *bound) bool {
			return n.b != nil && n.b.Module() == m
		}) {
			m.Close(ctx)
			delete(e.mods, d)
		}
	}
}

// bindModule binds m for b: the hook must exist, the grants and limits apply, and
// the plugin validates b's configuration.
func bindModule(ctx context.Context, m *plugins.Module, b Binding) (*plugins.Binding, error) {
	if !m.Implements(pluginHook(b.Hook)) {
		return nil, fmt.Errorf("%w: plugin %s has no %s hook (it has %v)", ErrInvalid,
			b.Plugin, b.Hook, m.Description().Hooks)
	}
	var limits plugins.Limits
	if b.Hook == HookAfterPush {
		limits.Timeout = AfterPushTimeout
	}
	return m.Bind(ctx, plugins.BindingConfig{
		Config: b.Config, Capabilities: b.Grant, Limits: limits,
	})
}

// Active returns the bindings in force, with the error of those that could not
// be bound.
func (e *Engine) Active() []ActiveBinding {
	t := e.cur.Load()
	out := make([]ActiveBinding, 0, len(t.bound))
	for _, b := range t.bound {
		out = append(out, ActiveBinding{Binding: b.Binding, Err: b.err})
	}
	return out
}

// ActiveBinding is a binding in force in an Engine.
type ActiveBinding struct {
	Binding
	Err error // why the binding could not be bound; its hook then fails
}

// Close releases every binding and module.
func (e *Engine) Close(ctx context.Context) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.retire(ctx, e.cur.Swap(&table{}), &table{})
}

// builtinDigests maps each built-in policy to its module's digest.
var builtinDigests = sync.OnceValue(func() map[string]string {
	out := map[string]string{}
	for _, r := range builtinRecords() {
		out[r.Name] = r.Digest
	}
	return out
})

// errStale reports a call that met a binding closed by a newer generation.
var errStale = errors.New("policies: binding replaced during the call")
