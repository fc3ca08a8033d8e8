package main

import "berth.dev/berth/sdk"

// tagState is what a pushed tag points to before the push, as far as the host
// reported it.
type tagState struct {
	known  bool   // whether the host reported the state at all
	exists bool   // whether the tag exists in the repository
	digest string // the manifest the tag points to, when it exists
}

// currentTag returns the state of r's tag before the push, as hosts of ABI 1.1
// report it; unknown from a 1.0 host.
func currentTag(r *sdk.PushRequest) tagState {
	if r.TagState == nil {
		return tagState{}
	}
	return tagState{known: true, exists: r.TagState.Exists, digest: r.TagState.Digest}
}
