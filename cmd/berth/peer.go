package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"berth.dev/berth/p2p"
)

// peerFlags are the settings of `berth peer`.
type peerFlags struct {
	listen, gateway, p2pListen, keyFile, cacheDir, logLevel string
	debugAddr                                               string
	cacheSize, upRate, downRate                             byteSize
	maxConns, maxInflight, maxUploads                       int
	stall, preheatPoll                                      time.Duration
	noP2P                                                   bool
}

func peerCmd() *cobra.Command {
	f := peerFlags{cacheSize: 10 << 30}
	cmd := &cobra.Command{
		Use:   "peer",
		Short: "Run the node agent: a registry mirror whose blobs come from the swarm",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runPeer(ctx, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.gateway, "gateway", "", "base URL of the gateway (required)")
	fl.StringVar(&f.listen, "listen", "127.0.0.1:5001", "address of the registry mirror")
	fl.StringVar(&f.p2pListen, "p2p-listen", "/ip4/0.0.0.0/tcp/0", "libp2p listen multiaddr")
	fl.StringVar(&f.keyFile, "network-key-file", "", "private-network key file (required)")
	fl.StringVar(&f.cacheDir, "cache-dir", "./berth-peer", "directory of cached blobs")
	fl.Var(&f.cacheSize, "cache-size", "cache size limit, such as 20GiB")
	fl.Var(&f.upRate, "upload-rate", "upload cap per second, such as 100MiB (0: none)")
	fl.Var(&f.downRate, "download-rate", "download cap per second (0: none)")
	fl.IntVar(&f.maxConns, "max-conns", 64, "connections past which libp2p trims")
	fl.IntVar(&f.maxInflight, "max-inflight", 4, "pieces in flight per blob")
	fl.IntVar(&f.maxUploads, "max-uploads", 2, "pieces sent to other peers at once")
	fl.DurationVar(&f.stall, "stall-timeout", 2*time.Second,
		"wait for peers before the seed sends a piece again")
	fl.BoolVar(&f.noP2P, "no-p2p", false, "pass every request through to the gateway")
	fl.DurationVar(&f.preheatPoll, "preheat-poll", 5*time.Second,
		"how often to ask the gateway for preheat jobs (0: never)")
	fl.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	fl.StringVar(&f.debugAddr, "debug-addr", "",
		"serve Go's pprof profiles on this address (keep it on loopback)")
	return cmd
}

func runPeer(ctx context.Context, f peerFlags) error {
	if f.gateway == "" {
		return errors.New("peer needs --gateway URL")
	}
	level, err := parseLevel(f.logLevel)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	cfg := p2p.AgentConfig{Gateway: f.gateway, CacheDir: f.cacheDir,
		CacheSize: int64(f.cacheSize), UploadRate: int64(f.upRate),
		DownloadRate: int64(f.downRate), MaxInflight: f.maxInflight, MaxUploads: f.maxUploads,
		StallTimeout: f.stall, PreheatPoll: f.preheatPoll,
		DisableP2P: f.noP2P,
		Host:       p2p.HostConfig{Listen: []string{f.p2pListen}, MaxConns: f.maxConns}}
	if !f.noP2P {
		id := filepath.Join(f.cacheDir, "identity.key")
		if err := os.MkdirAll(f.cacheDir, 0o700); err != nil {
			return err
		}
		if cfg.Host.Identity, err = p2p.LoadIdentity(id); err != nil {
			return err
		}
		if f.keyFile == "" {
			return errors.New("peer needs --network-key-file (the gateway's p2p network key)")
		}
		if cfg.Host.NetworkKey, err = p2p.LoadNetworkKey(f.keyFile, false); err != nil {
			return err
		}
	}
	if f.debugAddr != "" {
		if err := serveDebug(ctx, f.debugAddr, log); err != nil {
			return err
		}
	}
	agent, err := p2p.NewAgent(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer agent.Close()
	return serveMirror(ctx, f.listen, agent.Handler(), log)
}

// serveMirror serves h on addr until ctx ends.
func serveMirror(ctx context.Context, addr string, h http.Handler, log *slog.Logger) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: time.Minute}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	log.Info("registry mirror serving", "addr", l.Addr().String())
	if !isLoopback(l.Addr()) {
		log.Warn("the mirror listens beyond loopback over plain HTTP: clients' credentials "+
			"cross the network in the clear", "addr", l.Addr().String())
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

// isLoopback reports whether addr only accepts connections from this machine.
func isLoopback(addr net.Addr) bool {
	tcp, ok := addr.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}
