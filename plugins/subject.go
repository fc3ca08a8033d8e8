package plugins

import (
	"context"
	"errors"
)

// Subject gives a plugin read access to the artifact a call is about. The caller
// implements it (the host knows nothing of the registry) and passes it per call.
// Each method is called at most once per call, and only when the binding grants
// the matching capability and the plugin asks.
type Subject interface {
	// Manifest returns the subject's manifest bytes (capability CapManifest).
	Manifest(ctx context.Context) ([]byte, error)
	// Config returns the subject's config blob (capability CapConfig).
	Config(ctx context.Context) ([]byte, error)
	// Referrers returns the OCI image index of the subject's referrers
	// (capability CapReferrers).
	Referrers(ctx context.Context) ([]byte, error)
}

// ErrNoDocument is what a Subject returns when it has no such document, for
// example an image without a config blob. The plugin sees "unavailable".
var ErrNoDocument = errors.New("plugins: subject has no such document")

// Result codes of the document host functions; non-negative values are sizes.
const (
	docUnavailable int64 = -1 // no subject, or ErrNoDocument
	docFailed      int64 = -2 // the Subject failed
)

// fetch returns the document of capability c.
func fetch(ctx context.Context, s Subject, c Capability) ([]byte, error) {
	if s == nil {
		return nil, ErrNoDocument
	}
	switch c {
	case CapManifest:
		return s.Manifest(ctx)
	case CapConfig:
		return s.Config(ctx)
	case CapReferrers:
		return s.Referrers(ctx)
	}
	return nil, ErrNoDocument
}
