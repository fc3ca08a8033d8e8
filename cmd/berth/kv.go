package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"berth.dev/berth/kvnode"
)

// kvCmd holds disaster-recovery commands of the metadata store.
func kvCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "kv", Short: "Back up and restore the metadata store"}
	cmd.AddCommand(backupCmd(), restoreCmd())
	return cmd
}

func backupCmd() *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:   "backup FILE",
		Short: "Write a consistent snapshot of all metadata to FILE",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := cf.dial(cmd.Context())
			if err != nil {
				return err
			}
			defer s.Close()
			n, err := s.Backup(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			fmt.Printf("backup written: %s (%d bytes)\n", args[0], n)
			return nil
		},
	}
	cf.register(cmd)
	return cmd
}

func restoreCmd() *cobra.Command {
	var cfg kvnode.RestoreConfig
	cmd := &cobra.Command{
		Use:   "restore FILE --data-dir DIR",
		Short: "Create a member data directory from a backup (docs/operations.md)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cfg.Dir == "" {
				return fmt.Errorf("say where to restore: --data-dir DIR (a directory that does not exist)")
			}
			if err := kvnode.Restore(args[0], cfg); err != nil {
				return err
			}
			fmt.Printf("restored %s into %s as member %q\n", args[0], cfg.Dir, cfg.Name)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&cfg.Dir, "data-dir", "",
		"new member data directory (for `berth serve`: <data-dir>/kv, moved away first)")
	fl.StringVar(&cfg.Name, "name", "berth", "member name")
	fl.StringVar(&cfg.PeerURL, "advertise-peer", "http://127.0.0.1:2380", "member's peer URL")
	fl.StringVar(&cfg.InitialCluster, "initial-cluster", "",
		"name=peerURL,... of every member of the restored cluster (default: this one)")
	return cmd
}
