package kvnode

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ErrLeaseHeld reports that another owner holds a lease that has not expired.
var ErrLeaseHeld = errors.New("kvnode: lease held by another owner")

// Lease is an ownership record with an expiry, for work that exactly one process
// should do at a time (a job, a janitor). It is built on Update, so every backend has
// it; its safety assumes clocks that differ by much less than the TTL.
type Lease struct {
	Owner   string    `json:"owner"`
	Expires time.Time `json:"expires"`
}

// AcquireLease takes or renews the lease at key for owner until now+ttl. It returns
// ErrLeaseHeld when another owner holds an unexpired lease.
func AcquireLease(
	ctx context.Context, s Store, key, owner string, ttl time.Duration,
) (Lease, error) {
	var got Lease
	err := s.Update(ctx, func(tx Txn) error {
		cur, err := readLease(tx, key)
		if err != nil {
			return err
		}
		now := time.Now()
		if cur.Owner != "" && cur.Owner != owner && now.Before(cur.Expires) {
			got = cur
			return ErrLeaseHeld
		}
		got = Lease{Owner: owner, Expires: now.Add(ttl).UTC()}
		b, _ := json.Marshal(got)
		tx.Put(key, b)
		return nil
	})
	return got, err
}

// ReleaseLease gives up owner's lease at key; a lease held by another owner is left.
func ReleaseLease(ctx context.Context, s Store, key, owner string) error {
	return s.Update(ctx, func(tx Txn) error {
		cur, err := readLease(tx, key)
		if err != nil {
			return err
		}
		if cur.Owner == owner {
			tx.Delete(key)
		}
		return nil
	})
}

func readLease(tx Txn, key string) (Lease, error) {
	var l Lease
	b, err := tx.Get(key)
	if errors.Is(err, ErrNotFound) {
		return l, nil
	}
	if err != nil {
		return l, err
	}
	if err := json.Unmarshal(b, &l); err != nil {
		return l, fmt.Errorf("kvnode: lease %s: %w", key, err)
	}
	return l, nil
}
