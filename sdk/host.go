package sdk

import (
	"errors"
	"fmt"
)

// Errors of the host functions.
var (
	// ErrNotGranted reports a capability the binding did not grant.
	ErrNotGranted = errors.New("sdk: capability not granted")
	// ErrUnavailable reports a document the subject does not have.
	ErrUnavailable = errors.New("sdk: document unavailable")
	// ErrHostFailed reports a host that could not read the document.
	ErrHostFailed = errors.New("sdk: host failed to read the document")
)

// Level is a log level.
type Level uint32

// Log levels, as berth_v1.log numbers them.
const (
	LevelDebug Level = iota
	LevelInfo
	LevelWarn
	LevelError
)

// Log writes msg to Berth's log at level when the binding grants CapLog, and does
// nothing otherwise. The host caps the bytes a call may log.
func Log(level Level, msg string) {
	if granted[CapLog] {
		hostLog(level, msg)
	}
}

// Logf formats and logs like Log.
func Logf(level Level, format string, args ...any) {
	if granted[CapLog] {
		hostLog(level, fmt.Sprintf(format, args...))
	}
}

// Manifest returns the subject's manifest (capability CapManifest).
func Manifest() ([]byte, error) { return readDocument(CapManifest) }

// Config returns the subject's config blob (capability CapConfig).
func Config() ([]byte, error) { return readDocument(CapConfig) }

// Referrers returns the OCI image index of the subject's referrers
// (capability CapReferrers).
func Referrers() ([]byte, error) { return readDocument(CapReferrers) }

// readDocument asks the host for the document's size, then for its bytes.
func readDocument(capability string) ([]byte, error) {
	if !granted[capability] {
		return nil, fmt.Errorf("%w: %s", ErrNotGranted, capability)
	}
	n := hostDocument(capability, nil)
	if err := docError(capability, n); err != nil {
		return nil, err
	}
	buf := make([]byte, n)
	if n == 0 {
		return buf, nil
	}
	m := hostDocument(capability, buf)
	if err := docError(capability, m); err != nil {
		return nil, err
	}
	if m != n {
		return nil, fmt.Errorf("%w: %s changed size", ErrHostFailed, capability)
	}
	return buf, nil
}

func docError(capability string, code int64) error {
	switch {
	case code == -1:
		return fmt.Errorf("%w: %s", ErrUnavailable, capability)
	case code < 0:
		return fmt.Errorf("%w: %s", ErrHostFailed, capability)
	}
	return nil
}
