package p2p

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"log/slog"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/opencontainers/go-digest"
	"golang.org/x/time/rate"
)

// Timeouts of the piece protocol.
const (
	requestTimeout = 30 * time.Second // reading a request, sending an answer
	bitfieldWait   = 10 * time.Second // longest a bitfield answer waits for news
	followLimit    = 10 * time.Minute // longest a followed bitfield stream lives
	slotWait       = time.Second      // longest a piece request waits for an upload slot
)

// holder is a blob whose pieces a peer can serve.
type holder interface {
	// bits waits until more than known pieces are held or ctx ends, then returns
	// the pieces held.
	bits(ctx context.Context, known int) bitfield
	// pick chooses a piece of want to send: ErrNotHeld when it holds none of them,
	// ErrDeclined when a seed would rather the asker tried peers.
	pick(want bitfield, urgent bool) (int, error)
	// offers returns the error pick would return now, without picking: a request
	// it would decline is answered at once rather than after waiting for a slot.
	offers(want bitfield, urgent bool) error
	// readPiece returns the bytes of piece i.
	readPiece(ctx context.Context, i int) ([]byte, error)
}

// holders finds the holder of a blob, or ErrNotHeld.
type holders interface {
	holder(ctx context.Context, d digest.Digest) (holder, error)
}

// pieceServer answers the piece protocol for one host.
type pieceServer struct {
	holders holders
	tickets *ticketVerifier
	upload  *rate.Limiter
	metrics *Metrics
	role    string // "seed" or "peer", the role label of upload metrics
	log     *slog.Logger
	// seen, when set, learns every peer that presented a valid ticket for a blob.
	seen func(d digest.Digest, p peer.ID)
	// slots bounds the pieces sent at once: a capped link shared by many sends
	// delivers every piece late, while few sends at full rate let the receivers
	// relay the first pieces early. A request waits up to slotWait for a slot (the
	// piece is picked then), else it is declined as busy.
	slots *uploadSlots
}

func newPieceServer(h holders, key ed25519.PublicKey, uploads int, rate int64) *pieceServer {
	return &pieceServer{holders: h, tickets: newTicketVerifier(key), upload: newLimiter(rate),
		slots: newUploadSlots(uploads)}
}

// register makes h answer the piece protocol.
func (s *pieceServer) register(h host.Host) {
	h.SetStreamHandler(ProtocolID, s.handle)
}

func (s *pieceServer) handle(st network.Stream) {
	defer st.Close()
	st.SetReadDeadline(time.Now().Add(requestTimeout))
	var req request
	if err := readFrame(st, &req); err != nil {
		st.Reset()
		return
	}
	limit := requestTimeout + bitfieldWait
	if req.Op == opBitfield && req.Follow {
		limit = followLimit
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	remote := st.Conn().RemotePeer()
	if err := s.tickets.verify(req.Ticket, req.Digest, remote); err != nil {
		s.metrics.denied.Inc()
		s.log.Debug("piece request refused", "peer", remote, "blob", req.Digest, "err", err)
		writeFrame(st, answer{Error: err.Error()})
		return
	}
	if s.seen != nil {
		s.seen(req.Digest, remote)
	}
	h, err := s.holders.holder(ctx, req.Digest)
	if err != nil && req.Op == opBitfield {
		h, err = s.awaitHolder(ctx, req.Digest)
	}
	if err != nil {
		writeFrame(st, answer{Error: err.Error()})
		return
	}
	switch req.Op {
	case opBitfield:
		s.sendBits(ctx, st, h, req.Known, req.Follow)
	case opPiece:
		s.sendPiece(ctx, st, h, req)
	default:
		writeFrame(st, answer{Error: "unknown op " + req.Op})
	}
}

// awaitHolder waits up to bitfieldWait for a blob that a peer asks about before
// this agent started fetching it (both learnt of it at once); a blob still
// unknown by then is answered with an empty bitfield.
func (s *pieceServer) awaitHolder(ctx context.Context, d digest.Digest) (holder, error) {
	ctx, cancel := context.WithTimeout(ctx, bitfieldWait)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return emptyHolder{}, nil
		case <-tick.C:
		}
		if h, err := s.holders.holder(ctx, d); err == nil {
			return h, nil
		}
	}
}

// emptyHolder holds no piece.
type emptyHolder struct{}

func (emptyHolder) bits(context.Context, int) bitfield { return nil }
func (emptyHolder) pick(bitfield, bool) (int, error)   { return 0, ErrNotHeld }
func (emptyHolder) offers(bitfield, bool) error        { return ErrNotHeld }
func (emptyHolder) readPiece(context.Context, int) ([]byte, error) {
	return nil, ErrNotHeld
}

// sendBits answers with h's bitfield once it holds more than known pieces, or
// after bitfieldWait. With follow, it goes on answering on the same stream, once
// per change and at least every bitfieldWait (which tells it the asker is gone,
// when the write fails), until h holds every piece or ctx ends.
func (s *pieceServer) sendBits(
	ctx context.Context, st network.Stream, h holder, known int, follow bool,
) {
	for {
		wctx, cancel := context.WithTimeout(ctx, bitfieldWait)
		bits := h.bits(wctx, known)
		waited := wctx.Err() != nil
		cancel()
		st.SetWriteDeadline(time.Now().Add(requestTimeout))
		if err := writeFrame(st, answer{Bits: bits}); err != nil || !follow || ctx.Err() != nil {
			return
		}
		// A holder that answered at once without news cannot wait: the seed (it
		// holds everything) or a blob this peer has not started yet. The asker
		// closes the stream once it knows this peer holds every piece.
		n := bits.count()
		if n <= known && !waited {
			return
		}
		known = max(known, n)
	}
}

func (s *pieceServer) sendPiece(ctx context.Context, st network.Stream, h holder, req request) {
	asked := time.Now()
	if err := h.offers(req.Want, req.Urgent); err != nil {
		writeFrame(st, answer{Error: err.Error(), Declined: errors.Is(err, ErrDeclined)})
		return
	}
	if !s.slots.acquire(ctx, req.Have, slotWait) {
		writeFrame(st, answer{Error: "busy", Declined: true})
		return
	}
	granted := time.Now()
	defer s.slots.release()
	i, err := h.pick(req.Want, req.Urgent)
	if err != nil {
		writeFrame(st, answer{Error: err.Error(), Declined: errors.Is(err, ErrDeclined)})
		return
	}
	data, err := h.readPiece(ctx, i)
	if err != nil {
		s.log.Warn("reading a piece failed", "blob", req.Digest, "piece", i, "err", err)
		writeFrame(st, answer{Error: "piece unavailable"})
		return
	}
	if err := writeFrame(st, answer{Index: i, Length: int64(len(data))}); err != nil {
		return
	}
	err = copyLimited(ctx, st, bytes.NewReader(data), int64(len(data)), s.upload)
	if err != nil {
		st.Reset()
		return
	}
	s.metrics.uploaded.WithLabelValues(s.role, req.Digest.String()).Add(float64(len(data)))
	s.log.Debug("piece sent", "blob", req.Digest, "piece", i, "peer", st.Conn().RemotePeer(),
		"slot_wait_ms", granted.Sub(asked).Milliseconds(),
		"send_ms", time.Since(granted).Milliseconds())
}
