// Command berth is the one Berth binary: `berth serve` runs a complete registry;
// later roles (gateway, kvnode, peer) and admin commands live beside it.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func main() {
	root := &cobra.Command{
		Use:           "berth",
		Short:         "Berth: an OCI registry with built-in metadata cluster, plugins and P2P",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(serveCmd(), gatewayCmd(), kvnodeCmd(), kvCmd())
	root.AddCommand(loginCmd(), logoutCmd(), projectCmd(), repoCmd(), userCmd(), robotCmd(),
		auditCmd())
	root.AddCommand(pluginCmd())
	root.AddCommand(policyCmd())
	root.AddCommand(peerCmd(), preheatCmd())
	if err := root.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "berth:", err)
		os.Exit(1)
	}
}
