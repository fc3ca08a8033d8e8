package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"berth.dev/berth/kvnode"
)

// Config holds the optional settings of a Service. Its zero value is ready to use.
type Config struct {
	// Argon2 sets the cost of new password hashes; zero means DefaultArgon2().
	Argon2 Argon2Params
	// Throttle limits failed logins; zero fields take the DefaultThrottle values.
	Throttle ThrottleConfig
	// Now returns the current time; nil means time.Now. Tests use it to move time.
	Now func() time.Time
}

// Service holds projects, users, members and robots in a kvnode.Store, authenticates
// logins and answers authorization questions. It keeps no state of its own besides
// the login throttle, so every gateway replica may hold one over the same store.
type Service struct {
	store    kvnode.Store
	log      *slog.Logger
	argon    Argon2Params
	now      func() time.Time
	throttle *throttle

	verified verifiedCache

	dummyOnce sync.Once
	dummy     string // set once by dummyHash
}

// New returns a Service over store that logs state changes to log.
func New(store kvnode.Store, log *slog.Logger, cfg Config) *Service {
	if cfg.Argon2 == (Argon2Params{}) {
		cfg.Argon2 = DefaultArgon2()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{
		store: store, log: log, argon: cfg.Argon2, now: cfg.Now,
		throttle: newThrottle(cfg.Throttle.withDefaults(), cfg.Now),
	}
}

// Keys of the auth keyspace (docs/keyspace.md).
const (
	prefixProject = "auth/project/"
	prefixUser    = "auth/user/"
	prefixMember  = "auth/member/"
	prefixRobot   = "auth/robot/"
	prefixSignKey = "auth/signkey/"
	keySignCur    = "auth/signkey-current"
	keyInitLib    = "auth/init/library"
)

func memberKey(project, user string) string { return prefixMember + project + "/" + user }

// getJSON reads key into v; a missing key returns kvnode.ErrNotFound.
func getJSON(ctx context.Context, s kvnode.Store, key string, v any) error {
	b, err := s.Get(ctx, key)
	if err != nil {
		return err
	}
	return decode(key, b, v)
}

// txGetJSON reads key into v inside a transaction.
func txGetJSON(tx kvnode.Txn, key string, v any) error {
	b, err := tx.Get(key)
	if err != nil {
		return err
	}
	return decode(key, b, v)
}

func decode(key string, b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("auth: decode %s: %w", key, err)
	}
	return nil
}

// txPutJSON writes v at key inside a transaction.
func txPutJSON(tx kvnode.Txn, key string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only plain structs are stored
	}
	tx.Put(key, b)
}

// list decodes the values under prefix whose names sort after after (all when ""),
// at most limit of them (no limit when limit <= 0).
func list[T any](
	ctx context.Context,
	s kvnode.Store,
	prefix, after string,
	limit int,
) ([]T, error) {
	if after != "" {
		after = prefix + after
	}
	kvs, err := s.Range(ctx, prefix, after, limit)
	if err != nil {
		return nil, err
	}
	out := make([]T, 0, len(kvs))
	for _, kv := range kvs {
		var v T
		if err := decode(kv.Key, kv.Value, &v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// notFound maps kvnode.ErrNotFound to the package's sentinel e.
func notFound(err, e error) error {
	if errors.Is(err, kvnode.ErrNotFound) {
		return e
	}
	return err
}

// ignoreNotFound turns kvnode.ErrNotFound into nil.
func ignoreNotFound(err error) error {
	if errors.Is(err, kvnode.ErrNotFound) {
		return nil
	}
	return err
}
