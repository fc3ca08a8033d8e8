package p2p

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/opencontainers/go-digest"
)

func newPeerID(t *testing.T) peer.ID {
	t.Helper()
	_, pub, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestTickets(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	_, otherKey, _ := ed25519.GenerateKey(rand.Reader)
	signer, other := &TicketSigner{key: key}, &TicketSigner{key: otherKey}
	d, d2 := digest.FromString("blob"), digest.FromString("other blob")
	p, p2 := newPeerID(t), newPeerID(t)
	ticket := signer.Sign(d, p, 1000)
	tests := []struct {
		name    string
		ticket  string
		blob    digest.Digest
		peer    peer.ID
		wantErr bool
	}{
		{"valid", ticket, d, p, false},
		{"another blob", ticket, d2, p, true},
		{"another peer", ticket, d, p2, true},
		{"another signer", other.Sign(d, p, 1000), d, p, true},
		{"empty", "", d, p, true},
		{"payload only", ticket[:len(ticket)/2], d, p, true},
		{"payload swapped", signer.Sign(d2, p, 1000)[:40] + ticket[40:], d, p, true},
	}
	// The verifier has seen the valid ticket, so the cases of another blob and
	// another peer take its memory of verified tickets.
	v := newTicketVerifier(signer.Public())
	if err := v.verify(ticket, d, p); err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		for how, err := range map[string]error{
			"VerifyTicket": VerifyTicket(signer.Public(), tc.ticket, tc.blob, tc.peer),
			"verifier":     v.verify(tc.ticket, tc.blob, tc.peer),
		} {
			if (err != nil) != tc.wantErr || (err != nil && !errors.Is(err, ErrTicketInvalid)) {
				t.Errorf("%s, %s: err = %v, want error %v", tc.name, how, err, tc.wantErr)
			}
		}
	}
}

// TestTicketVerifierMemory checks that a remembered ticket still expires and
// that the memory stays bounded.
func TestTicketVerifierMemory(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	soon := &TicketSigner{key: key, now: func() time.Time {
		return time.Now().Add(-TicketTTL + 100*time.Millisecond)
	}}
	d, p := digest.FromString("blob"), newPeerID(t)
	ticket := soon.Sign(d, p, 1000)
	v := newTicketVerifier(soon.Public())
	if err := v.verify(ticket, d, p); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if err := v.verify(ticket, d, p); !errors.Is(err, ErrTicketInvalid) {
		t.Fatalf("a remembered ticket past its expiry: err = %v", err)
	}
	signer := &TicketSigner{key: key}
	for i := range maxVerifiedTickets + 10 {
		if err := v.verify(signer.Sign(digest.FromString(fmt.Sprint(i)), p, 1000),
			digest.FromString(fmt.Sprint(i)), p); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(v.verified); n > maxVerifiedTickets {
		t.Fatalf("the verifier remembers %d tickets, more than %d", n, maxVerifiedTickets)
	}
}

// TestTicketExpires checks that a ticket expires after TicketLifetime of its
// blob's size: 15 minutes for a small blob, longer for a big one.
func TestTicketExpires(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	d, p := digest.FromString("blob"), newPeerID(t)
	const big = 2 << 30
	if got, want := TicketLifetime(big), TicketTTL+2048*time.Second; got != want {
		t.Errorf("TicketLifetime(2 GiB) = %v, want %v", got, want)
	}
	tests := []struct {
		name  string
		size  int64
		age   time.Duration
		valid bool
	}{
		{"small, just expired", 1000, TicketTTL + time.Second, false},
		{"big, past 15 minutes", big, TicketTTL + time.Second, true},
		{"big, just expired", big, TicketLifetime(big) + time.Second, false},
	}
	for _, tc := range tests {
		s := &TicketSigner{key: key, now: func() time.Time { return time.Now().Add(-tc.age) }}
		err := VerifyTicket(s.Public(), s.Sign(d, p, tc.size), d, p)
		if (err == nil) != tc.valid || (err != nil && !errors.Is(err, ErrTicketInvalid)) {
			t.Errorf("%s: err = %v, want valid %v", tc.name, err, tc.valid)
		}
	}
}
