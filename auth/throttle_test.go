package auth

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestThrottle(t *testing.T) {
	e := newEnv(t)
	e.svc = New(e.store, e.log, Config{Argon2: cheapArgon, Now: e.clock.Now,
		Throttle: ThrottleConfig{MaxFailures: 3, Window: time.Minute, Lockout: 10 * time.Minute}})
	ctx := context.Background()
	for _, u := range []string{"carol", "dave"} {
		_, err := e.svc.CreateUser(ctx, u, "right-password", false)
		check(t, err)
	}
	try := func(user string, pw Secret, src string) error {
		_, err := e.svc.Authenticate(ctx, user, pw, src)
		return err
	}

	// Per user: three failures from three addresses lock carol everywhere.
	for i, src := range []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"} {
		if err := try("carol", "wrong", src); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("failure %d: %v", i, err)
		}
	}
	if err := try("carol", "right-password", "10.0.0.9"); !errors.Is(err, ErrThrottled) {
		t.Fatalf("locked user with the right password: %v", err)
	}
	if err := try("dave", "right-password", "10.0.0.9"); err != nil {
		t.Fatalf("another user is affected: %v", err)
	}

	// Per source: one address spraying unknown names gets locked for every name.
	for _, u := range []string{"x1", "x2", "x3"} {
		try(u, "wrong", "10.9.9.9")
	}
	if err := try("dave", "right-password", "10.9.9.9"); !errors.Is(err, ErrThrottled) {
		t.Fatalf("locked source: %v", err)
	}

	// The lock ends.
	e.clock.Advance(11 * time.Minute)
	if err := try("carol", "right-password", "10.0.0.9"); err != nil {
		t.Fatalf("after the lockout: %v", err)
	}

	// Failures outside the window do not add up.
	for range 2 {
		try("dave", "wrong", "10.1.1.1")
		e.clock.Advance(2 * time.Minute)
	}
	try("dave", "wrong", "10.1.1.2")
	if err := try("dave", "right-password", "10.1.1.3"); err != nil {
		t.Fatalf("spread failures locked the user: %v", err)
	}
}
