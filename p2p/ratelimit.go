package p2p

import (
	"context"
	"io"
	"time"

	"golang.org/x/time/rate"
)

// rateChunk is the most bytes moved per limiter wait; it is also the burst.
const rateChunk = 64 << 10

// newLimiter returns a limiter of bytesPerSec, or nil (no limit) when it is zero.
func newLimiter(bytesPerSec int64) *rate.Limiter {
	if bytesPerSec <= 0 {
		return nil
	}
	return rate.NewLimiter(rate.Limit(bytesPerSec), rateChunk)
}

// copyLimited copies n bytes from r to w, waiting on lim (when not nil) for each chunk.
func copyLimited(ctx context.Context, w io.Writer, r io.Reader, n int64, lim *rate.Limiter) error {
	return copyPaced(ctx, w, r, n, lim, false)
}

// copyPaced is copyLimited where a first copy takes its tokens from lim without
// waiting: the limiter goes into debt, so the copies that wait on it yield to
// this one, which is held back by its sender only. A receiver uses it for the
// seed's pieces: the seed's link is the swarm's bottleneck and must not slow
// down because the receiver's link is shared with peers (docs/p2p.md).
func copyPaced(
	ctx context.Context, w io.Writer, r io.Reader, n int64, lim *rate.Limiter, first bool,
) error {
	buf := make([]byte, rateChunk)
	for n > 0 {
		chunk := min(n, rateChunk)
		switch {
		case lim == nil:
		case first:
			lim.ReserveN(time.Now(), int(chunk))
		default:
			if err := lim.WaitN(ctx, int(chunk)); err != nil {
				return err
			}
		}
		if _, err := io.ReadFull(r, buf[:chunk]); err != nil {
			return err
		}
		if _, err := w.Write(buf[:chunk]); err != nil {
			return err
		}
		n -= chunk
	}
	return nil
}
