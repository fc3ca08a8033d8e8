package auth

import (
	"crypto/sha256"
	"sync"
)

// maxVerified bounds the verified-password cache; past it the cache starts over.
const maxVerified = 4096

// verifiedCache remembers which (stored hash, password) pairs argon2id accepted, so
// that clients sending Basic credentials with every request (as many CI tools do)
// pay the slow hash once, not per request. It is keyed by a SHA-256 over the stored
// hash and the password: a changed password changes the stored hash, so an entry can
// never outlive the password it vouches for. It holds no password.
type verifiedCache struct {
	mu sync.Mutex
	ok map[[32]byte]struct{} // guarded by mu
}

func verifiedKey(pw Secret, hash string) [32]byte {
	h := sha256.New()
	h.Write([]byte(hash))
	h.Write([]byte{0})
	h.Write([]byte(pw))
	var k [32]byte
	h.Sum(k[:0])
	return k
}

// verify reports whether pw matches hash, from the cache or by verifyPassword.
func (c *verifiedCache) verify(pw Secret, hash string) (bool, error) {
	k := verifiedKey(pw, hash)
	c.mu.Lock()
	_, hit := c.ok[k]
	c.mu.Unlock()
	if hit {
		return true, nil
	}
	ok, err := verifyPassword(pw, hash)
	if !ok || err != nil {
		return ok, err
	}
	c.mu.Lock()
	if c.ok == nil || len(c.ok) >= maxVerified {
		c.ok = map[[32]byte]struct{}{}
	}
	c.ok[k] = struct{}{}
	c.mu.Unlock()
	return true, nil
}
