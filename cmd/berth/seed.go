package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"

	"berth.dev/berth/kvnode"
	"berth.dev/berth/p2p"
	"berth.dev/berth/storage"
)

// SeedConfig configures the gateway's seed peer (the `p2p` section).
type SeedConfig struct {
	// Enabled runs the seed; agents then fetch blobs in pieces.
	Enabled bool `yaml:"enabled"`
	// Listen is the libp2p multiaddr of the seed. Port 0 picks a free port; agents
	// learn the seed's addresses from the gateway.
	Listen string `yaml:"listen"`
	// NetworkKeyFile holds the private-network key (64 hex digits) shared by the
	// gateways and agents. Empty means <data_dir>/p2p-network.key, created if missing.
	NetworkKeyFile string `yaml:"network_key_file"`
	// PieceSize is the size of a piece in bytes.
	PieceSize int64 `yaml:"piece_size"`
	// UploadRate caps the seed's piece egress in bytes per second; zero means no cap.
	UploadRate int64 `yaml:"upload_rate"`
	// MaxConns is the connection count past which the seed trims connections.
	MaxConns int `yaml:"max_conns"`
	// MaxUploads bounds the pieces the seed sends at once.
	MaxUploads int `yaml:"max_uploads"`
}

func defaultSeedConfig() SeedConfig {
	return SeedConfig{Enabled: true, Listen: "/ip4/0.0.0.0/tcp/0", PieceSize: p2p.DefaultPieceSize,
		MaxConns: 256, MaxUploads: 4}
}

// seedPeer is the running seed with the preheat jobs its agents poll for.
type seedPeer struct {
	seed     *p2p.Seed
	preheats *p2p.Preheats
	stop     func()
}

// startSeed starts the seed's libp2p host when enabled (a zero seedPeer with a
// no-op stop when not); stop stops it.
func startSeed(
	ctx context.Context, cfg SeedConfig, dataDir string, store kvnode.Store,
	blobs storage.Driver, log *slog.Logger,
) (seedPeer, error) {
	if !cfg.Enabled {
		return seedPeer{stop: func() {}}, nil
	}
	keyFile := cfg.NetworkKeyFile
	if keyFile == "" {
		keyFile = filepath.Join(dataDir, "p2p-network.key")
	}
	key, err := p2p.LoadNetworkKey(keyFile, cfg.NetworkKeyFile == "")
	if err != nil {
		return seedPeer{}, err
	}
	h, err := p2p.NewHost(p2p.HostConfig{Listen: []string{cfg.Listen}, NetworkKey: key,
		MaxConns: cfg.MaxConns})
	if err != nil {
		return seedPeer{}, fmt.Errorf("p2p seed: %w", err)
	}
	seed, err := p2p.NewSeed(ctx, store, blobs, h,
		p2p.SeedConfig{PieceSize: cfg.PieceSize, UploadRate: cfg.UploadRate,
			MaxUploads: cfg.MaxUploads}, log)
	if err != nil {
		h.Close()
		return seedPeer{}, err
	}
	log.Info("p2p seed listening", "peer_id", h.ID(), "network_key_file", keyFile)
	return seedPeer{seed: seed, preheats: p2p.NewPreheats(store, key),
		stop: func() { h.Close() }}, nil
}
