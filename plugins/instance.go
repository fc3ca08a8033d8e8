package plugins

import (
	"context"
	"crypto/rand"
	"fmt"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// instance is one instantiated module. One goroutine uses it at a time: the pool
// hands it out exclusively.
type instance struct {
	mod   api.Module
	sink  *outputSink
	alloc api.Function
	hooks map[string]api.Function // by export name, looked up on first use
}

// outputSink routes guest stdout and stderr to the current call, or discards.
type outputSink struct{ st *callState }

func (s *outputSink) Write(p []byte) (int, error) {
	if s.st == nil {
		return len(p), nil
	}
	return s.st.Write(p)
}

// newInstance instantiates cm, running its _initialize with st's output capture
// but none of its capabilities. The guest sees no
// filesystem, arguments or environment; real clocks; crypto random bytes.
func newInstance(ctx context.Context, r wazero.Runtime, cm wazero.CompiledModule,
	st *callState) (*instance, error) {
	sink := &outputSink{st: st}
	cfg := wazero.NewModuleConfig().
		WithName("").
		WithStartFunctions(initFunction).
		WithSysWalltime().
		WithSysNanotime().
		WithRandSource(rand.Reader).
		WithStdout(sink).
		WithStderr(sink)
	// Host functions are unavailable while _initialize runs.
	caps := st.caps
	st.caps = 0
	mod, err := r.InstantiateModule(withState(ctx, st), cm, cfg)
	st.caps = caps
	if err != nil {
		return nil, err
	}
	sink.st = nil
	inst := &instance{mod: mod, sink: sink, hooks: map[string]api.Function{}}
	inst.alloc = mod.ExportedFunction(exportAlloc)
	return inst, nil
}

func (in *instance) function(name string) api.Function {
	fn, ok := in.hooks[name]
	if !ok {
		fn = in.mod.ExportedFunction(name)
		in.hooks[name] = fn
	}
	return fn
}

// exchange writes payload into guest memory (allocated by the guest), calls the
// export name with (ptr, len) and returns a copy of the response it points to.
// A nil payload calls name with no arguments.
func (in *instance) exchange(ctx context.Context, name string, payload []byte,
	maxOut int) ([]byte, error) {
	fn := in.function(name)
	if fn == nil {
		return nil, fmt.Errorf("%w: missing export %s", ErrNotPlugin, name)
	}
	var args []uint64
	if payload != nil {
		ptr, err := in.write(ctx, payload)
		if err != nil {
			return nil, err
		}
		args = []uint64{uint64(ptr), uint64(len(payload))}
	}
	res, err := fn.Call(ctx, args...)
	if err != nil {
		return nil, err
	}
	return in.read(res[0], maxOut)
}

func (in *instance) write(ctx context.Context, payload []byte) (uint32, error) {
	res, err := in.alloc.Call(ctx, uint64(len(payload)))
	if err != nil {
		return 0, err
	}
	ptr := api.DecodeU32(res[0])
	if !in.mod.Memory().Write(ptr, payload) {
		return 0, fmt.Errorf("%w: berth_alloc returned %#x, out of bounds", ErrBadResponse, ptr)
	}
	return ptr, nil
}

func (in *instance) read(packed uint64, maxOut int) ([]byte, error) {
	ptr, n := unpack(packed)
	if int64(n) > int64(maxOut) {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrOutputTooLarge, n, maxOut)
	}
	b, ok := in.mod.Memory().Read(ptr, n)
	if !ok {
		return nil, fmt.Errorf("%w: response at %#x+%d out of bounds", ErrBadResponse, ptr, n)
	}
	return append([]byte(nil), b...), nil
}

// call32 calls a niladic export returning an i32.
func (in *instance) call32(ctx context.Context, name string) (uint32, error) {
	res, err := in.mod.ExportedFunction(name).Call(ctx)
	if err != nil {
		return 0, err
	}
	return api.DecodeU32(res[0]), nil
}

func (in *instance) close(ctx context.Context) { _ = in.mod.Close(ctx) }
