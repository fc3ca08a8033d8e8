package auth

import (
	"fmt"
	"regexp"
	"strings"
)

var (
	// projectRE is the grammar of one component of a repository name.
	projectRE = regexp.MustCompile(`^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$`)
	// userRE admits names that are safe in keys, URLs and Basic auth (no ':').
	userRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
	// robotRE is the grammar of the short name of a robot.
	robotRE = regexp.MustCompile(`^[a-z0-9]+(?:[._-][a-z0-9]+)*$`)
)

// Name limits.
const (
	maxProjectName = 255
	maxRobotName   = 64
)

// RobotPrefix starts the name of every robot account, as in Harbor.
const RobotPrefix = "robot$"

// ProjectOf returns the project of a repository name: its first component. A name
// with one component ("nginx") has no project and yields ErrNoProject; see
// docs/roles.md for why Berth refuses it rather than placing it in "library".
func ProjectOf(repository string) (string, error) {
	project, rest, ok := strings.Cut(repository, "/")
	if !ok || rest == "" {
		return "", ErrNoProject
	}
	if err := validProject(project); err != nil {
		return "", err
	}
	return project, nil
}

func validProject(name string) error {
	if len(name) > maxProjectName || !projectRE.MatchString(name) {
		return fmt.Errorf("%w: project %q", ErrInvalidName, clip(name))
	}
	return nil
}

func validUser(name string) error {
	if !userRE.MatchString(name) {
		return fmt.Errorf("%w: user %q", ErrInvalidName, clip(name))
	}
	return nil
}

func validRobot(name string) error {
	if len(name) > maxRobotName || !robotRE.MatchString(name) {
		return fmt.Errorf("%w: robot %q", ErrInvalidName, clip(name))
	}
	return nil
}

// RobotName returns the full name of a robot: "robot$<project>+<name>" for a project
// robot, "robot$<name>" for a system robot (project "").
func RobotName(project, name string) string {
	if project == "" {
		return RobotPrefix + name
	}
	return RobotPrefix + project + "+" + name
}

// clip bounds user input echoed in error messages.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
