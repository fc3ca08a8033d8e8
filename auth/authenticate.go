package auth

import (
	"context"
	"errors"
	"strings"
)

// Authenticate checks a user's password or a robot's secret (names starting with
// RobotPrefix) and returns the principal. source is the client's address, as the
// gateway sees it after trusted proxies. Failures count against both the name and
// the source; once either is locked every login for it returns ErrThrottled, even
// with the right password, until the lockout ends. Any other failure returns
// ErrBadCredentials, whatever the cause.
func (s *Service) Authenticate(
	ctx context.Context,
	name string,
	password Secret,
	source string,
) (Principal, error) {
	userKey, addrKey := "user:"+name, "addr:"+source
	if s.throttle.locked(userKey, addrKey) {
		s.log.Debug("auth: login throttled", "name", clip(name), "source", source)
		return Principal{}, ErrThrottled
	}
	var p Principal
	var err error
	if strings.HasPrefix(name, RobotPrefix) {
		p, err = s.checkRobot(ctx, name, password)
	} else {
		p, err = s.checkUser(ctx, name, password)
	}
	if errors.Is(err, ErrBadCredentials) {
		s.throttle.fail(userKey, addrKey)
		s.log.Debug("auth: login failed", "name", clip(name), "source", source)
		return Principal{}, err
	}
	if err != nil {
		return Principal{}, err
	}
	s.throttle.succeed(userKey)
	return p, nil
}

func (s *Service) checkUser(ctx context.Context, name string, pw Secret) (Principal, error) {
	rec, err := s.userRecord(ctx, name)
	if errors.Is(err, ErrUserNotFound) {
		// Spend the same time as for a real user, so timing does not reveal names.
		verifyPassword(pw, s.dummyHash())
		return Principal{}, ErrBadCredentials
	} else if err != nil {
		return Principal{}, err
	}
	if len(pw) > MaxPasswordLength {
		return Principal{}, ErrBadCredentials
	}
	ok, err := s.verified.verify(pw, rec.PasswordHash)
	if err != nil {
		s.log.Error("auth: stored password hash unreadable", "user", name)
		return Principal{}, ErrBadCredentials
	}
	if !ok {
		return Principal{}, ErrBadCredentials
	}
	return Principal{Kind: KindUser, Name: name, ID: rec.ID, Admin: rec.Admin}, nil
}

func (s *Service) checkRobot(ctx context.Context, name string, secret Secret) (Principal, error) {
	rec, err := s.robotRecord(ctx, name)
	if errors.Is(err, ErrRobotNotFound) {
		return Principal{}, ErrBadCredentials
	} else if err != nil {
		return Principal{}, err
	}
	if !verifyRobotSecret(secret, rec.SecretHash) || !rec.active(s.now()) {
		return Principal{}, ErrBadCredentials
	}
	return Principal{Kind: KindRobot, Name: name, ID: rec.ID}, nil
}

// dummyHash is a hash at the service's cost that matches no password.
func (s *Service) dummyHash() string {
	s.dummyOnce.Do(func() { s.dummy = hashPassword(randomSecret(16), s.argon) })
	return s.dummy
}
