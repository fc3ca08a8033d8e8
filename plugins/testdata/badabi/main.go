// Command badabi marks ABI major 2, which the host must refuse before running it.
package main

//go:wasmexport berth_abi_v2
func abi() uint32 { return 0 }

//go:wasmexport berth_alloc
func alloc(n uint32) uint32 { panic("must not run") }

func main() {}
