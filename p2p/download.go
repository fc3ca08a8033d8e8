package p2p

import (
	"context"
	"errors"
	"math/rand/v2"
	"sort"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
)

// Scheduling limits (docs/p2p.md).
const (
	perPeerInflight = 2                      // pieces in flight to one proven peer
	maxSourceFails  = 3                      // transfer failures before a source is dropped
	seedRetryDelay  = 100 * time.Millisecond // wait after a seed declined
	busyRetryDelay  = 100 * time.Millisecond // wait after a busy peer declined
	tickInterval    = 100 * time.Millisecond // re-schedule at least this often
)

// source is one peer a download may take pieces from.
type source struct {
	id       peer.ID
	seed     bool
	bits     bitfield
	inflight int
	proven   bool // delivered a verified piece; until then one request at a time
	fails    int
	busy     time.Time // declined as busy: not asked again before this
}

// capacity returns how many more requests the source takes.
func (s *source) capacity(maxInflight int) int {
	switch {
	case s.seed:
		return maxInflight - s.inflight
	case !s.proven:
		return 1 - s.inflight
	}
	return perPeerInflight - s.inflight
}

type pieceResult struct {
	from  peer.ID
	asked int // the piece asked for, or -1 when the seed picked
	index int
	data  []byte
	err   error
	sent  time.Time // when the request went out
	began time.Time // when the first byte came
}

type bitsUpdate struct {
	from peer.ID
	bits bitfield
	err  error
}

// download fetches the missing pieces of one blob into its cache entry. One
// goroutine (run) owns its scheduling state; fetchers and watchers report to it.
type download struct {
	agent *Agent
	entry *cacheEntry
	m     *PieceMap
	done  chan struct{} // closed when run returns
	err   error         // set before done closes

	mu         sync.Mutex
	ticket     string      // the newest ticket; guarded by mu
	newSources chan Source // sources learnt after the start

	// owned by run
	sources   map[peer.ID]*source
	inflight  map[int]peer.ID
	seedWait  time.Time
	started   time.Time
	progress  time.Time // the start, or the last piece that came from a peer
	results   chan pieceResult
	updates   chan bitsUpdate
	wg        sync.WaitGroup
	inflightN int
}

func newDownload(a *Agent, e *cacheEntry, ans *PiecesAnswer) *download {
	d := &download{agent: a, entry: e, m: e.m, done: make(chan struct{}), ticket: ans.Ticket,
		newSources: make(chan Source, 64), sources: map[peer.ID]*source{},
		inflight: map[int]peer.ID{}, results: make(chan pieceResult),
		updates: make(chan bitsUpdate)}
	for _, s := range ans.Sources {
		d.offer(s)
	}
	return d
}

// offer hands the download a source learnt from the gateway or from a peer that
// asked us for the same blob; it never blocks.
func (d *download) offer(s Source) {
	select {
	case d.newSources <- s:
	default:
	}
}

// refresh replaces the ticket with a newer one and offers the answer's sources.
func (d *download) refresh(ans *PiecesAnswer) {
	d.mu.Lock()
	d.ticket = ans.Ticket
	d.mu.Unlock()
	for _, s := range ans.Sources {
		d.offer(s)
	}
}

func (d *download) request() request {
	d.mu.Lock()
	defer d.mu.Unlock()
	return request{Digest: d.m.Digest, Ticket: d.ticket}
}

