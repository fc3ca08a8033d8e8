// Package kvnode holds Berth's metadata store: the Store interface that every other
// room uses, and its backends:
//
//   - an etcd member inside the process ([StartEmbedded], the default of
//     `berth serve`; [StartMember] for `berth kvnode`), read through an in-process
//     client;
//   - a remote kvnode or etcd v3.5+ cluster ([Dial], for `berth gateway`);
//   - TiKV through PD ([OpenTiKV]).
//
// Every backend passes the one conformance suite in package storetest.
//
// A caller:
//  1. opens a Store and closes it at shutdown;
//  2. reads with Get and Range, writes single keys with Put and Delete;
//  3. changes several keys together inside Update, whose function may run more than
//     once (optimistic retries) and so must not have side effects outside the Txn;
//  4. treats ErrUnavailable as "try again later" (the API answers 503).
//
// Keys are strings; callers own their prefixes (see docs/keyspace.md). Backends
// and what their tests prove: docs/metadata-backends.md.
package kvnode
