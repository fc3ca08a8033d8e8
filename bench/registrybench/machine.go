package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strings"
)

// machine describes the host in one line: cores, CPU model, memory and the load
// average, which tells a quiet run from one that shared the CPU with other work.
func machine() string {
	model := procField("/proc/cpuinfo", "model name")
	mem := procField("/proc/meminfo", "MemTotal")
	load, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		load = []byte("unknown")
	}
	loads := strings.Fields(string(load))
	return fmt.Sprintf("%d cores (%s), %s RAM, load average %s at start",
		runtime.NumCPU(), model, memGiB(mem), strings.Join(loads[:min(3, len(loads))], " "))
}

// procField returns the value of the first "key: value" line of a /proc file.
func procField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// memGiB turns a meminfo value such as "24683792 kB" into "23.5 GiB".
func memGiB(v string) string {
	var kb int64
	if _, err := fmt.Sscanf(v, "%d kB", &kb); err != nil {
		return v
	}
	return fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
}
