package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"
)

// targetRatio is issue 3's target: the cluster within 1.5x of the single member.
const targetRatio = 1.5

// report prints one row per figure with the embedded member and the other setup
// (named other), their ratio and the target.
func report(w io.Writer, embedded, cluster results, other string) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "figure\tembedded\t%s\t%s/embedded\ttarget <= 1.5x\n", other, other)
	rows := []struct {
		name string
		l    [2]latencies
		q    float64
	}{
		{"manifest PUT p50", [2]latencies{embedded.put, cluster.put}, 0.50},
		{"manifest PUT p99", [2]latencies{embedded.put, cluster.put}, 0.99},
		{"tags list (n=100) p50", [2]latencies{embedded.tags, cluster.tags}, 0.50},
		{"tags list (n=100) p99", [2]latencies{embedded.tags, cluster.tags}, 0.99},
	}
	for _, r := range rows {
		e, c := r.l[0].quantile(r.q), r.l[1].quantile(r.q)
		ratio := float64(c) / float64(e)
		met := "met"
		if ratio > targetRatio {
			met = "missed"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.2fx\t%s\n", r.name, ms(e), ms(c), ratio, met)
	}
	tw.Flush()
}

// ms formats d in milliseconds with two decimals.
func ms(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}

// machine describes the host: cores and CPU model.
func machine() string {
	model := "unknown"
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	return fmt.Sprintf("%d cores (%s)", runtime.NumCPU(), model)
}

// loadAverage returns the 1, 5 and 15 minute load averages, which tell a quiet run
// from one that shared the CPU with other work.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}
