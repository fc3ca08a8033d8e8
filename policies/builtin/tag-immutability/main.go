// Command tag-immutability is Berth's built-in policy that keeps tags matching a
// pattern from moving: once such a tag names a manifest, a push that would point
// it at another manifest is denied. Configuration:
//
//	{"patterns": ["v*", "release-*"]}
//
// Patterns are globs (path.Match); at least one is required. Creating a matching
// tag, pushing the same manifest again and pushing by digest are allowed.
//
// The policy needs to know what the tag points to before the push: the request's
// tag_state, which hosts of ABI 1.1 set (README.md).
package main

import (
	"fmt"

	"berth.dev/berth/policies/internal/glob"
	"berth.dev/berth/sdk"
)

// config is the binding's configuration.
type config struct {
	// Patterns are the globs of tags that may not move once they exist.
	Patterns []string `json:"patterns"`
}

func validate(c *config) error { return glob.Validate("patterns", c.Patterns) }

// push decides with the tag's state as the request reports it.
func push(c *config, r *sdk.PushRequest) (sdk.Decision, error) {
	return decide(c, r, currentTag(r))
}

// decide denies a push that would move an existing tag matching a pattern to a
// different digest. It fails, rather than guess, when the tag's state is unknown.
func decide(c *config, r *sdk.PushRequest, s tagState) (sdk.Decision, error) {
	if r.Tag == "" {
		return sdk.Allow(), nil
	}
	p, ok := glob.Match(c.Patterns, r.Tag)
	if !ok {
		return sdk.Allow(), nil
	}
	switch {
	case !s.known:
		return sdk.Decision{}, fmt.Errorf("tag-immutability: the host did not report "+
			"whether tag %q exists (request field tag_state); refusing to decide", r.Tag)
	case !s.exists, s.digest == r.Digest:
		return sdk.Allow(), nil
	}
	return sdk.Deny(fmt.Sprintf("tag %q of %s is immutable (pattern %q): it points to "+
		"%s and may not be moved to %s; push a new tag instead",
		r.Tag, r.Repository, p, s.digest, r.Digest)), nil
}

func init() {
	sdk.Register(sdk.Plugin[config]{
		Name:     "tag-immutability",
		Version:  "1.0.0",
		Validate: validate,
		Push:     push,
	})
}

func main() {}
