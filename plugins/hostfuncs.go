package plugins

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// Host functions of ABI 1.0, all under HostModule. Each checks the call's
// capabilities; a guest that calls one it was not granted is stopped (the call
// fails with ErrCapabilityNotGranted and the instance is discarded).
var hostFunctions = map[string]Capability{
	"log":       CapLog,
	"manifest":  CapManifest,
	"config":    CapConfig,
	"referrers": CapReferrers,
}

// Log levels of berth_v1.log.
var logLevels = []slog.Level{slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError}

func instantiateHostModule(ctx context.Context, r wazero.Runtime) error {
	i32, i64 := api.ValueTypeI32, api.ValueTypeI64
	b := r.NewHostModuleBuilder(HostModule)
	b.NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(hostLog), []api.ValueType{i32, i32, i32}, nil).
		WithParameterNames("level", "ptr", "len").Export("log")
	for _, c := range []Capability{CapManifest, CapConfig, CapReferrers} {
		b.NewFunctionBuilder().
			WithGoModuleFunction(docFunc(c), []api.ValueType{i32, i32}, []api.ValueType{i64}).
			WithParameterNames("ptr", "cap").Export(string(c))
	}
	_, err := b.Instantiate(ctx)
	return err
}

// require returns the call state if the call was granted c, and otherwise stops
// the guest by panicking; wazero turns the panic into the call's error.
func require(ctx context.Context, c Capability) *callState {
	st := stateOf(ctx)
	if st != nil && st.caps.has(c) {
		return st
	}
	if st != nil {
		st.violation = c
	}
	panic(fmt.Errorf("%w: %s", ErrCapabilityNotGranted, c))
}

// hostLog is berth_v1.log(level, ptr, len).
func hostLog(ctx context.Context, m api.Module, stack []uint64) {
	st := require(ctx, CapLog)
	level, ptr, n := api.DecodeU32(stack[0]), api.DecodeU32(stack[1]), api.DecodeU32(stack[2])
	if !st.spend(int(n)) {
		return
	}
	msg, ok := m.Memory().Read(ptr, n)
	if !ok {
		panic(fmt.Errorf("plugins: log: message out of memory bounds"))
	}
	lv := slog.LevelInfo
	if int(level) < len(logLevels) {
		lv = logLevels[level]
	}
	st.logger.Log(ctx, lv, string(msg), "plugin", st.plugin, "hook", st.hook)
}

// docFunc returns berth_v1.<c>(ptr, cap) -> size: it copies up to cap bytes of the
// document to ptr and returns the document's full size, or a negative code.
func docFunc(c Capability) api.GoModuleFunc {
	return func(ctx context.Context, m api.Module, stack []uint64) {
		st := require(ctx, c)
		ptr, capacity := api.DecodeU32(stack[0]), api.DecodeU32(stack[1])
		f := st.document(ctx, c)
		if f.code != 0 {
			stack[0] = uint64(f.code)
			return
		}
		n := min(uint32(len(f.doc)), capacity)
		if n > 0 && !m.Memory().Write(ptr, f.doc[:n]) {
			panic(fmt.Errorf("plugins: %s: buffer out of memory bounds", c))
		}
		stack[0] = uint64(len(f.doc))
	}
}

// document fetches the document of c once per call.
func (st *callState) document(ctx context.Context, c Capability) fetched {
	if f, ok := st.docs[c]; ok {
		return f
	}
	doc, err := fetch(ctx, st.subject, c)
	f := fetched{doc: doc}
	switch {
	case errors.Is(err, ErrNoDocument):
		f.code = docUnavailable
	case err != nil:
		f.code = docFailed
		st.logger.DebugContext(ctx, "plugin subject read failed", "plugin", st.plugin,
			"capability", string(c), "err", err)
	}
	if st.docs == nil {
		st.docs = map[Capability]fetched{}
	}
	st.docs[c] = f
	return f
}
