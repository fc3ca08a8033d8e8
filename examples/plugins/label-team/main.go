// Command label-team is an example Berth plugin: every manifest pushed must name
// its owning team in an annotation, and the team must be the repository's first
// path component (pushes to payments/api must say team "payments"). It needs no
// capability: the annotations are in the push request. Configuration, all
// optional:
//
//	{"annotation": "dev.berth.team", "exempt": ["library"]}
//
// annotation is the key to read ("dev.berth.team" when empty); exempt lists first
// path components whose repositories need no annotation.
package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"berth.dev/berth/sdk"
)

// defaultAnnotation is the key read when the configuration names none.
const defaultAnnotation = "dev.berth.team"

// config is the binding's configuration; its zero value works.
type config struct {
	// Annotation is the key naming the team; empty means defaultAnnotation.
	Annotation string `json:"annotation"`
	// Exempt lists first path components whose repositories are not checked.
	Exempt []string `json:"exempt"`
}

func validate(c *config) error {
	if c.Annotation == "" {
		c.Annotation = defaultAnnotation
	}
	if slices.Contains(c.Exempt, "") {
		return errors.New("exempt: empty path component")
	}
	return nil
}

// push denies a manifest whose team annotation is missing or names another team.
func push(c *config, r *sdk.PushRequest) (sdk.Decision, error) {
	team, _, _ := strings.Cut(r.Repository, "/")
	if slices.Contains(c.Exempt, team) {
		return sdk.Allow(), nil
	}
	got, ok := r.Manifest.Annotations[c.Annotation]
	switch {
	case !ok || got == "":
		return sdk.Deny(fmt.Sprintf("manifest for %s needs annotation %s=%s naming "+
			"its owning team", r.Repository, c.Annotation, team)), nil
	case got != team:
		return sdk.Deny(fmt.Sprintf("manifest says %s=%s, but %s belongs to team %s",
			c.Annotation, got, r.Repository, team)), nil
	}
	return sdk.Allow(), nil
}

func init() {
	sdk.Register(sdk.Plugin[config]{
		Name:     "label-team",
		Version:  "0.1.0",
		Validate: validate,
		Push:     push,
	})
}

func main() {}
