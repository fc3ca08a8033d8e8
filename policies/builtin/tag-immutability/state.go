package main

import "berth.dev/berth/sdk"

// tagState is what a pushed tag points to before the push, as far as the host
// reported it.
type tagState struct {
	known  bool   // whether the host reported the state at all
	exists bool   // whether the tag exists in the repository
	digest string // the manifest the tag points to, when it exists
}

// currentTag returns the state of r's tag before the push.
//
// TODO(abi): sdk.PushRequest (ABI 1.0) does not say whether the tag exists or what
// it points to, so the state is always unknown and decide fails for every push of a
// matching tag; bindings fail closed by default, so such pushes are refused. The
// proposed field, for ABI 1.1 (README.md):
//
//	TagState *TagState `json:"tag_state,omitempty"` // {"exists": bool, "digest": "..."}
//
// Once the SDK has it, this function becomes:
//
//	if r.TagState == nil {
//		return tagState{}
//	}
//	return tagState{known: true, exists: r.TagState.Exists, digest: r.TagState.Digest}
func currentTag(r *sdk.PushRequest) tagState {
	return tagState{}
}
