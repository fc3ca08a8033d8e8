package kvnode

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"go.etcd.io/etcd/etcdutl/v3/snapshot"
	"go.uber.org/zap"
)

// MemberInfo describes one member of a cluster.
type MemberInfo struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	PeerURLs   []string `json:"peer_urls"`
	ClientURLs []string `json:"client_urls"`
	// Learner reports whether the member does not vote yet.
	Learner bool `json:"learner,omitempty"`
}

// Members lists the members of the cluster.
func (s *EtcdStore) Members(ctx context.Context) ([]MemberInfo, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	resp, err := s.cli.MemberList(ctx)
	if err != nil {
		return nil, mapErr(err)
	}
	out := make([]MemberInfo, len(resp.Members))
	for i, m := range resp.Members {
		out[i] = MemberInfo{
			ID: strconv.FormatUint(m.ID, 16), Name: m.Name, PeerURLs: m.PeerURLs,
			ClientURLs: m.ClientURLs, Learner: m.IsLearner,
		}
	}
	return out, nil
}

// AddMember announces a new member with peerURLs. The new member then starts with
// initial cluster state "existing" and the initial cluster this returns.
func (s *EtcdStore) AddMember(ctx context.Context, name string, peerURLs []string) (string, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	resp, err := s.cli.MemberAdd(ctx, peerURLs)
	if err != nil {
		return "", mapErr(err)
	}
	cluster := ""
	for _, m := range resp.Members {
		n := m.Name
		if m.ID == resp.Member.ID {
			n = name
		}
		for _, u := range m.PeerURLs {
			if cluster != "" {
				cluster += ","
			}
			cluster += n + "=" + u
		}
	}
	return cluster, nil
}

// RemoveMember removes the member with this name or hexadecimal id.
func (s *EtcdStore) RemoveMember(ctx context.Context, nameOrID string) error {
	members, err := s.Members(ctx)
	if err != nil {
		return err
	}
	for _, m := range members {
		if m.Name != nameOrID && m.ID != nameOrID {
			continue
		}
		id, _ := strconv.ParseUint(m.ID, 16, 64)
		ctx, cancel := s.op(ctx)
		defer cancel()
		_, err := s.cli.MemberRemove(ctx, id)
		return mapErr(err)
	}
	return fmt.Errorf("kvnode: no member named %q", nameOrID)
}

// Backup writes a consistent snapshot of the whole store to file, atomically.
func (s *EtcdStore) Backup(ctx context.Context, file string) (int64, error) {
	rc, err := s.cli.Snapshot(ctx)
	if err != nil {
		return 0, mapErr(err)
	}
	defer rc.Close()
	tmp, err := os.CreateTemp(filepath.Dir(file), ".backup-*")
	if err != nil {
		return 0, fmt.Errorf("kvnode: backup: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	n, err := io.Copy(tmp, rc)
	if err != nil {
		return n, fmt.Errorf("kvnode: backup: %w", mapErr(err))
	}
	if err := tmp.Sync(); err != nil {
		return n, fmt.Errorf("kvnode: backup: %w", err)
	}
	if err := os.Rename(tmp.Name(), file); err != nil {
		return n, fmt.Errorf("kvnode: backup: %w", err)
	}
	return n, nil
}

// RestoreConfig says where and as which member a backup is restored.
type RestoreConfig struct {
	// Dir is the new member's data directory; it must not exist yet.
	Dir string
	// Name of the member. Empty means "berth" (the member of `berth serve`).
	Name string
	// PeerURL the member advertises. Empty means http://127.0.0.1:2380.
	PeerURL string
	// InitialCluster lists every member of the restored cluster as name=peerURL,...
	// Empty means this member alone.
	InitialCluster string
}

// Restore creates a member data directory from a backup file. Restore every member
// of a cluster from the same file, each with its own name and peer URL, then start
// them with initial cluster state "new".
func Restore(file string, cfg RestoreConfig) error {
	if _, err := os.Stat(cfg.Dir); err == nil {
		return fmt.Errorf("kvnode: restore: %s exists; restore into a new directory", cfg.Dir)
	}
	name := cmpOr(cfg.Name, "berth")
	peer := cmpOr(cfg.PeerURL, "http://127.0.0.1:2380")
	err := snapshot.NewV3(zap.NewNop()).Restore(snapshot.RestoreConfig{
		SnapshotPath:        file,
		Name:                name,
		OutputDataDir:       cfg.Dir,
		PeerURLs:            []string{peer},
		InitialCluster:      cmpOr(cfg.InitialCluster, name+"="+peer),
		InitialClusterToken: "etcd-cluster",
	})
	if err != nil {
		return fmt.Errorf("kvnode: restore %s: %w", file, err)
	}
	return nil
}
