package plugins

import (
	"fmt"
	"runtime"
	"time"
)

// MinMemoryPages is the smallest memory cap the host accepts: Go guests need 42
// pages (64 KiB each) of linear memory to start at all.
const MinMemoryPages = 42

// Limits bound what one binding's plugin may consume. The zero value of each field
// selects its default (see DefaultLimits).
type Limits struct {
	// Timeout bounds one call, waiting for an instance included. Zero means 1 s.
	Timeout time.Duration
	// MemoryPages caps an instance's linear memory in 64 KiB pages. Zero means 256
	// (16 MiB); values below MinMemoryPages are refused.
	MemoryPages uint32
	// MaxOutputBytes caps a response. Zero means 64 KiB.
	MaxOutputBytes int
	// MaxLogBytes caps what one call may log, guest stdout and stderr included;
	// records past it are dropped. Zero means 8 KiB.
	MaxLogBytes int
	// MaxInstances caps the pool of instances, hence concurrent calls of the
	// binding. Zero means GOMAXPROCS.
	MaxInstances int
}

// DefaultLimits returns the limits used for zero fields: suited to admission hooks.
func DefaultLimits() Limits {
	return Limits{
		Timeout:        time.Second,
		MemoryPages:    256,
		MaxOutputBytes: 64 << 10,
		MaxLogBytes:    8 << 10,
		MaxInstances:   runtime.GOMAXPROCS(0),
	}
}

// Validate reports limits the host refuses.
func (l Limits) Validate() error {
	switch {
	case l.Timeout < 0, l.MaxOutputBytes < 0, l.MaxLogBytes < 0, l.MaxInstances < 0:
		return fmt.Errorf("%w: negative value", ErrInvalidLimits)
	case l.MemoryPages != 0 && l.MemoryPages < MinMemoryPages:
		return fmt.Errorf("%w: memory cap %d pages is below %d", ErrInvalidLimits,
			l.MemoryPages, MinMemoryPages)
	case l.MemoryPages > 65536:
		return fmt.Errorf("%w: memory cap %d pages exceeds 4 GiB", ErrInvalidLimits,
			l.MemoryPages)
	}
	return nil
}

// withDefaults returns l with every zero field set to its default.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.Timeout == 0 {
		l.Timeout = d.Timeout
	}
	if l.MemoryPages == 0 {
		l.MemoryPages = d.MemoryPages
	}
	if l.MaxOutputBytes == 0 {
		l.MaxOutputBytes = d.MaxOutputBytes
	}
	if l.MaxLogBytes == 0 {
		l.MaxLogBytes = d.MaxLogBytes
	}
	if l.MaxInstances == 0 {
		l.MaxInstances = d.MaxInstances
	}
	return l
}
