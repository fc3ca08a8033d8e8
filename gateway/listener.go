package gateway

import (
	"io"
	"net"
	"strconv"
	"sync"
)

// tlsRecordHandshake is the first byte of a TLS ClientHello.
const tlsRecordHandshake = 0x16

// plainListener answers clients that start a TLS handshake on the plain-HTTP port
// with a plain HTTP 400 and closes the connection. Without it fasthttp waits for a
// request line that never comes, and clients that try HTTPS before HTTP (containerd,
// docker) stall instead of falling back at once.
type plainListener struct {
	net.Listener
}

func (l plainListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &sniffConn{Conn: c}, nil
}

// sniffConn checks the first byte a client sends.
type sniffConn struct {
	net.Conn
	once sync.Once
	tls  bool
}

const tlsRefusalBody = "this port serves plain HTTP: use http://, not https://\n"

var tlsRefusal = "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n" +
	"Content-Type: text/plain\r\nContent-Length: " + strconv.Itoa(len(tlsRefusalBody)) +
	"\r\n\r\n" + tlsRefusalBody

// ReadFrom hands writes from a file to the connection's own ReadFrom, so that whole
// blobs still go out with sendfile through the wrapper.
func (c *sniffConn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(onlyWriter{c.Conn}, r)
}

func (c *sniffConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.once.Do(func() {
		if n > 0 && p[0] == tlsRecordHandshake {
			c.tls = true
			c.Conn.Write([]byte(tlsRefusal))
			c.Conn.Close()
		}
	})
	if c.tls {
		return 0, net.ErrClosed
	}
	return n, err
}
