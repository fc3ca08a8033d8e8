package kvnode

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/tikv/client-go/v2/oracle"
	"github.com/tikv/client-go/v2/tikv"
	"github.com/tikv/client-go/v2/txnkv"
	"github.com/tikv/client-go/v2/txnkv/transaction"
	"github.com/tikv/client-go/v2/txnkv/txnsnapshot"
)

// TiKVConfig configures a Store on a TiKV cluster. Its zero value is not enough:
// PDEndpoints is required by OpenTiKV.
type TiKVConfig struct {
	// PDEndpoints are the host:port addresses of the cluster's PD members.
	// Required by OpenTiKV; ignored by NewTiKVStore.
	PDEndpoints []string
	// WatchInterval is how often each Watch scans its prefix for changes.
	// Zero means 500 ms.
	WatchInterval time.Duration
	// LocalLatches is the number of latch slots (client-go's txn-local-latches) that
	// queue this process's commits touching the same keys before they reach TiKV, so
	// a loser of a race inside one process retries without a prewrite and rollback
	// in TiKV. Races between processes are still detected by TiKV. Zero means 4096;
	// a negative number turns the latches off.
	LocalLatches int
}

// DefaultTiKVConfig returns a TiKVConfig for the given PD endpoints with every other
// field at its default.
func DefaultTiKVConfig(pd ...string) TiKVConfig {
	return TiKVConfig{PDEndpoints: pd, WatchInterval: 500 * time.Millisecond, LocalLatches: 4096}
}

// Validate reports what in cfg cannot work with OpenTiKV.
func (cfg TiKVConfig) Validate() error {
	if len(cfg.PDEndpoints) == 0 {
		return errors.New("kvnode: tikv: no PD endpoints")
	}
	if cfg.WatchInterval < 0 {
		return errors.New("kvnode: tikv: negative watch interval")
	}
	return nil
}

// latches returns the number of latch slots, 0 for none.
func (cfg TiKVConfig) latches() uint {
	switch {
	case cfg.LocalLatches < 0:
		return 0
	case cfg.LocalLatches == 0:
		return 4096
	}
	return uint(cfg.LocalLatches)
}

func (cfg TiKVConfig) watchInterval() time.Duration {
	if cfg.WatchInterval == 0 {
		return 500 * time.Millisecond
	}
	return cfg.WatchInterval
}

// TiKVStore is a Store on a TiKV cluster, using optimistic transactions (txnkv).
// Update is serializable; Watch is a poll whose remote changes collapse between
// scans. docs/metadata-backends.md explains both.
//
// TiKV treats an empty value as a deletion, so Put and Txn.Put refuse empty values.
type TiKVStore struct {
	kv       *tikv.KVStore
	log      *slog.Logger
	interval time.Duration
	watchers watchSet

	done chan struct{}  // closed by Close; stops the watches
	wg   sync.WaitGroup // counts watch goroutines
	mu   sync.Mutex     // guards closed
	// closed reports whether Close began; no watch starts after it.
	closed bool
}

var _ Store = (*TiKVStore)(nil)

// OpenTiKV connects to the TiKV cluster whose PD members are cfg.PDEndpoints and
// checks, within ctx, that PD hands out timestamps. The connection itself runs under
// client-go's own timeouts, which ctx does not shorten.
func OpenTiKV(ctx context.Context, cfg TiKVConfig, log *slog.Logger) (*TiKVStore, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cli, err := txnkv.NewClient(cfg.PDEndpoints)
	if err != nil {
		return nil, fmt.Errorf("%w: tikv: connect to PD %v: %v",
			ErrUnavailable, cfg.PDEndpoints, err)
	}
	if _, err := cli.GetTimestamp(ctx); err != nil {
		cli.Close()
		return nil, fmt.Errorf("%w: tikv: timestamp from PD: %v", ErrUnavailable, err)
	}
	log.Info("tikv store opened", "pd_endpoints", cfg.PDEndpoints)
	return NewTiKVStore(cli.KVStore, cfg, log), nil
}

