package auth

import (
	"sync"
	"time"
)

// ThrottleConfig limits failed logins, per user name and per source address.
//
// The state lives in each process's memory, not in metadata: counting failures in
// the store would turn every guess of an attacker into a Raft write. With N gateway
// replicas an attacker gets at most N times the budget, still a handful of guesses
// per window against argon2id hashes.
type ThrottleConfig struct {
	// MaxFailures is how many failures within Window lock the key; zero means 10.
	MaxFailures int
	// Window is the period over which failures are counted; zero means 5 minutes.
	Window time.Duration
	// Lockout is how long a locked key refuses every login, right or wrong;
	// zero means 15 minutes.
	Lockout time.Duration
}

// DefaultThrottle returns the default login limits.
func DefaultThrottle() ThrottleConfig {
	return ThrottleConfig{MaxFailures: 10, Window: 5 * time.Minute, Lockout: 15 * time.Minute}
}

func (c ThrottleConfig) withDefaults() ThrottleConfig {
	d := DefaultThrottle()
	if c.MaxFailures <= 0 {
		c.MaxFailures = d.MaxFailures
	}
	if c.Window <= 0 {
		c.Window = d.Window
	}
	if c.Lockout <= 0 {
		c.Lockout = d.Lockout
	}
	return c
}

// pruneAt is the number of tracked keys above which expired entries are dropped.
const pruneAt = 10000

type throttle struct {
	cfg ThrottleConfig
	now func() time.Time

	mu sync.Mutex // guards entries
	// entries maps "user:<name>" and "addr:<source>" to their failure counts.
	entries map[string]*failures
}

type failures struct {
	count       int
	windowStart time.Time
	lockedUntil time.Time
}

func newThrottle(cfg ThrottleConfig, now func() time.Time) *throttle {
	return &throttle{cfg: cfg, now: now, entries: make(map[string]*failures)}
}

// locked reports whether any of keys is locked now.
func (t *throttle) locked(keys ...string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	for _, k := range keys {
		if f := t.entries[k]; f != nil && now.Before(f.lockedUntil) {
			return true
		}
	}
	return false
}

// fail counts one failure against each key, locking those that reach the limit.
func (t *throttle) fail(keys ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if len(t.entries) > pruneAt {
		t.prune(now)
	}
	for _, k := range keys {
		f := t.entries[k]
		if f == nil || now.Sub(f.windowStart) > t.cfg.Window {
			f = &failures{windowStart: now, lockedUntil: lockedUntil(f)}
			t.entries[k] = f
		}
		f.count++
		if f.count >= t.cfg.MaxFailures {
			f.lockedUntil, f.count = now.Add(t.cfg.Lockout), 0
		}
	}
}

func lockedUntil(f *failures) time.Time {
	if f == nil {
		return time.Time{}
	}
	return f.lockedUntil
}

// succeed forgets the failures of key.
func (t *throttle) succeed(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if f := t.entries[key]; f != nil && !t.now().Before(f.lockedUntil) {
		delete(t.entries, key)
	}
}

// prune drops entries whose window and lock are over; t.mu is held.
func (t *throttle) prune(now time.Time) {
	for k, f := range t.entries {
		if now.Sub(f.windowStart) > t.cfg.Window && !now.Before(f.lockedUntil) {
			delete(t.entries, k)
		}
	}
}
