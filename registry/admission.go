package registry

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/opencontainers/go-digest"

	"berth.dev/berth/kvnode"
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
	// TagState is what Tag names before the push; nil when Tag is "". The push
	// commits only if the tag still names the same thing then, so a policy deciding
	// on it (tag immutability) cannot be raced.
	TagState *TagState
}

// TagState is what a tag names: nothing, or a manifest.
type TagState struct {
	Exists bool
	Digest digest.Digest
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

// admitPush asks the admission once per tag of the push, and returns what each tag
// named when it was asked (nil without an admission).
func (r *Registry) admitPush(
	ctx context.Context, repo string, tags []string, d digest.Digest, mt string, body []byte,
) (map[string]TagState, error) {
	if r.opts.Admission == nil {
		return nil, nil
	}
	if len(tags) == 0 {
		p := PushInfo{Repository: repo, Digest: d, MediaType: mt, Manifest: body}
		return nil, r.opts.Admission.AdmitPush(ctx, p)
	}
	seen := make(map[string]TagState, len(tags))
	for _, tag := range tags {
		st, err := r.tagState(ctx, repo, tag)
		if err != nil {
			return nil, err
		}
		seen[tag] = st
		p := PushInfo{Repository: repo, Tag: tag, Digest: d, MediaType: mt, Manifest: body,
			TagState: &st}
		if err := r.opts.Admission.AdmitPush(ctx, p); err != nil {
			return nil, err
		}
	}
	return seen, nil
}

// tagState reads what tag names in repo.
func (r *Registry) tagState(ctx context.Context, repo, tag string) (TagState, error) {
	b, err := r.store.Get(ctx, tagKey(repo, tag))
	if errors.Is(err, kvnode.ErrNotFound) {
		return TagState{}, nil
	}
	if err != nil {
		return TagState{}, storeErr(err)
	}
	var t tagRecord
	if err := json.Unmarshal(b, &t); err != nil {
		return TagState{}, err
	}
	return TagState{Exists: true, Digest: t.Digest}, nil
}

// errTagMoved reports a tag that changed between admission and commit.
var errTagMoved = errors.New("registry: tag changed while the push was being admitted")

// checkTagStates fails with errTagMoved unless every tag still names what admission
// saw. It runs in the push's transaction, so the tags join its read set.
func checkTagStates(tx kvnode.Txn, repo string, seen map[string]TagState) error {
	for tag, want := range seen {
		var t tagRecord
		err := txGetJSON(tx, tagKey(repo, tag), &t)
		got := TagState{Exists: err == nil, Digest: t.Digest}
		if err != nil && !errors.Is(err, kvnode.ErrNotFound) {
			return err
		}
		if got != want {
			return errTagMoved
		}
	}
	return nil
}
