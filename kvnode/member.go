package kvnode

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	"go.etcd.io/etcd/server/v3/embed"
	"go.etcd.io/etcd/server/v3/etcdserver/api/v3client"
)

// TLSFiles names the certificate files of one side of a connection. All empty means
// plain TCP.
type TLSFiles struct {
	// CertFile and KeyFile are this side's certificate and key.
	CertFile string
	KeyFile  string
	// CAFile, when set, is the CA that the other side's certificate must chain to;
	// on a server it also turns on client certificate authentication.
	CAFile string
}

func (f TLSFiles) empty() bool { return f.CertFile == "" && f.KeyFile == "" && f.CAFile == "" }

func (f TLSFiles) info() transport.TLSInfo {
	return transport.TLSInfo{
		CertFile: f.CertFile, KeyFile: f.KeyFile, TrustedCAFile: f.CAFile,
		ClientCertAuth: f.CAFile != "",
	}
}

// MemberConfig configures one member of a kvnode cluster, in etcd's own terms.
type MemberConfig struct {
	// Name is the member's name, unique in the cluster. Empty means "berth".
	Name string
	// Dir is the member's data directory. Required.
	Dir string
	// ListenClient and ListenPeer are the URLs the member listens on for clients and
	// for other members. Required.
	ListenClient []url.URL
	ListenPeer   []url.URL
	// AdvertiseClient and AdvertisePeer are the URLs given to others. Empty means
	// the listen URLs.
	AdvertiseClient []url.URL
	AdvertisePeer   []url.URL
	// InitialCluster is "name=peerURL,..." for bootstrap. Empty means this member
	// alone.
	InitialCluster string
	// InitialClusterState is "new" (bootstrap) or "existing" (join). Empty means new.
	InitialClusterState string
	// ClientTLS and PeerTLS secure client and peer traffic.
	ClientTLS, PeerTLS TLSFiles
	// StartTimeout bounds how long the member may take to become ready; a member
	// that waits for its peers waits this long. Zero means one minute.
	StartTimeout time.Duration
}

// Member is a running kvnode member inside this process.
type Member struct {
	etcd *embed.Etcd
	log  *etcdLog
}

// StartMember starts a member and waits until it serves (which needs a quorum).
func StartMember(ctx context.Context, cfg MemberConfig, log *slog.Logger) (*Member, error) {
	elog := &etcdLog{log: log}
	ecfg, err := cfg.etcdConfig(elog)
	if err != nil {
		return nil, err
	}
	e, err := embed.StartEtcd(ecfg)
	if err != nil {
		return nil, fmt.Errorf("kvnode: start member %s: %w", ecfg.Name, err)
	}
	timeout := cfg.StartTimeout
	if timeout == 0 {
		timeout = time.Minute
	}
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(timeout):
		e.Close()
		return nil, fmt.Errorf("kvnode: member %s not ready after %s (no quorum?)", ecfg.Name, timeout)
	case <-ctx.Done():
		e.Close()
		return nil, ctx.Err()
	}
	log.Info("kvnode member ready", "name", ecfg.Name, "dir", cfg.Dir,
		"client_urls", urlList(ecfg.AdvertiseClientUrls), "member_id", e.Server.MemberID().String())
	return &Member{etcd: e, log: elog}, nil
}

// Store returns a Store on this member through an in-process client.
func (m *Member) Store() Store {
	return NewEtcdStore(v3client.New(m.etcd.Server), nil)
}

// Done is closed when the member stops on its own (for example when it was removed
// from the cluster).
func (m *Member) Done() <-chan struct{} { return m.etcd.Server.StopNotify() }

// Close stops the member.
func (m *Member) Close() {
	m.log.closing.Store(true)
	m.etcd.Close()
}

func (cfg MemberConfig) etcdConfig(elog *etcdLog) (*embed.Config, error) {
	if cfg.Dir == "" {
		return nil, fmt.Errorf("kvnode: member data directory is required")
	}
	if len(cfg.ListenClient) == 0 || len(cfg.ListenPeer) == 0 {
		return nil, fmt.Errorf("kvnode: member listen URLs are required")
	}
	c := embed.NewConfig()
	c.Name = cmpOr(cfg.Name, "berth")
	c.Dir = cfg.Dir
	c.Logger = "zap"
	c.ZapLoggerBuilder = embed.NewZapLoggerBuilder(elog.zap())
	c.AutoCompactionMode = "periodic"
	// Keep five minutes of history: enough for watchers to catch up, small enough
	// that a steady write rate does not fill the backend quota.
	c.AutoCompactionRetention = "5m"
	c.ListenClientUrls = cfg.ListenClient
	c.ListenPeerUrls = cfg.ListenPeer
	c.AdvertiseClientUrls = orURLs(cfg.AdvertiseClient, cfg.ListenClient)
	c.AdvertisePeerUrls = orURLs(cfg.AdvertisePeer, cfg.ListenPeer)
	c.InitialCluster = cfg.InitialCluster
	if c.InitialCluster == "" {
		c.InitialCluster = c.Name + "=" + c.AdvertisePeerUrls[0].String()
	}
	c.ClusterState = cmpOr(cfg.InitialClusterState, embed.ClusterStateFlagNew)
	switch c.ClusterState {
	case embed.ClusterStateFlagNew, embed.ClusterStateFlagExisting:
	default:
		return nil, fmt.Errorf("kvnode: initial cluster state %q must be new or existing", c.ClusterState)
	}
	if !cfg.ClientTLS.empty() {
		c.ClientTLSInfo = cfg.ClientTLS.info()
	}
	if !cfg.PeerTLS.empty() {
		c.PeerTLSInfo = cfg.PeerTLS.info()
	}
	return c, c.Validate()
}

// ParseURLs parses a comma-separated list of URLs.
func ParseURLs(s string) ([]url.URL, error) {
	var out []url.URL
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		u, err := url.Parse(part)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("kvnode: %q is not a URL like http://host:port", part)
		}
		out = append(out, *u)
	}
	return out, nil
}

func orURLs(a, b []url.URL) []url.URL {
	if len(a) > 0 {
		return a
	}
	return b
}

func urlList(us []url.URL) string {
	s := make([]string, len(us))
	for i, u := range us {
		s[i] = u.String()
	}
	return strings.Join(s, ",")
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
