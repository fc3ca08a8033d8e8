//go:build wasip1

package sdk

import "unsafe"

// The module's exports (docs/plugin-abi.md). Memory the host writes into is
// allocated here and kept reachable in pinned until the hook that reads it takes
// it; the last response stays reachable until the next call into the module.

var (
	pinned       = map[uint32][]byte{}
	lastResponse []byte
)

//go:wasmexport berth_abi_v1
func exportABI() uint32 { return ABIMinor }

//go:wasmexport berth_alloc
func exportAlloc(size uint32) uint32 {
	buf := make([]byte, max(size, 1))
	p := uint32(uintptr(unsafe.Pointer(unsafe.SliceData(buf))))
	pinned[p] = buf
	return p
}

//go:wasmexport berth_describe
func exportDescribe() uint64 { return respond(describeMessage()) }

//go:wasmexport berth_init
func exportInit(ptr, n uint32) uint64 { return respond(initMessage(take(ptr, n))) }

//go:wasmexport berth_hook_push
func exportPush(ptr, n uint32) uint64 { return hook(HookPush, ptr, n) }

//go:wasmexport berth_hook_pull
func exportPull(ptr, n uint32) uint64 { return hook(HookPull, ptr, n) }

//go:wasmexport berth_hook_delete
func exportDelete(ptr, n uint32) uint64 { return hook(HookDelete, ptr, n) }

//go:wasmexport berth_hook_after_push
func exportAfterPush(ptr, n uint32) uint64 { return hook(HookAfterPush, ptr, n) }

func hook(name string, ptr, n uint32) uint64 {
	return respond(hookMessage(name, take(ptr, n)))
}

// take returns the request buffer at ptr and stops pinning it.
func take(ptr, n uint32) []byte {
	buf, ok := pinned[ptr]
	delete(pinned, ptr)
	if !ok || int(n) > len(buf) {
		return nil
	}
	return buf[:n]
}

// respond keeps b reachable and packs its address and length.
func respond(b []byte) uint64 {
	lastResponse = b
	if len(b) == 0 {
		return 0
	}
	p := uint64(uintptr(unsafe.Pointer(unsafe.SliceData(b))))
	return p<<32 | uint64(len(b))
}
