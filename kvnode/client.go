package kvnode

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// ClientConfig configures a connection to a kvnode cluster or any etcd v3.5+ cluster.
type ClientConfig struct {
	// Endpoints are the client URLs of the members. Required.
	Endpoints []string
	// TLS secures the connection; CertFile and KeyFile authenticate this client.
	TLS TLSFiles
	// DialTimeout bounds connecting. Zero means 5 seconds.
	DialTimeout time.Duration
	// RequestTimeout bounds one operation. Zero means DefaultRequestTimeout.
	RequestTimeout time.Duration
}

// Dial connects to a cluster and returns a Store on it.
func Dial(ctx context.Context, cfg ClientConfig, log *slog.Logger) (*EtcdStore, error) {
	if len(cfg.Endpoints) == 0 {
		return nil, fmt.Errorf("kvnode: no endpoints to dial")
	}
	ccfg := clientv3.Config{
		Endpoints:   cfg.Endpoints,
		DialTimeout: cmpDur(cfg.DialTimeout, 5*time.Second),
		Context:     ctx,
		Logger:      zap.NewNop(),
	}
	if !cfg.TLS.empty() {
		tlsCfg, err := cfg.TLS.info().ClientConfig()
		if err != nil {
			return nil, fmt.Errorf("kvnode: client TLS: %w", err)
		}
		ccfg.TLS = tlsCfg
	}
	cli, err := clientv3.New(ccfg)
	if err != nil {
		return nil, fmt.Errorf("kvnode: dial %v: %w", cfg.Endpoints, err)
	}
	s := NewEtcdStore(cli, nil)
	s.timeout = cmpDur(cfg.RequestTimeout, DefaultRequestTimeout)
	// Fail now, with a clear error, when no member answers.
	sctx, cancel := context.WithTimeout(ctx, ccfg.DialTimeout)
	defer cancel()
	if _, err := cli.Status(sctx, cfg.Endpoints[0]); err != nil {
		if _, err2 := cli.Get(sctx, "meta/schema"); err2 != nil {
			cli.Close()
			return nil, fmt.Errorf("%w: no member of %v answers: %v", ErrUnavailable, cfg.Endpoints, err2)
		}
	}
	log.Info("metadata store connected", "backend", "etcd", "endpoints", cfg.Endpoints)
	return s, nil
}

func cmpDur(a, b time.Duration) time.Duration {
	if a != 0 {
		return a
	}
	return b
}
