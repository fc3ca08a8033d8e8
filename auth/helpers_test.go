package auth

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"berth.dev/berth/kvnode"
	"berth.dev/berth/kvnode/storetest"
)

// newStore starts a fresh single-member kvnode store for one test.
func newStore(t *testing.T) kvnode.Store { return storetest.Embedded(t) }

// fakeClock is a clock that tests move by hand.
type fakeClock struct {
	mu sync.Mutex // guards t
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: time.Now()} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// syncBuffer is a bytes.Buffer safe for concurrent log writes.
type syncBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// cheapArgon keeps tests fast; the default parameters are covered separately.
var cheapArgon = Argon2Params{Memory: 64, Time: 1, Threads: 1}

// env is a Service over a fresh store, with a fake clock and a captured log.
type env struct {
	store kvnode.Store
	svc   *Service
	clock *fakeClock
	logs  *syncBuffer
	log   *slog.Logger
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{store: newStore(t), clock: newClock(), logs: &syncBuffer{}}
	e.log = slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.svc = New(e.store, e.log, Config{Argon2: cheapArgon, Now: e.clock.Now})
	return e
}

func (e *env) issuer(t *testing.T) *Issuer {
	t.Helper()
	i, err := NewIssuer(e.store, e.svc, IssuerConfig{Now: e.clock.Now}, e.log)
	if err != nil {
		t.Fatal(err)
	}
	return i
}

func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// login authenticates a user or robot and fails the test on error.
func (e *env) login(t *testing.T, name string, pw Secret) Principal {
	t.Helper()
	p, err := e.svc.Authenticate(context.Background(), name, pw, "192.0.2.1")
	if err != nil {
		t.Fatalf("Authenticate(%s) = %v", name, err)
	}
	return p
}
