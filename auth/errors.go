package auth

import "errors"

// Errors returned by this package. Messages never hold a password, a secret or a
// token; callers map them to HTTP statuses at the edge.
var (
	// ErrInvalidName reports a project, user or robot name outside its grammar.
	ErrInvalidName = errors.New("auth: invalid name")
	// ErrNoProject reports a repository name without a project component
	// (a one-component name such as "nginx").
	ErrNoProject = errors.New("auth: repository name has no project")
	// ErrProjectNotFound reports that a project does not exist.
	ErrProjectNotFound = errors.New("auth: project not found")
	// ErrUserNotFound reports that a user does not exist.
	ErrUserNotFound = errors.New("auth: user not found")
	// ErrRobotNotFound reports that a robot account does not exist.
	ErrRobotNotFound = errors.New("auth: robot not found")
	// ErrMemberNotFound reports that a user is not a member of a project.
	ErrMemberNotFound = errors.New("auth: member not found")
	// ErrExists reports that a project, user or robot of that name already exists.
	ErrExists = errors.New("auth: already exists")
	// ErrInvalidRole reports a role that is not one of Roles().
	ErrInvalidRole = errors.New("auth: invalid role")
	// ErrInvalidAction reports an action that is not one of Actions().
	ErrInvalidAction = errors.New("auth: invalid action")
	// ErrInvalidPermission reports a robot permission outside the robot's reach.
	ErrInvalidPermission = errors.New("auth: invalid robot permission")
	// ErrWeakPassword reports a password shorter than MinPasswordLength or longer
	// than MaxPasswordLength.
	ErrWeakPassword = errors.New("auth: password too short or too long")
	// ErrProtected reports an attempt to delete or demote the bootstrap admin.
	ErrProtected = errors.New("auth: the admin user cannot be deleted or demoted")
	// ErrBadCredentials reports a failed login: unknown name, wrong password or
	// secret, disabled or expired robot. The cause is not told to the client.
	ErrBadCredentials = errors.New("auth: invalid credentials")
	// ErrThrottled reports that logins for this user or source address are locked
	// for a while after too many failures.
	ErrThrottled = errors.New("auth: too many failed logins, try again later")
	// ErrInvalidScope reports a malformed Docker token scope.
	ErrInvalidScope = errors.New("auth: invalid scope")
	// ErrInvalidToken reports a token that is malformed, tampered with, expired,
	// signed by an unknown key or meant for another issuer or audience.
	ErrInvalidToken = errors.New("auth: invalid token")
)
