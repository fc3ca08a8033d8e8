package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strings"
)

// machine describes the host in one line: cores, CPU model and memory.
func machine() string {
	model := procField("/proc/cpuinfo", "model name")
	mem := procField("/proc/meminfo", "MemTotal")
	return fmt.Sprintf("%d cores (%s), %s RAM", runtime.NumCPU(), model, memGiB(mem))
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
