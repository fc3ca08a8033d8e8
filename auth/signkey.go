package auth

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"time"

	"berth.dev/berth/kvnode"
)

// MaxTokenTTL bounds IssuerConfig.TTL. A retired signing key is kept this long
// (plus a minute of clock skew), so every token it signed expires before it goes.
const MaxTokenTTL = time.Hour

// signKey is a token signing key as stored under auth/signkey/<kid>.
//
// BUG(signkey): the private key is stored in the clear, so whoever can read the
// metadata store can mint tokens. Encrypting it under a key from the configuration
// is not done yet.
type signKey struct {
	ID      string    `json:"kid"`
	Alg     string    `json:"alg"` // "EdDSA" (Ed25519)
	Seed    []byte    `json:"seed"`
	Created time.Time `json:"created"`
	// Retired is when a newer key replaced this one; zero while current.
	Retired time.Time `json:"retired,omitzero"`
}

type currentKey struct {
	ID string `json:"kid"`
}

var kidRE = regexp.MustCompile(`^[0-9a-f]{16}$`)

func newSignKey(now time.Time) signKey {
	return signKey{
		ID: hex.EncodeToString(randomBytes(8)), Alg: "EdDSA",
		Seed: randomBytes(ed25519.SeedSize), Created: now.UTC(),
	}
}

func (k signKey) private() ed25519.PrivateKey { return ed25519.NewKeyFromSeed(k.Seed) }

// currentSignKey returns the current signing key, creating the first one.
func currentSignKey(ctx context.Context, store kvnode.Store, now time.Time) (signKey, error) {
	var cur currentKey
	err := getJSON(ctx, store, keySignCur, &cur)
	if err == nil {
		return loadSignKey(ctx, store, cur.ID)
	}
	if !errors.Is(err, kvnode.ErrNotFound) {
		return signKey{}, err
	}
	var k signKey
	err = store.Update(ctx, func(tx kvnode.Txn) error {
		if err := txGetJSON(tx, keySignCur, &cur); err == nil {
			return txGetJSON(tx, prefixSignKey+cur.ID, &k)
		} else if !errors.Is(err, kvnode.ErrNotFound) {
			return err
		}
		k = newSignKey(now)
		txPutJSON(tx, prefixSignKey+k.ID, k)
		txPutJSON(tx, keySignCur, currentKey{ID: k.ID})
		return nil
	})
	return k, err
}

// loadSignKey reads the key kid.
func loadSignKey(ctx context.Context, store kvnode.Store, kid string) (signKey, error) {
	var k signKey
	if !kidRE.MatchString(kid) {
		return k, fmt.Errorf("%w: unknown key", ErrInvalidToken)
	}
	err := getJSON(ctx, store, prefixSignKey+kid, &k)
	if errors.Is(err, kvnode.ErrNotFound) {
		return k, fmt.Errorf("%w: unknown key", ErrInvalidToken)
	}
	if err == nil && len(k.Seed) != ed25519.SeedSize {
		return k, fmt.Errorf("auth: signing key %s is malformed", kid)
	}
	return k, err
}

// rotateSignKey makes a new current key, retires the old one and deletes keys
// retired longer than MaxTokenTTL ago.
func rotateSignKey(ctx context.Context, store kvnode.Store, now time.Time) (string, error) {
	old, err := store.Range(ctx, prefixSignKey, "", 0)
	if err != nil {
		return "", err
	}
	k := newSignKey(now)
	err = store.Update(ctx, func(tx kvnode.Txn) error {
		var cur currentKey
		err := txGetJSON(tx, keySignCur, &cur)
		if err != nil && !errors.Is(err, kvnode.ErrNotFound) {
			return err
		}
		for _, kv := range old {
			var o signKey
			if err := decode(kv.Key, kv.Value, &o); err != nil {
				return err
			}
			if !o.Retired.IsZero() && now.Sub(o.Retired) > MaxTokenTTL+time.Minute {
				tx.Delete(kv.Key)
			}
		}
		if cur.ID != "" {
			var o signKey
			if err := txGetJSON(tx, prefixSignKey+cur.ID, &o); err != nil {
				return err
			}
			o.Retired = now.UTC()
			txPutJSON(tx, prefixSignKey+cur.ID, o)
		}
		txPutJSON(tx, prefixSignKey+k.ID, k)
		txPutJSON(tx, keySignCur, currentKey{ID: k.ID})
		return nil
	})
	return k.ID, err
}
