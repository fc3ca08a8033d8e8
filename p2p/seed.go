package p2p

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/opencontainers/go-digest"
	"golang.org/x/sync/singleflight"

	"berth.dev/berth/kvnode"
	"berth.dev/berth/storage"
)

// SeedConfig tunes a seed. The zero value works.
type SeedConfig struct {
	// PieceSize is the largest piece of new piece maps; a small blob gets smaller
	// pieces (PieceSizeFor). Zero means DefaultPieceSize.
	PieceSize int64
	// UploadRate caps the seed's piece egress in bytes per second. Zero means no cap.
	UploadRate int64
	// MaxUploads bounds the pieces sent at once. Zero means 4.
	MaxUploads int
}

// maxSeedBlobs bounds the blobs whose send counts a seed remembers.
const maxSeedBlobs = 4096

// Seed is the gateway side of the swarm: it keeps piece maps, signs tickets,
// tracks agents and serves pieces from storage over its libp2p host.
type Seed struct {
	store   kvnode.Store
	blobs   storage.Driver
	host    host.Host
	signer  *TicketSigner
	tracker tracker
	cfg     SeedConfig
	metrics *Metrics
	log     *slog.Logger
	flight  singleflight.Group

	mu   sync.Mutex
	sent map[digest.Digest]*seedBlob // guarded by mu
}

// NewSeed returns a seed serving pieces on h. It loads (or creates) the ticket key.
func NewSeed(
	ctx context.Context, store kvnode.Store, blobs storage.Driver, h host.Host,
	cfg SeedConfig, log *slog.Logger,
) (*Seed, error) {
	if cfg.PieceSize <= 0 {
		cfg.PieceSize = DefaultPieceSize
	}
	signer, err := LoadTicketSigner(ctx, store)
	if err != nil {
		return nil, err
	}
	s := &Seed{store: store, blobs: blobs, host: h, signer: signer, tracker: tracker{store},
		cfg: cfg, metrics: NewMetrics(), log: log, sent: map[digest.Digest]*seedBlob{}}
	if cfg.MaxUploads <= 0 {
		cfg.MaxUploads = 4
	}
	srv := newPieceServer(s, signer.Public(), cfg.MaxUploads, cfg.UploadRate)
	srv.metrics, srv.role, srv.log = s.metrics, "seed", log
	srv.register(h)
	return s, nil
}

// Metrics returns the seed's collectors.
func (s *Seed) Metrics() *Metrics { return s.metrics }

// TicketKey returns the public key that verifies the seed's tickets.
func (s *Seed) TicketKey() []byte { return s.signer.Public() }

// PiecesAnswer is what an agent receives for a blob it may pull.
type PiecesAnswer struct {
	Map     *PieceMap `json:"map"`
	Ticket  string    `json:"ticket"`
	Sources []Source  `json:"sources"`
}

// Answer returns the piece map of blob d (of size bytes), a ticket for agent p
// and the sources of d, and lists p (at addrs) as a source. The caller has
// checked that the asker may pull d.
func (s *Seed) Answer(
	ctx context.Context, d digest.Digest, size int64, p peer.ID, addrs []string,
) (*PiecesAnswer, error) {
	m, err := s.pieceMap(ctx, d, size)
	if err != nil {
		return nil, err
	}
	// Announce before reading: of two agents asking at once, the later reader
	// then sees the other, and the other learns of it when it first asks.
	if err := s.tracker.announce(ctx, d, p, addrs); err != nil {
		return nil, err
	}
	srcs, err := s.tracker.sources(ctx, d, p)
	if err != nil {
		return nil, err
	}
	self := Source{ID: s.host.ID().String(), Addrs: addrStrings(s.host), Seed: true}
	return &PiecesAnswer{Map: m, Ticket: s.signer.Sign(d, p, m.Size),
		Sources: append([]Source{self}, srcs...)}, nil
}

// piecesKey is the metadata key of d's piece map for the configured (largest)
// piece size; the map holds the size chosen for the blob.
func piecesKey(d digest.Digest, pieceSize int64) string {
	return "p2p/pieces/" + d.String() + "/" + strconv.FormatInt(pieceSize, 10)
}

