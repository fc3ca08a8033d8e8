package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"berth.dev/berth/plugins"
	"berth.dev/berth/policies"
	"berth.dev/berth/sdk"
)

const manifestType = "application/vnd.oci.image.manifest.v1+json"

// summary holds the percentiles of one series of requests.
type summary struct{ p50, p99 time.Duration }

func summarize(d []time.Duration) summary {
	slices.Sort(d)
	at := func(q float64) time.Duration { return d[int(q*float64(len(d)-1))] }
	return summary{p50: at(0.50), p99: at(0.99)}
}

// measure PUTs n manifests (new tags) and GETs n manifests by tag, after a warm-up.
func (e *env) measure(ctx context.Context, n int) (map[string]summary, error) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	puts, gets := make([]time.Duration, 0, n), make([]time.Duration, 0, n)
	warm := 50
	for i := range warm + n {
		tag := fmt.Sprintf("t%d-%d", time.Now().UnixNano(), i)
		d, err := e.timed(ctx, client, http.MethodPut, tag, e.manifest(tag))
		if err != nil {
			return nil, err
		}
		g, err := e.timed(ctx, client, http.MethodGet, tag, nil)
		if err != nil {
			return nil, err
		}
		if i == warm-1 {
			e.adm.take() // the warm-up's admissions
		}
		if i >= warm {
			puts, gets = append(puts, d), append(gets, g)
		}
	}
	admPush, admPull := e.adm.take()
	if len(admPush) != n || len(admPull) != n {
		return nil, fmt.Errorf("admission ran %d times for %d PUTs and %d times for %d GETs",
			len(admPush), n, len(admPull), n)
	}
	return map[string]summary{"PUT": summarize(puts), "GET": summarize(gets),
		"PUT admission": summarize(admPush), "GET admission": summarize(admPull)}, nil
}

func (e *env) manifest(tag string) []byte {
	return fmt.Appendf(nil, `{"schemaVersion":2,"mediaType":%q,`+
		`"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":%q,"size":37},`+
		`"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":%q,`+
		`"size":1024}],"annotations":{"bench":%q}}`, manifestType, e.config, e.layer, tag)
}

// timed sends one manifest request and returns its latency.
func (e *env) timed(ctx context.Context, c *http.Client, method, tag string,
	body []byte) (time.Duration, error) {
	url := "http://" + e.addr + "/v2/" + repo + "/manifests/" + tag
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", manifestType)
	req.Header.Set("Accept", manifestType)
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	d := time.Since(start)
	if resp.StatusCode >= 300 {
		return 0, fmt.Errorf("%s %s: %s %s", method, tag, resp.Status, b)
	}
	return d, nil
}

// decisions runs push admissions with 3 policies from GOMAXPROCS goroutines.
func decisions(ctx context.Context, e *env, length time.Duration) error {
	if err := e.bindN(ctx, 3); err != nil {
		return err
	}
	req := sdk.PushRequest{Repository: repo, Tag: "v1", Digest: "sha256:d",
		MediaType: manifestType, Manifest: policies.Summarize(e.manifest("v1"))}
	procs := runtime.GOMAXPROCS(0)
	var count atomic.Int64
	var failed atomic.Value
	stop := time.Now().Add(length)
	var wg sync.WaitGroup
	for range procs {
		wg.Go(func() {
			for time.Now().Before(stop) {
				if err := e.engine.Push(ctx, req, nil); err != nil {
					failed.Store(err)
					return
				}
				count.Add(1)
			}
		})
	}
	wg.Wait()
	if err, ok := failed.Load().(error); ok {
		return err
	}
	perSec := float64(count.Load()) / length.Seconds()
	fmt.Printf("\nengine, 3 push policies, %d goroutines for %s: %.0f decisions/s "+
		"(%.0f per core; %.0f plugin calls/s per core)\n", procs, length, perSec,
		perSec/float64(procs), 3*perSec/float64(procs))
	return nil
}

// coldStarts times a new host loading, binding and calling a module, with an
// empty compilation cache and then with the cache it filled.
func coldStarts(ctx context.Context, dir string, wasm []byte) error {
	cache, err := os.MkdirTemp(dir, "cold-")
	if err != nil {
		return err
	}
	fmt.Printf("\ncold start (new host: load, bind, first call) of a %.1f MB module\n",
		float64(len(wasm))/1e6)
	for _, label := range []string{"empty cache", "warm cache"} {
		d, err := coldStart(ctx, cache, wasm)
		if err != nil {
			return err
		}
		fmt.Printf("  %-12s %8.1f ms\n", label, float64(d)/float64(time.Millisecond))
	}
	return nil
}

func coldStart(ctx context.Context, cache string, wasm []byte) (time.Duration, error) {
	start := time.Now()
	h, err := plugins.NewHost(ctx, nil, plugins.Config{CacheDir: cache})
	if err != nil {
		return 0, err
	}
	defer h.Close(ctx)
	m, err := h.Load(ctx, "allowpull", wasm)
	if err != nil {
		return 0, err
	}
	b, err := m.Bind(ctx, plugins.BindingConfig{})
	if err != nil {
		return 0, err
	}
	var d sdk.Decision
	if err := b.Call(ctx, "pull", nil, sdk.PullRequest{Repository: repo}, &d); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}
