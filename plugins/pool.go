package plugins

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
)

// Stats counts a binding's instances.
type Stats struct {
	Live      int    // instances open: idle plus in use
	Idle      int    // instances waiting in the pool
	Created   uint64 // instances created since Bind
	Discarded uint64 // instances closed after a trap, timeout or exceeded limit
}

// pool keeps initialized instances of one binding. At most cap(sem) exist at once;
// a caller holds a token of sem for as long as it holds an instance.
type pool struct {
	sem       chan struct{}
	hostLive  *atomic.Int64
	live      atomic.Int64
	created   atomic.Uint64
	discarded atomic.Uint64

	mu     sync.Mutex // guards idle and closed
	idle   []*instance
	closed bool
}

func newPool(size int, hostLive *atomic.Int64) *pool {
	return &pool{sem: make(chan struct{}, size), hostLive: hostLive}
}

// get returns an idle instance, or a new one from spawn, waiting while the pool is
// full until ctx is done.
func (p *pool) get(ctx context.Context,
	spawn func(context.Context) (*instance, error)) (*instance, error) {
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, fmt.Errorf("%w: waiting for an instance", ErrTimeout)
		}
		return nil, ctx.Err()
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		<-p.sem
		return nil, ErrClosed
	}
	if n := len(p.idle); n > 0 {
		in := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return in, nil
	}
	p.mu.Unlock()

	in, err := spawn(ctx)
	if err != nil {
		<-p.sem
		return nil, err
	}
	p.created.Add(1)
	p.live.Add(1)
	p.hostLive.Add(1)
	return in, nil
}

// put returns an instance to the pool, or closes it when it is not healthy or the
// pool is closed.
func (p *pool) put(ctx context.Context, in *instance, healthy bool) {
	defer func() { <-p.sem }()
	p.mu.Lock()
	if healthy && !p.closed {
		p.idle = append(p.idle, in)
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	if !healthy {
		p.discarded.Add(1)
	}
	p.closeInstance(ctx, in)
}

func (p *pool) closeInstance(ctx context.Context, in *instance) {
	in.close(context.WithoutCancel(ctx))
	p.live.Add(-1)
	p.hostLive.Add(-1)
}

// close closes idle instances; instances in use are closed when put back.
func (p *pool) close(ctx context.Context) {
	p.mu.Lock()
	idle := p.idle
	p.idle, p.closed = nil, true
	p.mu.Unlock()
	for _, in := range idle {
		p.closeInstance(ctx, in)
	}
}

func (p *pool) stats() Stats {
	p.mu.Lock()
	idle := len(p.idle)
	p.mu.Unlock()
	return Stats{
		Live:      int(p.live.Load()),
		Idle:      idle,
		Created:   p.created.Load(),
		Discarded: p.discarded.Load(),
	}
}
