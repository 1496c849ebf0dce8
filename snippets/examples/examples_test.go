package examples

import "testing"

func TestAll(t *testing.T) {
	all := All()
	byName := map[string]Example{}
	for _, e := range all {
		byName[e.Name] = e
		if e.Title == "" || e.Code == "" {
			t.Errorf("%s: empty title or code", e.Name)
		}
		if (e.Runtime == "pyscript") != (e.HTML != "") {
			t.Errorf("%s: runtime %q with %d bytes of page", e.Name, e.Runtime, len(e.HTML))
		}
	}
	if st := Starter(); st.Name != "01-hello" || st.Runtime != "pyodide" {
		t.Errorf("Starter() = %s (%s), want 01-hello (pyodide)", st.Name, st.Runtime)
	}
	// The editor's PyScript starter page is the first PyScript example.
	var pages int
	for _, e := range all {
		if e.Runtime == "pyscript" {
			pages++
		}
	}
	if pages < 2 {
		t.Errorf("%d PyScript examples, want at least 2", pages)
	}
	if fib := byName["suite-fib"]; fib.Group != SuiteGroup || fib.Title != "fib (recursion)" || fib.Runtime != "pyodide" {
		t.Errorf("suite-fib = %+v", fib)
	}
	if h := byName["01-hello"]; h.Group != "" {
		t.Errorf("01-hello is in group %q", h.Group)
	}
	if ps := byName["07-pyscript-hello"]; ps.Runtime != "pyscript" || ps.Title != "PyScript: a page with a button" {
		t.Errorf("07-pyscript-hello = %+v", ps)
	}
}
