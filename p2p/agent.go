package p2p

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/opencontainers/go-digest"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// AgentConfig configures a peer agent. Zero values of the optional fields work.
type AgentConfig struct {
	// Gateway is the base URL of the gateway, such as https://registry.example.com.
	Gateway string
	// Host configures the agent's libp2p host.
	Host HostConfig
	// CacheDir holds the cached blobs.
	CacheDir string
	// CacheSize bounds the cache in bytes. Zero means no bound.
	CacheSize int64
	// UploadRate and DownloadRate cap piece traffic in bytes per second. Zero means
	// no cap.
	UploadRate, DownloadRate int64
	// MaxInflight bounds the pieces in flight per blob. Zero means 4.
	MaxInflight int
	// MaxUploads bounds the pieces the agent sends at once. Zero means 2.
	MaxUploads int
	// StallTimeout is how long a download waits for peers before asking a seed to
	// send pieces again. Zero means 2 seconds.
	StallTimeout time.Duration
	// DisableP2P makes the agent a plain pass-through mirror (for comparisons).
	DisableP2P bool
	// PreheatPoll is how often the agent asks the gateway for preheat jobs
	// (docs/p2p.md). Zero means never; it needs P2P and Host.NetworkKey.
	PreheatPoll time.Duration
}

// Agent is the node agent: a registry mirror whose blobs come from the swarm.
type Agent struct {
	cfg     AgentConfig
	gateway *url.URL
	host    host.Host
	cache   *Cache
	client  pieceClient
	metrics *Metrics
	reg     *prometheus.Registry
	http    *http.Client
	proxy   *httputil.ReverseProxy
	log     *slog.Logger
	stop    context.CancelFunc
	// base ends when Close is called. It is the parent of every download, which
	// outlives the request that started it (other clients join it, and the cache
	// keeps its pieces), so no request's context can be.
	base context.Context
	wg   sync.WaitGroup

	mu        sync.Mutex
	downloads map[digest.Digest]*download // running downloads; guarded by mu
	banned    map[peer.ID]bool            // guarded by mu
}

// NewAgent opens the cache, starts the libp2p host and fetches the gateway's
// ticket key. Close releases them.
func NewAgent(ctx context.Context, cfg AgentConfig, log *slog.Logger) (*Agent, error) {
	if cfg.MaxInflight <= 0 {
		cfg.MaxInflight = 4
	}
	if cfg.MaxUploads <= 0 {
		cfg.MaxUploads = 2
	}
	if cfg.StallTimeout <= 0 {
		cfg.StallTimeout = 2 * time.Second
	}
	gw, err := url.Parse(strings.TrimSuffix(cfg.Gateway, "/"))
	if err != nil || gw.Host == "" {
		return nil, fmt.Errorf("p2p: gateway URL %q: want http(s)://host[:port]", cfg.Gateway)
	}
	a := &Agent{cfg: cfg, gateway: gw, metrics: NewMetrics(), log: log,
		http: &http.Client{}, downloads: map[digest.Digest]*download{},
		banned: map[peer.ID]bool{}}
	a.base, a.stop = context.WithCancel(context.Background())
	a.proxy = &httputil.ReverseProxy{Rewrite: a.rewrite, ModifyResponse: a.modifyResponse}
	a.reg = prometheus.NewRegistry()
	a.reg.MustRegister(a.metrics.Collectors()...)
	a.reg.MustRegister(collectors.NewGoCollector())
	if cfg.DisableP2P {
		return a, nil
	}
	if err := a.startSwarm(ctx); err != nil {
		a.Close()
		return nil, err
	}
	if cfg.PreheatPoll > 0 {
		a.wg.Go(func() { a.runPreheats(a.base, cfg.PreheatPoll) })
	}
	return a, nil
}

func (a *Agent) startSwarm(ctx context.Context) error {
	key, err := a.fetchTicketKey(ctx)
	if err != nil {
		return err
	}
	if a.cache, err = OpenCache(a.cfg.CacheDir, a.cfg.CacheSize, a.log); err != nil {
		return err
	}
	a.cache.onRemove = a.metrics.forgetBlob
	if a.host, err = NewHost(a.cfg.Host); err != nil {
		return err
	}
	a.client = pieceClient{host: a.host, download: newLimiter(a.cfg.DownloadRate)}
	srv := newPieceServer(a.cache, key, a.cfg.MaxUploads, a.cfg.UploadRate)
	srv.metrics, srv.role, srv.log, srv.seen = a.metrics, "peer", a.log, a.peerSeen
	srv.register(a.host)
	a.log.Info("peer agent in the swarm", "peer_id", a.host.ID(), "addrs", addrStrings(a.host))
	return nil
}

