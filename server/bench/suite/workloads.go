//go:build !(js && wasm)

package suite

import (
	_ "embed"
	"encoding/json"
	"fmt"
)

//go:embed workloads.json
var workloadsJSON []byte

// Workload is one entry of workloads.json.
type Workload struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	// N is the size each runtime runs the kernel at (roughly 10–50 ms in
	// native CPython).
	N int `json:"n"`
	// Check is the checksum every runtime must produce at size N.
	Check string `json:"check"`
	// Python names the example snippet holding the Python version
	// (snippets/examples/<python>.py).
	Python string `json:"python"`
}

var workloads = func() []Workload {
	var w []Workload
	if err := json.Unmarshal(workloadsJSON, &w); err != nil {
		panic(fmt.Sprintf("suite: workloads.json: %v", err))
	}
	return w
}()

// Workloads returns the suite's workloads in their order.
func Workloads() []Workload { return append([]Workload(nil), workloads...) }

// JSON returns workloads.json as embedded.
func JSON() []byte { return append([]byte(nil), workloadsJSON...) }

// ByID finds a workload.
func ByID(id string) (Workload, bool) {
	for _, w := range workloads {
		if w.ID == id {
			return w, true
		}
	}
	return Workload{}, false
}

// ByPython finds the workload whose Python version is the named example.
func ByPython(example string) (Workload, bool) {
	for _, w := range workloads {
		if w.Python == example {
			return w, true
		}
	}
	return Workload{}, false
}
