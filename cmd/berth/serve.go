package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"berth.dev/berth/auth"
	"berth.dev/berth/gateway"
	"berth.dev/berth/kvnode"
	"berth.dev/berth/registry"
)

func serveCmd() *cobra.Command {
	return registryCmd("serve", "Run a complete registry from one data directory", false)
}

func gatewayCmd() *cobra.Command {
	return registryCmd("gateway",
		"Run a stateless gateway against a kvnode or etcd cluster (--kv-endpoints)", true)
}

// registryCmd builds `serve` and `gateway`, which differ only in whether the
// metadata cluster is required.
func registryCmd(use, short string, needKV bool) *cobra.Command {
	var file string
	flags := struct{ addr, dataDir, kv string }{}
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(file, os.Environ())
			if err != nil {
				return err
			}
			setIfChanged(cmd, "addr", &cfg.Addr, flags.addr)
			setIfChanged(cmd, "data-dir", &cfg.DataDir, flags.dataDir)
			setIfChanged(cmd, "kv-endpoints", &cfg.KV.Endpoints, flags.kv)
			if err := cfg.Validate(); err != nil {
				return fmt.Errorf("config: %w", err)
			}
			if needKV && cfg.KV.Endpoints == "" {
				return fmt.Errorf("%s needs the metadata cluster: pass --kv-endpoints URL,...", use)
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return serve(ctx, cfg)
		},
	}
	d := DefaultConfig()
	cmd.Flags().StringVar(&file, "config", "", "YAML configuration file")
	cmd.Flags().StringVar(&flags.addr, "addr", d.Addr, "listen address (BERTH_ADDR)")
	cmd.Flags().StringVar(&flags.dataDir, "data-dir", d.DataDir, "data directory (BERTH_DATA_DIR)")
	cmd.Flags().StringVar(&flags.kv, "kv-endpoints", "",
		"client URLs of a kvnode or etcd cluster; empty runs an embedded member (BERTH_KV_ENDPOINTS)")
	return cmd
}

func setIfChanged(cmd *cobra.Command, flag string, dst *string, v string) {
	if cmd.Flags().Changed(flag) {
		*dst = v
	}
}

func newLogger(cfg Config) *slog.Logger {
	level, _ := parseLevel(cfg.LogLevel)
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

// serve runs the gateway with the configured metadata store (an embedded member by
// default) and blob storage until ctx ends.
func serve(ctx context.Context, cfg Config) error {
	log := newLogger(cfg)
	dataDir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	// Bind the address before anything else picks a port: the embedded member
	// listens on free loopback ports, and an address in the ephemeral range that
	// was free a moment ago could otherwise be its choice (an e2e test saw its
	// berth's own member answer on the berth's address).
	l, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer l.Close()
	store, err := openStore(ctx, cfg, dataDir, log)
	if err != nil {
		return err
	}
	defer store.Close()
	blobs, err := openBlobs(ctx, cfg.Storage, dataDir, log)
	if err != nil {
		return err
	}
	if cfg.DebugAddr != "" {
		if err := serveDebug(ctx, cfg.DebugAddr, log); err != nil {
			return err
		}
	}
	pol, err := startPolicies(ctx, cfg.Policies, dataDir, store, blobs, log)
	if err != nil {
		return err
	}
	defer pol.stop()
	access, err := startAuth(ctx, cfg, store, dataDir, log)
	if err != nil {
		return err
	}
	adm := &admission{e: pol.engine, blobs: blobs}
	opts := registry.Options{UploadTTL: cfg.Uploads.TTL, EventRetention: cfg.Audit.Retention,
		Quotas: quotas{access.Service}, Admission: adm}
	if cfg.Storage.Redirect {
		opts.RedirectTTL = cfg.Storage.RedirectTTL
	}
	reg := registry.New(store, blobs, log, opts)
	adm.reg = reg
	if err := reg.Start(ctx); err != nil {
		return err
	}
	defer reg.Close()
	sp, err := startSeed(ctx, cfg.P2P, dataDir, store, blobs, log)
	if err != nil {
		return err
	}
	defer sp.stop()
	pol.run(ctx, store, adm, log)
	defer pol.halt() // before reg.Close: the after-push consumer reads the registry
	catalog := appliedCatalog{Admin: pol.catalog, e: pol.engine}
	gcfg := gateway.Config{Auth: access, Policies: catalog, P2P: sp.seed,
		Preheats: sp.preheats}
	return runGateway(ctx, cfg, l, dataDir, reg, gcfg, log)
}

// startAuth builds the access control over store and makes sure the project
// "library" and the user "admin" exist.
func startAuth(
	ctx context.Context, cfg Config, store kvnode.Store, dataDir string, log *slog.Logger,
) (*gateway.Auth, error) {
	svc := auth.New(store, log, auth.Config{})
	iss, err := auth.NewIssuer(store, svc, auth.IssuerConfig{
		Service: cfg.Auth.Service, TTL: cfg.Auth.TokenTTL,
	}, log)
	if err != nil {
		return nil, err
	}
	if err := svc.EnsureDefaults(ctx); err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	pw := auth.Secret(os.Getenv("BERTH_ADMIN_PASSWORD"))
	if _, err := svc.Bootstrap(ctx, pw, dataDir); err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	return &gateway.Auth{Service: svc, Issuer: iss, Realm: cfg.Auth.Realm}, nil
}

// quotas reads the registry's project quotas from the projects of the auth room.
type quotas struct{ svc *auth.Service }

// Quota implements registry.QuotaSource; a project that does not exist has none.
func (q quotas) Quota(ctx context.Context, project string) (int64, error) {
	p, err := q.svc.Project(ctx, project)
	if errors.Is(err, auth.ErrProjectNotFound) || errors.Is(err, auth.ErrInvalidName) {
		return 0, nil
	}
	return p.QuotaBytes, err
}

// runGateway serves the gateway on l until ctx ends.
func runGateway(
	ctx context.Context, cfg Config, l net.Listener, dataDir string, reg *registry.Registry,
	gcfg gateway.Config, log *slog.Logger,
) error {
	gcfg.TrustedProxies = splitList(cfg.TrustedProxies)
	srv := gateway.New(reg, log, gcfg)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	srv.SetReady()
	log.Info("berth serving", "addr", l.Addr().String(), "data_dir", dataDir)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

// openStore dials the configured cluster, or starts the embedded member.
func openStore(
	ctx context.Context, cfg Config, dataDir string, log *slog.Logger,
) (kvnode.Store, error) {
	if cfg.KV.Endpoints == "" {
		return kvnode.StartEmbedded(ctx, kvnode.EmbeddedConfig{Dir: filepath.Join(dataDir, "kv")}, log)
	}
	return kvnode.Dial(ctx, kvnode.ClientConfig{
		Endpoints: splitList(cfg.KV.Endpoints),
		TLS: kvnode.TLSFiles{
			CertFile: cfg.KV.CertFile, KeyFile: cfg.KV.KeyFile, CAFile: cfg.KV.CAFile,
		},
		RequestTimeout: cfg.KV.RequestTimeout,
	}, log)
}

// splitList splits a comma-separated list, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