// run fetches until every piece is verified, ctx ends or no source is left.
func (d *download) run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer func() {
		cancel()
		d.wg.Wait()
	}()
	d.started = time.Now()
	d.progress = d.started
	have, _ := d.entry.snapshot()
	d.agent.log.Debug("download started", "blob", d.m.Digest, "pieces", d.m.Count(),
		"have", have.count())
	defer func() {
		d.agent.log.Debug("download ended", "blob", d.m.Digest, "ms", d.sinceStart(time.Now()))
	}()
	tick := time.NewTicker(tickInterval)
	defer tick.Stop()
	for !d.entry.complete() {
		d.schedule(ctx)
		if d.inflightN == 0 && len(d.sources) == 0 && len(d.newSources) == 0 {
			return ErrNoSource
		}
		select {
		case r := <-d.results:
			d.onPiece(r)
		case u := <-d.updates:
			d.onBits(u)
		case s := <-d.newSources:
			d.addSource(ctx, s)
		case <-tick.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// addSource starts using s unless it is known, banned or ourselves.
func (d *download) addSource(ctx context.Context, s Source) {
	info, err := addrInfo(s)
	if err != nil || info.ID == d.agent.host.ID() || d.sources[info.ID] != nil ||
		d.agent.isBanned(info.ID) {
		return
	}
	d.agent.host.Peerstore().AddAddrs(info.ID, info.Addrs, peerstore.TempAddrTTL)
	src := &source{id: info.ID, seed: s.Seed}
	d.sources[info.ID] = src
	if !s.Seed {
		d.wg.Add(1)
		go d.watch(ctx, src.id)
	}
}

// watch long-polls p's bitfield and reports each change until p holds every
// piece, fails repeatedly or the download ends.
func (d *download) watch(ctx context.Context, p peer.ID) {
	defer d.wg.Done()
	known, fails := 0, 0
	deliver := func(bits bitfield) bool {
		fails, known = 0, bits.count()
		select {
		case d.updates <- bitsUpdate{from: p, bits: bits}:
		case <-ctx.Done():
			return false
		}
		return known < d.m.Count()
	}
	for known < d.m.Count() && fails < maxSourceFails {
		req := d.request()
		req.Known = known
		err := d.agent.client.follow(ctx, p, req, deliver)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			fails++
			select {
			case <-time.After(time.Second):
			case <-ctx.Done():
				return
			}
		}
	}
	if fails >= maxSourceFails {
		select {
		case d.updates <- bitsUpdate{from: p, err: errTransfer}:
		case <-ctx.Done():
		}
	}
}

func (d *download) onBits(u bitsUpdate) {
	src := d.sources[u.from]
	if src == nil {
		return
	}
	if u.err != nil {
		d.drop(src)
		return
	}
	if len(u.bits) == len(newBitfield(d.m.Count())) {
		src.bits = u.bits
	}
}

// drop stops using src; requests in flight to it finish on their own.
func (d *download) drop(src *source) {
	delete(d.sources, src.id)
}

// stalled reports whether no piece came from a peer for the stall timeout and
// nothing is on its way: the seed should then send pieces it sent before.
func (d *download) stalled() bool {
	return d.inflightN == 0 && time.Since(d.progress) > d.agent.cfg.StallTimeout
}

// schedule starts requests until the in-flight limit: first the seed, for pieces
// no peer holds (the rarest of all: until the seed sent them nobody can relay
// them, so the seed's link must never wait for an asker whose requests all went
// to busy peers), then rarest first from peers.
func (d *download) schedule(ctx context.Context) {
	have, _ := d.entry.snapshot()
	limit := d.agent.cfg.MaxInflight
	d.askSeed(ctx, have, limit)
	for _, i := range d.rarestFirst(have) {
		if d.inflightN >= limit {
			return
		}
		if src := d.pickSource(i); src != nil {
			d.start(ctx, src, i, nil, false)
		}
	}
}

// rarestFirst returns the missing pieces not in flight that some peer holds,
// the least available first, ties in random order.
func (d *download) rarestFirst(have bitfield) []int {
	avail := map[int]int{}
	for _, s := range d.sources {
		if s.seed {
			continue
		}
		for i := range d.m.Count() {
			if s.bits.has(i) && !have.has(i) && d.inflight[i] == "" {
				avail[i]++
			}
		}
	}
	order := make([]int, 0, len(avail))
	for i := range avail {
		order = append(order, i)
	}
	rand.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
	sort.SliceStable(order, func(a, b int) bool { return avail[order[a]] < avail[order[b]] })
	return order
}

// pickSource returns the least busy peer holding piece i with room for a request.
func (d *download) pickSource(i int) *source {
	var best *source
	for _, s := range d.sources {
		if s.seed || !s.bits.has(i) || s.capacity(0) <= 0 || time.Now().Before(s.busy) {
			continue
		}
		if best == nil || s.inflight < best.inflight {
			best = s
		}
	}
	return best
}

// askSeed asks a seed for pieces that no peer holds (or any missing piece when
// stalled), letting the seed pick which.
func (d *download) askSeed(ctx context.Context, have bitfield, limit int) {
	if time.Now().Before(d.seedWait) {
		return
	}
	urgent := d.stalled()
	want := newBitfield(d.m.Count())
	for i := range d.m.Count() {
		if !have.has(i) && d.inflight[i] == "" && (urgent || !d.peersHold(i)) {
			want.set(i)
		}
	}
	n := want.count() - d.seedInflight()
	// Few requests at a time, so that the seed's slots serve many agents: two
	// (back to back at full rate) until peers are known, then one.
	seedLimit := min(limit, 2)
	if d.hasPeers() {
		seedLimit = 1
	}
	for _, s := range d.sources {
		for s.seed && n > 0 && d.inflightN < limit && s.capacity(seedLimit) > 0 {
			d.start(ctx, s, -1, want, urgent)
			n--
		}
	}
}

func (d *download) hasPeers() bool {
	for _, s := range d.sources {
		if !s.seed {
			return true
		}
	}
	return false
}

func (d *download) peersHold(i int) bool {
	for _, s := range d.sources {
		if !s.seed && s.bits.has(i) {
			return true
		}
	}
	return false
}

func (d *download) seedInflight() int {
	n := 0
	for _, s := range d.sources {
		if s.seed {
			n += s.inflight
		}
	}
	return n
}

// start requests piece i from src (or, with i = -1, any piece of want).
func (d *download) start(
	ctx context.Context, src *source, i int, want bitfield, urgent bool,
) {
	req := d.request()
	req.Urgent = urgent
	req.Want = want
	have, _ := d.entry.snapshot()
	req.Have = have.count()
	if i >= 0 {
		req.Want = newBitfield(d.m.Count())
		req.Want.set(i)
		d.inflight[i] = src.id
	}
	src.inflight++
	d.inflightN++
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		r := pieceResult{from: src.id, asked: i, sent: time.Now()}
		r.index, r.data, r.began, r.err = d.agent.client.piece(ctx, src.id, req, d.m, src.seed)
		select {
		case d.results <- r:
		case <-ctx.Done():
		}
	}()
}

