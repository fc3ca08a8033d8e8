package gateway

import (
	"io"
	"sync"
)

// blobBufSize is the buffer of a blob range sent to a client.
const blobBufSize = 32 << 10

var blobBufPool = sync.Pool{New: func() any { b := make([]byte, blobBufSize); return &b }}

// blobBody is a range of a blob on its way to a client. fasthttp copies a body
// stream through a 4 KiB buffer unless the stream writes itself out, which blobBody
// does.
type blobBody struct {
	r io.Reader
	c io.Closer
}

func newBlobBody(rc io.ReadCloser, limit int64) *blobBody {
	return &blobBody{r: io.LimitReader(rc, limit), c: rc}
}

func (b *blobBody) Read(p []byte) (int, error) { return b.r.Read(p) }

func (b *blobBody) Close() error { return b.c.Close() }

// WriteTo copies the blob to w through a pooled buffer.
func (b *blobBody) WriteTo(w io.Writer) (int64, error) {
	bp := blobBufPool.Get().(*[]byte)
	defer blobBufPool.Put(bp)
	return io.CopyBuffer(onlyWriter{w}, b.r, *bp)
}

// onlyWriter hides a writer's ReadFrom, so that io.CopyBuffer uses the buffer given.
type onlyWriter struct{ w io.Writer }

func (o onlyWriter) Write(p []byte) (int, error) { return o.w.Write(p) }
