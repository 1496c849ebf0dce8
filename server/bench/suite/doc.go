// Package suite is pyplay's reference suite (issue 15): a handful of
// workloads, each written in Python (a built-in example snippet), Go and
// Rust, computing the same checked result. The Go kernels run natively
// (Run, for `pyplay bench-native`) and, like the Rust ones in rust/, are
// compiled to WebAssembly by `pyplay build` (go-wasm/).
package suite
