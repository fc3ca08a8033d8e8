// Package storage holds Berth's content-addressed blob drivers.
//
// A Driver stores immutable blobs named by their digest and stages uploads that
// become blobs once the caller has verified their digest. Drivers know nothing of
// repositories, HTTP or metadata.
//
// A caller:
//  1. stages bytes with CreateUpload and WriteUpload (each write names the offset it
//     starts at, so a retried or resumed write replaces what a failed one left);
//  2. verifies the digest of the staged bytes (or reads them back with ReadUpload);
//  3. calls CommitUpload, which makes the blob visible atomically, or AbortUpload.
//
// The filesystem driver is the default; see docs/architecture.md.
package storage
