package p2p

import (
	"context"
	"testing"
	"time"
)

// TestUploadSlots checks that a freed slot goes to the waiter holding the fewest
// pieces, first come among equals, and that a waiter past its wait gets none.
func TestUploadSlots(t *testing.T) {
	u := newUploadSlots(2)
	ctx := context.Background()
	if !u.acquire(ctx, 5, 0) || !u.acquire(ctx, 5, 0) {
		t.Fatal("a free slot was refused")
	}
	if u.acquire(ctx, 0, time.Millisecond) {
		t.Fatal("a busy slot was granted")
	}
	order := make(chan int, 2)
	waiters := []int{7, 2} // pieces held; the second waiter goes first
	for i, have := range waiters {
		go func() {
			if u.acquire(ctx, have, time.Minute) {
				order <- i
			}
		}()
		waitFor(t, func() bool { return u.waitingLen() == i+1 })
	}
	for _, want := range []int{1, 0} {
		u.release()
		if got := <-order; got != want {
			t.Errorf("slot went to waiter %d (holding %d), want waiter %d", got, waiters[got],
				want)
		}
	}
	u.release()
	u.release()
	if !u.acquire(ctx, 0, 0) {
		t.Error("the slot was not free after the last release")
	}
}

// TestUploadSlotsQueue checks the short queue: as many waiters as slots; a
// needier asker takes the place of the least needy waiter, another is declined
// at once.
func TestUploadSlotsQueue(t *testing.T) {
	u := newUploadSlots(1)
	ctx := context.Background()
	if !u.acquire(ctx, 5, 0) {
		t.Fatal("a free slot was refused")
	}
	results := make(chan string, 3)
	ask := func(name string, have int) {
		go func() {
			if u.acquire(ctx, have, time.Minute) {
				results <- name + " granted"
			} else {
				results <- name + " declined"
			}
		}()
	}
	ask("holder of 7", 7)
	waitFor(t, func() bool { return u.waitingLen() == 1 })
	ask("holder of 2", 2)
	if got := <-results; got != "holder of 7 declined" {
		t.Errorf("got %q, want the least needy waiter evicted", got)
	}
	ask("another holder of 2", 2)
	if got := <-results; got != "another holder of 2 declined" {
		t.Errorf("got %q, want the asker past a full queue declined", got)
	}
	u.release()
	if got := <-results; got != "holder of 2 granted" {
		t.Errorf("got %q, want the waiter granted", got)
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
