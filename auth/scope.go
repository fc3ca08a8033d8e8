package auth

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Scope is one resource scope of a Docker token request, such as
// "repository:library/nginx:pull,push" or "repository(plugin):name:pull".
type Scope struct {
	// Type is the resource type: "repository" or "registry" (for the catalog).
	Type string
	// Class is the optional resource class in parentheses after the type.
	Class string
	// Name is the resource name; it may hold a host with a port ("host:5000/a").
	Name string
	// Actions are the requested actions, in order, without duplicates or empty ones.
	Actions []string
}

// Scope limits, to bound the work one token request can cause.
const (
	// MaxScopes bounds the number of scopes in one token request.
	MaxScopes = 64
	// maxScopeLen bounds the length of one scope.
	maxScopeLen = 512
)

var (
	scopeTypeRE   = regexp.MustCompile(`^[a-z0-9]+(?:\([a-z0-9]+\))?$`)
	scopeNameRE   = regexp.MustCompile(`^[A-Za-z0-9._\-/:]+$`)
	scopeActionRE = regexp.MustCompile(`^(?:[a-z]+|\*)$`)
)

// ParseScope parses one scope, "type[(class)]:name:action[,action...]". The name may
// contain colons; the type ends at the first colon and the actions start after the
// last one.
func ParseScope(s string) (Scope, error) {
	if len(s) > maxScopeLen {
		return Scope{}, fmt.Errorf("%w: longer than %d bytes", ErrInvalidScope, maxScopeLen)
	}
	typ, rest, ok1 := strings.Cut(s, ":")
	i := strings.LastIndexByte(rest, ':')
	if !ok1 || i < 0 || !scopeTypeRE.MatchString(typ) {
		return Scope{}, fmt.Errorf("%w: %q", ErrInvalidScope, clip(s))
	}
	name, actions := rest[:i], rest[i+1:]
	if !scopeNameRE.MatchString(name) {
		return Scope{}, fmt.Errorf("%w: resource name %q", ErrInvalidScope, clip(name))
	}
	sc := Scope{Type: typ, Name: name}
	if j := strings.IndexByte(typ, '('); j >= 0 {
		sc.Type, sc.Class = typ[:j], typ[j+1:len(typ)-1]
	}
	for _, a := range strings.Split(actions, ",") {
		if a == "" || slices.Contains(sc.Actions, a) {
			continue
		}
		if !scopeActionRE.MatchString(a) {
			return Scope{}, fmt.Errorf("%w: action %q", ErrInvalidScope, clip(a))
		}
		sc.Actions = append(sc.Actions, a)
	}
	return sc, nil
}

// ParseScopes parses the scope parameters of a token request. Each parameter may
// hold several scopes separated by spaces, as some clients send them.
func ParseScopes(params []string) ([]Scope, error) {
	var out []Scope
	for _, p := range params {
		for _, s := range strings.Fields(p) {
			if len(out) == MaxScopes {
				return nil, fmt.Errorf("%w: more than %d scopes", ErrInvalidScope, MaxScopes)
			}
			sc, err := ParseScope(s)
			if err != nil {
				return nil, err
			}
			out = append(out, sc)
		}
	}
	return out, nil
}

// String returns the scope in the form ParseScope reads.
func (s Scope) String() string {
	typ := s.Type
	if s.Class != "" {
		typ += "(" + s.Class + ")"
	}
	return typ + ":" + s.Name + ":" + strings.Join(s.Actions, ",")
}
