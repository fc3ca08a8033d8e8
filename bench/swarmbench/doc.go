// Command swarmbench measures Berth's peer-to-peer distribution on loopback: N
// agents (`berth peer`), each with its upload and download capped at B, pull one
// blob of size S at once through their mirrors, and the benchmark prints the
// completion times (p50, p99, max) against the line-rate bound S/B, and the
// seed's egress divided by S. The same run with P2P off has every agent pull
// from the gateway through a proxy whose egress is capped at B (the gateway's own
// link). docs/benchmarks.md records its figures.
//
//	go build -o /tmp/berth ./cmd/berth
//	go run ./bench/swarmbench -berth /tmp/berth -agents 8,16,32 -size 32MiB -rate 4MiB
package main
