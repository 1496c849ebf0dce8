//go:build js && wasm

// Command go-wasm is the suite's Go kernels compiled to WebAssembly
// (GOOS=js GOARCH=wasm) by `pyplay build`. Loaded with the toolchain's
// wasm_exec.js, it sets globalThis[os.Args[1]] (default "pyplayGoKernels")
// to a function run(id, n) that returns the checksum string, or an Error
// object (returned, not thrown: a Go panic would end the program) for bad
// arguments, and then waits for calls forever.
package main

import (
	"os"
	"syscall/js"

	"github.com/pyplay/pyplay/server/bench/suite"
)

func main() {
	name := "pyplayGoKernels"
	if len(os.Args) > 1 && os.Args[1] != "" {
		name = os.Args[1]
	}
	errorCtor := js.Global().Get("Error")
	js.Global().Set(name, js.FuncOf(func(_ js.Value, args []js.Value) any {
		if len(args) != 2 || args[0].Type() != js.TypeString || args[1].Type() != js.TypeNumber {
			return errorCtor.New("run(id, n) takes a string and a number")
		}
		out, err := suite.Run(args[0].String(), args[1].Int())
		if err != nil {
			return errorCtor.New(err.Error())
		}
		return out
	}))
	select {}
}
