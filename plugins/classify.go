package plugins

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/tetratelabs/wazero/sys"
)

// classify names why a guest call failed. in may be nil when instantiation failed.
func (b *Binding) classify(ctx context.Context, st *callState, in *instance,
	err error) error {
	name := b.mod.name
	var exit *sys.ExitError
	switch {
	case st.violation != "":
		return fmt.Errorf("%w: %s used %q", ErrCapabilityNotGranted, name, st.violation)
	case errors.Is(err, ErrOutputTooLarge), errors.Is(err, ErrBadResponse),
		errors.Is(err, ErrNotPlugin):
		return fmt.Errorf("%w (plugin %s, %s)", err, name, st.hook)
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("%w: %s: %s after %v", ErrTimeout, name, st.hook, b.limits.Timeout)
	case ctx.Err() != nil:
		return fmt.Errorf("plugins: %s: %s: %w", name, st.hook, ctx.Err())
	case b.outOfMemory(st, in):
		return fmt.Errorf("%w: %s: %s (cap %d pages)", ErrMemoryLimit, name, st.hook,
			b.limits.MemoryPages)
	case errors.As(err, &exit):
		return fmt.Errorf("%w: %s: %s: exited with code %d", ErrTrapped, name, st.hook,
			exit.ExitCode())
	}
	return fmt.Errorf("%w: %s: %s: %v", ErrTrapped, name, st.hook, firstLine(err))
}

// outOfMemory reports whether a failed guest ran out of memory: its runtime said
// so on stderr, or its memory grew to within 1/16 of the cap.
func (b *Binding) outOfMemory(st *callState, in *instance) bool {
	if strings.Contains(st.output.String(), "out of memory") {
		return true
	}
	if in == nil || in.mod.Memory() == nil {
		return false
	}
	limit := uint64(b.limits.MemoryPages) << 16
	return uint64(in.mod.Memory().Size()) >= limit-limit/16
}

// firstLine trims wazero's error (which may carry a guest stack trace) to its
// first line.
func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}
