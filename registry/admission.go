package registry

import (
	"context"

	"github.com/opencontainers/go-digest"
)

// Admission decides whether a push, a pull or a delete may proceed. It returns nil
// to allow, and an error wrapping ErrDenied with the reason to deny; any other
// error fails the request. Plugins make these decisions (package policies); the
// registry core only asks.
type Admission interface {
	AdmitPush(ctx context.Context, p PushInfo) error
	AdmitPull(ctx context.Context, p PullInfo) error
	AdmitDelete(ctx context.Context, d DeleteInfo) error
}

// PushInfo describes a manifest push awaiting admission, before anything is stored.
type PushInfo struct {
	Repository string
	Tag        string // one call per tag; "" for a push by digest without tags
	Digest     digest.Digest
	MediaType  string
	Manifest   []byte // the body, validated
}

// PullInfo describes a manifest GET awaiting admission.
type PullInfo struct {
	Repository string
	Reference  string // the tag or digest the client asked for
	Digest     digest.Digest
	MediaType  string
}

// DeleteInfo describes a delete of a manifest (Digest) or a tag (Tag).
type DeleteInfo struct {
	Repository string
	Tag        string
	Digest     digest.Digest
}

// admitPush asks the admission once per tag of the push.
func (r *Registry) admitPush(
	ctx context.Context, repo string, tags []string, d digest.Digest, mt string, body []byte,
) error {
	if r.opts.Admission == nil {
		return nil
	}
	if len(tags) == 0 {
		tags = []string{""}
	}
	for _, tag := range tags {
		p := PushInfo{Repository: repo, Tag: tag, Digest: d, MediaType: mt, Manifest: body}
		if err := r.opts.Admission.AdmitPush(ctx, p); err != nil {
			return err
		}
	}
	return nil
}
