package main

import (
	"context"
	"io"
	"net"
	"sync"
	"sync/atomic"

	"golang.org/x/time/rate"
)

// proxy forwards TCP connections to a target and caps the bytes it sends back,
// over all connections together, as the gateway's own link would.
type proxy struct {
	l      net.Listener
	target string
	lim    *rate.Limiter
	sent   atomic.Int64 // bytes sent to clients
	wg     sync.WaitGroup
}

func startProxy(target string, bytesPerSec int64) (*proxy, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &proxy{l: l, target: target, lim: rate.NewLimiter(rate.Limit(bytesPerSec), 64<<10)}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

func (p *proxy) url() string { return "http://" + p.l.Addr().String() }

// close stops accepting and waits for the connections to end.
func (p *proxy) close() {
	p.l.Close()
	p.wg.Wait()
}

func (p *proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go p.serve(c)
	}
}

func (p *proxy) serve(c net.Conn) {
	defer p.wg.Done()
	defer c.Close()
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer up.Close()
	go func() {
		io.Copy(up, c)
		up.(*net.TCPConn).CloseWrite()
	}()
	buf := make([]byte, 64<<10)
	for {
		n, err := up.Read(buf)
		if n > 0 {
			p.lim.WaitN(context.Background(), n)
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
			p.sent.Add(int64(n))
		}
		if err != nil {
			return
		}
	}
}