func (d *download) onPiece(r pieceResult) {
	d.inflightN--
	if r.asked >= 0 {
		delete(d.inflight, r.asked)
	}
	src := d.sources[r.from]
	if src != nil {
		src.inflight--
	}
	err := r.err
	if err == nil {
		err = d.m.Verify(r.index, r.data)
	}
	switch {
	case err == nil:
		d.accept(src, r)
	case errors.Is(err, ErrDeclined) && src != nil && !src.seed:
		d.agent.log.Debug("piece declined", "peer", r.from, "asked", r.asked,
			"sent_ms", d.sinceStart(r.sent), "ms", d.sinceStart(time.Now()))
		src.busy = time.Now().Add(busyRetryDelay)
	case errors.Is(err, ErrDeclined):
		d.agent.log.Debug("piece declined", "peer", r.from, "source", "seed",
			"sent_ms", d.sinceStart(r.sent), "ms", d.sinceStart(time.Now()))
		d.seedWait = time.Now().Add(seedRetryDelay)
	case errors.Is(err, ErrPieceMismatch):
		d.agent.ban(r.from, d.m.Digest, err)
		if src != nil {
			d.drop(src)
		}
	default:
		d.agent.metrics.failures.WithLabelValues("transfer").Inc()
		d.agent.log.Debug("piece fetch failed", "peer", r.from, "blob", d.m.Digest, "err", err)
		if src != nil {
			if src.fails++; src.fails >= maxSourceFails {
				d.drop(src)
			}
		}
	}
}

// accept stores a verified piece.
func (d *download) accept(src *source, r pieceResult) {
	if have, _ := d.entry.snapshot(); have.has(r.index) {
		return // a duplicate from an urgent seed request
	}
	if err := d.entry.writePiece(r.index, r.data); err != nil {
		d.agent.log.Error("writing a piece to the cache failed", "blob", d.m.Digest, "err", err)
		return
	}
	kind := "peer"
	if src != nil && src.seed {
		kind = "seed"
	} else {
		d.progress = time.Now()
	}
	if src != nil {
		src.proven, src.fails = true, 0
	}
	d.agent.log.Debug("piece verified", "blob", d.m.Digest, "piece", r.index, "source", kind,
		"peer", r.from, "sent_ms", d.sinceStart(r.sent), "began_ms", d.sinceStart(r.began),
		"ms", d.sinceStart(time.Now()))
	d.agent.metrics.pieces.WithLabelValues(kind).Inc()
	d.agent.metrics.downloaded.WithLabelValues(kind, d.m.Digest.String()).
		Add(float64(len(r.data)))
}

// sinceStart returns t in milliseconds since the download started, for logs.
func (d *download) sinceStart(t time.Time) int64 {
	return t.Sub(d.started).Milliseconds()
}
