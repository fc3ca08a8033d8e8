package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/opencontainers/go-digest"
	"github.com/spf13/cobra"

	"berth.dev/berth/plugins"
	"berth.dev/berth/policies"
	"berth.dev/berth/storage"
)

// catalogClient is what the plugin and policy commands ask of a registry.
type catalogClient = policies.Admin

// catalogFlags say how to reach the plugin catalog: through the admin API with
// the credentials of `berth login` (the default), or directly through the
// metadata store and filesystem storage of a deployment (--data-dir or
// --endpoints), for operators on the machine.
type catalogFlags struct {
	clientFlags
	storageDir string
}

func (c *catalogFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&c.endpoints, "endpoints", "",
		"instead of the admin API: client URLs of the metadata cluster")
	fl.StringVar(&c.dataDir, "data-dir", "",
		"instead of the admin API: the data directory of a running `berth serve`")
	fl.StringVar(&c.tls.CertFile, "cert-file", "", "with --endpoints: client TLS certificate")
	fl.StringVar(&c.tls.KeyFile, "key-file", "", "with --endpoints: client TLS key")
	fl.StringVar(&c.tls.CAFile, "ca-file", "", "with --endpoints: CA of the cluster")
	fl.StringVar(&c.storageDir, "storage", "",
		"with --endpoints: filesystem blob storage (default: <data-dir>/storage)")
}

// open connects to the catalog; close releases it.
func (c *catalogFlags) open(ctx context.Context) (catalogClient, func(), error) {
	if c.endpoints == "" && c.dataDir == "" {
		api, err := newAPIClient()
		return apiCatalog{api}, func() {}, err
	}
	kv, err := c.dial(ctx)
	if err != nil {
		return nil, nil, err
	}
	dir := c.storageDir
	if dir == "" && c.dataDir != "" {
		dir = filepath.Join(c.dataDir, "storage")
	}
	var blobs policies.Blobs = noBlobs{}
	if dir != "" {
		if blobs, err = storage.NewFilesystem(dir); err != nil {
			kv.Close()
			return nil, nil, err
		}
	}
	host, err := plugins.NewHost(ctx, nil, plugins.Config{CacheDir: c.cacheDir()})
	if err != nil {
		kv.Close()
		return nil, nil, err
	}
	closeAll := func() { host.Close(context.Background()); kv.Close() }
	return policies.NewCatalog(kv, blobs, host), closeAll, nil
}

// cacheDir is the deployment's compilation cache, or the user's.
func (c *catalogFlags) cacheDir() string {
	if c.dataDir != "" {
		return filepath.Join(c.dataDir, "plugins-cache")
	}
	return userPluginCache()
}

func userPluginCache() string {
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "berth", "plugins")
	}
	return ""
}

// noBlobs stands for blob storage when none was named.
type noBlobs struct{}

func (noBlobs) Put(context.Context, digest.Digest, io.Reader) error {
	return fmt.Errorf("no blob storage: pass --data-dir DIR or --storage DIR")
}

func (noBlobs) Open(context.Context, digest.Digest, int64) (io.ReadCloser, error) {
	return nil, fmt.Errorf("no blob storage: pass --data-dir DIR or --storage DIR")
}

// pluginCmd holds the commands of installed plugins.
func pluginCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "plugin", Short: "Install, list, remove and test WASM plugins"}
	cmd.AddCommand(pluginInstallCmd(), pluginListCmd(), pluginRemoveCmd(), pluginTestCmd())
	return cmd
}

// withCatalog runs fn on the catalog named by cf.
func withCatalog(cmd *cobra.Command, cf *catalogFlags,
	fn func(ctx context.Context, c catalogClient) error) error {
	c, done, err := cf.open(cmd.Context())
	if err != nil {
		return err
	}
	defer done()
	return fn(cmd.Context(), c)
}

func pluginInstallCmd() *cobra.Command {
	var cf catalogFlags
	var name string
	cmd := &cobra.Command{
		Use:   "install --name NAME FILE.wasm",
		Short: "Check a plugin module and store it under NAME",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if name == "" {
				return fmt.Errorf("name the plugin: --name NAME")
			}
			wasm, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			return withCatalog(cmd, &cf, func(ctx context.Context, c catalogClient) error {
				rec, err := c.Install(ctx, name, wasm)
				if err != nil {
					return fmt.Errorf("install %s: %w", args[0], oneLine(err))
				}
				fmt.Printf("installed %s %s (ABI %s, hooks %s)\n", rec.Name, rec.Digest, rec.ABI,
					strings.Join(rec.Hooks, ","))
				return nil
			})
		},
	}
	cf.register(cmd)
	cmd.Flags().StringVar(&name, "name", "", "plugin name (a-z 0-9 - _ .)")
	return cmd
}

func pluginListCmd() *cobra.Command {
	var cf catalogFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use: "list", Short: "List built-in and installed plugins", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withCatalog(cmd, &cf, func(ctx context.Context, c catalogClient) error {
				recs, err := c.Plugins(ctx)
				if err != nil {
					return err
				}
				return printPlugins(os.Stdout, recs, asJSON)
			})
		},
	}
	cf.register(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func printPlugins(out io.Writer, recs []policies.PluginRecord, asJSON bool) error {
	if asJSON {
		return json.NewEncoder(out).Encode(recs)
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tHOOKS\tCAPABILITIES\tABI\tDIGEST\tORIGIN")
	for _, r := range recs {
		origin := "installed"
		if r.Builtin {
			origin = "built-in"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, strings.Join(r.Hooks, ","),
			joinCaps(r.Capabilities), r.ABI, shortDigest(r.Digest), origin)
	}
	return w.Flush()
}

func pluginRemoveCmd() *cobra.Command {
	var cf catalogFlags
	cmd := &cobra.Command{
		Use: "remove NAME", Short: "Remove an installed plugin that no binding uses",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withCatalog(cmd, &cf, func(ctx context.Context, c catalogClient) error {
				if err := c.Uninstall(ctx, args[0]); err != nil {
					return err
				}
				fmt.Printf("removed %s\n", args[0])
				return nil
			})
		},
	}
	cf.register(cmd)
	return cmd
}

func joinCaps(caps []plugins.Capability) string {
	if len(caps) == 0 {
		return "-"
	}
	s := make([]string, len(caps))
	for i, c := range caps {
		s[i] = string(c)
	}
	return strings.Join(s, ",")
}

func shortDigest(d string) string {
	if len(d) > 19 {
		return d[:19]
	}
	return d
}

// oneLine keeps the first line of an error (compilers' messages can be long).
func oneLine(err error) error {
	msg, _, cut := strings.Cut(err.Error(), "\n")
	if !cut {
		return err
	}
	return fmt.Errorf("%s", msg)
}
