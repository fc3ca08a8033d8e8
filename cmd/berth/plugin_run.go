package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"berth.dev/berth/plugins"
	"berth.dev/berth/sdk"
)

// Exit status of `berth plugin test`.
const (
	exitAllowed = 0
	exitDenied  = 1
	exitError   = 2
)

// pluginTestCmd runs one hook of a module locally, without a server.
func pluginTestCmd() *cobra.Command {
	var f pluginTest
	cmd := &cobra.Command{
		Use:   "test FILE.wasm --hook HOOK --request REQ.json [--config JSON]",
		Short: "Run a plugin's hook on a request locally and print its decision",
		Long: "Runs the hook as a gateway would, with the same limits, and prints one line:\n" +
			"allowed, denied: REASON, or error: MESSAGE. Exit status 0 allowed, 1 denied,\n" +
			"2 error. --request - reads the request from standard input.",
		Args: cobra.ExactArgs(1),
		Run: func(cmd *cobra.Command, args []string) {
			line, code := f.run(cmd.Context(), args[0])
			fmt.Println(line)
			os.Exit(code)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.hook, "hook", "push", "push, pull, delete or after-push")
	fl.StringVar(&f.request, "request", "", "file of the JSON request (docs/plugin-abi.md)")
	fl.StringVar(&f.config, "config", "null", "the binding's JSON configuration")
	fl.StringSliceVar(&f.grant, "grant", nil, "capabilities to grant (log only is useful here)")
	return cmd
}

type pluginTest struct {
	hook, request, config string
	grant                 []string
}

// run returns the line to print and the exit status.
func (f *pluginTest) run(ctx context.Context, file string) (string, int) {
	d, err := f.decide(ctx, file)
	switch {
	case err != nil:
		return "error: " + oneLine(err).Error(), exitError
	case d.Allow:
		return "allowed", exitAllowed
	}
	return "denied: " + d.Reason, exitDenied
}

func (f *pluginTest) decide(ctx context.Context, file string) (sdk.Decision, error) {
	var d sdk.Decision
	wasm, err := os.ReadFile(file)
	if err != nil {
		return d, err
	}
	req, err := f.readRequest()
	if err != nil {
		return d, err
	}
	if !json.Valid([]byte(f.config)) {
		return d, errors.New("--config is not valid JSON")
	}
	host, err := plugins.NewHost(ctx, nil, plugins.Config{CacheDir: userPluginCache()})
	if err != nil {
		return d, err
	}
	defer host.Close(ctx)
	m, err := host.Load(ctx, file, wasm)
	if err != nil {
		return d, err
	}
	hook := strings.ReplaceAll(f.hook, "-", "_")
	caps := make([]plugins.Capability, len(f.grant))
	for i, g := range f.grant {
		caps[i] = plugins.Capability(g)
	}
	b, err := m.Bind(ctx, plugins.BindingConfig{
		Config: json.RawMessage(f.config), Capabilities: caps,
	})
	if err != nil {
		return d, err
	}
	if hook == sdk.HookAfterPush {
		return sdk.Allow(), b.Call(ctx, hook, nil, req, nil)
	}
	return d, b.Call(ctx, hook, nil, req, &d)
}

// readRequest reads the request file ("-" for standard input) and checks it is JSON.
func (f *pluginTest) readRequest() (json.RawMessage, error) {
	if f.request == "" {
		return nil, errors.New("give the request: --request REQ.json")
	}
	var b []byte
	var err error
	if f.request == "-" {
		b, err = io.ReadAll(os.Stdin)
	} else {
		b, err = os.ReadFile(f.request)
	}
	if err != nil {
		return nil, err
	}
	if !json.Valid(b) {
		return nil, fmt.Errorf("%s is not valid JSON", f.request)
	}
	return b, nil
}
