package auth

import (
	"context"
	"slices"
)

// tokenActions maps the actions of repository scopes to the actions they need.
var tokenActions = map[string]Action{
	"pull":   ActionPull,
	"push":   ActionPush,
	"delete": ActionDeleteArtifact,
}

// grant returns requested ∩ allowed, one Access per resource in the order first
// requested; resources granted nothing are left out.
func (i *Issuer) grant(ctx context.Context, p Principal, scopes []Scope) ([]Access, error) {
	var out []Access
	for _, sc := range mergeScopes(scopes) {
		acts, err := i.allowedActions(ctx, p, sc)
		if err != nil {
			return nil, err
		}
		if len(acts) > 0 {
			out = append(out, Access{Type: sc.Type, Name: sc.Name, Actions: acts})
		}
	}
	return out, nil
}

// allowedActions returns the actions of sc that p is allowed.
func (i *Issuer) allowedActions(ctx context.Context, p Principal, sc Scope) ([]string, error) {
	switch sc.Type {
	case "registry":
		if sc.Name != "catalog" || !slices.Contains(sc.Actions, "*") {
			return nil, nil
		}
		admin, err := isAdmin(ctx, i.authz, p)
		if err != nil || !admin {
			return nil, err
		}
		return []string{"*"}, nil
	case "repository":
		var acts []string
		for _, a := range expandWildcard(sc.Actions) {
			ok, err := i.authz.Allowed(ctx, p, sc.Name, tokenActions[a])
			if err != nil {
				return nil, err
			}
			if ok {
				acts = append(acts, a)
			}
		}
		return acts, nil
	default:
		return nil, nil
	}
}

// expandWildcard replaces "*" by every repository action and drops unknown ones.
func expandWildcard(actions []string) []string {
	var out []string
	for _, a := range actions {
		if a == "*" {
			out = append(out, "pull", "push", "delete")
		} else if _, ok := tokenActions[a]; ok {
			out = append(out, a)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// mergeScopes merges scopes that name the same resource, keeping the first order.
func mergeScopes(scopes []Scope) []Scope {
	var out []Scope
	for _, sc := range scopes {
		same := func(o Scope) bool { return o.Type == sc.Type && o.Name == sc.Name }
		j := slices.IndexFunc(out, same)
		if j < 0 {
			sc.Actions = slices.Clone(sc.Actions)
			out = append(out, sc)
			continue
		}
		for _, a := range sc.Actions {
			if !slices.Contains(out[j].Actions, a) {
				out[j].Actions = append(out[j].Actions, a)
			}
		}
	}
	return out
}

// adminChecker is implemented by authorizers that know system admins (*Service).
type adminChecker interface {
	IsAdmin(ctx context.Context, p Principal) (bool, error)
}

func isAdmin(ctx context.Context, authz Authorizer, p Principal) (bool, error) {
	if a, ok := authz.(adminChecker); ok {
		return a.IsAdmin(ctx, p)
	}
	return false, nil
}
