package plugins

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/tetratelabs/wazero"
)

// BindingConfig is what a binding grants and fixes for a module.
type BindingConfig struct {
	// Config is the plugin's own configuration, handed to berth_init. Nil sends null.
	Config json.RawMessage
	// Capabilities granted; none when empty. Every capability the module declares
	// must be granted, or Bind fails with ErrCapabilityNotGranted.
	Capabilities []Capability
	// Limits of each call; zero fields take DefaultLimits.
	Limits Limits
}

// Binding is a module bound to a configuration: a pool of instances initialized
// with that configuration. It is safe for concurrent use.
type Binding struct {
	mod     *Module
	rt      wazero.Runtime
	cm      wazero.CompiledModule
	caps    capSet
	limits  Limits
	initMsg []byte
	pool    *pool
}

// Bind checks cfg, grants its capabilities and creates the binding's first
// instance, whose berth_init validates the configuration. A plugin's refusal is
// returned as an error matching ErrInvalidConfig and ErrPluginFailed.
func (m *Module) Bind(ctx context.Context, cfg BindingConfig) (*Binding, error) {
	if err := cfg.Limits.Validate(); err != nil {
		return nil, err
	}
	caps, err := newCapSet(cfg.Capabilities)
	if err != nil {
		return nil, err
	}
	for _, c := range m.desc.Capabilities {
		if !caps.has(c) {
			return nil, fmt.Errorf("%w: %s requests %q", ErrCapabilityNotGranted, m.name, c)
		}
	}
	b := &Binding{mod: m, caps: caps, limits: cfg.Limits.withDefaults()}
	if b.initMsg, err = json.Marshal(initRequest{
		ABI: abiString(), Config: cfg.Config, Capabilities: caps.list(),
	}); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidConfig, err)
	}
	if b.cm, err = m.compile(ctx, b.limits.MemoryPages); err != nil {
		return nil, err
	}
	if b.rt, err = m.host.runtime(ctx, b.limits.MemoryPages); err != nil {
		return nil, err
	}
	b.pool = newPool(b.limits.MaxInstances, &m.host.live)
	if err := b.warm(ctx); err != nil {
		return nil, err
	}
	return b, nil
}

// warm creates the first instance, which validates the configuration.
func (b *Binding) warm(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, setupTimeout)
	defer cancel()
	st := b.state("init", nil)
	in, err := b.pool.get(ctx, func(ctx context.Context) (*instance, error) {
		return b.spawn(ctx, st)
	})
	st.flush(ctx, err != nil)
	if err != nil {
		return err
	}
	b.pool.put(ctx, in, true)
	return nil
}

// spawn instantiates the module and configures the instance through berth_init.
func (b *Binding) spawn(ctx context.Context, st *callState) (*instance, error) {
	in, err := newInstance(ctx, b.rt, b.cm, st)
	if err != nil {
		return nil, b.classify(ctx, st, nil, fmt.Errorf("instantiate: %w", err))
	}
	in.sink.st = st
	defer func() { in.sink.st = nil }()
	out, err := in.exchange(withState(ctx, st), exportInit, b.initMsg, b.limits.MaxOutputBytes)
	if err == nil {
		_, err = decodeEnvelope(b.mod.name, "init", out)
		if errors.Is(err, ErrPluginFailed) {
			err = fmt.Errorf("%w: %w", ErrInvalidConfig, err)
		}
	} else {
		err = b.classify(ctx, st, in, err)
	}
	if err != nil {
		in.close(context.WithoutCancel(ctx))
		return nil, err
	}
	return in, nil
}

func (b *Binding) state(hook string, subject Subject) *callState {
	return &callState{plugin: b.mod.name, hook: hook, caps: b.caps, subject: subject,
		logger: b.mod.host.logger, logLeft: b.limits.MaxLogBytes}
}

// Module returns the binding's module.
func (b *Binding) Module() *Module { return b.mod }

// Limits returns the binding's limits, defaults applied.
func (b *Binding) Limits() Limits { return b.limits }

// Stats returns counts of the binding's instances.
func (b *Binding) Stats() Stats { return b.pool.stats() }

// Close closes the binding's idle instances now and the others when their calls end.
func (b *Binding) Close(ctx context.Context) error {
	b.pool.close(ctx)
	return nil
}
