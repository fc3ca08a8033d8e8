// Command abi10 is a plugin written against ABI 1.0 without the SDK: its marker
// returns minor 0, and its push hook echoes the tag_state member of the request
// (added by ABI 1.1) in its reason, so a test sees what the host sent.
package main

import (
	"encoding/json"
	"unsafe"
)

var (
	pinned = map[uint32][]byte{}
	last   []byte
)

//go:wasmexport berth_abi_v1
func abi() uint32 { return 0 }

//go:wasmexport berth_alloc
func alloc(n uint32) uint32 {
	b := make([]byte, max(n, 1))
	p := uint32(uintptr(unsafe.Pointer(unsafe.SliceData(b))))
	pinned[p] = b
	return p
}

//go:wasmexport berth_describe
func describe() uint64 { return respond([]byte(`{"name":"abi10","hooks":["push"]}`)) }

//go:wasmexport berth_init
func initialize(p, n uint32) uint64 {
	delete(pinned, p)
	return respond([]byte(`{"result":{}}`))
}

//go:wasmexport berth_hook_push
func push(p, n uint32) uint64 {
	req := pinned[p][:n]
	delete(pinned, p)
	var r struct {
		TagState json.RawMessage `json:"tag_state"`
	}
	json.Unmarshal(req, &r)
	reason, _ := json.Marshal("tag_state=" + string(r.TagState))
	return respond([]byte(`{"result":{"allow":false,"reason":` + string(reason) + `}}`))
}

func respond(b []byte) uint64 {
	last = b
	return uint64(uintptr(unsafe.Pointer(unsafe.SliceData(b))))<<32 | uint64(len(b))
}

func main() {}
