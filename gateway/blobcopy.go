package gateway

import (
	"errors"
	"io"
	"os"
	"sync"
)

// blobBufSize is the buffer of a blob streamed to a client from anything but a
// whole file.
const blobBufSize = 256 << 10

var blobBufPool = sync.Pool{New: func() any { b := make([]byte, blobBufSize); return &b }}

// blobBody is a blob, or a range of one, on its way to a client. fasthttp copies a
// body stream through a 4 KiB buffer unless the stream writes itself out, which
// blobBody does.
type blobBody struct {
	r io.Reader
	c io.Closer
}

// newBlobBody returns the body that sends limit bytes of rc.
func newBlobBody(rc io.ReadCloser, limit int64) *blobBody {
	return &blobBody{r: io.LimitReader(rc, limit), c: rc}
}

// streamBody returns what fasthttp should send of rc, limit bytes long: a whole
// file as it is, since fasthttp sends it with sendfile (the least server CPU per
// byte, docs/benchmarks.md), and anything else as a blobBody.
func streamBody(rc io.ReadCloser, limit int64, whole bool) io.ReadCloser {
	if _, ok := rc.(*os.File); ok && whole {
		return rc
	}
	return newBlobBody(rc, limit)
}

func (b *blobBody) Read(p []byte) (int, error) { return b.r.Read(p) }

func (b *blobBody) Close() error { return b.c.Close() }

// WriteTo copies the blob to w through a pooled buffer, filling the buffer before
// each write. A network stream (an S3 GET) returns whatever arrived, often a few
// KiB; passing those on one by one costs a write and a wake-up of the client each.
func (b *blobBody) WriteTo(w io.Writer) (int64, error) {
	bp := blobBufPool.Get().(*[]byte)
	defer blobBufPool.Put(bp)
	var total int64
	for {
		n, err := io.ReadFull(b.r, *bp)
		if n > 0 {
			m, werr := w.Write((*bp)[:n])
			total += int64(m)
			if werr != nil {
				return total, werr
			}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// onlyWriter hides a writer's ReadFrom, so that io.CopyBuffer uses the buffer given.
type onlyWriter struct{ w io.Writer }

func (o onlyWriter) Write(p []byte) (int, error) { return o.w.Write(p) }
