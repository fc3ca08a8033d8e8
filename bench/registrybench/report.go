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
	fresh   []freshResult          // fresh Berths, small blob first
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
	fmt.Fprintf(w, "blob: %v, upload %s\n", &r.cfg.blobSize, r.cfg.upload)
	fmt.Fprintf(w, "storage: %s\n\n", r.storage())
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
	return append(rows, r.freshRows()...)
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

// storage names where the registries keep their blobs.
func (r *report) storage() string {
	if r.cfg.storage == "s3" {
		return "s3 on one MinIO server (a bucket each, path style, plain HTTP, redirect off)"
	}
	return "filesystem (a data directory each)"
}

// freshRows reports the fresh Berths that moved one blob each; the peak RSS of the
// biggest must stay under targetBigRSSMiB.
func (r *report) freshRows() []row {
	var rows []row
	nan := math.NaN()
	for i, f := range r.fresh {
		t := f.blob
		label := fmt.Sprintf("berth, %v blob:", (*size)(&t.size))
		rss := mib(f.peakRSS)
		target, verdict := "", ""
		if i == len(r.fresh)-1 {
			target, verdict = "< 150 MiB", "MISSED"
			if rss < targetBigRSSMiB {
				verdict = "met"
			}
		}
		rows = append(rows,
			row{label + " push MB/s", t.pushMBps, nan, "", ""},
			row{label + " pull MB/s", t.pullMBps, nan, "", ""},
			row{label + " push CPU s/GiB", t.pushCPU.Seconds(), nan, "", ""},
			row{label + " pull CPU s/GiB", t.pullCPU.Seconds(), nan, "", ""},
			row{label + " peak RSS MiB", rss, nan, target, verdict})
	}
	return rows
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
