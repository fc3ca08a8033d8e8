package p2p

import "errors"

// Errors of the p2p package.
var (
	// ErrPieceMismatch reports a piece whose bytes do not match the piece map.
	ErrPieceMismatch = errors.New("p2p: piece does not match its digest")
	// ErrBlobMismatch reports a blob whose pieces matched but whose digest did not.
	ErrBlobMismatch = errors.New("p2p: blob does not match its digest")
	// ErrMapInvalid reports a piece map that is inconsistent with itself.
	ErrMapInvalid = errors.New("p2p: invalid piece map")
	// ErrTicketInvalid reports a ticket that is malformed, forged, expired or issued
	// for another blob or peer.
	ErrTicketInvalid = errors.New("p2p: invalid ticket")
	// ErrNotHeld reports a request for a blob or piece that the peer does not hold.
	ErrNotHeld = errors.New("p2p: piece not held")
	// ErrDeclined reports a seed that declines to send a piece it sent already.
	ErrDeclined = errors.New("p2p: seed declined, ask peers")
	// ErrCacheFull reports a blob that does not fit in the cache even after eviction.
	ErrCacheFull = errors.New("p2p: cache full")
	// ErrNoSource reports a download that ran out of sources.
	ErrNoSource = errors.New("p2p: no source left for a piece")
	// ErrNetworkKey reports a private-network key that is not 64 hex digits.
	ErrNetworkKey = errors.New("p2p: network key must be 64 hex digits")
	// ErrAgentAuth reports an agent whose proof of network membership failed.
	ErrAgentAuth = errors.New("p2p: agent authentication failed")
	// ErrPreheatNotFound reports a preheat job that does not exist (or was pruned).
	ErrPreheatNotFound = errors.New("p2p: no such preheat job")
	// ErrPreheatInvalid reports a preheat request or report that cannot be accepted.
	ErrPreheatInvalid = errors.New("p2p: invalid preheat")

	// errTransfer marks a failure to move bytes, as opposed to bad bytes.
	errTransfer = errors.New("p2p: transfer failed")
)
