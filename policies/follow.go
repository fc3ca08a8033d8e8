package policies

import (
	"context"
	"time"

	"berth.dev/berth/kvnode"
)

// followRetry is the pause before watching again after a broken watch or a
// failed reload; rebindRetry, before binding again what could not be bound.
// resyncEvery is the period of a reload with no change seen: a safety net that
// bounds how long a change a watch failed to deliver (a lost event, a watch that
// stalled without closing) stays unapplied.
const (
	followRetry = time.Second
	rebindRetry = 30 * time.Second
	resyncEvery = 15 * time.Second
)

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
		e.follow(ctx, changes)
		sleep(ctx, followRetry)
	}
}

// follow reloads now and after each batch of changes until the watch ends. A
// failed reload is tried again after followRetry, and bindings that could not be
// bound (a module unreadable for a moment) after rebindRetry, even when nothing
// changes.
func (e *Engine) follow(ctx context.Context, changes <-chan kvnode.Change) {
	var retry <-chan time.Time
	resync := time.NewTicker(resyncEvery)
	defer resync.Stop()
	for {
		if err := e.Reload(ctx); err != nil && ctx.Err() == nil {
			e.log.Warn("policies: reload failed; the bindings in force stay", "err", err)
			retry = time.After(followRetry)
		} else if e.anyFailed() {
			retry = time.After(rebindRetry)
		} else {
			retry = nil
		}
		select {
		case _, ok := <-changes:
			if !ok {
				return
			}
			drain(changes)
		case <-retry:
		case <-resync.C:
		case <-ctx.Done():
			return
		}
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

// anyFailed reports whether a binding in force could not be bound.
func (e *Engine) anyFailed() bool {
	for _, b := range e.cur.Load().bound {
		if b.err != nil {
			return true
		}
	}
	return false
}
