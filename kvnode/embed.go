package kvnode

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// EmbeddedConfig configures a single-member store inside the calling process.
type EmbeddedConfig struct {
	// Dir is the member's data directory. Required.
	Dir string
	// StartTimeout bounds how long the member may take to become ready.
	// Zero means one minute.
	StartTimeout time.Duration
}

// StartEmbedded starts a single member in this process and returns a Store on it.
// Its listeners bind to free loopback ports; Berth itself talks to it in-process.
func StartEmbedded(ctx context.Context, cfg EmbeddedConfig, log *slog.Logger) (Store, error) {
	// A port found free may be taken by another process before etcd binds it; etcd
	// binds its listeners before it touches the data directory, so a start that
	// lost that race is tried again on other ports.
	var (
		m         *Member
		clientURL *url.URL
		err       error
	)
	for attempt := 0; ; attempt++ {
		m, clientURL, err = startEmbeddedOnce(ctx, cfg, log)
		if err == nil {
			break
		}
		if attempt == 4 || !errors.Is(err, syscall.EADDRINUSE) {
			return nil, err
		}
		log.Warn("kvnode: a free port was taken before the member bound it; retrying",
			"err", err)
	}
	// Tools such as `berth kv backup --data-dir` find the member through this file.
	if err := os.WriteFile(EndpointFile(cfg.Dir), []byte(clientURL.String()+"\n"), 0o600); err != nil {
		m.Close()
		return nil, fmt.Errorf("kvnode: %w", err)
	}
	s := m.Store().(*EtcdStore)
	s.local = true
	s.onClose = func() error { m.Close(); return nil }
	return s, nil
}

// startEmbeddedOnce starts the member on two free loopback ports.
func startEmbeddedOnce(
	ctx context.Context, cfg EmbeddedConfig, log *slog.Logger,
) (*Member, *url.URL, error) {
	clientURL, err := freeLoopbackURL()
	if err != nil {
		return nil, nil, err
	}
	peerURL, err := freeLoopbackURL()
	if err != nil {
		return nil, nil, err
	}
	m, err := StartMember(ctx, MemberConfig{
		Name: "berth", Dir: cfg.Dir, StartTimeout: cfg.StartTimeout,
		ListenClient: []url.URL{*clientURL}, ListenPeer: []url.URL{*peerURL},
	}, log)
	return m, clientURL, err
}

// EndpointFile is the file in an embedded member's directory that holds the client
// URL of the running member.
func EndpointFile(dir string) string { return filepath.Join(dir, "endpoint") }

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
