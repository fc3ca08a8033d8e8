package e2e

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"berth.dev/berth/p2p"
)

// Tests with a libp2p host of the test's own inside the swarm: a hostile peer
// that serves corrupted pieces, and a peer that asks for pieces without a valid
// ticket. Both speak the wire protocol of docs/p2p.md.

// wireRequest and wireAnswer are the frames of the piece protocol.
type wireRequest struct {
	Op     string `json:"op"`
	Digest string `json:"digest"`
	Ticket string `json:"ticket"`
	Known  int    `json:"known,omitempty"`
	Want   []byte `json:"want,omitempty"`
	Urgent bool   `json:"urgent,omitempty"`
}

type wireAnswer struct {
	Error    string `json:"error,omitempty"`
	Declined bool   `json:"declined,omitempty"`
	Bits     []byte `json:"bits,omitempty"`
	Index    int    `json:"index"`
	Length   int64  `json:"length,omitempty"`
}

func writeWire(w io.Writer, v any) error {
	b, _ := json.Marshal(v)
	if err := binary.Write(w, binary.BigEndian, uint32(len(b))); err != nil {
		return err
	}
	_, err := w.Write(b)
	return err
}

func readWire(r io.Reader, v any) error {
	var n uint32
	if err := binary.Read(r, binary.BigEndian, &n); err != nil {
		return err
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// testHost returns a libp2p host in the private network of s.
func testHost(t *testing.T, s seedServer) host.Host {
	t.Helper()
	key, err := p2p.LoadNetworkKey(s.keyFile, false)
	if err != nil {
		t.Fatal(err)
	}
	h, err := p2p.NewHost(p2p.HostConfig{Listen: []string{"/ip4/127.0.0.1/tcp/0"},
		NetworkKey: key})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// askPieces asks the gateway for the piece map of blob dig in repo as peer h.
func askPieces(t *testing.T, s seedServer, h host.Host, repo, dig string) p2p.PiecesAnswer {
	t.Helper()
	var addrs []string
	for _, a := range h.Addrs() {
		addrs = append(addrs, a.String())
	}
	r := s.do(t, "GET", "/v2/"+repo+"/blobs/"+dig+"/pieces", nil,
		p2p.HeaderPeerID, h.ID().String(), p2p.HeaderPeerAddrs, strings.Join(addrs, ","))
	if r.status != http.StatusOK {
		t.Fatalf("GET pieces of %s: %v, want 200", dig, r)
	}
	var ans p2p.PiecesAnswer
	if err := json.Unmarshal(r.body, &ans); err != nil {
		t.Fatal(err)
	}
	return ans
}

// TestP2PHostilePeer lists a peer that claims every piece and serves garbage: the
// agent bans it at its first bad piece and completes from the seed.
func TestP2PHostilePeer(t *testing.T) {
	t.Parallel()
	const size, piece = 8 << 20, 1 << 20
	s := startSeedServer(t, piece)
	dig := s.pushBlob(t, "p2p/hostile", randomBytes(t, size))
	hostile := testHost(t, s)
	ans := askPieces(t, s, hostile, "p2p/hostile", dig) // the tracker now lists it
	var served atomic.Int32
	hostile.SetStreamHandler(p2p.ProtocolID, func(st network.Stream) {
		defer st.Close()
		var req wireRequest
		if readWire(st, &req) != nil {
			return
		}
		if req.Op == "bitfield" {
			writeWire(st, wireAnswer{Bits: bytes.Repeat([]byte{0xff}, (ans.Map.Count()+7)/8)})
			return
		}
		i := firstBit(req.Want)
		served.Add(1)
		n := ans.Map.Len(i)
		writeWire(st, wireAnswer{Index: i, Length: n})
		st.Write(bytes.Repeat([]byte{0xba}, int(n)))
	})

	a := startAgent(t, s, "agent")
	if r := getBlob(a.url("/v2/p2p/hostile/blobs/" + dig)); r.err != nil || r.digest != dig {
		t.Fatalf("GET through the agent: %d bytes, digest %s, err %v; want %s",
			r.size, r.digest, r.err, dig)
	}
	m := a.url("/metrics")
	if n := metric(t, m, "berth_p2p_banned_peers_total"); n != 1 {
		t.Errorf("banned peers: %v, want 1", n)
	}
	if n := metric(t, m, "berth_p2p_piece_failures_total", `reason="mismatch"`); n != 1 {
		t.Errorf("bad pieces: %v, want 1 (banned at the first)", n)
	}
	if n := served.Load(); n != 1 {
		t.Errorf("the hostile peer was asked for %d pieces, want 1", n)
	}
}

func firstBit(b []byte) int {
	for i := range len(b) * 8 {
		if b[i/8]&(1<<(i%8)) != 0 {
			return i
		}
	}
	return -1
}

// TestP2PTickets asks the seed and an agent holding a blob for its pieces with
// no ticket, another peer's ticket and another blob's ticket: none of them gets
// a piece; the peer's own ticket does.
func TestP2PTickets(t *testing.T) {
	t.Parallel()
	const size, piece = 2 << 20, 1 << 20
	s := startSeedServer(t, piece)
	dig := s.pushBlob(t, "p2p/tickets", randomBytes(t, size))
	other := s.pushBlob(t, "p2p/tickets", randomBytes(t, 1000))
	a := startAgent(t, s, "agent")
	if r := getBlob(a.url("/v2/p2p/tickets/blobs/" + dig)); r.digest != dig {
		t.Fatalf("the agent did not fetch the blob: %+v", r)
	}

	testAnonymous(t, s, a, dig)

	asker, bystander := testHost(t, s), testHost(t, s)
	own := askPieces(t, s, asker, "p2p/tickets", dig)
	cases := []struct {
		name, ticket string
		wantPiece    bool
	}{
		{"no ticket", "", false},
		{"another peer's ticket", askPieces(t, s, bystander, "p2p/tickets", dig).Ticket, false},
		{"another blob's ticket", askPieces(t, s, asker, "p2p/tickets", other).Ticket, false},
		{"forged ticket", forge(own.Ticket), false},
		{"own ticket", own.Ticket, true},
	}
	sources := map[string]p2p.Source{"seed": own.Sources[0], "agent": agentSource(t, a)}
	testStranger(t, sources["seed"])
	for srcName, src := range sources {
		for _, tc := range cases {
			ans, data := askPiece(t, asker, src, dig, tc.ticket)
			if got := ans.Error == "" && len(data) > 0; got != tc.wantPiece {
				t.Errorf("%s, %s: got a piece %v (%d bytes, error %q), want %v",
					srcName, tc.name, got, len(data), ans.Error, tc.wantPiece)
			}
		}
	}
}

// forge flips a byte of a ticket's payload, keeping its signature.
func forge(ticket string) string {
	b := []byte(ticket)
	if b[5] == 'A' {
		b[5] = 'B'
	} else {
		b[5] = 'A'
	}
	return string(b)
}

// agentSource returns the agent's libp2p identity and addresses from its log.
func agentSource(t *testing.T, a *agent) p2p.Source {
	t.Helper()
	log := a.tail()
	const line = `msg="peer agent in the swarm" `
	i := strings.Index(log, line)
	if i < 0 {
		t.Fatalf("agent log names no peer id:\n%s", log)
	}
	fields := strings.Fields(log[i+len(line):])
	id := strings.TrimPrefix(fields[0], "peer_id=")
	addr := strings.Trim(strings.TrimPrefix(fields[1], "addrs="), "[]")
	return p2p.Source{ID: id, Addrs: []string{addr}}
}

// askPiece asks src for piece 0 of dig with ticket and returns the answer and
// any piece bytes.
func askPiece(t *testing.T, h host.Host, src p2p.Source, dig, ticket string) (wireAnswer, []byte) {
	t.Helper()
	id, err := peer.Decode(src.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range src.Addrs {
		h.Peerstore().AddAddr(id, ma.StringCast(a), time.Hour)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := h.NewStream(ctx, id, p2p.ProtocolID)
	if err != nil {
		t.Fatalf("stream to %s: %v", src.ID, err)
	}
	defer st.Close()
	// urgent, so that the seed sends a piece it sent the agent already
	req := wireRequest{Op: "piece", Digest: dig, Ticket: ticket, Want: []byte{1}, Urgent: true}
	if err := writeWire(st, req); err != nil {
		t.Fatal(err)
	}
	var ans wireAnswer
	if err := readWire(st, &ans); err != nil {
		t.Fatal(fmt.Errorf("reading the answer: %w", err))
	}
	data, _ := io.ReadAll(st)
	return ans, data
}

// testStranger checks that a host without the network key cannot reach src.
func testStranger(t *testing.T, src p2p.Source) {
	t.Helper()
	stranger, err := p2p.NewHost(p2p.HostConfig{Listen: []string{"/ip4/127.0.0.1/tcp/0"},
		NetworkKey: bytes.Repeat([]byte{7}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	defer stranger.Close()
	id, _ := peer.Decode(src.ID)
	for _, a := range src.Addrs {
		stranger.Peerstore().AddAddr(id, ma.StringCast(a), time.Hour)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if st, err := stranger.NewStream(ctx, id, p2p.ProtocolID); err == nil {
		st.Close()
		t.Errorf("a host outside the private network opened a stream to the seed")
	}
}

// testAnonymous checks that a caller without credentials gets no ticket for a
// blob of a private project, from the gateway or through an agent, and is told
// where to log in.
func testAnonymous(t *testing.T, s seedServer, a *agent, dig string) {
	t.Helper()
	anon := "Authorization"
	r := s.do(t, "GET", "/v2/p2p/tickets/blobs/"+dig+"/pieces", nil, anon, "",
		p2p.HeaderPeerID, "12D3KooWBW75iBcAb7vP2GZ7jxxoh64PesiEBnmdkmerXgbD8qsL")
	if r.status != http.StatusUnauthorized {
		t.Errorf("anonymous piece map of a private blob: %v, want 401", r)
	}
	r = s.do(t, "GET", a.url("/v2/p2p/tickets/blobs/"+dig), nil, anon, "")
	if r.status != http.StatusUnauthorized || r.header.Get("WWW-Authenticate") == "" {
		t.Errorf("anonymous blob GET through the agent: %v, want 401 with a challenge", r)
	}
}
