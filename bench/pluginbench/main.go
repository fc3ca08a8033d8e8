package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"
)

// config holds the command-line settings.
type config struct {
	n          int           // measured requests per method and plugin count
	decide     time.Duration // length of the decisions-per-second run
	workDir    string        // parent of the temporary data directory
	cpuProfile string        // file for a CPU profile of the 3-plugin run; empty: none
}

func main() {
	var cfg config
	flag.IntVar(&cfg.n, "n", 2000, "measured requests per method and plugin count")
	flag.DurationVar(&cfg.decide, "decide", 3*time.Second, "length of the decisions/s run")
	flag.StringVar(&cfg.workDir, "work-dir", os.TempDir(), "parent of the temporary data dir")
	flag.StringVar(&cfg.cpuProfile, "cpuprofile", "", "write a CPU profile of the 3-plugin run")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, cfg)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "pluginbench: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg config) error {
	dir, err := os.MkdirTemp(cfg.workDir, "pluginbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	printMachine()

	env, err := start(ctx, dir, log)
	if err != nil {
		return err
	}
	defer env.close()
	if err := latencies(ctx, env, cfg); err != nil {
		return err
	}
	if err := decisions(ctx, env, cfg.decide); err != nil {
		return err
	}
	return coldStarts(ctx, dir, env.pullWasm)
}

// latencies measures manifest PUT and GET with 0, 1 and 3 plugins per hook.
func latencies(ctx context.Context, env *env, cfg config) error {
	fmt.Printf("\nmanifest latency over loopback HTTP, %d sequential requests each\n", cfg.n)
	fmt.Printf("(admission: the time spent deciding inside each request, which is what the\n" +
		"plugins add; added: the request's percentile minus the 0-plugin run's)\n")
	fmt.Printf("%-8s %-4s %10s %10s %12s %12s %15s %15s\n", "plugins", "op", "p50", "p99",
		"added p50", "added p99", "admission p50", "admission p99")
	var base map[string]summary
	for _, n := range []int{0, 1, 3} {
		if err := env.bindN(ctx, n); err != nil {
			return err
		}
		stopProfile, err := profile(cfg.cpuProfile, n == 3)
		if err != nil {
			return err
		}
		got, err := env.measure(ctx, cfg.n)
		stopProfile()
		if err != nil {
			return err
		}
		if base == nil {
			base = got
		}
		for _, op := range []string{"PUT", "GET"} {
			s, b, a := got[op], base[op], got[op+" admission"]
			fmt.Printf("%-8d %-4s %10s %10s %12s %12s %15s %15s\n", n, op, us(s.p50),
				us(s.p99), us(s.p50-b.p50), us(s.p99-b.p99), us(a.p50), us(a.p99))
		}
	}
	return nil
}

// profile starts a CPU profile into file when on; the returned func stops it.
func profile(file string, on bool) (func(), error) {
	if file == "" || !on {
		return func() {}, nil
	}
	f, err := os.Create(file)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

func us(d time.Duration) string {
	return fmt.Sprintf("%.0f us", float64(d)/float64(time.Microsecond))
}

func printMachine() {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Printf("machine: %s, %d cores (GOMAXPROCS %d), %s/%s, %s, load average %s\n", model,
		runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH, runtime.Version(),
		strings.Join(strings.Fields(string(load))[:min(3, len(strings.Fields(string(load))))], " "))
}
