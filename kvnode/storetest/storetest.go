// Package storetest is the conformance suite of kvnode.Store: every backend's tests
// call Run, so that all backends keep the same contract.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"

	"berth.dev/berth/kvnode"
)

// Run checks the Store contract on s. It writes only under a random prefix, so one
// store can serve several runs.
func Run(t *testing.T, s kvnode.Store) {
	p := fmt.Sprintf("storetest-%08x/", rand.Uint32())
	t.Run("get-put-delete", func(t *testing.T) { testGetPutDelete(t, s, p) })
	t.Run("range-pagination", func(t *testing.T) { testRange(t, s, p) })
	t.Run("update-atomic", func(t *testing.T) { testUpdateAtomic(t, s, p) })
	t.Run("update-reads-own-writes", func(t *testing.T) { testOwnWrites(t, s, p) })
	t.Run("update-contention", func(t *testing.T) { testContention(t, s, p) })
	t.Run("watch", func(t *testing.T) { testWatch(t, s, p) })
	t.Run("lease", func(t *testing.T) { testLease(t, s, p) })
}

func testGetPutDelete(t *testing.T, s kvnode.Store, p string) {
	ctx := context.Background()
	if _, err := s.Get(ctx, p+"missing"); !errors.Is(err, kvnode.ErrNotFound) {
		t.Fatalf("Get missing: %v, want ErrNotFound", err)
	}
	if err := s.Put(ctx, p+"k", []byte("one")); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Get(ctx, p+"k"); err != nil || string(v) != "one" {
		t.Fatalf("Get = %q, %v; want one", v, err)
	}
	if err := s.Put(ctx, p+"k", []byte("two")); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.Get(ctx, p+"k"); string(v) != "two" {
		t.Fatalf("Get after overwrite = %q; want two", v)
	}
	if err := s.Delete(ctx, p+"k"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, p+"k"); !errors.Is(err, kvnode.ErrNotFound) {
		t.Fatalf("Get deleted: %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, p+"k"); err != nil {
		t.Fatalf("Delete missing: %v", err)
	}
}

func testRange(t *testing.T, s kvnode.Store, p string) {
	ctx := context.Background()
	pre := p + "r/"
	for i := range 25 {
		if err := s.Put(ctx, fmt.Sprintf("%s%02d", pre, i), []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Put(ctx, p+"r0", []byte("outside the prefix")); err != nil {
		t.Fatal(err)
	}
	var keys []string
	after := ""
	for pages := 0; ; pages++ {
		page, err := s.Range(ctx, pre, after, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, kv := range page {
			keys = append(keys, kv.Key)
		}
		if len(page) < 10 {
			break
		}
		after = page[len(page)-1].Key
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
	}
	if len(keys) != 25 || keys[0] != pre+"00" || keys[24] != pre+"24" {
		t.Fatalf("paged keys = %v", keys)
	}
	for i := 1; i < len(keys); i++ {
		if keys[i-1] >= keys[i] {
			t.Fatalf("keys out of order: %q before %q", keys[i-1], keys[i])
		}
	}
	all, err := s.Range(ctx, pre, "", 0)
	if err != nil || len(all) != 25 {
		t.Fatalf("Range without limit = %d keys, %v; want 25", len(all), err)
	}
}

func testUpdateAtomic(t *testing.T, s kvnode.Store, p string) {
	ctx := context.Background()
	boom := errors.New("boom")
	err := s.Update(ctx, func(tx kvnode.Txn) error {
		tx.Put(p+"a", []byte("1"))
		tx.Put(p+"b", []byte("1"))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update err = %v, want boom", err)
	}
	if _, err := s.Get(ctx, p+"a"); !errors.Is(err, kvnode.ErrNotFound) {
		t.Fatalf("aborted write visible: %v", err)
	}
	err = s.Update(ctx, func(tx kvnode.Txn) error {
		tx.Put(p+"a", []byte("2"))
		tx.Put(p+"b", []byte("2"))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a", "b"} {
		if v, _ := s.Get(ctx, p+k); string(v) != "2" {
			t.Fatalf("%s = %q after commit, want 2", k, v)
		}
	}
}

func testOwnWrites(t *testing.T, s kvnode.Store, p string) {
	err := s.Update(context.Background(), func(tx kvnode.Txn) error {
		tx.Put(p+"own", []byte("x"))
		if v, err := tx.Get(p + "own"); err != nil || string(v) != "x" {
			return fmt.Errorf("own write not read back: %q, %v", v, err)
		}
		tx.Delete(p + "own")
		if _, err := tx.Get(p + "own"); !errors.Is(err, kvnode.ErrNotFound) {
			return fmt.Errorf("own delete not seen: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// testContention has 8 goroutines each add 1 to a counter 1,000 times in
// transactions; the counter must end at exactly 8,000.
func testContention(t *testing.T, s kvnode.Store, p string) {
	const workers, each = 8, 1000
	ctx := context.Background()
	key := p + "counter"
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				if err := s.Update(ctx, func(tx kvnode.Txn) error { return increment(tx, key) }); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	v, err := s.Get(ctx, key)
	if err != nil || string(v) != strconv.Itoa(workers*each) {
		t.Fatalf("counter = %s, %v; want %d", v, err, workers*each)
	}
}

func increment(tx kvnode.Txn, key string) error {
	n := 0
	v, err := tx.Get(key)
	switch {
	case err == nil:
		if n, err = strconv.Atoi(string(v)); err != nil {
			return err
		}
	case !errors.Is(err, kvnode.ErrNotFound):
		return err
	}
	tx.Put(key, []byte(strconv.Itoa(n+1)))
	return nil
}

func testWatch(t *testing.T, s kvnode.Store, p string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pre := p + "w/"
	// No pause: the contract is that a change committed after Watch returns is seen.
	ch := s.Watch(ctx, pre)
	if err := s.Put(ctx, pre+"x", []byte("1")); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, p+"not-watched", []byte("1")); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, pre+"x"); err != nil {
		t.Fatal(err)
	}
	want := []kvnode.Change{{Key: pre + "x", Value: []byte("1")}, {Key: pre + "x", Deleted: true}}
	for i, w := range want {
		select {
		case c, ok := <-ch:
			if !ok {
				t.Fatalf("watch closed before change %d", i)
			}
			if c.Key != w.Key || c.Deleted != w.Deleted || string(c.Value) != string(w.Value) {
				t.Fatalf("change %d = %+v, want %+v", i, c, w)
			}
		case <-ctx.Done():
			t.Fatalf("change %d not seen", i)
		}
	}
	cancel()
	for range ch { // the channel must close once ctx ends
	}
}

func testLease(t *testing.T, s kvnode.Store, p string) {
	ctx := context.Background()
	key := p + "lease"
	if _, err := kvnode.AcquireLease(ctx, s, key, "a", time.Minute); err != nil {
		t.Fatal(err)
	}
	_, err := kvnode.AcquireLease(ctx, s, key, "b", time.Minute)
	if !errors.Is(err, kvnode.ErrLeaseHeld) {
		t.Fatalf("second owner: %v, want ErrLeaseHeld", err)
	}
	if _, err := kvnode.AcquireLease(ctx, s, key, "a", time.Minute); err != nil {
		t.Fatalf("renewal by the owner: %v", err)
	}
	if err := kvnode.ReleaseLease(ctx, s, key, "a"); err != nil {
		t.Fatal(err)
	}
	l, err := kvnode.AcquireLease(ctx, s, key, "b", time.Millisecond)
	if err != nil || l.Owner != "b" {
		t.Fatalf("after release: %+v, %v", l, err)
	}
	time.Sleep(5 * time.Millisecond)
	if _, err := kvnode.AcquireLease(ctx, s, key, "c", time.Minute); err != nil {
		t.Fatalf("expired lease not taken over: %v", err)
	}
}

// Embedded starts a single embedded member in a temporary directory for a test of
// another package, and closes it when the test ends.
func Embedded(t testing.TB) kvnode.Store {
	t.Helper()
	s, err := kvnode.StartEmbedded(context.Background(), kvnode.EmbeddedConfig{Dir: t.TempDir()},
		slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