// pieceMap returns the piece map of d from metadata, computing and storing it
// from storage on first use.
func (s *Seed) pieceMap(ctx context.Context, d digest.Digest, size int64) (*PieceMap, error) {
	key := piecesKey(d, s.cfg.PieceSize)
	v, err, _ := s.flight.Do(key, func() (any, error) {
		b, err := s.store.Get(ctx, key)
		if err == nil {
			var m PieceMap
			if err := json.Unmarshal(b, &m); err != nil {
				return nil, fmt.Errorf("p2p: %s: %w", key, err)
			}
			return &m, nil
		}
		if !errors.Is(err, kvnode.ErrNotFound) {
			return nil, err
		}
		return s.computeMap(ctx, key, d, size)
	})
	if err != nil {
		return nil, err
	}
	return v.(*PieceMap), nil
}

func (s *Seed) computeMap(
	ctx context.Context, key string, d digest.Digest, size int64,
) (*PieceMap, error) {
	rc, err := s.blobs.Open(ctx, d, 0)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	m, err := ComputePieceMap(d, size, PieceSizeFor(size, s.cfg.PieceSize), rc)
	if err != nil {
		return nil, err
	}
	b, _ := json.Marshal(m)
	if err := s.store.Put(ctx, key, b); err != nil {
		return nil, err
	}
	s.log.Debug("piece map computed", "blob", d, "pieces", m.Count())
	return m, nil
}

// holder returns the seed's view of blob d. Its piece map must exist already (an
// agent asked the gateway for it before asking the seed for pieces); it is read
// from metadata once, then kept with the blob's send counts.
func (s *Seed) holder(ctx context.Context, d digest.Digest) (holder, error) {
	s.mu.Lock()
	sb := s.sent[d]
	s.mu.Unlock()
	if sb != nil {
		return sb, nil
	}
	b, err := s.store.Get(ctx, piecesKey(d, s.cfg.PieceSize))
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrNotHeld, d)
	}
	var m PieceMap
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if sb := s.sent[d]; sb != nil {
		return sb, nil
	}
	if len(s.sent) >= maxSeedBlobs {
		clear(s.sent)
	}
	sb = &seedBlob{seed: s, m: &m, sent: make([]int, m.Count())}
	s.sent[d] = sb
	return sb, nil
}

// seedBlob serves one blob from storage, sending each piece about once.
type seedBlob struct {
	seed *Seed
	m    *PieceMap
	sent []int // times each piece was picked; guarded by seed.mu
}

func (b *seedBlob) bits(context.Context, int) bitfield {
	all := newBitfield(b.m.Count())
	for i := range b.m.Count() {
		all.set(i)
	}
	return all
}

// pick returns the piece of want sent the fewest times; it declines a piece sent
// already unless the asker is stalled (super-seeding, docs/p2p.md).
func (b *seedBlob) pick(want bitfield, urgent bool) (int, error) {
	b.seed.mu.Lock()
	defer b.seed.mu.Unlock()
	best := -1
	for i := range b.m.Count() {
		if want.has(i) && (best < 0 || b.sent[i] < b.sent[best]) {
			best = i
		}
	}
	if best < 0 {
		return 0, ErrNotHeld
	}
	if b.sent[best] > 0 && !urgent {
		return 0, ErrDeclined
	}
	b.sent[best]++
	return best, nil
}

// offers reports, as pick would, whether a piece of want may be sent now.
func (b *seedBlob) offers(want bitfield, urgent bool) error {
	b.seed.mu.Lock()
	defer b.seed.mu.Unlock()
	held := false
	for i := range b.m.Count() {
		if want.has(i) {
			if b.sent[i] == 0 || urgent {
				return nil
			}
			held = true
		}
	}
	if held {
		return ErrDeclined
	}
	return ErrNotHeld
}

func (b *seedBlob) readPiece(ctx context.Context, i int) ([]byte, error) {
	rc, err := b.seed.blobs.Open(ctx, b.m.Digest, b.m.Offset(i))
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data := make([]byte, b.m.Len(i))
	if _, err := io.ReadFull(rc, data); err != nil {
		return nil, err
	}
	return data, nil
}
