package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"berth.dev/berth/plugins"
	"berth.dev/berth/policies"
)

// policyCmd holds the commands of bindings of plugins to hooks.
func policyCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "policy", Short: "Attach plugins to hooks, list and detach them"}
	cmd.AddCommand(policyAttachCmd(), policyListCmd(), policyDetachCmd())
	return cmd
}

func policyAttachCmd() *cobra.Command {
	var cf catalogFlags
	var b policies.Binding
	var config string
	var grant []string
	cmd := &cobra.Command{
		Use:   "attach --plugin NAME --hook HOOK --scope system|PROJECT --config JSON",
		Short: "Bind a plugin to a hook; the plugin checks its configuration first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if b.Plugin == "" || b.Hook == "" {
				return fmt.Errorf("say what to attach: --plugin NAME --hook push|pull|delete|after-push")
			}
			if !json.Valid([]byte(config)) {
				return fmt.Errorf("--config is not valid JSON: %s", config)
			}
			b.Config = json.RawMessage(config)
			for _, g := range grant {
				b.Grant = append(b.Grant, plugins.Capability(g))
			}
			return withCatalog(cmd, &cf, func(ctx context.Context, c catalogClient) error {
				got, err := c.Attach(ctx, b)
				if err != nil {
					return fmt.Errorf("attach %s: %w", b.Plugin, oneLine(err))
				}
				fmt.Printf("attached %s: %s on %s, scope %s\n", got.ID, got.Plugin, got.Hook,
					got.Scope)
				return nil
			})
		},
	}
	cf.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&b.Plugin, "plugin", "", "built-in or installed plugin")
	fl.StringVar(&b.Hook, "hook", "", "push, pull, delete or after-push")
	fl.StringVar(&b.Scope, "scope", policies.ScopeSystem, "system or a project name")
	fl.StringVar(&config, "config", "null", "the plugin's JSON configuration")
	fl.BoolVar(&b.FailOpen, "fail-open", false,
		"allow the operation when the plugin fails (default: deny)")
	fl.StringSliceVar(&grant, "grant", nil, "capabilities to grant: log,manifest,config,referrers")
	return cmd
}

func policyListCmd() *cobra.Command {
	var cf catalogFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use: "list", Short: "List the stored bindings", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withCatalog(cmd, &cf, func(ctx context.Context, c catalogClient) error {
				bs, err := c.Bindings(ctx)
				if err != nil {
					return err
				}
				return printBindings(os.Stdout, bs, asJSON)
			})
		},
	}
	cf.register(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func printBindings(out io.Writer, bs []policies.Binding, asJSON bool) error {
	if asJSON {
		return json.NewEncoder(out).Encode(bs)
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tPLUGIN\tHOOK\tSCOPE\tFAILURE\tGRANTS\tCONFIG")
	for _, b := range bs {
		mode := "closed"
		if b.FailOpen {
			mode = "open"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", b.ID, b.Plugin, b.Hook, b.Scope, mode,
			joinCaps(b.Grant), b.Config)
	}
	return w.Flush()
}

func policyDetachCmd() *cobra.Command {
	var cf catalogFlags
	cmd := &cobra.Command{
		Use: "detach ID", Short: "Remove a binding", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withCatalog(cmd, &cf, func(ctx context.Context, c catalogClient) error {
				if err := c.Detach(ctx, args[0]); err != nil {
					return err
				}
				fmt.Printf("detached %s\n", args[0])
				return nil
			})
		},
	}
	cf.register(cmd)
	return cmd
}