// Close stops every download and releases the host and the cache.
func (a *Agent) Close() error {
	a.stop()
	a.wg.Wait()
	var errs []error
	if a.host != nil {
		errs = append(errs, a.host.Close())
	}
	if a.cache != nil {
		errs = append(errs, a.cache.Close())
	}
	return errors.Join(errs...)
}

// ID returns the agent's libp2p identity (empty with P2P off).
func (a *Agent) ID() peer.ID {
	if a.host == nil {
		return ""
	}
	return a.host.ID()
}

// Addrs returns the agent's libp2p addresses.
func (a *Agent) Addrs() []string { return addrStrings(a.host) }

// Metrics returns the agent's collectors.
func (a *Agent) Metrics() *Metrics { return a.metrics }

// fetchTicketKey reads the key that verifies tickets from the gateway, retrying
// for a while so that agents may start before it.
func (a *Agent) fetchTicketKey(ctx context.Context) (ed25519.PublicKey, error) {
	u := a.gateway.String() + TicketKeyPath
	var last error
	for range 30 {
		key, err := a.getTicketKey(ctx, u)
		if err == nil {
			return key, nil
		}
		last = err
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Second):
		}
	}
	return nil, fmt.Errorf("p2p: ticket key from %s: %w", u, last)
}

func (a *Agent) getTicketKey(ctx context.Context, u string) (ed25519.PublicKey, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	resp, err := a.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %s", resp.Status)
	}
	var body TicketKeyBody
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, err
	}
	if len(body.PublicKey) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("public key of %d bytes", len(body.PublicKey))
	}
	return ed25519.PublicKey(body.PublicKey), nil
}

// TicketKeyPath is where the gateway serves the ticket public key.
const TicketKeyPath = "/p2p/v1/ticket-key"

// TicketKeyBody is the JSON answer at TicketKeyPath.
type TicketKeyBody struct {
	PublicKey []byte `json:"public_key"`
}

func (a *Agent) isBanned(p peer.ID) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.banned[p]
}

// ban refuses p for the life of the agent after it sent a bad piece of d.
func (a *Agent) ban(p peer.ID, d digest.Digest, cause error) {
	a.metrics.failures.WithLabelValues("mismatch").Inc()
	a.mu.Lock()
	already := a.banned[p]
	a.banned[p] = true
	a.mu.Unlock()
	if already {
		return
	}
	a.metrics.banned.Inc()
	a.log.Warn("peer banned for a bad piece", "peer", p, "blob", d, "err", cause)
	a.host.Network().ClosePeer(p)
}

// peerSeen offers a peer that asked us for blob d, with a valid ticket, as a
// source to our own download of d: it fetches the same blob.
func (a *Agent) peerSeen(d digest.Digest, p peer.ID) {
	a.mu.Lock()
	dl := a.downloads[d]
	a.mu.Unlock()
	if dl != nil {
		dl.offer(Source{ID: p.String()})
	}
}

// fetch returns the running download of the answer's blob, starting one when
// the entry is incomplete; nil when the entry is complete.
func (a *Agent) fetch(e *cacheEntry, ans *PiecesAnswer) *download {
	a.mu.Lock()
	defer a.mu.Unlock()
	if dl := a.downloads[e.m.Digest]; dl != nil {
		dl.refresh(ans)
		return dl
	}
	if e.complete() {
		return nil
	}
	dl := newDownload(a, e, ans)
	a.downloads[e.m.Digest] = dl
	have, _ := e.snapshot()
	a.metrics.pieces.WithLabelValues("cache").Add(float64(have.count()))
	e.use(1)
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		defer e.release()
		dl.err = dl.run(a.base)
		if dl.err != nil {
			a.log.Warn("download failed", "blob", e.m.Digest, "err", dl.err)
		}
		a.mu.Lock()
		delete(a.downloads, e.m.Digest)
		a.mu.Unlock()
		close(dl.done)
	}()
	return dl
}
