package auth

import (
	"context"
	"errors"
	"time"

	"berth.dev/berth/kvnode"
)

// AdminUser is the system admin created by Bootstrap. It cannot be deleted or
// demoted, so the registry always keeps one admin.
const AdminUser = "admin"

// User is a local user account.
type User struct {
	Name string `json:"name"`
	// ID is random and set at creation, so that memberships of a deleted user never
	// apply to a new user of the same name.
	ID string `json:"id"`
	// Admin reports whether the user is a system admin, allowed everything.
	Admin   bool      `json:"admin"`
	Created time.Time `json:"created"`
}

// userRecord is a User as stored, with its password hash.
type userRecord struct {
	User
	PasswordHash string `json:"password_hash"`
}

// CreateUser creates a user with a password; admin makes it a system admin.
func (s *Service) CreateUser(
	ctx context.Context,
	name string,
	password Secret,
	admin bool,
) (User, error) {
	if err := validUser(name); err != nil {
		return User{}, err
	}
	if err := checkPassword(password); err != nil {
		return User{}, err
	}
	rec := userRecord{
		User:         User{Name: name, ID: randomID(), Admin: admin, Created: s.now().UTC()},
		PasswordHash: hashPassword(password, s.argon),
	}
	err := s.store.Update(ctx, func(tx kvnode.Txn) error {
		if _, err := tx.Get(prefixUser + name); err == nil {
			return ErrExists
		} else if !errors.Is(err, kvnode.ErrNotFound) {
			return err
		}
		txPutJSON(tx, prefixUser+name, rec)
		return nil
	})
	if err != nil {
		return User{}, err
	}
	s.log.Info("auth: user created", "user", name, "admin", admin)
	return rec.User, nil
}

// User returns the user called name, or ErrUserNotFound.
func (s *Service) User(ctx context.Context, name string) (User, error) {
	rec, err := s.userRecord(ctx, name)
	return rec.User, err
}

func (s *Service) userRecord(ctx context.Context, name string) (userRecord, error) {
	var rec userRecord
	if err := validUser(name); err != nil {
		return rec, ErrUserNotFound
	}
	err := getJSON(ctx, s.store, prefixUser+name, &rec)
	return rec, notFound(err, ErrUserNotFound)
}

// Users lists users in name order, those after the name after (all when ""), at
// most limit of them (all when limit <= 0).
func (s *Service) Users(ctx context.Context, after string, limit int) ([]User, error) {
	recs, err := list[userRecord](ctx, s.store, prefixUser, after, limit)
	out := make([]User, len(recs))
	for i, r := range recs {
		out[i] = r.User
	}
	return out, err
}

// SetPassword replaces a user's password.
func (s *Service) SetPassword(ctx context.Context, name string, password Secret) error {
	if err := checkPassword(password); err != nil {
		return err
	}
	hash := hashPassword(password, s.argon)
	err := s.editUser(ctx, name, func(r *userRecord) error {
		r.PasswordHash = hash
		return nil
	})
	if err == nil {
		s.log.Info("auth: password changed", "user", name)
	}
	return err
}

// SetAdmin grants or revokes the system admin flag. AdminUser cannot be demoted.
func (s *Service) SetAdmin(ctx context.Context, name string, admin bool) error {
	if name == AdminUser && !admin {
		return ErrProtected
	}
	err := s.editUser(ctx, name, func(r *userRecord) error {
		r.Admin = admin
		return nil
	})
	if err == nil {
		s.log.Info("auth: admin flag changed", "user", name, "admin", admin)
	}
	return err
}

func (s *Service) editUser(ctx context.Context, name string, fn func(*userRecord) error) error {
	return s.store.Update(ctx, func(tx kvnode.Txn) error {
		var rec userRecord
		if err := txGetJSON(tx, prefixUser+name, &rec); err != nil {
			return notFound(err, ErrUserNotFound)
		}
		if err := fn(&rec); err != nil {
			return err
		}
		txPutJSON(tx, prefixUser+name, rec)
		return nil
	})
}

// DeleteUser deletes a user and its project memberships. AdminUser cannot be deleted.
func (s *Service) DeleteUser(ctx context.Context, name string) error {
	if name == AdminUser {
		return ErrProtected
	}
	// Memberships added after this scan carry the old user's ID and never apply.
	kvs, err := s.store.Range(ctx, prefixMember, "", 0)
	if err != nil {
		return err
	}
	err = s.store.Update(ctx, func(tx kvnode.Txn) error {
		if _, err := tx.Get(prefixUser + name); err != nil {
			return notFound(err, ErrUserNotFound)
		}
		tx.Delete(prefixUser + name)
		for _, kv := range kvs {
			if memberUserOf(kv.Key) == name {
				tx.Delete(kv.Key)
			}
		}
		return nil
	})
	if err == nil {
		s.log.Info("auth: user deleted", "user", name)
	}
	return err
}
