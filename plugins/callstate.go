package plugins

import (
	"bytes"
	"context"
	"log/slog"
)

// callState is what host functions and captured output see of the current call.
// One goroutine owns it: the one running the call.
type callState struct {
	plugin  string
	hook    string
	caps    capSet
	subject Subject
	logger  *slog.Logger

	logLeft   int          // bytes the call may still log
	dropped   int          // log bytes dropped past the budget
	output    bytes.Buffer // guest stdout and stderr, within the budget
	violation Capability   // set when the guest used an ungranted capability
	docs      map[Capability]fetched
}

type fetched struct {
	doc  []byte
	code int64 // 0, docUnavailable or docFailed
}

type stateKey struct{}

func withState(ctx context.Context, st *callState) context.Context {
	return context.WithValue(ctx, stateKey{}, st)
}

func stateOf(ctx context.Context) *callState {
	st, _ := ctx.Value(stateKey{}).(*callState)
	return st
}

// spend takes n bytes from the log budget and reports whether they fit.
func (st *callState) spend(n int) bool {
	if n > st.logLeft {
		st.dropped += n
		return false
	}
	st.logLeft -= n
	return true
}

// Write captures guest stdout and stderr within the log budget.
func (st *callState) Write(p []byte) (int, error) {
	n := min(len(p), max(st.logLeft, 0))
	st.output.Write(p[:n])
	st.spend(n)
	st.dropped += len(p) - n
	return len(p), nil
}

// flush logs the captured output: Warn when the call failed, Debug otherwise.
func (st *callState) flush(ctx context.Context, failed bool) {
	if st.output.Len() == 0 && st.dropped == 0 {
		return
	}
	level := slog.LevelDebug
	if failed {
		level = slog.LevelWarn
	}
	st.logger.Log(ctx, level, "plugin output", "plugin", st.plugin, "hook", st.hook,
		"output", st.output.String(), "dropped_bytes", st.dropped)
}
