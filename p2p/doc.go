// Package p2p distributes blobs between Berth's peer agents in verified pieces over
// libp2p. docs/p2p.md explains the design and its reasons.
//
// The gateway side (every replica is a seed) uses:
//  1. [NewSeedService] over the metadata store and blob storage, which computes and
//     keeps piece maps, signs tickets and tracks which agents fetch which blob;
//  2. [NewHost] and [Seed.Serve] to serve pieces from storage to ticket holders.
//
// The node side runs an [Agent]: a registry mirror on loopback that fetches blobs
// from the swarm, verifies every piece and streams blobs to its clients in order.
package p2p
