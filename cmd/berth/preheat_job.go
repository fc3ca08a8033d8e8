package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"berth.dev/berth/p2p"
)

// jobOptions are the settings of a preheat through the admin API.
type jobOptions struct {
	noWait  bool
	expires time.Duration // zero: the server's default
}

// jobPollInterval is how often a waiting `berth preheat` reads its job.
const jobPollInterval = time.Second

// preheatJob creates a preheat job for image and, unless opt.noWait, prints the
// agents' progress until every expected agent is done or failed.
func preheatJob(ctx context.Context, image string, opt jobOptions, out io.Writer) error {
	c, err := newAPIClient()
	if err != nil {
		return err
	}
	req := map[string]string{"image": image}
	if opt.expires > 0 {
		req["expires_in"] = opt.expires.String()
	}
	var v p2p.PreheatView
	if err := c.call(ctx, "POST", "/preheats", req, &v); err != nil {
		return err
	}
	if opt.noWait {
		fmt.Fprintln(out, v.ID)
		return nil
	}
	fmt.Fprintf(out, "job %s: %s (%s) on %d agents\n", v.ID, v.Image, v.Digest,
		v.Summary.Expected)
	if v.Summary.Expected == 0 {
		return errors.New("no agent was expected: none polled the gateway in the last 30 s " +
			"(run `berth peer` with --preheat-poll on the nodes)")
	}
	return waitJob(ctx, c, v, out)
}

// waitJob prints a line whenever an agent's progress changes, until the job is
// finished, and fails when an agent failed or the job expired first.
func waitJob(ctx context.Context, c *apiClient, v p2p.PreheatView, out io.Writer) error {
	last := map[string]string{}
	for {
		for _, st := range v.Statuses {
			if line := agentLine(st); line != last[st.Agent] {
				fmt.Fprintln(out, line)
				last[st.Agent] = line
			}
		}
		if v.Finished {
			return jobOutcome(v)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("stopped waiting; `berth preheat status %s` shows the job", v.ID)
		case <-time.After(jobPollInterval):
		}
		if err := c.call(ctx, "GET", "/preheats/"+esc(v.ID), nil, &v); err != nil {
			return err
		}
	}
}

// jobOutcome is nil when every expected agent is done.
func jobOutcome(v p2p.PreheatView) error {
	s := v.Summary
	if s.Failed > 0 {
		return fmt.Errorf("preheat %s: %d of %d agents failed", v.ID, s.Failed, s.Expected)
	}
	if s.Done < s.Expected {
		return fmt.Errorf("preheat %s expired with %d of %d agents done", v.ID, s.Done,
			s.Expected)
	}
	return nil
}

// agentLine describes one agent's progress.
func agentLine(st p2p.PreheatStatus) string {
	switch {
	case st.Error != "":
		return st.Agent + ": failed: " + st.Error
	case st.Done:
		return fmt.Sprintf("%s: done (%d bytes)", st.Agent, st.BytesTotal)
	case st.Updated.IsZero():
		return st.Agent + ": waiting"
	}
	pct := 0
	if st.PiecesTotal > 0 {
		pct = 100 * st.PiecesHave / st.PiecesTotal
	}
	return fmt.Sprintf("%s: %3d%% (%d/%d pieces, %d/%d bytes)", st.Agent, pct,
		st.PiecesHave, st.PiecesTotal, st.BytesHave, st.BytesTotal)
}

// showJob prints a job: what it preheats, its summary and each agent's progress.
func showJob(ctx context.Context, id string, out io.Writer) error {
	c, err := newAPIClient()
	if err != nil {
		return err
	}
	var v p2p.PreheatView
	if err := c.call(ctx, "GET", "/preheats/"+esc(id), nil, &v); err != nil {
		return err
	}
	state := "running"
	if v.Finished {
		state = "finished"
	}
	fmt.Fprintf(out, "job %s: %s (%s) by %s, created %s, expires %s, %s\n", v.ID, v.Image,
		v.Digest, v.Creator, v.Created.Format(time.RFC3339), v.Expires.Format(time.RFC3339),
		state)
	fmt.Fprintf(out, "agents: %d expected, %d done, %d failed\n", v.Summary.Expected,
		v.Summary.Done, v.Summary.Failed)
	for _, st := range v.Statuses {
		fmt.Fprintln(out, agentLine(st))
	}
	return nil
}
