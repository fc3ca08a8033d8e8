package main

import (
	"bufio"
	"context"
	"fmt"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// wrk drives the load with the wrk HTTP benchmarking tool, which takes less CPU from
// the server under test than a Go load generator would.
type wrk struct{ path string }

func (w wrk) name() string {
	return "wrk (one thread per core, p99 from --latency)"
}

func (w wrk) run(ctx context.Context, spec loadSpec) (loadResult, error) {
	threads := min(runtime.NumCPU(), spec.conns)
	secs := max(1, int(spec.duration.Round(time.Second)/time.Second))
	cmd := exec.CommandContext(ctx, w.path, "--latency",
		"-t"+strconv.Itoa(threads), "-c"+strconv.Itoa(spec.conns), "-d"+strconv.Itoa(secs)+"s",
		"-H", "Accept: "+spec.accept, spec.url)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return loadResult{}, fmt.Errorf("wrk: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return parseWrk(string(out))
}

// parseWrk reads the request count, rate, p99 latency and errors from wrk's output.
func parseWrk(out string) (loadResult, error) {
	var r loadResult
	var err error
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() && err == nil {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 2 && f[0] == "99%":
			r.p99, err = time.ParseDuration(f[1])
		case len(f) == 2 && f[0] == "Requests/sec:":
			r.rps, err = strconv.ParseFloat(f[1], 64)
		case len(f) > 2 && f[1] == "requests" && f[2] == "in":
			r.requests, err = strconv.ParseInt(f[0], 10, 64)
		case len(f) == 5 && strings.Join(f[:4], " ") == "Non-2xx or 3xx responses:":
			r.errors += atoi(f[4])
		case len(f) > 2 && f[0] == "Socket" && f[1] == "errors:":
			r.errors += socketErrors(f[2:])
		}
	}
	if err != nil {
		return r, fmt.Errorf("parse wrk output: %w", err)
	}
	if r.rps == 0 || r.p99 == 0 {
		return r, fmt.Errorf("parse wrk output: no rate or p99 in %q", out)
	}
	return r, nil
}

// socketErrors sums wrk's "connect 0, read 0, write 0, timeout 0".
func socketErrors(f []string) int64 {
	var n int64
	for i := 1; i < len(f); i += 2 {
		n += atoi(strings.TrimSuffix(f[i], ","))
	}
	return n
}

func atoi(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}
