// Package examples holds the starter programs listed in the editor. Each is
// a .py file whose first line is "# <title>"; the file name is its key. A
// PyScript example is a page: a .html file of the same name holds its body.
// A title "Suite: <title>" puts the example in the SuiteGroup: the Python
// versions of the reference suite's workloads (server/bench/suite).
package examples

import (
	"embed"
	"path"
	"sort"
	"strings"
)

//go:embed *.py *.html
var files embed.FS

// Example is one starter program.
type Example struct {
	Name    string `json:"name"`
	Title   string `json:"title"`
	Runtime string `json:"runtime"`
	Code    string `json:"code"`
	HTML    string `json:"html,omitempty"`  // the page body of a PyScript example
	Group   string `json:"group,omitempty"` // SuiteGroup or empty
}

// SuiteGroup groups the reference suite's workloads in the examples menu.
const SuiteGroup = "Benchmark suite"

// suitePrefix starts the first line of a suite workload's example.
const suitePrefix = "Suite: "

// All returns the examples in name order.
func All() []Example {
	entries, _ := files.ReadDir(".")
	var out []Example
	for _, e := range entries {
		if path.Ext(e.Name()) != ".py" {
			continue
		}
		data, err := files.ReadFile(e.Name())
		if err != nil {
			continue
		}
		code := string(data)
		first, _, _ := strings.Cut(code, "\n")
		name := strings.TrimSuffix(e.Name(), ".py")
		ex := Example{
			Name:    name,
			Title:   strings.TrimSpace(strings.TrimPrefix(first, "#")),
			Runtime: "pyodide",
			Code:    code,
		}
		if t, ok := strings.CutPrefix(ex.Title, suitePrefix); ok {
			ex.Title, ex.Group = t, SuiteGroup
		}
		if html, err := files.ReadFile(name + ".html"); err == nil {
			ex.Runtime, ex.HTML = "pyscript", string(html)
		}
		out = append(out, ex)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Starter is the program a new visitor sees first.
func Starter() Example {
	for _, e := range All() {
		if e.Name == "01-hello" {
			return e
		}
	}
	return Example{Name: "empty", Title: "Empty", Runtime: "pyodide", Code: "print('Hello, world!')\n"}
}
