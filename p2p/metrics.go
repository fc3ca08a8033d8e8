package p2p

import (
	"github.com/opencontainers/go-digest"
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the Prometheus collectors of a seed or an agent. Blob labels carry
// digests, so their number grows with the blobs moved; docs/p2p.md lists them.
type Metrics struct {
	downloaded *prometheus.CounterVec // bytes received, by source and blob
	uploaded   *prometheus.CounterVec // bytes sent, by role and blob
	pieces     *prometheus.CounterVec // pieces verified, by source
	failures   *prometheus.CounterVec // failed piece fetches, by reason
	banned     prometheus.Counter
	denied     prometheus.Counter
	polls      *prometheus.CounterVec // preheat polls of an agent, by result
}

// NewMetrics returns unregistered collectors; register them with Collectors.
func NewMetrics() *Metrics {
	return &Metrics{
		downloaded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "berth_p2p_download_bytes_total",
			Help: "Verified piece bytes received, by source (peer or seed) and blob.",
		}, []string{"source", "blob"}),
		uploaded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "berth_p2p_upload_bytes_total",
			Help: "Piece bytes sent to other peers, by role (seed or peer) and blob.",
		}, []string{"role", "blob"}),
		pieces: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "berth_p2p_pieces_total",
			Help: "Pieces verified, by source: peer, seed, or cache (verified before a restart).",
		}, []string{"source"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "berth_p2p_piece_failures_total",
			Help: "Failed piece fetches, by reason: mismatch (bad bytes) or transfer.",
		}, []string{"reason"}),
		banned: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "berth_p2p_banned_peers_total", Help: "Peers banned for a bad piece.",
		}),
		denied: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "berth_p2p_requests_denied_total",
			Help: "Requests refused for a missing or invalid ticket.",
		}),
		polls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "berth_p2p_preheat_polls_total",
			Help: "Polls of the gateway for preheat jobs, by result: ok or error.",
		}, []string{"result"}),
	}
}

// Collectors returns every collector, for registration.
func (m *Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.downloaded, m.uploaded, m.pieces, m.failures, m.banned,
		m.denied, m.polls}
}

// forgetBlob deletes the per-blob series of d, so that an agent's metrics do not
// grow with every blob it ever held.
func (m *Metrics) forgetBlob(d digest.Digest) {
	labels := prometheus.Labels{"blob": d.String()}
	m.downloaded.DeletePartialMatch(labels)
	m.uploaded.DeletePartialMatch(labels)
}
