package kvnode

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// maxTxnAttempts bounds the optimistic retries of Update; in practice the deadline
// of Update (twice the request timeout) ends a long contention first.
const maxTxnAttempts = 10000

// backoff waits a random time below a limit that doubles with each attempt from
// 1 ms to 16 ms ("full jitter"), so that conflicting writers spread out instead of
// colliding again. The cap stays low: a writer that lost several times must not
// sleep so long that fresh writers, retrying at once, always win (under CPU load, a
// 64 ms cap let one writer of eight lose for the whole deadline).
func backoff(ctx context.Context, attempt int) error {
	limit := time.Millisecond << min(attempt-1, 4)
	t := time.NewTimer(time.Duration(rand.Int64N(int64(limit))))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%w: %v", ErrUnavailable, ctx.Err())
	}
}

// DefaultRequestTimeout bounds one store operation: past it, a cluster without
// quorum answers ErrUnavailable instead of hanging the request.
const DefaultRequestTimeout = 5 * time.Second

// EtcdStore is a Store on an etcd v3 client.
type EtcdStore struct {
	cli     *clientv3.Client
	onClose func() error
	timeout time.Duration
	// local reports whether the store is a lone member in this process, whose local
	// (serializable) reads are as fresh as linearizable ones and skip a Raft round.
	local bool
}

// readOpts returns the options of a read.
func (s *EtcdStore) readOpts(opts ...clientv3.OpOption) []clientv3.OpOption {
	if s.local {
		opts = append(opts, clientv3.WithSerializable())
	}
	return opts
}

// NewEtcdStore returns a Store on cli. onClose, when not nil, runs at Close after the
// client is closed.
func NewEtcdStore(cli *clientv3.Client, onClose func() error) *EtcdStore {
	return &EtcdStore{cli: cli, onClose: onClose, timeout: DefaultRequestTimeout}
}

// op bounds one operation by the request timeout.
func (s *EtcdStore) op(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.timeout)
}

// Get returns the value of key, or ErrNotFound.
func (s *EtcdStore) Get(ctx context.Context, key string) ([]byte, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	resp, err := s.cli.Get(ctx, key, s.readOpts()...)
	if err != nil {
		return nil, mapErr(err)
	}
	if len(resp.Kvs) == 0 {
		return nil, ErrNotFound
	}
	return resp.Kvs[0].Value, nil
}

// Put sets key to value.
func (s *EtcdStore) Put(ctx context.Context, key string, value []byte) error {
	ctx, cancel := s.op(ctx)
	defer cancel()
	_, err := s.cli.Put(ctx, key, string(value))
	return mapErr(err)
}

// Delete removes key.
func (s *EtcdStore) Delete(ctx context.Context, key string) error {
	ctx, cancel := s.op(ctx)
	defer cancel()
	_, err := s.cli.Delete(ctx, key)
	return mapErr(err)
}

