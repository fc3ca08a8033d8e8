package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"berth.dev/berth/kvnode"
)

// kvnodeCmd runs one member of the metadata cluster, with etcd's flag names.
func kvnodeCmd() *cobra.Command {
	var f struct {
		name, dir, listenClient, listenPeer, advClient, advPeer, cluster, state string
		client, peer                                                            kvnode.TLSFiles
		logLevel                                                                string
	}
	cmd := &cobra.Command{
		Use:   "kvnode",
		Short: "Run one member of the Raft-replicated metadata cluster",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := memberConfig(f.name, f.dir, f.listenClient, f.listenPeer, f.advClient,
				f.advPeer)
			if err != nil {
				return err
			}
			cfg.InitialCluster, cfg.InitialClusterState = f.cluster, f.state
			cfg.ClientTLS, cfg.PeerTLS = f.client, f.peer
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			log := newLogger(Config{LogLevel: f.logLevel, LogFormat: "text"})
			m, err := kvnode.StartMember(ctx, cfg, log)
			if err != nil {
				return err
			}
			defer m.Close()
			select {
			case <-ctx.Done():
			case <-m.Done():
				return fmt.Errorf("member %s stopped (removed from the cluster?)", cfg.Name)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.name, "name", "berth", "member name, unique in the cluster")
	fl.StringVar(&f.dir, "data-dir", "./berth-kv", "member data directory")
	fl.StringVar(&f.listenClient, "listen-client", "http://127.0.0.1:2379", "client URLs to listen on")
	fl.StringVar(&f.listenPeer, "listen-peer", "http://127.0.0.1:2380", "peer URLs to listen on")
	fl.StringVar(&f.advClient, "advertise-client", "", "client URLs given to others (default: listen)")
	fl.StringVar(&f.advPeer, "advertise-peer", "", "peer URLs given to others (default: listen)")
	fl.StringVar(&f.cluster, "initial-cluster", "", "name=peerURL,... of every member at bootstrap")
	fl.StringVar(&f.state, "initial-cluster-state", "new", "new (bootstrap) or existing (join)")
	fl.StringVar(&f.client.CertFile, "cert-file", "", "client-facing TLS certificate")
	fl.StringVar(&f.client.KeyFile, "key-file", "", "client-facing TLS key")
	fl.StringVar(&f.client.CAFile, "trusted-ca-file", "",
		"CA for client certificates (turns on client auth)")
	fl.StringVar(&f.peer.CertFile, "peer-cert-file", "", "peer TLS certificate")
	fl.StringVar(&f.peer.KeyFile, "peer-key-file", "", "peer TLS key")
	fl.StringVar(&f.peer.CAFile, "peer-trusted-ca-file", "", "CA for peer certificates")
	fl.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	cmd.AddCommand(memberCmd())
	return cmd
}

func memberConfig(name, dir, lc, lp, ac, ap string) (kvnode.MemberConfig, error) {
	cfg := kvnode.MemberConfig{Name: name, Dir: dir}
	var err error
	if cfg.ListenClient, err = kvnode.ParseURLs(lc); err != nil {
		return cfg, err
	}
	if cfg.ListenPeer, err = kvnode.ParseURLs(lp); err != nil {
		return cfg, err
	}
	if cfg.AdvertiseClient, err = kvnode.ParseURLs(ac); err != nil {
		return cfg, err
	}
	cfg.AdvertisePeer, err = kvnode.ParseURLs(ap)
	return cfg, err
}

// clientFlags are the flags of commands that talk to a running cluster.
type clientFlags struct {
	endpoints, dataDir string
	tls                kvnode.TLSFiles
}

func (c *clientFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&c.endpoints, "endpoints", "", "client URLs of the cluster")
	fl.StringVar(&c.dataDir, "data-dir", "",
		"instead of --endpoints: the data directory of a running `berth serve`")
	fl.StringVar(&c.tls.CertFile, "cert-file", "", "client TLS certificate")
	fl.StringVar(&c.tls.KeyFile, "key-file", "", "client TLS key")
	fl.StringVar(&c.tls.CAFile, "ca-file", "", "CA of the cluster's certificates")
}

// dial connects to the cluster named by --endpoints or found through --data-dir.
func (c *clientFlags) dial(ctx context.Context) (*kvnode.EtcdStore, error) {
	endpoints := splitList(c.endpoints)
	if len(endpoints) == 0 && c.dataDir != "" {
		b, err := os.ReadFile(kvnode.EndpointFile(c.dataDir + "/kv"))
		if err != nil {
			return nil, fmt.Errorf("no running berth serve found in %s: %w", c.dataDir, err)
		}
		endpoints = splitList(string(b))
	}
	if len(endpoints) == 0 {
		return nil, fmt.Errorf("say which cluster: --endpoints URL,... or --data-dir DIR")
	}
	log := newLogger(Config{LogLevel: "error", LogFormat: "text"})
	return kvnode.Dial(ctx, kvnode.ClientConfig{Endpoints: endpoints, TLS: c.tls}, log)
}

func memberCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "member", Short: "List, add and remove cluster members"}
	var cf clientFlags
	var asJSON bool
	list := &cobra.Command{
		Use: "list", Short: "List the members", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := cf.dial(cmd.Context())
			if err != nil {
				return err
			}
			defer s.Close()
			ms, err := s.Members(cmd.Context())
			if err != nil {
				return err
			}
			return printMembers(ms, asJSON)
		},
	}
	cf.register(list)
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	var peerURLs string
	add := &cobra.Command{
		Use: "add NAME --peer-urls URL", Short: "Announce a new member before starting it",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := cf.dial(cmd.Context())
			if err != nil {
				return err
			}
			defer s.Close()
			cluster, err := s.AddMember(cmd.Context(), args[0], splitList(peerURLs))
			if err != nil {
				return err
			}
			fmt.Printf("added %s; start it with:\n  berth kvnode --name %s --initial-cluster %s "+
				"--initial-cluster-state existing ...\n", args[0], args[0], cluster)
			return nil
		},
	}
	cf.register(add)
	add.Flags().StringVar(&peerURLs, "peer-urls", "", "peer URLs of the new member")
	remove := &cobra.Command{
		Use: "remove NAME|ID", Short: "Remove a member", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := cf.dial(cmd.Context())
			if err != nil {
				return err
			}
			defer s.Close()
			return s.RemoveMember(cmd.Context(), args[0])
		},
	}
	cf.register(remove)
	cmd.AddCommand(list, add, remove)
	return cmd
}

func printMembers(ms []kvnode.MemberInfo, asJSON bool) error {
	if asJSON {
		return json.NewEncoder(os.Stdout).Encode(ms)
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tNAME\tPEER URLS\tCLIENT URLS\tLEARNER")
	for _, m := range ms {
		fmt.Fprintf(w, "%s\t%s\t%v\t%v\t%v\n", m.ID, m.Name, m.PeerURLs, m.ClientURLs, m.Learner)
	}
	return w.Flush()
}
