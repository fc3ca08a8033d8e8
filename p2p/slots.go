package p2p

import (
	"context"
	"sync"
	"time"
)

// uploadSlots bounds the pieces a peer sends at once. A freed slot goes to the
// waiting asker that holds the fewest pieces, first come first among equals, so
// that agents that have nothing yet start early instead of starving behind
// agents that are nearly done. The queue is short, as many waiters as slots: an
// asker past it is declined at once (or, when it holds fewer pieces than the
// least needy waiter, takes that waiter's place), so that it asks an idle holder
// instead of idling in a queue (docs/p2p.md).
type uploadSlots struct {
	mu      sync.Mutex
	slots   int
	free    int           // guarded by mu
	waiting []*slotWaiter // guarded by mu
	seq     uint64        // guarded by mu
}

type slotWaiter struct {
	have    int
	seq     uint64
	granted bool          // set before ready closes: false means evicted
	ready   chan struct{} // closed when the slot is granted or the waiter evicted
}

func newUploadSlots(n int) *uploadSlots {
	n = max(n, 1)
	return &uploadSlots{slots: n, free: n}
}

// acquire waits up to wait for a slot for an asker holding have pieces. It reports
// whether it got one; the caller then calls release.
func (u *uploadSlots) acquire(ctx context.Context, have int, wait time.Duration) bool {
	u.mu.Lock()
	if u.free > 0 && len(u.waiting) == 0 {
		u.free--
		u.mu.Unlock()
		return true
	}
	if len(u.waiting) >= u.slots && !u.evictFor(have) {
		u.mu.Unlock()
		return false
	}
	u.seq++
	w := &slotWaiter{have: have, seq: u.seq, ready: make(chan struct{})}
	u.waiting = append(u.waiting, w)
	u.mu.Unlock()

	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-w.ready:
		return w.granted
	case <-timer.C:
	case <-ctx.Done():
	}
	return !u.forget(w)
}

// evictFor declines the least needy waiter (the one holding the most pieces,
// the latest among equals) when it holds more than have. Called with mu held.
func (u *uploadSlots) evictFor(have int) bool {
	worst := -1
	for i, w := range u.waiting {
		if worst < 0 || !w.before(u.waiting[worst]) {
			worst = i
		}
	}
	if worst < 0 || u.waiting[worst].have <= have {
		return false
	}
	w := u.waiting[worst]
	u.waiting = append(u.waiting[:worst], u.waiting[worst+1:]...)
	close(w.ready)
	return true
}

// before reports whether w goes before x: it holds fewer pieces, or as many and
// came first.
func (w *slotWaiter) before(x *slotWaiter) bool {
	return w.have < x.have || (w.have == x.have && w.seq < x.seq)
}

// forget removes w from the waiters; false means it was granted meanwhile.
func (u *uploadSlots) forget(w *slotWaiter) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	for i, x := range u.waiting {
		if x == w {
			u.waiting = append(u.waiting[:i], u.waiting[i+1:]...)
			return true
		}
	}
	return !w.granted
}

// release frees a slot, handing it to the neediest waiter.
func (u *uploadSlots) release() {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.waiting) == 0 {
		u.free++
		return
	}
	best := 0
	for i, w := range u.waiting {
		if w.before(u.waiting[best]) {
			best = i
		}
	}
	w := u.waiting[best]
	u.waiting = append(u.waiting[:best], u.waiting[best+1:]...)
	w.granted = true
	close(w.ready)
}