// Range returns up to limit keys under prefix that sort after after.
func (s *EtcdStore) Range(ctx context.Context, prefix, after string, limit int) ([]KV, error) {
	start := prefix
	if after >= prefix {
		start = after + "\x00"
	}
	opts := []clientv3.OpOption{
		clientv3.WithRange(clientv3.GetPrefixRangeEnd(prefix)),
		clientv3.WithSort(clientv3.SortByKey, clientv3.SortAscend),
	}
	if limit > 0 {
		opts = append(opts, clientv3.WithLimit(int64(limit)))
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	resp, err := s.cli.Get(ctx, start, s.readOpts(opts...)...)
	if err != nil {
		return nil, mapErr(err)
	}
	out := make([]KV, len(resp.Kvs))
	for i, kv := range resp.Kvs {
		out[i] = KV{Key: string(kv.Key), Value: kv.Value}
	}
	return out, nil
}

// Update runs fn in a transaction that commits only if no key fn read has changed.
func (s *EtcdStore) Update(ctx context.Context, fn func(tx Txn) error) error {
	ctx, cancel := context.WithTimeout(ctx, 2*s.timeout)
	defer cancel()
	for attempt := range maxTxnAttempts {
		if attempt > 0 {
			if err := backoff(ctx, attempt); err != nil {
				return err
			}
		}
		tx := &etcdTxn{ctx: ctx, cli: s.cli, reads: map[string]read{}, writes: map[string]write{}}
		if err := fn(tx); err != nil {
			if tx.err != nil {
				return tx.err
			}
			// Reads inside a transaction may come from a member that lags behind;
			// an error fn drew from them counts only if they were current.
			current, verr := tx.validate()
			if verr != nil {
				return verr
			}
			if current {
				return err
			}
			continue
		}
		ok, err := tx.commit()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
	}
	return ErrConflict
}

// Watch streams the changes under prefix until ctx ends or the watch breaks.
func (s *EtcdStore) Watch(ctx context.Context, prefix string) <-chan Change {
	out := make(chan Change, 64)
	// etcd registers a watch asynchronously, from the revision current when the server
	// gets it: a change committed between this call and then would be missed. Start
	// from the revision after the one current now instead.
	head, err := s.cli.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		close(out)
		return out
	}
	wch := s.cli.Watch(clientv3.WithRequireLeader(ctx), prefix, clientv3.WithPrefix(),
		clientv3.WithRev(head.Header.Revision+1))
	go func() {
		defer close(out)
		for resp := range wch {
			if resp.Err() != nil {
				return
			}
			for _, ev := range resp.Events {
				c := Change{Key: string(ev.Kv.Key), Value: ev.Kv.Value}
				c.Deleted = ev.Type == clientv3.EventTypeDelete
				if c.Deleted {
					c.Value = nil
				}
				select {
				case out <- c:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out
}

// Close closes the client and then runs the close hook.
func (s *EtcdStore) Close() error {
	err := s.cli.Close()
	if s.onClose != nil {
		err = errors.Join(err, s.onClose())
	}
	return err
}

type read struct {
	value []byte
	rev   int64 // mod revision; 0 when the key was missing
}

type write struct {
	value   []byte
	deleted bool
}

// etcdTxn records what a transaction read (with mod revisions) and what it writes.
type etcdTxn struct {
	ctx    context.Context
	cli    *clientv3.Client
	reads  map[string]read
	writes map[string]write
	order  []string // keys of writes in first-write order
	err    error    // first store error seen by Get
}

func (t *etcdTxn) Get(key string) ([]byte, error) {
	if w, ok := t.writes[key]; ok {
		if w.deleted {
			return nil, ErrNotFound
		}
		return w.value, nil
	}
	r, ok := t.reads[key]
	if !ok {
		var err error
		if r, err = t.fetch(key); err != nil {
			t.err = err
			return nil, err
		}
		t.reads[key] = r
	}
	if r.rev == 0 {
		return nil, ErrNotFound
	}
	return r.value, nil
}

// prefetch reads the keys not read yet, all at once: one round trip instead of one
// per key when the members are remote.
func (t *etcdTxn) prefetch(keys []string) error {
	var todo []string
	for _, k := range keys {
		_, read := t.reads[k]
		_, written := t.writes[k]
		if !read && !written && !slices.Contains(todo, k) {
			todo = append(todo, k)
		}
	}
	if len(todo) < 2 {
		return nil
	}
	got := make([]read, len(todo))
	errs := make([]error, len(todo))
	var wg sync.WaitGroup
	for i, k := range todo {
		wg.Go(func() { got[i], errs[i] = t.fetch(k) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.err = err
		return err
	}
	for i, k := range todo {
		t.reads[k] = got[i]
	}
	return nil
}

// fetch reads key from the store for the read set.
func (t *etcdTxn) fetch(key string) (read, error) {
	resp, err := t.cli.Get(t.ctx, key, clientv3.WithSerializable())
	if err != nil {
		return read{}, mapErr(err)
	}
	if len(resp.Kvs) == 0 {
		return read{}, nil
	}
	return read{value: resp.Kvs[0].Value, rev: resp.Kvs[0].ModRevision}, nil
}

func (t *etcdTxn) Put(key string, value []byte) { t.set(key, write{value: value}) }

func (t *etcdTxn) Delete(key string) { t.set(key, write{deleted: true}) }

func (t *etcdTxn) set(key string, w write) {
	if _, ok := t.writes[key]; !ok {
		t.order = append(t.order, key)
	}
	t.writes[key] = w
}

// validate reports whether every key read still has the revision it was read at.
// The read in Then is there for etcd's sake: a transaction with no operations
// counts as serializable and would be answered by whichever member the client
// picked, perhaps one that lags; a linearizable read makes it consult the leader.
func (t *etcdTxn) validate() (bool, error) {
	if len(t.reads) == 0 {
		return true, nil
	}
	var any string
	for k := range t.reads {
		any = k
		break
	}
	resp, err := t.cli.Txn(t.ctx).If(t.readCompares()...).
		Then(clientv3.OpGet(any, clientv3.WithCountOnly())).Commit()
	if err != nil {
		return false, mapErr(err)
	}
	return resp.Succeeded, nil
}

func (t *etcdTxn) readCompares() []clientv3.Cmp {
	cmps := make([]clientv3.Cmp, 0, len(t.reads))
	for key, r := range t.reads {
		cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(key), "=", r.rev))
	}
	return cmps
}

// commit applies the writes if every read key still has the revision it was read at.
func (t *etcdTxn) commit() (bool, error) {
	if len(t.writes) == 0 {
		return t.validate() // reads from a lagging member must not pass for current
	}
	cmps := t.readCompares()
	ops := make([]clientv3.Op, 0, len(t.order))
	for _, key := range t.order {
		w := t.writes[key]
		if w.deleted {
			ops = append(ops, clientv3.OpDelete(key))
		} else {
			ops = append(ops, clientv3.OpPut(key, string(w.value)))
		}
	}
	resp, err := t.cli.Txn(t.ctx).If(cmps...).Then(ops...).Commit()
	if err != nil {
		return false, mapErr(err)
	}
	return resp.Succeeded, nil
}

// mapErr turns client errors that mean "try later" into ErrUnavailable: timeouts,
// no leader, leader changes, lost connections, an exhausted quota.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	code := codes.OK
	var ee rpctypes.EtcdError
	if errors.As(err, &ee) {
		code = ee.Code()
	} else if s, ok := status.FromError(err); ok {
		code = s.Code()
	}
	switch code {
	case codes.Unavailable, codes.DeadlineExceeded, codes.ResourceExhausted, codes.Canceled:
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return err
}
