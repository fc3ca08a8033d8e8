package p2p

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"

	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/opencontainers/go-digest"
)

// ProtocolID names Berth's piece protocol on libp2p streams. One stream carries
// one request and its answer.
const ProtocolID protocol.ID = "/berth/pieces/1.0.0"

// maxFrame bounds a request or answer header on the wire.
const maxFrame = 256 << 10

// Operations of a request.
const (
	opBitfield = "bitfield" // answer the pieces held, once more than Known are held
	opPiece    = "piece"    // send one piece from Want
)

// request is what a peer asks of another over one stream.
type request struct {
	Op     string        `json:"op"`
	Digest digest.Digest `json:"digest"`
	Ticket string        `json:"ticket"`
	// Known is, for opBitfield, the number of pieces the asker already knows the
	// peer holds: the answer waits until the peer holds more, or a while.
	Known int `json:"known,omitempty"`
	// Want is, for opPiece, the set of pieces the asker would take; the peer picks one.
	Want bitfield `json:"want,omitempty"`
	// Urgent tells a seed that the asker is stalled, so it sends a piece again.
	Urgent bool `json:"urgent,omitempty"`
	// Have is, for opPiece, how many pieces the asker holds: busy peers serve the
	// askers that hold the fewest first.
	Have int `json:"have,omitempty"`
	// Follow asks, for opBitfield, for one answer per change on the same stream
	// (and one every bitfieldWait if nothing changed) until the peer holds every
	// piece, instead of one answer. A peer that does not know it answers once.
	Follow bool `json:"follow,omitempty"`
}

// answer is the header of the reply; for a piece, the piece's bytes follow it.
type answer struct {
	Error    string   `json:"error,omitempty"`
	Declined bool     `json:"declined,omitempty"`
	Bits     bitfield `json:"bits,omitempty"`
	Index    int      `json:"index"`
	Length   int64    `json:"length,omitempty"`
}

// writeFrame writes v as a length-prefixed JSON frame.
func writeFrame(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(b)))
	if _, err := w.Write(n[:]); err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// readFrame reads one length-prefixed JSON frame into v.
func readFrame(r io.Reader, v any) error {
	var n [4]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return err
	}
	size := binary.BigEndian.Uint32(n[:])
	if size > maxFrame {
		return fmt.Errorf("p2p: frame of %d bytes exceeds %d", size, maxFrame)
	}
	b := make([]byte, size)
	if _, err := io.ReadFull(r, b); err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}
