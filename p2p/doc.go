// Package p2p distributes blobs between Berth's peer agents in verified pieces over
// libp2p. docs/p2p.md explains the design and its reasons.
//
// The gateway side (every replica is a seed):
//  1. [NewHost] starts a libp2p host in the private network of the cluster key;
//  2. [NewSeed] over the metadata store, blob storage and that host loads the
//     ticket key and serves pieces from storage to ticket holders;
//  3. for every caller allowed to pull a blob, [Seed.Answer] returns its piece map
//     (computed once, kept in metadata), a ticket bound to the caller's peer id and
//     the blob's sources, and lists the caller as a source;
//  4. [NewPreheats] over the metadata store and the network key keeps preheat jobs:
//     the admin API creates them, agents poll for them ([VerifyAgent] checks their
//     HMAC) and report their progress.
//
// The node side runs an [Agent] ([NewAgent], then serve [Agent.Handler] on
// loopback, and [Agent.Close]): a registry mirror that fetches blobs from the
// swarm, verifies every piece, streams blobs to its clients in order and keeps
// verified pieces in its [Cache] across restarts. With AgentConfig.PreheatPoll set, it
// polls the gateway for preheat jobs, signed with [SignAgent], and runs them.
package p2p
