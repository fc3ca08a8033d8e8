package kvnode_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tikv/client-go/v2/testutils"
	"github.com/tikv/client-go/v2/tikv"

	"berth.dev/berth/kvnode"
	"berth.dev/berth/kvnode/storetest"
)

// mockTiKV starts client-go's in-process cluster (one PD, one store, one region) and
// returns a function that opens a client-go store on it; all stores it opens share
// the cluster's data, like processes of one deployment. The cluster keeps its data in
// LevelDB files: in memory, every version of a hot key stays in the memtable, reads
// slow down with each commit, and the contention test takes a minute instead of ~20 s.
func mockTiKV(t *testing.T) func() *tikv.KVStore {
	t.Helper()
	client, cluster, pd, err := testutils.NewMockTiKV(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	testutils.BootstrapWithSingleStore(cluster)
	return func() *tikv.KVStore {
		t.Helper()
		kv, err := tikv.NewTestTiKVStore(client, pd, nil, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		return kv
	}
}

func newTiKVStore(t *testing.T, kv *tikv.KVStore) *kvnode.TiKVStore {
	t.Helper()
	cfg := kvnode.TiKVConfig{WatchInterval: 50 * time.Millisecond}
	s := kvnode.NewTiKVStore(kv, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	t.Cleanup(func() { s.Close() })
	return s
}

// TestTiKVStore runs the conformance suite on the TiKV backend over client-go's
// in-process mock cluster.
//
// What this proves: our mapping of the Store onto txnkv (snapshot reads, iterator
// bounds and pagination, reads through the transaction seeing its own writes),
// atomic commits, conflict detection and retries (8 x 1,000 contended increments end
// at exactly 8,000), leases, and the watch as seen by the process that writes (its
// journal plus the poll). All goroutines share one client, so its local latches
// catch most of the conflicts before TiKV does; the tests below use two clients so
// that TiKV itself must detect them, read-only keys included.
//
// What it does not prove: anything about real TiKV and PD over the network (gRPC,
// timeouts, the mapping of their failures to ErrUnavailable), regions split across
// several real stores, leader changes, or PD failover. The mock is client-go's own
// in-process single store.
func TestTiKVStore(t *testing.T) {
	open := mockTiKV(t)
	storetest.Run(t, newTiKVStore(t, open()))
}

// TestTiKVReadKeyConflict is write skew across two clients: a transaction reads x
// and writes y while the other client changes x. Snapshot isolation would commit y
// from the stale x; Update must see the conflict on the key it only read and run fn
// again.
func TestTiKVReadKeyConflict(t *testing.T) {
	open := mockTiKV(t)
	a, b := newTiKVStore(t, open()), newTiKVStore(t, open())
	ctx := context.Background()
	mustPut(t, a, "x", "1")
	runs := 0
	err := a.Update(ctx, func(tx kvnode.Txn) error {
		runs++
		x, err := tx.Get("x")
		if err != nil {
			return err
		}
		if runs == 1 {
			mustPut(t, b, "x", "2") // commits after this transaction started
		}
		tx.Put("y", x)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if y, _ := a.Get(ctx, "y"); runs != 2 || string(y) != "2" {
		t.Fatalf("fn ran %d times, y = %q; want 2 runs and y = 2", runs, y)
	}
}

// TestTiKVPrefetch reads keys through Prefetch and then Get, present and missing.
func TestTiKVPrefetch(t *testing.T) {
	s := newTiKVStore(t, mockTiKV(t)())
	mustPut(t, s, "a", "1")
	err := s.Update(context.Background(), func(tx kvnode.Txn) error {
		if err := kvnode.Prefetch(tx, "a", "missing"); err != nil {
			return err
		}
		if v, err := tx.Get("a"); err != nil || string(v) != "1" {
			return fmt.Errorf("Get a = %q, %v; want 1", v, err)
		}
		if _, err := tx.Get("missing"); !errors.Is(err, kvnode.ErrNotFound) {
			return fmt.Errorf("Get missing: %v, want ErrNotFound", err)
		}
		tx.Put("b", []byte("2"))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestTiKVContentionAcrossClients increments one counter from two clients, so that
// the conflicts between them reach TiKV instead of stopping at a client's latches.
func TestTiKVContentionAcrossClients(t *testing.T) {
	open := mockTiKV(t)
	stores := []kvnode.Store{newTiKVStore(t, open()), newTiKVStore(t, open())}
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for range 100 {
				if err := stores[i%2].Update(ctx, increment); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if v, err := stores[0].Get(ctx, "n"); err != nil || string(v) != "400" {
		t.Fatalf("counter = %s, %v; want 400", v, err)
	}
}

func increment(tx kvnode.Txn) error {
	n := 0
	if v, err := tx.Get("n"); err == nil {
		n, _ = strconv.Atoi(string(v))
	} else if !errors.Is(err, kvnode.ErrNotFound) {
		return err
	}
	tx.Put("n", []byte(strconv.Itoa(n+1)))
	return nil
}

// TestTiKVWatchOtherProcess watches through one client and writes through another:
// such changes are seen only by the poll. Two quick puts usually collapse to the
// last value; a poll that falls between them shows the first one too.
func TestTiKVWatchOtherProcess(t *testing.T) {
	open := mockTiKV(t)
	watcher, writer := newTiKVStore(t, open()), newTiKVStore(t, open())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ch := watcher.Watch(ctx, "w/")
	mustPut(t, writer, "w/a", "1")
	mustPut(t, writer, "w/a", "2")
	for c := next(t, ctx, ch); string(c.Value) != "2"; c = next(t, ctx, ch) {
		if c.Key != "w/a" || string(c.Value) != "1" {
			t.Fatalf("change = %+v, want w/a=1 or w/a=2", c)
		}
	}
	if err := writer.Delete(ctx, "w/a"); err != nil {
		t.Fatal(err)
	}
	if c := next(t, ctx, ch); c.Key != "w/a" || !c.Deleted {
		t.Fatalf("second change = %+v, want w/a deleted", c)
	}
}

// TestTiKVEmptyValue checks that an empty value, which TiKV would store as a
// deletion, is refused.
func TestTiKVEmptyValue(t *testing.T) {
	s := newTiKVStore(t, mockTiKV(t)())
	if err := s.Put(context.Background(), "k", nil); err == nil {
		t.Fatal("Put of an empty value succeeded")
	}
	if _, err := s.Get(context.Background(), "k"); !errors.Is(err, kvnode.ErrNotFound) {
		t.Fatalf("Get after refused Put: %v, want ErrNotFound", err)
	}
}

func mustPut(t *testing.T, s kvnode.Store, key, value string) {
	t.Helper()
	if err := s.Put(context.Background(), key, []byte(value)); err != nil {
		t.Fatal(err)
	}
}

func next(t *testing.T, ctx context.Context, ch <-chan kvnode.Change) kvnode.Change {
	t.Helper()
	select {
	case c, ok := <-ch:
		if !ok {
			t.Fatal("watch closed")
		}
		return c
	case <-ctx.Done():
		t.Fatal("no change seen")
	}
	return kvnode.Change{}
}
