package kvnode

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"go.etcd.io/etcd/server/v3/etcdserver/api/v3client"
)

// EmbeddedConfig configures a single-member store inside the calling process.
type EmbeddedConfig struct {
	// Dir is the member's data directory. Required.
	Dir string
	// StartTimeout bounds how long the member may take to become ready.
	// Zero means one minute.
	StartTimeout time.Duration
}

// StartEmbedded starts a single etcd member in this process and returns a Store on
// it. Its listeners bind to free loopback ports; Berth itself talks to it in-process.
func StartEmbedded(ctx context.Context, cfg EmbeddedConfig, log *slog.Logger) (Store, error) {
	ecfg, err := embeddedEtcdConfig(cfg.Dir)
	if err != nil {
		return nil, err
	}
	e, err := embed.StartEtcd(ecfg)
	if err != nil {
		return nil, fmt.Errorf("kvnode: start embedded member: %w", err)
	}
	timeout := cfg.StartTimeout
	if timeout == 0 {
		timeout = time.Minute
	}
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(timeout):
		e.Close()
		return nil, fmt.Errorf("kvnode: embedded member not ready after %s", timeout)
	case <-ctx.Done():
		e.Close()
		return nil, ctx.Err()
	}
	log.Info("metadata store ready", "backend", "embedded", "dir", cfg.Dir)
	cli := v3client.New(e.Server)
	return NewEtcdStore(cli, func() error { e.Close(); return nil }), nil
}

func embeddedEtcdConfig(dir string) (*embed.Config, error) {
	c := embed.NewConfig()
	c.Name = "berth"
	c.Dir = filepath.Join(dir, "member")
	c.Logger = "zap"
	c.LogLevel = "error"
	c.AutoCompactionMode = "periodic"
	// Keep five minutes of history: enough for watchers to catch up, small enough
	// that a steady write rate does not fill the backend quota.
	c.AutoCompactionRetention = "5m"
	clientURL, err := freeLoopbackURL()
	if err != nil {
		return nil, err
	}
	peerURL, err := freeLoopbackURL()
	if err != nil {
		return nil, err
	}
	c.ListenClientUrls = []url.URL{*clientURL}
	c.AdvertiseClientUrls = []url.URL{*clientURL}
	c.ListenPeerUrls = []url.URL{*peerURL}
	c.AdvertisePeerUrls = []url.URL{*peerURL}
	c.InitialCluster = c.Name + "=" + peerURL.String()
	return c, nil
}

// freeLoopbackURL reserves a free loopback port and releases it for etcd to bind.
func freeLoopbackURL() (*url.URL, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("kvnode: find a free port: %w", err)
	}
	addr := l.Addr().String()
	l.Close()
	return &url.URL{Scheme: "http", Host: addr}, nil
}
