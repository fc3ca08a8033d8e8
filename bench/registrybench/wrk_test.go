package main

import (
	"testing"
	"time"
)

const wrkSample = `Running 10s test @ http://127.0.0.1:5000/v2/bench/app/manifests/v1
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.38ms    3.97ms  62.31ms   88.79%
    Req/Sec     5.21k   476.01     6.43k    70.00%
  Latency Distribution
     50%    2.10ms
     75%    4.05ms
     90%    7.77ms
     99%   19.19ms
  103786 requests in 10.00s, 96.45MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:  10376.34
Transfer/sec:      9.64MB
`

func TestParseWrk(t *testing.T) {
	tests := []struct {
		name string
		out  string
		want loadResult
		err  bool
	}{
		{"full", wrkSample, loadResult{103786, 7, 10376.34, 19190 * time.Microsecond}, false},
		{"no latency distribution", "Requests/sec:  10.0\n", loadResult{}, true},
		{"empty", "", loadResult{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseWrk(tt.out)
			if (err != nil) != tt.err {
				t.Fatalf("parseWrk error = %v, want error %v", err, tt.err)
			}
			if err == nil && got != tt.want {
				t.Errorf("parseWrk = %+v, want %+v", got, tt.want)
			}
		})
	}
}
