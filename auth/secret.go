package auth

import (
	"crypto/rand"
	"encoding/base64"
	"log/slog"
)

// Secret is a password, a robot secret or a token. It prints and logs as
// "REDACTED"; convert it with string(s) only where the value itself is needed.
type Secret string

const redacted = "REDACTED"

// String returns "REDACTED", so fmt verbs cannot print the value.
func (Secret) String() string { return redacted }

// GoString returns "REDACTED", for %#v.
func (Secret) GoString() string { return redacted }

// LogValue returns "REDACTED", so slog cannot log the value.
func (Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// randomSecret returns n random bytes encoded as unpadded base64url.
func randomSecret(n int) Secret {
	return Secret(base64.RawURLEncoding.EncodeToString(randomBytes(n)))
}

// randomBytes returns n bytes from crypto/rand.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b) // never fails since Go 1.24
	return b
}

// randomID returns a random 12-byte identifier in base64url form.
func randomID() string { return string(randomSecret(12)) }
