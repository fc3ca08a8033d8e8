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
//  4. Quotas: every link and unlink of a blob or manifest updates its project's usage
//     (unique bytes) in the same transaction; a link past the project's quota fails
//     with ErrQuotaExceeded and changes nothing.
//
// A caller creates one Registry with New, calls Start to migrate the keyspace, clean
// up what a crash left and begin flushing pull events, and Close at shutdown. The
// gateway puts the authenticated caller in each request's context with WithActor, so
// that the events of the audit log name who did what and from where; admin changes
// are recorded with RecordAdmin and read back with Audit.
package registry
