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
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/opencontainers/go-digest"

	"berth.dev/berth/kvnode"
)

// TicketTTL is how long a ticket stays valid at least.
const TicketTTL = 15 * time.Minute

// ticketSlowRate is the slowest download, in bytes per second, that a ticket's
// lifetime allows for on top of TicketTTL.
const ticketSlowRate = 1 << 20

// TicketLifetime returns how long a ticket for a blob of size bytes stays valid:
// TicketTTL plus the time its blob takes at 1 MiB/s, so that a slow download of a
// big layer (2 GiB: 49 minutes) keeps its ticket to the end. A ticket names its peer,
// so a longer one is no use to anyone else.
func TicketLifetime(size int64) time.Duration {
	return TicketTTL + time.Duration(max(size, 0)/ticketSlowRate)*time.Second
}

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

// Sign returns the encoded ticket for peer p and blob d of size bytes, valid for
// TicketLifetime(size).
func (s *TicketSigner) Sign(d digest.Digest, p peer.ID, size int64) string {
	now := time.Now
	if s.now != nil {
		now = s.now
	}
	t := Ticket{Digest: d, Peer: p.String(), Expires: now().Add(TicketLifetime(size)).UTC()}
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
	t, err := decodeTicket(pub, encoded)
	if err != nil {
		return err
	}
	return t.check(d, p, time.Now())
}

// decodeTicket checks encoded's signature and returns the ticket it carries.
func decodeTicket(pub ed25519.PublicKey, encoded string) (Ticket, error) {
	b64body, b64sig, ok := strings.Cut(encoded, ".")
	if !ok {
		return Ticket{}, fmt.Errorf("%w: malformed", ErrTicketInvalid)
	}
	body, err1 := base64.RawURLEncoding.DecodeString(b64body)
	sig, err2 := base64.RawURLEncoding.DecodeString(b64sig)
	if err1 != nil || err2 != nil || !ed25519.Verify(pub, body, sig) {
		return Ticket{}, fmt.Errorf("%w: bad signature", ErrTicketInvalid)
	}
	var t Ticket
	if err := json.Unmarshal(body, &t); err != nil {
		return Ticket{}, fmt.Errorf("%w: malformed", ErrTicketInvalid)
	}
	return t, nil
}

// check refuses a ticket for another blob or peer, or expired at now.
func (t Ticket) check(d digest.Digest, p peer.ID, now time.Time) error {
	switch {
	case t.Digest != d:
		return fmt.Errorf("%w: issued for another blob", ErrTicketInvalid)
	case t.Peer != p.String():
		return fmt.Errorf("%w: issued for another peer", ErrTicketInvalid)
	case now.After(t.Expires):
		return fmt.Errorf("%w: expired", ErrTicketInvalid)
	}
	return nil
}

// maxVerifiedTickets bounds a ticketVerifier's memory of verified tickets (about
// 300 bytes each); past it, the memory starts again empty.
const maxVerifiedTickets = 4096

// ticketVerifier verifies tickets, remembering those whose signature held: a
// download presents the same ticket with each of its requests, hundreds per blob,
// and an Ed25519 verification (about 50 us) on each was a fifth of an agent's CPU
// with 32 agents on two cores. The blob, peer and expiry are checked every time.
type ticketVerifier struct {
	key      ed25519.PublicKey
	mu       sync.Mutex
	verified map[string]Ticket // guarded by mu; encoded ticket -> its content
}

func newTicketVerifier(key ed25519.PublicKey) *ticketVerifier {
	return &ticketVerifier{key: key, verified: map[string]Ticket{}}
}

// verify is VerifyTicket with the verifier's key and memory.
func (v *ticketVerifier) verify(encoded string, d digest.Digest, p peer.ID) error {
	v.mu.Lock()
	t, ok := v.verified[encoded]
	v.mu.Unlock()
	if !ok {
		var err error
		if t, err = decodeTicket(v.key, encoded); err != nil {
			return err
		}
		v.mu.Lock()
		if len(v.verified) >= maxVerifiedTickets {
			clear(v.verified)
		}
		v.verified[encoded] = t
		v.mu.Unlock()
	}
	return t.check(d, p, time.Now())
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