// NewTiKVStore returns a Store on an open client-go store, for example the
// in-process cluster of tikv.NewTestTiKVStore. cfg.PDEndpoints is ignored; the
// latches of cfg are turned on in kv unless it has its own. Close closes kv.
func NewTiKVStore(kv *tikv.KVStore, cfg TiKVConfig, log *slog.Logger) *TiKVStore {
	if n := cfg.latches(); n > 0 && !kv.IsLatchEnabled() {
		kv.EnableTxnLocalLatches(n)
	}
	return &TiKVStore{
		kv:       kv,
		log:      log,
		interval: cfg.watchInterval(),
		watchers: watchSet{m: map[*tikvWatcher]struct{}{}},
		done:     make(chan struct{}),
	}
}

// Get returns the value of key, or ErrNotFound.
func (s *TiKVStore) Get(ctx context.Context, key string) ([]byte, error) {
	snap, err := s.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	e, err := snap.Get(ctx, []byte(key))
	if err != nil {
		return nil, mapTiKVErr(err)
	}
	return e.Value, nil
}

// Put sets key to value; value must not be empty.
func (s *TiKVStore) Put(ctx context.Context, key string, value []byte) error {
	return s.Update(ctx, func(tx Txn) error {
		tx.Put(key, value)
		return nil
	})
}

// Delete removes key.
func (s *TiKVStore) Delete(ctx context.Context, key string) error {
	return s.Update(ctx, func(tx Txn) error {
		tx.Delete(key)
		return nil
	})
}

// Range returns up to limit keys under prefix that sort after after.
func (s *TiKVStore) Range(ctx context.Context, prefix, after string, limit int) ([]KV, error) {
	snap, err := s.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	return scanSnapshot(snap, prefix, after, limit)
}

// Close stops the watches, waits for them and closes the client.
func (s *TiKVStore) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.done)
	s.mu.Unlock()
	s.wg.Wait()
	return s.kv.Close()
}

// timestamp asks PD for a fresh timestamp within ctx.
func (s *TiKVStore) timestamp(ctx context.Context) (uint64, error) {
	bo := tikv.NewBackofferWithVars(ctx, transaction.TsoMaxBackoff, nil)
	ts, err := s.kv.GetTimestampWithRetry(bo, oracle.GlobalTxnScope)
	if err != nil {
		return 0, fmt.Errorf("%w: tikv: timestamp: %v", ErrUnavailable, err)
	}
	return ts, nil
}

// snapshot returns a consistent view of the store at a fresh timestamp.
func (s *TiKVStore) snapshot(ctx context.Context) (*txnsnapshot.KVSnapshot, error) {
	ts, err := s.timestamp(ctx)
	if err != nil {
		return nil, err
	}
	return s.kv.GetSnapshot(ts), nil
}

// scanSnapshot reads up to limit keys under prefix after after from snap.
func scanSnapshot(snap *txnsnapshot.KVSnapshot, prefix, after string, limit int) ([]KV, error) {
	start, end := rangeBounds(prefix, after)
	it, err := snap.Iter(start, end)
	if err != nil {
		return nil, mapTiKVErr(err)
	}
	defer it.Close()
	return collect(it, limit)
}

// iterator is what collect needs of a client-go iterator.
type iterator interface {
	Valid() bool
	Key() []byte
	Value() []byte
	Next() error
}

// collect reads up to limit pairs from it; a limit of zero or less reads them all.
func collect(it iterator, limit int) ([]KV, error) {
	var out []KV
	for it.Valid() && (limit <= 0 || len(out) < limit) {
		out = append(out, KV{Key: string(it.Key()), Value: it.Value()})
		if err := it.Next(); err != nil {
			return nil, mapTiKVErr(err)
		}
	}
	return out, nil
}

// rangeBounds returns the first key to read and the end (exclusive, nil for none)
// of a Range over prefix after after.
func rangeBounds(prefix, after string) (start, end []byte) {
	start = []byte(prefix)
	if after >= prefix {
		start = []byte(after + "\x00")
	}
	return start, prefixEnd(prefix)
}

// prefixEnd returns the smallest key above every key that starts with prefix, or nil
// when there is none (an empty prefix, or one of only 0xff bytes).
func prefixEnd(prefix string) []byte {
	end := []byte(prefix)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}
