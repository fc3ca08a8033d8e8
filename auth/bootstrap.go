package auth

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// AdminPasswordFile is the file in the data directory that receives a generated
// admin password.
const AdminPasswordFile = "admin-password"

// Bootstrap creates the user AdminUser on the first start, and does nothing when it
// exists. The password is adminPassword (from BERTH_ADMIN_PASSWORD) when set;
// otherwise a random one is written to <dataDir>/admin-password with mode 0600 and
// that path is returned, for the caller to log. The password itself is never logged.
func (s *Service) Bootstrap(
	ctx context.Context,
	adminPassword Secret,
	dataDir string,
) (string, error) {
	if _, err := s.User(ctx, AdminUser); err == nil {
		return "", nil
	} else if !errors.Is(err, ErrUserNotFound) {
		return "", err
	}
	pw, path := adminPassword, ""
	if pw == "" {
		pw, path = randomSecret(24), filepath.Join(dataDir, AdminPasswordFile)
		if err := writeSecretFile(path, pw); err != nil {
			return "", err
		}
	}
	_, err := s.CreateUser(ctx, AdminUser, pw, true)
	if errors.Is(err, ErrExists) {
		// Another replica bootstrapped first; its password stands.
		if path != "" {
			os.Remove(path)
		}
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if path != "" {
		s.log.Info("auth: admin password generated", "user", AdminUser, "password_file", path)
	}
	return path, nil
}

// writeSecretFile writes pw to path, readable by the owner only.
func writeSecretFile(path string, pw Secret) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("auth: write admin password file: %w", err)
	}
	defer f.Close()
	if err := f.Chmod(0o600); err != nil { // the file may have existed with wider bits
		return fmt.Errorf("auth: write admin password file: %w", err)
	}
	if _, err := f.WriteString(string(pw) + "\n"); err != nil {
		return fmt.Errorf("auth: write admin password file: %w", err)
	}
	return f.Close()
}
