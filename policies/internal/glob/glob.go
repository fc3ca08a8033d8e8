// Package glob matches tags against the patterns of a policy's configuration.
// Patterns use path.Match syntax: '*' matches any run of characters, '?' one
// character, and [a-z] a class. Tags contain no '/', so '*' matches a whole tag.
package glob

import (
	"fmt"
	"path"
)

// Validate checks that patterns is non-empty and that every pattern is
// well-formed. key names the configuration field in errors.
func Validate(key string, patterns []string) error {
	if len(patterns) == 0 {
		return fmt.Errorf("%s: at least one pattern is required", key)
	}
	for _, p := range patterns {
		if p == "" {
			return fmt.Errorf("%s: empty pattern", key)
		}
		if _, err := path.Match(p, ""); err != nil {
			return fmt.Errorf("%s: pattern %q: %w", key, p, err)
		}
	}
	return nil
}

// Match returns the first pattern that matches s, and whether one did.
// Malformed patterns never match; Validate refuses them earlier.
func Match(patterns []string, s string) (string, bool) {
	for _, p := range patterns {
		if ok, err := path.Match(p, s); err == nil && ok {
			return p, true
		}
	}
	return "", false
}
