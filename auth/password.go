package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Password length limits. The upper bound keeps hashing cost independent of input.
const (
	MinPasswordLength = 8
	MaxPasswordLength = 128
)

// Argon2Params are the argon2id cost parameters for new password hashes. Stored
// hashes carry their own parameters (PHC string format), so changing these affects
// only passwords set afterwards.
type Argon2Params struct {
	// Memory is the memory cost in KiB.
	Memory uint32
	// Time is the number of passes.
	Time uint32
	// Threads is the degree of parallelism.
	Threads uint8
}

// DefaultArgon2 returns OWASP's recommended argon2id parameters (19 MiB, 2 passes,
// 1 thread): about 20-40 ms per hash on one core. See docs/keyspace.md.
func DefaultArgon2() Argon2Params { return Argon2Params{Memory: 19 * 1024, Time: 2, Threads: 1} }

const (
	saltLen = 16
	keyLen  = 32
	// maxArgonMemory bounds the cost a stored hash can ask for (1 GiB).
	maxArgonMemory = 1 << 20
)

var errBadHash = errors.New("auth: malformed password hash")

// hashSlots bounds the argon2id computations running at once. Each holds its memory
// cost (19 MiB by default) while it runs, so a burst of logins, a brute-force attempt
// included, costs at most this many times that, not one per request.
var hashSlots = make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))

// idKey is argon2.IDKey inside a hash slot.
func idKey(pw, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
	hashSlots <- struct{}{}
	defer func() { <-hashSlots }()
	return argon2.IDKey(pw, salt, time, memory, threads, keyLen)
}

// hashPassword returns the PHC-format argon2id hash of pw with a random salt.
func hashPassword(pw Secret, p Argon2Params) string {
	salt := randomBytes(saltLen)
	key := idKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, keyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
		p.Memory, p.Time, p.Threads, enc.EncodeToString(salt), enc.EncodeToString(key))
}

// verifyPassword reports whether pw matches the PHC-format hash, comparing in
// constant time.
func verifyPassword(pw Secret, hash string) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != "v=19" {
		return false, errBadHash
	}
	var p Argon2Params
	_, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads)
	if err != nil || p.Memory > maxArgonMemory || p.Time == 0 || p.Time > 16 || p.Threads == 0 {
		return false, errBadHash
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[4])
	want, err2 := enc.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false, errBadHash
	}
	got := idKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// checkPassword enforces the length limits on a new password.
func checkPassword(pw Secret) error {
	if len(pw) < MinPasswordLength || len(pw) > MaxPasswordLength {
		return ErrWeakPassword
	}
	return nil
}

// hashRobotSecret hashes a robot secret with SHA-256. Robot secrets are 32 random
// bytes, so a slow hash adds nothing against guessing and would make every Basic-auth
// request of a CI job pay for it (docs/keyspace.md).
func hashRobotSecret(s Secret) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256:" + base64.RawStdEncoding.EncodeToString(sum[:])
}

// verifyRobotSecret reports whether s matches hash, comparing in constant time.
func verifyRobotSecret(s Secret, hash string) bool {
	return subtle.ConstantTimeCompare([]byte(hashRobotSecret(s)), []byte(hash)) == 1
}
