package p2p

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
)

// Gateway endpoints of preheat jobs for agents (docs/p2p.md). Both need the
// headers of SignAgent.
const (
	// PreheatPollPath answers GET with the open jobs of the asking agent.
	PreheatPollPath = "/p2p/v1/preheats"
	// preheatProgressSuffix follows PreheatPollPath/<id> for progress reports.
	preheatProgressSuffix = "/progress"
)

// PreheatProgressPath returns where an agent POSTs its PreheatStatus for job id.
func PreheatProgressPath(id string) string {
	return PreheatPollPath + "/" + id + preheatProgressSuffix
}

// PullToken is a bearer token that a poll hands to an agent. It never logs.
type PullToken string

// LogValue hides the token.
func (PullToken) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// String hides the token from fmt.
func (PullToken) String() string { return "[redacted]" }

// PreheatTask is an open job as a poll hands it to an agent, with a pull token for
// the job's repository.
type PreheatTask struct {
	ID         string        `json:"id"`
	Repository string        `json:"repository"`
	Digest     digest.Digest `json:"digest"`
	Expires    time.Time     `json:"expires"`
	Token      PullToken     `json:"token"`
}

// PreheatPollAnswer is the gateway's answer to a poll.
type PreheatPollAnswer struct {
	Jobs []PreheatTask `json:"jobs"`
}

// preheatRunner polls the gateway and runs the jobs it hands out, one goroutine
// per job.
type preheatRunner struct {
	a       *Agent
	wg      sync.WaitGroup
	lastErr string // the last poll failure logged; used by the polling goroutine only

	mu      sync.Mutex
	running map[string]bool          // jobs in progress; guarded by mu
	final   map[string]PreheatStatus // finished jobs the gateway still lists; guarded by mu
}

// runPreheats polls every interval until ctx ends, then waits for its jobs.
func (a *Agent) runPreheats(ctx context.Context, every time.Duration) {
	r := &preheatRunner{a: a, running: map[string]bool{}, final: map[string]PreheatStatus{}}
	defer r.wg.Wait()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		r.poll(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// poll asks the gateway for open jobs, starts the new ones and sends again the
// final report of jobs it finished that the gateway still lists (the report was
// lost).
func (r *preheatRunner) poll(ctx context.Context) {
	var ans PreheatPollAnswer
	err := r.a.agentCall(ctx, http.MethodGet, PreheatPollPath, nil, &ans)
	if err != nil {
		r.a.metrics.polls.WithLabelValues("error").Inc()
		if msg := err.Error(); msg != r.lastErr {
			r.a.log.Warn("preheat poll failed", "err", err)
			r.lastErr = msg
		}
		return
	}
	r.a.metrics.polls.WithLabelValues("ok").Inc()
	if r.lastErr != "" {
		r.a.log.Info("preheat poll works again")
		r.lastErr = ""
	}
	listed := map[string]bool{}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, t := range ans.Jobs {
		listed[t.ID] = true
		if st, ok := r.final[t.ID]; ok {
			r.wg.Go(func() { r.report(ctx, t.ID, st) })
			continue
		}
		if !r.running[t.ID] {
			r.running[t.ID] = true
			r.wg.Go(func() { r.run(ctx, t) })
		}
	}
	for id := range r.final {
		if !listed[id] {
			delete(r.final, id)
		}
	}
}

// run preheats one job, reporting progress at most every preheatTick and at the end.
func (r *preheatRunner) run(ctx context.Context, t PreheatTask) {
	r.a.log.Info("preheat started", "job", t.ID, "repository", t.Repository, "digest", t.Digest)
	jctx, cancel := context.WithDeadline(ctx, t.Expires)
	defer cancel()
	p := &preheatProgress{blobs: map[digest.Digest]PreheatEvent{}}
	stop := make(chan struct{})
	var ticks sync.WaitGroup
	ticks.Go(func() { r.reportLoop(jctx, t.ID, p, stop) })
	err := r.a.preheat(jctx, "Bearer "+string(t.Token), t.Repository, t.Digest.String(),
		p.update)
	close(stop)
	ticks.Wait()
	st := p.status()
	st.Done = err == nil
	if err != nil {
		st.Error = err.Error()
		r.a.log.Warn("preheat failed", "job", t.ID, "err", err)
	} else {
		r.a.log.Info("preheat done", "job", t.ID, "bytes", st.BytesTotal)
	}
	r.mu.Lock()
	delete(r.running, t.ID)
	r.final[t.ID] = st
	r.mu.Unlock()
	r.report(ctx, t.ID, st)
}

// reportLoop sends the progress every preheatTick while it changes, until stop.
func (r *preheatRunner) reportLoop(
	ctx context.Context, id string, p *preheatProgress, stop <-chan struct{},
) {
	tick := time.NewTicker(preheatTick)
	defer tick.Stop()
	var last PreheatStatus
	for {
		select {
		case <-stop:
			return
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if st := p.status(); st != last {
			r.report(ctx, id, st)
			last = st
		}
	}
}

// report sends st to the gateway; a failure is logged at debug level and the
// next report (or poll) makes up for it.
func (r *preheatRunner) report(ctx context.Context, id string, st PreheatStatus) {
	b, _ := json.Marshal(st)
	if err := r.a.agentCall(ctx, http.MethodPost, PreheatProgressPath(id), b, nil); err != nil {
		r.a.log.Debug("preheat report failed", "job", id, "err", err)
	}
}

// agentCall sends a signed request to the gateway and decodes its JSON answer into
// out (nil: none).
func (a *Agent) agentCall(ctx context.Context, method, path string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, a.gateway.String()+path,
		bytes.NewReader(body))
	if err != nil {
		return err
	}
	SignAgent(req.Header, a.cfg.Host.NetworkKey, a.host.ID().String(), time.Now())
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return fmt.Errorf("gateway answered %s: %s", resp.Status, bytes.TrimSpace(msg))
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(out)
}

// preheatProgress sums the progress events of a job's blobs.
type preheatProgress struct {
	mu    sync.Mutex
	blobs map[digest.Digest]PreheatEvent // latest event per blob; guarded by mu
}

// update keeps ev as the latest progress of its blob.
func (p *preheatProgress) update(ev PreheatEvent) {
	if ev.Blob == "" {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.blobs[ev.Blob] = ev
}

// status returns the job's progress over the blobs seen so far.
func (p *preheatProgress) status() PreheatStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	var st PreheatStatus
	for _, ev := range p.blobs {
		st.PiecesHave += ev.Have
		st.PiecesTotal += ev.Pieces
		st.BytesTotal += ev.Size
		if ev.Pieces > 0 {
			st.BytesHave += ev.Size * int64(ev.Have) / int64(ev.Pieces)
		}
	}
	return st
}
