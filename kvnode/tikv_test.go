package kvnode_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/tikv/client-go/v2/testutils"
	"github.com/tikv/client-go/v2/tikv"

	"berth.dev/berth/kvnode"
	"berth.dev/berth/kvnode/storetest"
)

// mockTiKV starts client-go's in-process cluster (one PD, one store, one region) and
// returns a function that opens a client-go store on it; all stores it opens share
// the cluster's data, like processes of one deployment.
func mockTiKV(t *testing.T) func() *tikv.KVStore {
	t.Helper()
	client, cluster, pd, err := testutils.NewMockTiKV("", nil)
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
// bounds and pagination, reads through the transaction seeing its own writes), the
// serializable Update (read keys locked into the commit, write conflicts detected and
// retried: 8 x 1,000 contended increments end at exactly 8,000), leases, and the
// watch as seen by the process that writes (its journal plus the poll).
//
// What it does not prove: anything about real TiKV and PD over the network (gRPC,
// timeouts, the mapping of their failures to ErrUnavailable), regions split across
// several real stores, leader changes, or PD failover. The mock is client-go's own
// in-process single store. TestTiKVWatchOtherProcess covers the watch between two
// clients, which the suite does not.
func TestTiKVStore(t *testing.T) {
	open := mockTiKV(t)
	storetest.Run(t, newTiKVStore(t, open()))
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
