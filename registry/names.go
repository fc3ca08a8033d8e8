package registry

import (
	"fmt"
	"regexp"

	"github.com/opencontainers/go-digest"
)

// MaxNameLength bounds a repository name, as most registries and clients do.
const MaxNameLength = 255

var (
	nameRE = regexp.MustCompile(
		`^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$`)
	tagRE = regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$`)
)

// ValidateName checks a repository name against the distribution spec's grammar.
func ValidateName(name string) error {
	if len(name) == 0 || len(name) > MaxNameLength || !nameRE.MatchString(name) {
		return fmt.Errorf("%w: %q", ErrNameInvalid, clip(name))
	}
	return nil
}

// ValidateTag checks a tag against the distribution spec's grammar.
func ValidateTag(tag string) error {
	if !tagRE.MatchString(tag) {
		return fmt.Errorf("%w: %q", ErrTagInvalid, clip(tag))
	}
	return nil
}

// ParseDigest parses and validates a digest of a supported algorithm.
func ParseDigest(s string) (digest.Digest, error) {
	d, err := digest.Parse(s)
	if err != nil {
		return "", fmt.Errorf("%w: %q: %v", ErrDigestInvalid, clip(s), err)
	}
	return d, nil
}

// Reference is a manifest reference: exactly one of Tag and Digest is set.
type Reference struct {
	Tag    string
	Digest digest.Digest
}

// ParseReference parses a manifest reference, a tag or a digest.
func ParseReference(s string) (Reference, error) {
	if tagRE.MatchString(s) {
		return Reference{Tag: s}, nil
	}
	d, err := digest.Parse(s)
	if err != nil {
		return Reference{}, fmt.Errorf("%w: reference %q is neither a tag nor a digest",
			ErrManifestInvalid, clip(s))
	}
	return Reference{Digest: d}, nil
}

func (r Reference) String() string {
	if r.Tag != "" {
		return r.Tag
	}
	return r.Digest.String()
}

// clip bounds user input echoed in error messages.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
