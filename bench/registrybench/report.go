package main

import (
	"fmt"
	"io"
	"math"
	"text/tabwriter"
	"time"
)

// Targets Berth must meet.
const (
	targetGetRatio  = 2.0 // manifest GET rate vs Distribution (aim 4x)
	targetBlobRatio = 1.0 // blob push and pull rate vs Distribution
	targetBigRSSMiB = 150 // Berth's peak RSS while moving the big blob
)

// report gathers the figures of a run and prints them as one table.
type report struct {
	cfg     config
	machine string // described when the run starts, before any load
	loadgen string
	results map[string]measurement // by server name
	big     *bigResult             // nil when skipped
}

func newReport(cfg config, loadgen string) *report {
	return &report{
		cfg:     cfg,
		machine: machine(),
		loadgen: loadgen,
		results: map[string]measurement{},
	}
}

// row is one line of the table; NaN marks a figure that was not measured.
type row struct {
	metric      string
	berth, dist float64
	target      string
	verdict     string
}

func (r *report) print(w io.Writer) {
	fmt.Fprintf(w, "machine: %s\n", r.machine)
	fmt.Fprintf(w, "manifest GET load: %s, %d connections, %v\n",
		r.loadgen, r.cfg.conns, r.cfg.duration)
	fmt.Fprintf(w, "blob: %v, upload %s\n\n", &r.cfg.blobSize, r.cfg.upload)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "metric\tberth\tdistribution\tberth/dist\ttarget\tverdict\t")
	for _, row := range r.rows() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t\n", row.metric, num(row.berth),
			num(row.dist), ratio(row.berth, row.dist), row.target, row.verdict)
	}
	tw.Flush()
}

// metric is one figure measured on every server; minRatio zero means no target.
type metric struct {
	name     string
	get      func(measurement) float64
	minRatio float64
	target   string
}

// metrics lists the figures measured on every server, in report order.
func metrics() []metric {
	get := func(m measurement) loadResult { return m.get }
	return []metric{
		{"manifest GET req/s", func(m measurement) float64 { return get(m).rps },
			targetGetRatio, ">= 2x (aim 4x)"},
		{"manifest GET p99 ms", func(m measurement) float64 { return ms(get(m).p99) }, 0, ""},
		{"manifest GET errors", func(m measurement) float64 {
			return float64(get(m).errors)
		}, 0, ""},
		{"server CPU us/GET", func(m measurement) float64 { return us(m.getCPU) }, 0, ""},
		{"peak RSS after GETs MiB", func(m measurement) float64 { return mib(m.getRSS) }, 0, ""},
		{"blob push MB/s", func(m measurement) float64 { return m.blob.pushMBps },
			targetBlobRatio, ">= 1.0x"},
		{"blob pull MB/s", func(m measurement) float64 { return m.blob.pullMBps },
			targetBlobRatio, ">= 1.0x"},
		{"push server CPU s/GiB", func(m measurement) float64 {
			return m.blob.pushCPU.Seconds()
		}, 0, ""},
		{"pull server CPU s/GiB", func(m measurement) float64 {
			return m.blob.pullCPU.Seconds()
		}, 0, ""},
		{"peak RSS at end MiB", func(m measurement) float64 { return mib(m.peakRSS) }, 0, ""},
	}
}

func (r *report) rows() []row {
	var rows []row
	for _, m := range metrics() {
		berth, dist := r.value("berth", m), r.value("distribution", m)
		rows = append(rows, row{m.name, berth, dist, m.target, verdict(berth, dist, m.minRatio)})
	}
	return append(rows, r.bigRows()...)
}

// value returns the figure of one server, or NaN when it was not measured.
func (r *report) value(server string, m metric) float64 {
	res, ok := r.results[server]
	if !ok {
		return math.NaN()
	}
	return m.get(res)
}

// verdict compares Berth/Distribution with min: met, MISSED, pending or nothing.
func verdict(berth, dist, min float64) string {
	q := berth / dist
	switch {
	case min == 0:
		return ""
	case math.IsNaN(q):
		return "pending"
	case q >= min:
		return "met"
	}
	return "MISSED"
}

// bigRows reports the fresh Berth that moved the big blob.
func (r *report) bigRows() []row {
	if r.big == nil {
		return nil
	}
	t := r.big.blob
	label := fmt.Sprintf("berth, %v blob:", (*size)(&t.size))
	rss := mib(r.big.peakRSS)
	verdict := "MISSED"
	if rss < targetBigRSSMiB {
		verdict = "met"
	}
	nan := math.NaN()
	return []row{
		{label + " push MB/s", t.pushMBps, nan, "", ""},
		{label + " pull MB/s", t.pullMBps, nan, "", ""},
		{label + " push CPU s/GiB", t.pushCPU.Seconds(), nan, "", ""},
		{label + " pull CPU s/GiB", t.pullCPU.Seconds(), nan, "", ""},
		{label + " peak RSS MiB", rss, nan, "< 150 MiB", verdict},
	}
}

func num(v float64) string {
	switch {
	case math.IsNaN(v):
		return "-"
	case v >= 100 || v == math.Trunc(v):
		return fmt.Sprintf("%.0f", v)
	case v < 10:
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

func ratio(berth, dist float64) string {
	q := berth / dist
	if math.IsNaN(q) || math.IsInf(q, 0) {
		return "-"
	}
	return fmt.Sprintf("%.2fx", q)
}

// ms reports d in milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// us reports d in microseconds.
func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
