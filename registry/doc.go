// Package registry is Berth's registry core: repositories, blobs, upload sessions,
// manifests, tags, referrers and events, over a metadata Store and a blob Driver.
// It knows nothing of HTTP; the gateway maps its errors to OCI error codes.
//
// Contracts (docs/architecture.md has the reasons):
//  1. Content addressing: a blob is linked into a repository only after its digest was
//     verified over the bytes written to storage; a manifest is accepted only when
//     everything it references is present.
//  2. Statelessness: upload sessions (offset, resumable hash state) live in metadata,
//     so any process over the same metadata and storage continues any upload.
//  3. Atomicity: a manifest push or delete commits its tag, referrer index and event
//     in one metadata transaction; nothing is half visible.
//
// A caller creates one Registry with New, calls Start to clean up what a crash left
// and to begin flushing pull events, and Close at shutdown.
package registry
