package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	"github.com/spf13/cobra"

	"berth.dev/berth/p2p"
)

func preheatCmd() *cobra.Command {
	var agents, job string
	var opt jobOptions
	cmd := &cobra.Command{
		Use:   "preheat IMAGE",
		Short: "Make peer agents fetch an image (project/name:tag) before a deployment",
		Long: "Creates a preheat job through the admin API: every agent that polls the " +
			"gateway fetches the image's config and layers (this platform's, for an " +
			"index) into its cache; the command shows each agent's progress until all " +
			"are done. With --agents, asks the named agents directly instead, with the " +
			"credentials of `berth login` (or BERTH_USERNAME and BERTH_PASSWORD).",
		Args: cobra.RangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			out := cmd.OutOrStdout()
			switch {
			case job != "" && len(args) == 0:
				return showJob(ctx, job, out)
			case len(args) != 1:
				return errors.New("preheat needs IMAGE (project/name:tag), or --job ID")
			case agents != "":
				return preheat(ctx, args[0], splitList(agents), out)
			}
			return preheatJob(ctx, args[0], opt, out)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&agents, "agents", "",
		"comma-separated mirror URLs of agents to ask directly, such as http://node1:5001")
	fl.StringVar(&job, "job", "", "show the preheat job ID instead of creating one")
	fl.BoolVar(&opt.noWait, "no-wait", false, "print the job ID and return")
	fl.DurationVar(&opt.expires, "expires", 0, "how long agents may take (default 1h)")
	cmd.AddCommand(&cobra.Command{
		Use:   "status ID",
		Short: "Show a preheat job and each agent's progress",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return showJob(cmd.Context(), args[0], cmd.OutOrStdout())
		},
	})
	return cmd
}

// preheat runs the preheat of image on every agent at once.
func preheat(ctx context.Context, image string, agents []string, out io.Writer) error {
	if len(agents) == 0 {
		return errors.New("preheat needs --agents URL,...")
	}
	creds, err := loadCredentials()
	if err != nil {
		return err
	}
	var mu sync.Mutex // serializes lines on out
	print := func(agent string, ev p2p.PreheatEvent) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintln(out, describe(agent, ev))
	}
	errs := make([]error, len(agents))
	var wg sync.WaitGroup
	for i, a := range agents {
		wg.Go(func() { errs[i] = preheatAgent(ctx, a, image, creds, print) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// describe formats one progress event of agent.
func describe(agent string, ev p2p.PreheatEvent) string {
	switch {
	case ev.Error != "":
		return agent + ": failed: " + ev.Error
	case ev.Done:
		return agent + ": done"
	}
	pct := 100
	if ev.Pieces > 0 {
		pct = 100 * ev.Have / ev.Pieces
	}
	return fmt.Sprintf("%s: %s %3d%% (%d/%d pieces of %d bytes)", agent, ev.Blob, pct,
		ev.Have, ev.Pieces, ev.Size)
}

// preheatAgent asks one agent to preheat image and reports its progress.
func preheatAgent(
	ctx context.Context, agent, image string, creds credentials,
	report func(string, p2p.PreheatEvent),
) error {
	u := strings.TrimSuffix(agent, "/") + p2p.PreheatPath + "?image=" + url.QueryEscape(image)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
	if err != nil {
		return err
	}
	req.SetBasicAuth(creds.Username, creds.Password)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", agent, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("%s: %s: %s", agent, resp.Status, strings.TrimSpace(string(b)))
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var ev p2p.PreheatEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			return fmt.Errorf("%s: bad progress line: %w", agent, err)
		}
		report(agent, ev)
		if ev.Error != "" {
			return fmt.Errorf("%s: %s", agent, ev.Error)
		}
		if ev.Done {
			return nil
		}
	}
	return fmt.Errorf("%s: the agent ended the preheat without finishing", agent)
}
