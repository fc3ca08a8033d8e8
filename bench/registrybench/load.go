package main

import (
	"context"
	"fmt"
	"os/exec"
	"time"
)

// loadResult is the outcome of one manifest GET load run.
type loadResult struct {
	requests int64
	errors   int64 // non-2xx answers and socket errors
	rps      float64
	p99      time.Duration
}

// loadSpec describes one load run: GET url with an Accept header.
type loadSpec struct {
	url      string
	accept   string
	conns    int
	duration time.Duration
}

// loadGen runs a load of GET requests.
type loadGen interface {
	// name says which generator this is, for the report.
	name() string
	run(ctx context.Context, spec loadSpec) (loadResult, error)
}

// chooseLoadGen picks wrk when asked or, for "auto", when it is on PATH.
func chooseLoadGen(choice string) (loadGen, error) {
	wrkPath, err := exec.LookPath("wrk")
	switch choice {
	case "go":
		return goLoad{}, nil
	case "wrk":
		if err != nil {
			return nil, fmt.Errorf("-loadgen wrk: wrk not found (apt-get install -y wrk)")
		}
		return wrk{path: wrkPath}, nil
	case "auto":
		if err != nil {
			return goLoad{fallback: true}, nil
		}
		return wrk{path: wrkPath}, nil
	}
	return nil, fmt.Errorf("-loadgen must be auto, wrk or go, not %q", choice)
}
