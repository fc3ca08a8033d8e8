package p2p

import (
	"context"
	"sync"
	"time"
)

// uploadSlots bounds the pieces a peer sends at once. A freed slot goes to the
// waiting asker that holds the fewest pieces, first come first among equals, so
// that agents that have nothing yet start early instead of starving behind
// agents that are nearly done (docs/p2p.md).
type uploadSlots struct {
	mu      sync.Mutex
	free    int           // guarded by mu
	waiting []*slotWaiter // guarded by mu
	seq     uint64        // guarded by mu
}

type slotWaiter struct {
	have  int
	seq   uint64
	ready chan struct{} // closed when the slot is granted
}

func newUploadSlots(n int) *uploadSlots { return &uploadSlots{free: max(n, 1)} }

// acquire waits up to wait for a slot for an asker holding have pieces. It reports
// whether it got one; the caller then calls release.
func (u *uploadSlots) acquire(ctx context.Context, have int, wait time.Duration) bool {
	u.mu.Lock()
	if u.free > 0 && len(u.waiting) == 0 {
		u.free--
		u.mu.Unlock()
		return true
	}
	u.seq++
	w := &slotWaiter{have: have, seq: u.seq, ready: make(chan struct{})}
	u.waiting = append(u.waiting, w)
	u.mu.Unlock()

	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-w.ready:
		return true
	case <-timer.C:
	case <-ctx.Done():
	}
	return !u.forget(w)
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
	return false
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
		b := u.waiting[best]
		if w.have < b.have || (w.have == b.have && w.seq < b.seq) {
			best = i
		}
	}
	w := u.waiting[best]
	u.waiting = append(u.waiting[:best], u.waiting[best+1:]...)
	close(w.ready)
}
