package registry

import (
	"errors"
	"fmt"
)

// Domain errors. The gateway maps each to an OCI error code and HTTP status in one
// table; wrap them with detail using fmt.Errorf("%w: ...").
var (
	ErrNameInvalid         = errors.New("invalid repository name")
	ErrNameUnknown         = errors.New("repository name not known to registry")
	ErrTagInvalid          = errors.New("invalid tag")
	ErrDigestInvalid       = errors.New("provided digest did not match uploaded content")
	ErrBlobUnknown         = errors.New("blob unknown to registry")
	ErrBlobUploadUnknown   = errors.New("blob upload unknown to registry")
	ErrBlobUploadInvalid   = errors.New("blob upload invalid")
	ErrManifestUnknown     = errors.New("manifest unknown")
	ErrManifestInvalid     = errors.New("manifest invalid")
	ErrManifestBlobUnknown = errors.New("manifest references a manifest or blob unknown to registry")
	ErrManifestTooLarge    = errors.New("manifest too large")
	ErrSizeInvalid         = errors.New("provided length did not match content length")
	ErrUnsupported         = errors.New("the operation is unsupported")
	ErrUnavailable         = errors.New("service unavailable, try again")
	ErrStorageUnavailable  = errors.New("blob storage unavailable, try again")
	ErrDenied              = errors.New("requested access to the resource is denied")
	// ErrQuotaExceeded reports a link that would take a project past its quota; the
	// wrapping error names the project, its quota and its usage.
	ErrQuotaExceeded = errors.New("registry: quota exceeded")
)

// RangeError reports a chunk that does not start where the upload ends.
type RangeError struct {
	// Offset is the number of bytes the upload holds.
	Offset int64
}

func (e *RangeError) Error() string {
	return fmt.Sprintf("chunk must start at offset %d", e.Offset)
}
