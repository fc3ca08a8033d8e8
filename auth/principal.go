package auth

import "log/slog"

// PrincipalKind tells who a Principal is.
type PrincipalKind int

// The kinds of principals.
const (
	// KindAnonymous is a caller without credentials.
	KindAnonymous PrincipalKind = iota
	// KindUser is a local user.
	KindUser
	// KindRobot is a robot account.
	KindRobot
)

func (k PrincipalKind) String() string {
	switch k {
	case KindUser:
		return "user"
	case KindRobot:
		return "robot"
	default:
		return "anonymous"
	}
}

// Principal is the caller of a request. Obtain one from Service.Authenticate, or use
// Anonymous; the authorizer re-reads users and robots from the store, so a deleted,
// demoted or disabled account loses its rights at once.
type Principal struct {
	Kind PrincipalKind
	// Name is the user or full robot name; "" when anonymous.
	Name string
	// ID is the account's ID at authentication; an account deleted and created again
	// under the same name is another principal.
	ID string
	// Admin reports whether the user was a system admin at authentication.
	Admin bool
}

// Anonymous is the principal of callers without credentials.
var Anonymous = Principal{Kind: KindAnonymous}

// LogValue logs the kind and name of the principal.
func (p Principal) LogValue() slog.Value {
	return slog.GroupValue(slog.String("kind", p.Kind.String()), slog.String("name", p.Name))
}
