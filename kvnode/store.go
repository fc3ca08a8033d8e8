package kvnode

import (
	"context"
	"errors"
)

// Errors returned by every Store.
var (
	// ErrNotFound reports that a key does not exist.
	ErrNotFound = errors.New("kvnode: key not found")
	// ErrConflict reports that a transaction kept conflicting after all its retries.
	ErrConflict = errors.New("kvnode: transaction conflict")
	// ErrUnavailable reports that the store cannot serve the request now.
	ErrUnavailable = errors.New("kvnode: store unavailable")
)

// KV is one key and its value.
type KV struct {
	Key   string
	Value []byte
}

// Store is the metadata store interface used by all of Berth.
type Store interface {
	// Get returns the value of key, or ErrNotFound.
	Get(ctx context.Context, key string) ([]byte, error)
	// Put sets key to value.
	Put(ctx context.Context, key string, value []byte) error
	// Delete removes key; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// Range returns up to limit keys that start with prefix and sort after the key
	// after (all keys from the start of the prefix when after is ""), in byte order.
	// A limit of zero or less means no limit.
	Range(ctx context.Context, prefix, after string, limit int) ([]KV, error)
	// Update runs fn in a serializable transaction and commits its writes atomically.
	// When another writer changed a key that fn read, fn runs again; after too many
	// conflicts Update returns ErrConflict. An error from fn aborts without writing.
	Update(ctx context.Context, fn func(tx Txn) error) error
	// Watch returns the changes to keys under prefix committed after the call, in
	// commit order. The channel closes when ctx ends or the watch breaks (for
	// example when the backend compacted history the watcher had not read yet); the
	// caller then reads the current state again and watches anew.
	Watch(ctx context.Context, prefix string) <-chan Change
	// Close releases the store's resources.
	Close() error
}

// Change is one committed change seen by Watch.
type Change struct {
	Key   string
	Value []byte // nil when Deleted
	// Deleted reports whether the key was removed.
	Deleted bool
}

// Txn is the view of the store inside Update. Reads see committed data plus the
// transaction's own writes; writes become visible only when Update commits.
type Txn interface {
	// Get returns the value of key, or ErrNotFound.
	Get(key string) ([]byte, error)
	// Put sets key to value at commit.
	Put(key string, value []byte)
	// Delete removes key at commit.
	Delete(key string)
}

// Prefetch reads keys into tx at once, where the backend can read them in parallel,
// so that the Gets that follow are answered from the transaction's read set. Reads
// are the same as tx.Get's; backends without parallel reads do nothing here.
func Prefetch(tx Txn, keys ...string) error {
	if p, ok := tx.(interface{ prefetch([]string) error }); ok {
		return p.prefetch(keys)
	}
	return nil
}
