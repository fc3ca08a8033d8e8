package p2p

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/pnet"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	ma "github.com/multiformats/go-multiaddr"
)

// HostConfig configures a libp2p host of the swarm.
type HostConfig struct {
	// Listen are the multiaddrs to listen on. None means /ip4/0.0.0.0/tcp/0.
	Listen []string
	// NetworkKey is the 32-byte private-network key; only hosts holding it connect.
	NetworkKey []byte
	// MaxConns is the connection count past which the host trims connections.
	// Zero means 64.
	MaxConns int
	// Identity is the host's key, hence its peer id. Nil means a new random one.
	Identity crypto.PrivKey
}

// NewHost returns a libp2p host on TCP with Noise inside the private network of
// cfg.NetworkKey. The caller closes it.
func NewHost(cfg HostConfig) (host.Host, error) {
	if len(cfg.NetworkKey) != 32 {
		return nil, ErrNetworkKey
	}
	if len(cfg.Listen) == 0 {
		cfg.Listen = []string{"/ip4/0.0.0.0/tcp/0"}
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = 64
	}
	cm, err := connmgr.NewConnManager(cfg.MaxConns/2, cfg.MaxConns)
	if err != nil {
		return nil, err
	}
	opts := []libp2p.Option{}
	if cfg.Identity != nil {
		opts = append(opts, libp2p.Identity(cfg.Identity))
	}
	return libp2p.New(append(opts,
		libp2p.ListenAddrStrings(cfg.Listen...),
		libp2p.PrivateNetwork(pnet.PSK(cfg.NetworkKey)),
		libp2p.Security(noise.ID, noise.New),
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.ConnectionManager(cm),
		libp2p.DisableRelay(),
	)...)
}

// LoadIdentity reads the libp2p key in file, creating the file with a new Ed25519
// key (mode 0600) when it is missing, so that a restarted agent keeps its peer id.
func LoadIdentity(file string) (crypto.PrivKey, error) {
	b, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		key, _, err := crypto.GenerateEd25519Key(rand.Reader)
		if err != nil {
			return nil, err
		}
		raw, err := crypto.MarshalPrivateKey(key)
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(file, raw, 0o600); err != nil {
			return nil, fmt.Errorf("p2p: identity: %w", err)
		}
		return key, nil
	}
	if err != nil {
		return nil, fmt.Errorf("p2p: identity: %w", err)
	}
	key, err := crypto.UnmarshalPrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("p2p: identity %s: %w", file, err)
	}
	return key, nil
}

// addrStrings returns the addresses h listens on.
func addrStrings(h host.Host) []string {
	var out []string
	for _, a := range h.Addrs() {
		out = append(out, a.String())
	}
	return out
}

// addrInfo parses a source into what libp2p dials.
func addrInfo(s Source) (peer.AddrInfo, error) {
	id, err := peer.Decode(s.ID)
	if err != nil {
		return peer.AddrInfo{}, err
	}
	info := peer.AddrInfo{ID: id}
	for _, a := range s.Addrs {
		if m, err := ma.NewMultiaddr(a); err == nil {
			info.Addrs = append(info.Addrs, m)
		}
	}
	return info, nil
}

// ParseNetworkKey decodes a network key written as 64 hex digits.
func ParseNetworkKey(s string) ([]byte, error) {
	b, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil || len(b) != 32 {
		return nil, ErrNetworkKey
	}
	return b, nil
}

// LoadNetworkKey reads the network key in file. With create, a missing file is
// created with a new random key (mode 0600).
func LoadNetworkKey(file string, create bool) ([]byte, error) {
	b, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) && create {
		key := make([]byte, 32)
		rand.Read(key)
		if err := os.WriteFile(file, []byte(hex.EncodeToString(key)+"\n"), 0o600); err != nil {
			return nil, fmt.Errorf("p2p: network key: %w", err)
		}
		return key, nil
	}
	if err != nil {
		return nil, fmt.Errorf("p2p: network key: %w", err)
	}
	key, err := ParseNetworkKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, file)
	}
	return key, nil
}
