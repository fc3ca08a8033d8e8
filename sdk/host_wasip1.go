//go:build wasip1

package sdk

import (
	"runtime"
	"unsafe"
)

//go:wasmimport berth_v1 log
func importLog(level uint32, ptr unsafe.Pointer, n uint32)

//go:wasmimport berth_v1 manifest
func importManifest(ptr unsafe.Pointer, capacity uint32) int64

//go:wasmimport berth_v1 config
func importConfig(ptr unsafe.Pointer, capacity uint32) int64

//go:wasmimport berth_v1 referrers
func importReferrers(ptr unsafe.Pointer, capacity uint32) int64

func hostLog(level Level, msg string) {
	importLog(uint32(level), unsafe.Pointer(unsafe.StringData(msg)), uint32(len(msg)))
	runtime.KeepAlive(msg)
}

// hostDocument copies up to len(buf) bytes of a document into buf and returns the
// document's size or a negative code.
func hostDocument(capability string, buf []byte) int64 {
	p, n := unsafe.Pointer(unsafe.SliceData(buf)), uint32(len(buf))
	defer runtime.KeepAlive(buf)
	switch capability {
	case CapManifest:
		return importManifest(p, n)
	case CapConfig:
		return importConfig(p, n)
	case CapReferrers:
		return importReferrers(p, n)
	}
	return -2
}
