package p2p

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/opencontainers/go-digest"

	"berth.dev/berth/kvnode"
)

// TicketTTL is how long a ticket stays valid.
const TicketTTL = 15 * time.Minute

// ticketKeyKey is the metadata key of the ticket signing seed.
const ticketKeyKey = "p2p/ticket-key"

// Ticket lets one peer fetch the pieces of one blob until it expires.
type Ticket struct {
	Digest  digest.Digest `json:"digest"`
	Peer    string        `json:"peer"`
	Expires time.Time     `json:"expires"`
}

// TicketSigner signs tickets with the gateway's Ed25519 key.
type TicketSigner struct {
	key ed25519.PrivateKey
	now func() time.Time // nil means time.Now
}

// Sign returns the encoded ticket for peer p and blob d, valid for TicketTTL.
func (s *TicketSigner) Sign(d digest.Digest, p peer.ID) string {
	now := time.Now
	if s.now != nil {
		now = s.now
	}
	t := Ticket{Digest: d, Peer: p.String(), Expires: now().Add(TicketTTL).UTC()}
	body, _ := json.Marshal(t)
	sig := ed25519.Sign(s.key, body)
	enc := base64.RawURLEncoding
	return enc.EncodeToString(body) + "." + enc.EncodeToString(sig)
}

// Public returns the key that verifies the signer's tickets.
func (s *TicketSigner) Public() ed25519.PublicKey { return s.key.Public().(ed25519.PublicKey) }

// VerifyTicket checks that encoded is a ticket signed by pub for blob d and peer p
// that has not expired.
func VerifyTicket(pub ed25519.PublicKey, encoded string, d digest.Digest, p peer.ID) error {
	b64body, b64sig, ok := strings.Cut(encoded, ".")
	if !ok {
		return fmt.Errorf("%w: malformed", ErrTicketInvalid)
	}
	body, err1 := base64.RawURLEncoding.DecodeString(b64body)
	sig, err2 := base64.RawURLEncoding.DecodeString(b64sig)
	if err1 != nil || err2 != nil || !ed25519.Verify(pub, body, sig) {
		return fmt.Errorf("%w: bad signature", ErrTicketInvalid)
	}
	var t Ticket
	if err := json.Unmarshal(body, &t); err != nil {
		return fmt.Errorf("%w: malformed", ErrTicketInvalid)
	}
	switch {
	case t.Digest != d:
		return fmt.Errorf("%w: issued for another blob", ErrTicketInvalid)
	case t.Peer != p.String():
		return fmt.Errorf("%w: issued for another peer", ErrTicketInvalid)
	case time.Now().After(t.Expires):
		return fmt.Errorf("%w: expired", ErrTicketInvalid)
	}
	return nil
}

// storedTicketKey is the value at p2p/ticket-key.
type storedTicketKey struct {
	Seed    []byte    `json:"seed"`
	Created time.Time `json:"created"`
}

// LoadTicketSigner returns the signer whose key is kept in the metadata store,
// creating the key on first use, so that every gateway replica signs alike.
func LoadTicketSigner(ctx context.Context, store kvnode.Store) (*TicketSigner, error) {
	var stored storedTicketKey
	err := store.Update(ctx, func(tx kvnode.Txn) error {
		b, err := tx.Get(ticketKeyKey)
		if err == nil {
			return json.Unmarshal(b, &stored)
		}
		if !errors.Is(err, kvnode.ErrNotFound) {
			return err
		}
		stored = storedTicketKey{Seed: make([]byte, ed25519.SeedSize), Created: time.Now().UTC()}
		if _, err := rand.Read(stored.Seed); err != nil {
			return err
		}
		b, _ = json.Marshal(stored)
		tx.Put(ticketKeyKey, b)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("p2p: ticket key: %w", err)
	}
	if len(stored.Seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("p2p: ticket key: seed of %d bytes", len(stored.Seed))
	}
	return &TicketSigner{key: ed25519.NewKeyFromSeed(stored.Seed)}, nil
}
