package p2p

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestVerifyAgent(t *testing.T) {
	key := []byte(strings.Repeat("k", 32))
	other := []byte(strings.Repeat("o", 32))
	now := time.Unix(1_800_000_000, 0)
	const id = "12D3KooWExample"
	signed := func(key []byte, at time.Time) http.Header {
		h := http.Header{}
		SignAgent(h, key, id, at)
		return h
	}
	tampered := signed(key, now)
	mac := []byte(tampered.Get(HeaderPeerAuth))
	if mac[0] == '0' { // another hex digit: the HMAC parses but does not match
		mac[0] = '1'
	} else {
		mac[0] = '0'
	}
	tampered.Set(HeaderPeerAuth, string(mac))
	otherID := signed(key, now)
	otherID.Set(HeaderPeerID, "12D3KooWSomeoneElse")
	tests := []struct {
		name string
		h    http.Header
		key  []byte
		ok   bool
	}{
		{"valid", signed(key, now), key, true},
		{"59 s old", signed(key, now.Add(-59*time.Second)), key, true},
		{"59 s ahead", signed(key, now.Add(59*time.Second)), key, true},
		{"expired", signed(key, now.Add(-61*time.Second)), key, false},
		{"future", signed(key, now.Add(61*time.Second)), key, false},
		{"tampered HMAC", tampered, key, false},
		{"other peer id", otherID, key, false},
		{"wrong key", signed(other, now), key, false},
		{"no headers", http.Header{}, key, false},
		{"gateway without key", signed(key, now), nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := VerifyAgent(tt.key, tt.h.Get(HeaderPeerID), tt.h.Get(HeaderPeerTime),
				tt.h.Get(HeaderPeerAuth), now)
			if tt.ok != (err == nil) {
				t.Fatalf("VerifyAgent: %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrAgentAuth) {
				t.Errorf("error %v does not wrap ErrAgentAuth", err)
			}
			if err != nil && strings.Contains(err.Error(), tt.h.Get(HeaderPeerAuth)) &&
				tt.h.Get(HeaderPeerAuth) != "" {
				t.Errorf("error %q holds the HMAC", err)
			}
			if err == nil && got != id {
				t.Errorf("peer id %q, want %q", got, id)
			}
		})
	}
}
