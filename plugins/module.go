package plugins

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
)

// setupTimeout bounds loading and binding work that runs guest code
// (initialization, describe, configuration) on top of the caller's context.
const setupTimeout = 10 * time.Second

// Module is a loaded plugin module: compiled, checked and described.
type Module struct {
	host   *Host
	name   string
	digest string
	wasm   []byte
	desc   Description
	minor  uint32

	mu       sync.Mutex                       // guards compiled and closed
	compiled map[uint32]wazero.CompiledModule // by memory cap in pages
	closed   bool
}

// Load compiles wasm, refuses it unless it speaks ABI major 1 (checked on its
// exports, before any of its code runs) and imports only functions the host
// provides, then instantiates it once to read its ABI minor and description.
// name labels the module in logs and errors.
func (h *Host) Load(ctx context.Context, name string, wasm []byte) (*Module, error) {
	sum := sha256.Sum256(wasm)
	m := &Module{
		host:     h,
		name:     name,
		digest:   "sha256:" + hex.EncodeToString(sum[:]),
		wasm:     wasm,
		compiled: map[uint32]wazero.CompiledModule{},
	}
	pages := DefaultLimits().MemoryPages
	cm, err := m.compile(ctx, pages)
	if err != nil {
		return nil, err
	}
	if err := m.probe(ctx, cm, pages); err != nil {
		m.Close(ctx)
		return nil, err
	}
	h.logger.Info("plugin loaded", "plugin", name, "digest", m.digest,
		"abi", fmt.Sprintf("%d.%d", ABIMajor, m.minor), "hooks", m.desc.Hooks,
		"capabilities", m.desc.Capabilities)
	return m, nil
}

// compile returns the module compiled for a runtime with the given memory cap.
func (m *Module) compile(ctx context.Context, pages uint32) (wazero.CompiledModule, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	if cm, ok := m.compiled[pages]; ok {
		return cm, nil
	}
	r, err := m.host.runtime(ctx, pages)
	if err != nil {
		return nil, err
	}
	cm, err := r.CompileModule(ctx, m.wasm)
	if err != nil {
		return nil, fmt.Errorf("plugins: compile %s: %w", m.name, err)
	}
	if err := checkModule(cm); err != nil {
		cm.Close(ctx)
		return nil, fmt.Errorf("%w (module %s)", err, m.name)
	}
	m.compiled[pages] = cm
	return cm, nil
}

// probe instantiates the module once, without capabilities, to read its minor
// version and its description.
func (m *Module) probe(ctx context.Context, cm wazero.CompiledModule,
	pages uint32) (err error) {
	ctx, cancel := context.WithTimeout(ctx, setupTimeout)
	defer cancel()
	r, err := m.host.runtime(ctx, pages)
	if err != nil {
		return err
	}
	st := m.setupState("describe", 0)
	in, err := newInstance(ctx, r, cm, st)
	if err != nil {
		return fmt.Errorf("%w: instantiate %s: %v", ErrTrapped, m.name, err)
	}
	defer in.close(ctx)
	in.sink.st = st
	defer func() { st.flush(ctx, err != nil) }()

	if m.minor, err = in.call32(withState(ctx, st), exportMarker); err != nil {
		return fmt.Errorf("%w: %s: %s: %v", ErrTrapped, m.name, exportMarker, err)
	}
	if m.minor > ABIMinor {
		return fmt.Errorf("%w: %s needs ABI 1.%d, host provides %s", ErrABIVersion,
			m.name, m.minor, abiString())
	}
	limit := DefaultLimits().MaxOutputBytes
	out, err := in.exchange(withState(ctx, st), exportDescribe, nil, limit)
	if err != nil {
		return fmt.Errorf("%w: %s: describe: %v", ErrTrapped, m.name, err)
	}
	return m.describe(out, cm)
}

// describe parses and checks the module's description.
func (m *Module) describe(out []byte, cm wazero.CompiledModule) error {
	if err := json.Unmarshal(out, &m.desc); err != nil {
		return fmt.Errorf("%w: %s: describe: %v", ErrBadResponse, m.name, err)
	}
	exports := cm.ExportedFunctions()
	for _, hook := range m.desc.Hooks {
		if _, ok := exports[hookExport(hook)]; !ok || !validHookName(hook) {
			return fmt.Errorf("%w: %s declares hook %q without export %s", ErrNotPlugin,
				m.name, hook, hookExport(hook))
		}
	}
	for _, c := range m.desc.Capabilities {
		if !c.Valid() {
			return fmt.Errorf("%w: %s requests %q", ErrUnknownCapability, m.name, c)
		}
	}
	return nil
}

func (m *Module) setupState(hook string, caps capSet) *callState {
	return &callState{plugin: m.name, hook: hook, caps: caps,
		logger: m.host.logger, logLeft: DefaultLimits().MaxLogBytes}
}

// Name returns the name given to Load.
func (m *Module) Name() string { return m.name }

// Digest returns the module's digest, "sha256:<hex>".
func (m *Module) Digest() string { return m.digest }

// Minor returns the ABI minor version the module needs.
func (m *Module) Minor() uint32 { return m.minor }

// Description returns what the module declared about itself.
func (m *Module) Description() Description {
	d := m.desc
	d.Hooks = slices.Clone(d.Hooks)
	d.Capabilities = slices.Clone(d.Capabilities)
	return d
}

// Implements reports whether the module declared hook.
func (m *Module) Implements(hook string) bool { return slices.Contains(m.desc.Hooks, hook) }

// Close releases the compiled module. Bindings made from it must be closed first.
func (m *Module) Close(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	for _, cm := range m.compiled {
		cm.Close(ctx)
	}
	return nil
}
