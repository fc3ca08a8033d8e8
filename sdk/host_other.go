//go:build !wasip1

package sdk

// Off wasm there is no host: logging does nothing and documents are unavailable,
// so that plugin code compiles and its handlers can be tested on any platform.

func hostLog(Level, string) {}

func hostDocument(string, []byte) int64 { return -1 }
