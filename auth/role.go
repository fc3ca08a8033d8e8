package auth

import "fmt"

// Role is a user's role in one project.
type Role string

// The project roles of Harbor, from most to least powerful.
const (
	RoleProjectAdmin Role = "project-admin"
	RoleMaintainer   Role = "maintainer"
	RoleDeveloper    Role = "developer"
	RoleGuest        Role = "guest"
	RoleLimitedGuest Role = "limited-guest"
)

// Action is something a principal may do in a project.
type Action string

// The actions that roles and robot permissions grant.
const (
	ActionPull             Action = "pull"
	ActionPush             Action = "push"
	ActionDeleteArtifact   Action = "delete-artifact"
	ActionDeleteRepository Action = "delete-repository"
	ActionManageMembers    Action = "manage-members"
	ActionManagePolicies   Action = "manage-policies"
	ActionScan             Action = "scan"
	ActionReadAuditLog     Action = "read-audit-log"
	// ActionPreheat is creating a preheat job (docs/p2p.md); reading one goes with
	// pull. A robot allowed to push may preheat too.
	ActionPreheat Action = "preheat"
)

// roles orders the columns of roleMatrix.
var roles = [...]Role{
	RoleProjectAdmin, RoleMaintainer, RoleDeveloper, RoleGuest, RoleLimitedGuest,
}

// roleMatrix is THE role-by-action table: which roles may do each action. It follows
// Harbor's permissions (src/common/rbac/project/rbac_role.go); docs/roles.md is
// generated from it (go test ./auth -run TestRolesDoc -update).
var roleMatrix = [...]struct {
	action Action
	// allowed is indexed like roles: admin, maintainer, developer, guest, limited.
	allowed [len(roles)]bool
}{
	{ActionPull, [...]bool{true, true, true, true, true}},
	{ActionPush, [...]bool{true, true, true, false, false}},
	{ActionDeleteArtifact, [...]bool{true, true, false, false, false}},
	{ActionDeleteRepository, [...]bool{true, true, false, false, false}},
	{ActionManageMembers, [...]bool{true, false, false, false, false}},
	{ActionManagePolicies, [...]bool{true, true, false, false, false}},
	{ActionScan, [...]bool{true, true, false, false, false}},
	{ActionReadAuditLog, [...]bool{true, true, true, true, false}},
	{ActionPreheat, [...]bool{true, true, true, false, false}},
}

// Roles returns every role, from most to least powerful.
func Roles() []Role { return append([]Role(nil), roles[:]...) }

// Actions returns every action, in the order of the published table.
func Actions() []Action {
	out := make([]Action, len(roleMatrix))
	for i, row := range roleMatrix {
		out[i] = row.action
	}
	return out
}

// RoleAllows reports whether role r may do action a in its project.
func RoleAllows(r Role, a Action) bool {
	col := roleIndex(r)
	if col < 0 {
		return false
	}
	for _, row := range roleMatrix {
		if row.action == a {
			return row.allowed[col]
		}
	}
	return false
}

func roleIndex(r Role) int {
	for i, x := range roles {
		if x == r {
			return i
		}
	}
	return -1
}

// Validate returns ErrInvalidRole unless r is one of Roles().
func (r Role) Validate() error {
	if roleIndex(r) < 0 {
		return fmt.Errorf("%w: %q", ErrInvalidRole, clip(string(r)))
	}
	return nil
}

// Validate returns ErrInvalidAction unless a is one of Actions().
func (a Action) Validate() error {
	for _, row := range roleMatrix {
		if row.action == a {
			return nil
		}
	}
	return fmt.Errorf("%w: %q", ErrInvalidAction, clip(string(a)))
}
