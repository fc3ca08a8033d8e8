package kvnode

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"

	tikverr "github.com/tikv/client-go/v2/error"
	"github.com/tikv/client-go/v2/tikv"
	"github.com/tikv/client-go/v2/txnkv/transaction"
)

// errEmptyValue reports a Put of an empty value, which TiKV would store as a deletion.
var errEmptyValue = errors.New("kvnode: tikv cannot store an empty value")

// Serializability. TiKV's optimistic transactions are snapshot isolation: at commit
// (prewrite) TiKV rejects a key that someone else committed after our start
// timestamp, but it checks only the keys the transaction writes. A key fn only read
// could change under it (write skew), so Update would not be serializable.
//
// The fix is the one TiDB uses for SELECT ... FOR UPDATE in optimistic mode: every key
// fn reads is passed to KVTxn.LockKeys. In an optimistic transaction that sends no
// request; it only flags the key in the transaction's buffer, and at commit the key is
// prewritten as an Op_Lock mutation. TiKV checks a lock mutation for newer commits
// exactly as it checks a put, and commits it as a lock record that leaves the value
// alone. So commit fails with a write conflict when any key fn read or wrote was
// changed after the start timestamp, which is the read-set validation that etcd.go
// does with mod revisions.
//
// Costs: each read key is one more mutation in the commit; two Updates that only read
// a key (and write other keys) conflict with each other, which is a spurious retry,
// not an anomaly. An Update that writes nothing does not commit at all: its reads come
// from one snapshot, which is serializable on its own.
//
// Local latches (TiKVConfig.LocalLatches) hold the same keys, read and written, against
// commits of this process before the prewrite: they move some conflicts earlier and
// make them cheaper, and never replace TiKV's check, which alone sees other processes.
//
// The rejected alternatives: writing every read key back with its own value (also
// conflicts, but makes a new version, wakes watchers and costs a full value per
// read) and pessimistic transactions (a lock RPC per read, lock waits instead of
// retries, and deadlock detection to configure).

// Update runs fn in an optimistic transaction and commits its writes; when the commit
// meets a conflict, fn runs again after a jittered backoff.
func (s *TiKVStore) Update(ctx context.Context, fn func(tx Txn) error) error {
	for attempt := range maxTxnAttempts {
		if attempt > 0 {
			if err := backoff(ctx, attempt); err != nil {
				return err
			}
		}
		retry, err := s.attempt(ctx, fn)
		if !retry {
			return err
		}
	}
	return ErrConflict
}

// attempt runs fn once; retry reports whether the commit met a conflict.
func (s *TiKVStore) attempt(ctx context.Context, fn func(tx Txn) error) (retry bool, err error) {
	ts, err := s.timestamp(ctx)
	if err != nil {
		return false, err
	}
	txn, err := s.kv.Begin(tikv.WithStartTS(ts))
	if err != nil {
		return false, mapTiKVErr(err)
	}
	tx := &tikvTxn{ctx: ctx, txn: txn, index: map[string]int{}}
	err = fn(tx)
	if tx.err != nil {
		err = tx.err
	}
	if err != nil || len(tx.changes) == 0 {
		_ = txn.Rollback() // nothing was sent to TiKV; this only releases the buffer
		return false, err
	}
	var commitTS uint64
	txn.SetCommitCallback(func(info string, err error) { commitTS = parseCommitTS(info, err) })
	if err := txn.Commit(ctx); err != nil {
		return isTiKVConflict(err), mapTiKVErr(err)
	}
	s.watchers.notify(commitTS, tx.changes)
	return false, nil
}

// parseCommitTS reads the commit timestamp from client-go's commit report, which is
// its one public source; 0 means unknown.
func parseCommitTS(info string, err error) uint64 {
	var ti transaction.TxnInfo
	if err != nil || json.Unmarshal([]byte(info), &ti) != nil {
		return 0
	}
	return ti.CommitTS
}

// tikvTxn is the Txn view of one optimistic KVTxn. Reads go through the KVTxn, so
// they see its own writes; changes records the writes for local watchers.
type tikvTxn struct {
	ctx     context.Context
	txn     *transaction.KVTxn
	changes []Change       // one per written key, in first-write order
	index   map[string]int // key -> position in changes
	err     error          // first store error, or errEmptyValue
}

func (t *tikvTxn) Get(key string) ([]byte, error) {
	k := []byte(key)
	e, err := t.txn.Get(t.ctx, k)
	if err != nil && !tikverr.IsErrNotFound(err) {
		return nil, t.fail(mapTiKVErr(err))
	}
	// Make the read part of the commit's conflict check (see above).
	if err := t.txn.LockKeysWithWaitTime(t.ctx, 0, k); err != nil {
		return nil, t.fail(mapTiKVErr(err))
	}
	if e.Value == nil {
		return nil, ErrNotFound
	}
	return e.Value, nil
}

// prefetch reads keys with one batched request per region (see Prefetch) and makes
// them part of the commit's conflict check like any read. The snapshot caches the
// values, so the Gets that follow send no request.
func (t *tikvTxn) prefetch(keys []string) error {
	ks := make([][]byte, len(keys))
	for i, k := range keys {
		ks[i] = []byte(k)
	}
	if _, err := t.txn.BatchGet(t.ctx, ks); err != nil {
		return t.fail(mapTiKVErr(err))
	}
	if err := t.txn.LockKeysWithWaitTime(t.ctx, 0, ks...); err != nil {
		return t.fail(mapTiKVErr(err))
	}
	return nil
}

func (t *tikvTxn) Put(key string, value []byte) {
	if len(value) == 0 {
		t.fail(errEmptyValue)
		return
	}
	if err := t.txn.Set([]byte(key), value); err != nil {
		t.fail(mapTiKVErr(err))
		return
	}
	t.record(Change{Key: key, Value: bytes.Clone(value)})
}

func (t *tikvTxn) Delete(key string) {
	if err := t.txn.Delete([]byte(key)); err != nil {
		t.fail(mapTiKVErr(err))
		return
	}
	t.record(Change{Key: key, Deleted: true})
}

func (t *tikvTxn) record(c Change) {
	if i, ok := t.index[c.Key]; ok {
		t.changes[i] = c
		return
	}
	t.index[c.Key] = len(t.changes)
	t.changes = append(t.changes, c)
}

// fail keeps the first error, which aborts the transaction, and returns err.
func (t *tikvTxn) fail(err error) error {
	if t.err == nil {
		t.err = err
	}
	return err
}
