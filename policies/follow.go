package policies

import (
	"context"
	"time"
)

// followRetry is the pause before watching again after a broken watch or a
// failed reload.
const followRetry = time.Second

// Follow keeps the engine's bindings equal to those stored in its catalog until
// ctx ends: it watches the plugin and binding records (changed through any
// gateway) and reloads after each batch of changes. Without a catalog it returns
// at once. Run it in its own goroutine; it returns when ctx ends.
func (e *Engine) Follow(ctx context.Context) {
	if e.cat == nil {
		return
	}
	for ctx.Err() == nil {
		changes := e.cat.kv.Watch(ctx, prefixAll)
		// Reload after the watch started, so that no change falls in between.
		e.reload(ctx)
		for range changes {
			drain(changes)
			e.reload(ctx)
		}
		sleep(ctx, followRetry)
	}
}

// reload reloads, logging a failure (the bindings in force stay).
func (e *Engine) reload(ctx context.Context) {
	if err := e.Reload(ctx); err != nil && ctx.Err() == nil {
		e.log.Warn("policies: reload failed; the bindings in force stay", "err", err)
	}
}

// drain takes the changes already queued, so that a burst causes one reload.
func drain[T any](c <-chan T) {
	for {
		select {
		case _, ok := <-c:
			if !ok {
				return
			}
		default:
			return
		}
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
