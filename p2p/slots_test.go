package p2p

import (
	"context"
	"testing"
	"time"
)

// TestUploadSlots checks that a freed slot goes to the waiter holding the fewest
// pieces, first come among equals, and that a waiter past its wait gets none.
func TestUploadSlots(t *testing.T) {
	u := newUploadSlots(1)
	ctx := context.Background()
	if !u.acquire(ctx, 5, 0) {
		t.Fatal("a free slot was refused")
	}
	if u.acquire(ctx, 0, time.Millisecond) {
		t.Fatal("a busy slot was granted")
	}
	order := make(chan int, 3)
	waiters := []int{7, 2, 2} // pieces held; the second waiter (2, earlier) goes first
	for i, have := range waiters {
		go func() {
			if u.acquire(ctx, have, time.Minute) {
				order <- i
			}
		}()
		waitFor(t, func() bool { return u.waitingLen() == i+1 })
	}
	for _, want := range []int{1, 2, 0} {
		u.release()
		if got := <-order; got != want {
			t.Errorf("slot went to waiter %d (holding %d), want waiter %d", got, waiters[got],
				want)
		}
	}
	u.release()
	if !u.acquire(ctx, 0, 0) {
		t.Error("the slot was not free after the last release")
	}
}

func (u *uploadSlots) waitingLen() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.waiting)
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for range 1000 {
		if cond() {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatal("condition not reached")
}
