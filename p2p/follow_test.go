package p2p

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
)

// loopbackHosts returns two connected libp2p hosts on loopback in one private network.
func loopbackHosts(t *testing.T) (host.Host, host.Host) {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	var hs [2]host.Host
	for i := range hs {
		h, err := NewHost(HostConfig{Listen: []string{"/ip4/127.0.0.1/tcp/0"}, NetworkKey: key})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close() })
		hs[i] = h
	}
	err := hs[1].Connect(context.Background(), peer.AddrInfo{ID: hs[0].ID(), Addrs: hs[0].Addrs()})
	if err != nil {
		t.Fatal(err)
	}
	return hs[0], hs[1]
}

// TestFollowBitfield checks that a followed bitfield arrives on one stream once
// per change: the asker hears of each new piece without asking again, and the
// stream ends when the asker knows the peer holds every piece.
func TestFollowBitfield(t *testing.T) {
	server, client := loopbackHosts(t)
	_, signKey, _ := ed25519.GenerateKey(rand.Reader)
	signer := &TicketSigner{key: signKey}
	cache, err := OpenCache(t.TempDir(), 0, discard)
	if err != nil {
		t.Fatal(err)
	}
	defer cache.Close()
	blob, m := cachedBlob(t, 3000) // 3 pieces
	e := mustAcquire(t, cache, m)
	defer e.release()
	srv := newPieceServer(cache, signer.Public(), 1, 0)
	srv.metrics, srv.role, srv.log = NewMetrics(), "peer", discard
	srv.register(server)

	streams := func() int { // the client's open piece-protocol streams to the server
		n := 0
		for _, conn := range client.Network().ConnsToPeer(server.ID()) {
			for _, st := range conn.GetStreams() {
				if st.Protocol() == ProtocolID {
					n++
				}
			}
		}
		return n
	}
	c := pieceClient{host: client}
	req := request{Digest: m.Digest, Ticket: signer.Sign(m.Digest, client.ID(), m.Size)}
	got := make(chan int, m.Count())
	done := make(chan error, 1)
	go func() {
		done <- c.follow(context.Background(), server.ID(), req, func(b bitfield) bool {
			got <- b.count()
			return b.count() < m.Count()
		})
	}()
	for i := range m.Count() {
		writePieces(t, e, blob, i)
		select {
		case n := <-got:
			if n != i+1 {
				t.Fatalf("after piece %d the asker heard of %d pieces", i, n)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no news of piece %d", i)
		}
		if i < m.Count()-1 && streams() != 1 {
			t.Fatalf("%d streams open while following, want 1", streams())
		}
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("follow ended with %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("follow did not end once the peer held every piece")
	}
}
