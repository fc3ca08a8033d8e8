// Package kvnode holds Berth's metadata store: the Store interface that every other
// room uses, and its backends.
//
// Today the one backend is etcd: an embedded single-member etcd server started by
// [StartEmbedded] (the default of `berth serve`), reached through an in-process
// client. Clusters and TiKV come later behind the same interface.
//
// A caller:
//  1. opens a Store (for example with [StartEmbedded]) and closes it at shutdown;
//  2. reads with Get and Range, writes single keys with Put and Delete;
//  3. changes several keys together inside Update, whose function may run more than
//     once (optimistic retries) and so must not have side effects outside the Txn.
//
// Keys are strings; callers own their prefixes (see docs/keyspace.md).
package kvnode
