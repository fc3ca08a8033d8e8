// Command deny-tags is Berth's built-in policy that refuses pushes of tags
// matching a pattern, such as "latest". Configuration:
//
//	{"patterns": ["latest", "*-dirty"]}
//
// Patterns are globs (path.Match); at least one is required. A push by digest,
// without a tag, is always allowed.
package main

import (
	"fmt"

	"berth.dev/berth/policies/internal/glob"
	"berth.dev/berth/sdk"
)

// config is the binding's configuration.
type config struct {
	// Patterns are the globs of tags that may not be pushed.
	Patterns []string `json:"patterns"`
}

func validate(c *config) error { return glob.Validate("patterns", c.Patterns) }

// push denies a push whose tag matches one of the patterns.
func push(c *config, r *sdk.PushRequest) (sdk.Decision, error) {
	if r.Tag == "" {
		return sdk.Allow(), nil
	}
	p, ok := glob.Match(c.Patterns, r.Tag)
	if !ok {
		return sdk.Allow(), nil
	}
	return sdk.Deny(fmt.Sprintf("tag %q may not be pushed to %s: it matches the denied "+
		"pattern %q; push a versioned tag instead", r.Tag, r.Repository, p)), nil
}

func init() {
	sdk.Register(sdk.Plugin[config]{
		Name:     "deny-tags",
		Version:  "1.0.0",
		Validate: validate,
		Push:     push,
	})
}

func main() {}
