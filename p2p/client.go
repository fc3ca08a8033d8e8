package p2p

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/time/rate"
)

// pieceClient asks other peers for bitfields and pieces.
type pieceClient struct {
	host     host.Host
	download *rate.Limiter
}

// roundTrip opens a stream to p, sends req and reads the answer header. The
// caller reads any piece bytes and closes the stream.
func (c *pieceClient) roundTrip(
	ctx context.Context, p peer.ID, req request,
) (network.Stream, answer, error) {
	st, err := c.host.NewStream(network.WithAllowLimitedConn(ctx, "pieces"), p, ProtocolID)
	if err != nil {
		return nil, answer{}, err
	}
	stop := context.AfterFunc(ctx, func() { st.Reset() })
	defer stop()
	var a answer
	if err := writeFrame(st, req); err != nil {
		st.Reset()
		return nil, a, err
	}
	st.CloseWrite()
	if err := readFrame(st, &a); err != nil {
		st.Reset()
		return nil, a, err
	}
	if a.Declined {
		st.Close()
		return nil, a, ErrDeclined
	}
	if a.Error != "" {
		st.Close()
		return nil, a, fmt.Errorf("p2p: peer %s: %s", p.ShortString(), a.Error)
	}
	return st, a, nil
}

// follow asks p for the pieces of the ticket's blob that it holds, once it holds
// more than req.Known of them, and for every change after that on the same
// stream, calling fn with each bitfield until fn returns false. It returns nil
// when p ends the stream (a peer that answers once, or that cannot wait), after
// which the caller may ask again.
func (c *pieceClient) follow(
	ctx context.Context, p peer.ID, req request, fn func(bitfield) bool,
) error {
	req.Op, req.Follow = opBitfield, true
	st, a, err := c.roundTrip(ctx, p, req)
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { st.Reset() })
	defer stop()
	for fn(a.Bits) {
		st.SetReadDeadline(time.Now().Add(requestTimeout + bitfieldWait))
		a = answer{}
		if err := readFrame(st, &a); errors.Is(err, io.EOF) {
			st.Close()
			return nil
		} else if err != nil {
			st.Reset()
			return err
		}
		if a.Error != "" {
			st.Reset()
			return fmt.Errorf("p2p: peer %s: %s", p.ShortString(), a.Error)
		}
	}
	st.Reset() // the peer's next frame finds the stream gone and ends
	return nil
}

// piece asks p for one piece of want and returns its index, its unverified bytes
// and when its first byte came. A seed's piece goes before other downloads.
func (c *pieceClient) piece(
	ctx context.Context, p peer.ID, req request, m *PieceMap, seed bool,
) (int, []byte, time.Time, error) {
	req.Op = opPiece
	st, a, err := c.roundTrip(ctx, p, req)
	if err != nil {
		return 0, nil, time.Time{}, err
	}
	began := time.Now()
	defer st.Close()
	if !req.Want.has(a.Index) || a.Length != m.Len(a.Index) {
		st.Reset()
		return 0, nil, began, fmt.Errorf("%w: peer sent piece %d of %d bytes unasked",
			ErrPieceMismatch, a.Index, a.Length)
	}
	st.SetReadDeadline(time.Now().Add(requestTimeout + time.Duration(a.Length>>16)*time.Second))
	stop := context.AfterFunc(ctx, func() { st.Reset() })
	defer stop()
	var buf bytes.Buffer
	buf.Grow(int(a.Length))
	if err := copyPaced(ctx, &buf, st, a.Length, c.download, seed); err != nil {
		st.Reset()
		return 0, nil, began, errors.Join(errTransfer, err)
	}
	return a.Index, buf.Bytes(), began, nil
}
