package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pyplay/pyplay/snippets"
	"github.com/pyplay/pyplay/snippets/postgres/pgtest"
	"github.com/pyplay/pyplay/snippets/storage"
)

func TestSnippetFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		want    snippetFlags
		wantErr string
	}{
		{name: "defaults", want: snippetFlags{MaxCode: 64 << 10, Rate: 30, Burst: 20}},
		{name: "flags", args: []string{"-max-code", "128KiB", "-rate", "0", "-burst", "3", "-trusted-proxies", "10.0.0.0/8, 192.0.2.7,2001:db8::/32"},
			want: snippetFlags{MaxCode: 128 << 10, Rate: 0, Burst: 3, TrustedProxies: prefixList{
				netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32"), netip.MustParsePrefix("2001:db8::/32")}}},
		{name: "environment", env: map[string]string{"PYPLAY_MAX_CODE": "1000", "PYPLAY_RATE": "2.5", "PYPLAY_BURST": "1", "PYPLAY_TRUSTED_PROXIES": "127.0.0.1"},
			want: snippetFlags{MaxCode: 1000, Rate: 2.5, Burst: 1, TrustedProxies: prefixList{netip.MustParsePrefix("127.0.0.1/32")}}},
		{name: "flag beats environment", args: []string{"-rate", "7"}, env: map[string]string{"PYPLAY_RATE": "2"},
			want: snippetFlags{MaxCode: 64 << 10, Rate: 7, Burst: 20}},
		{name: "sizes", args: []string{"-max-code", "1MiB"}, want: snippetFlags{MaxCode: 1 << 20, Rate: 30, Burst: 20}},
		{name: "host bits masked", args: []string{"-trusted-proxies", "10.1.2.3/8"},
			want: snippetFlags{MaxCode: 64 << 10, Rate: 30, Burst: 20, TrustedProxies: prefixList{netip.MustParsePrefix("10.0.0.0/8")}}},
		{name: "bad size", args: []string{"-max-code", "lots"}, wantErr: "like 65536 or 64KiB"},
		{name: "zero size", args: []string{"-max-code", "0"}, wantErr: "from 1 byte"},
		{name: "huge size", args: []string{"-max-code", "1GiB"}, wantErr: "to 16 MiB"},
		{name: "negative rate", args: []string{"-rate", "-1"}, wantErr: "per minute"},
		{name: "zero burst", args: []string{"-burst", "0"}, wantErr: "at least 1"},
		{name: "bad proxy", args: []string{"-trusted-proxies", "proxy.example.com"}, wantErr: "neither a CIDR"},
		{name: "bad environment", env: map[string]string{"PYPLAY_RATE": "fast"}, wantErr: "PYPLAY_RATE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"PYPLAY_MAX_CODE", "PYPLAY_RATE", "PYPLAY_BURST", "PYPLAY_TRUSTED_PROXIES"} {
				t.Setenv(k, tt.env[k])
			}
			m := NewMain(io.Discard, io.Discard)
			err := m.ParseFlags(tt.args)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(m.snippetFlags, tt.want) {
				t.Errorf("got %+v, want %+v", m.snippetFlags, tt.want)
			}
		})
	}
}

func TestSnippetFlagsReachServer(t *testing.T) {
	var f snippetFlags
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	if err := f.register(fs); err != nil {
		t.Fatal(err)
	}
	fs.Parse([]string{"-max-code", "100", "-rate", "6", "-burst", "2"})
	o := f.serverOptions()
	if o.Limits.MaxCode != 100 || o.CreatesPerMinute != 6 || o.CreateBurst != 2 {
		t.Errorf("server options %+v", o)
	}
}

func TestDescribeDSN(t *testing.T) {
	for dsn, want := range map[string]string{
		"sqlite:./data/pyplay.db":                  "sqlite:./data/pyplay.db",
		"postgres://pyplay:s3cret@db:5432/pyplay":  "postgres://pyplay:xxxxx@db:5432/pyplay",
		"postgres://pyplay@db/pyplay?sslmode=none": "postgres://pyplay@db/pyplay?sslmode=none",
	} {
		if got := describeDSN(dsn); got != want {
			t.Errorf("describeDSN(%q) = %q, want %q", dsn, got, want)
		}
	}
}

// pyplay runs the command line as main does and returns stdout and stderr.
func pyplay(t *testing.T, stdin io.Reader, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	if stdin != nil {
		// importSnippets reads os.Stdin for "-"; swap it for the call.
		r, w, perr := os.Pipe()
		if perr != nil {
			t.Fatal(perr)
		}
		go func() { io.Copy(w, stdin); w.Close() }()
		old := os.Stdin
		os.Stdin = r
		defer func() { os.Stdin = old; r.Close() }()
	}
	var out, errb bytes.Buffer
	err = run(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), err
}

// seedStore fills a new SQLite store with snippets and returns its DSN and
// the snippets as stored.
func seedStore(t *testing.T) (string, []*snippets.Snippet) {
	t.Helper()
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "source.db")
	st, err := storage.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var out []*snippets.Snippet
	for _, sn := range []snippets.Snippet{
		{Code: "print('hello')\n", Runtime: snippets.Pyodide, Title: "Hello"},
		{Code: "import sys\nprint(sys.implementation.name)\n", Runtime: snippets.MicroPython},
		{Code: "from pyscript import display\ndisplay('hi')\n", Runtime: snippets.PyScript, HTML: "<div id=\"out\">\u2603 </script></div>"},
		{Code: "s = 'naïve \\u2028 \"quoted\"'\nprint(s)\n", Runtime: snippets.Pyodide, Title: "Ünïcode"},
		{Code: "from pyscript import display\ndisplay('hi')\n", Runtime: snippets.PyScript, HTML: "<div id=\"out\">\u2603 </script></div>",
			Interpreter: snippets.InterpreterMicroPython},
	} {
		sn.Seal()
		if _, err := st.Put(context.Background(), &sn); err != nil {
			t.Fatal(err)
		}
		out = append(out, &sn)
		time.Sleep(2 * time.Millisecond) // distinct creation times
	}
	return dsn, out
}

func allSnippets(t *testing.T, dsn string) []*snippets.Snippet {
	t.Helper()
	st, err := storage.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var out []*snippets.Snippet
	if err := st.Each(context.Background(), func(sn *snippets.Snippet) error { out = append(out, sn); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSnippetsExportImport(t *testing.T) {
	src, want := seedStore(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "backup.jsonl")
	_, stderr, err := pyplay(t, nil, "snippets", "export", "-db", src, "-o", file)
	if err != nil {
		t.Fatalf("export: %v\n%s", err, stderr)
	}
	if !strings.Contains(stderr, "exported 5 snippets to "+file) {
		t.Errorf("export said %q", stderr)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), data)
	}
	var first map[string]any
	json.Unmarshal([]byte(lines[0]), &first)
	for _, k := range []string{"id", "code", "runtime", "title", "created"} {
		if _, ok := first[k]; !ok {
			t.Errorf("exported line lacks %q: %s", k, lines[0])
		}
	}
	if n := strings.Count(string(data), `"interpreter":`); n != 1 || !strings.Contains(lines[4], `"interpreter":"micropython"`) {
		t.Errorf("%d lines name an interpreter, want only the MicroPython page's:\n%s", n, data)
	}
	if !strings.Contains(string(data), "</script>") {
		t.Error("export escapes HTML: a backup is not a web page")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("export left files behind: %v", entries)
	}

	// Stdout gives the same bytes.
	stdout, _, err := pyplay(t, nil, "snippets", "export", "-db", src)
	if err != nil || stdout != string(data) {
		t.Errorf("export to stdout differs from -o (%v)", err)
	}

	targets := map[string]func(t *testing.T) string{
		"sqlite": func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "restored.db") },
		"postgres": func(t *testing.T) string {
			return pgtest.NewServer(t).NewDatabase(t)
		},
	}
	for name, target := range targets {
		t.Run(name, func(t *testing.T) {
			dst := target(t)
			_, stderr, err := pyplay(t, nil, "snippets", "import", "-db", dst, file)
			if err != nil {
				t.Fatalf("import: %v\n%s", err, stderr)
			}
			if !strings.Contains(stderr, "imported 5 snippets from "+file+": 5 new, 0 already present") {
				t.Errorf("import said %q", stderr)
			}
			got := allSnippets(t, dst)
			if !reflect.DeepEqual(got, want) {
				for i := range max(len(got), len(want)) {
					if i < len(got) && i < len(want) && !reflect.DeepEqual(got[i], want[i]) {
						t.Errorf("snippet %d: got %+v, want %+v", i, got[i], want[i])
					}
				}
				t.Fatalf("imported %d snippets, want %d", len(got), len(want))
			}
			// Again, from stdin: nothing changes.
			_, stderr, err = pyplay(t, bytes.NewReader(data), "snippets", "import", "-db", dst, "-")
			if err != nil || !strings.Contains(stderr, "0 new, 5 already present") {
				t.Errorf("second import: %v, %q", err, stderr)
			}
			if got := allSnippets(t, dst); !reflect.DeepEqual(got, want) {
				t.Error("a second import changed the store")
			}
		})
	}
}

func sealedID(s snippets.Snippet) string {
	s.Seal()
	return s.ID
}

func TestSnippetsImportRefuses(t *testing.T) {
	good := &snippets.Snippet{Code: "print(1)", Runtime: snippets.Pyodide}
	good.Seal()
	goodLine, _ := json.Marshal(good)
	tests := []struct{ name, line, want string }{
		{"tampered code", strings.Replace(string(goodLine), "print(1)", "print(2)", 1), "does not match its content"},
		{"missing id", `{"code":"print(1)","runtime":"pyodide"}`, `"id" is missing`},
		{"missing runtime", `{"id":"` + good.ID + `","code":"print(1)"}`, `"runtime" is missing`},
		{"unknown field", `{"id":"` + good.ID + `","code":"print(1)","runtime":"pyodide","lang":"py"}`, "unknown field"},
		// IDs that match the content: the content itself is refused.
		{"interpreter without pyscript", `{"id":"` + sealedID(snippets.Snippet{Code: "print(1)", Runtime: snippets.Pyodide, Interpreter: snippets.InterpreterMicroPython}) +
			`","code":"print(1)","runtime":"pyodide","interpreter":"micropython"}`, "only allowed with runtime pyscript"},
		{"unknown interpreter", `{"id":"` + sealedID(snippets.Snippet{Code: "print(1)", Runtime: snippets.PyScript, Interpreter: "brython"}) +
			`","code":"print(1)","runtime":"pyscript","interpreter":"brython"}`, "unknown interpreter"},
		{"not JSON", `id,code`, "not a snippet"},
		{"two values", string(goodLine) + " {}", "more than one JSON value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := "sqlite:" + filepath.Join(t.TempDir(), "db")
			input := string(goodLine) + "\n\n" + tt.line + "\n" + string(goodLine) + "\n"
			_, stderr, err := pyplay(t, strings.NewReader(input), "snippets", "import", "-db", dst)
			if err == nil || !strings.Contains(err.Error(), "stdin:3:") || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one for stdin:3 mentioning %q", err, tt.want)
			}
			if !strings.Contains(stderr, "1 new") {
				t.Errorf("no progress report: %q", stderr)
			}
		})
	}
}

// TestSnippetsImportDefaultInterpreter: a line naming the default
// interpreter is the snippet without one, under the same ID.
func TestSnippetsImportDefaultInterpreter(t *testing.T) {
	sn := &snippets.Snippet{Code: "print(1)", Runtime: snippets.PyScript}
	sn.Seal()
	line := `{"id":"` + sn.ID + `","code":"print(1)","runtime":"pyscript","title":"","interpreter":"pyodide"}` + "\n"
	dst := "sqlite:" + filepath.Join(t.TempDir(), "db")
	if _, stderr, err := pyplay(t, strings.NewReader(line), "snippets", "import", "-db", dst); err != nil {
		t.Fatalf("import: %v\n%s", err, stderr)
	}
	got := allSnippets(t, dst)
	if len(got) != 1 || got[0].ID != sn.ID || got[0].Interpreter != "" {
		t.Errorf("imported %+v, want %s with the default (empty) interpreter", got, sn.ID)
	}
}

func TestSnippetsDelete(t *testing.T) {
	dsn, stored := seedStore(t)
	stdout, stderr, err := pyplay(t, nil, "snippets", "delete", "-db", dsn, stored[0].ID, stored[2].ID)
	if err != nil {
		t.Fatalf("delete: %v\n%s", err, stderr)
	}
	if stdout != "deleted "+stored[0].ID+"\ndeleted "+stored[2].ID+"\n" || !strings.Contains(stderr, "up to a year") {
		t.Errorf("delete said %q, %q", stdout, stderr)
	}
	got := allSnippets(t, dsn)
	if len(got) != 3 || got[0].ID != stored[1].ID || got[1].ID != stored[3].ID || got[2].ID != stored[4].ID {
		t.Errorf("left %v", got)
	}
	_, stderr, err = pyplay(t, nil, "snippets", "delete", "-db", dsn, stored[0].ID, stored[1].ID)
	if err == nil || !strings.Contains(stderr, "no snippet with ID "+stored[0].ID) {
		t.Errorf("deleting a deleted snippet: %v, %q", err, stderr)
	}
	if got := allSnippets(t, dsn); len(got) != 2 {
		t.Errorf("the existing ID beside an unknown one was not deleted: %d left", len(got))
	}
	if _, _, err := pyplay(t, nil, "snippets", "delete", "-db", dsn, "../etc"); err == nil || !strings.Contains(err.Error(), "not a snippet ID") {
		t.Errorf("malformed ID: %v", err)
	}
}

func TestSnippetsUsage(t *testing.T) {
	for _, args := range [][]string{{"snippets"}, {"snippets", "frobnicate"}, {"snippets", "export", "extra"}, {"snippets", "delete"}} {
		if _, _, err := pyplay(t, nil, args...); err == nil {
			t.Errorf("%v succeeded", args)
		}
	}
	_, stderr, _ := pyplay(t, nil, "snippets", "-h")
	if !strings.Contains(stderr, "export [-o FILE]") {
		t.Errorf("help: %q", stderr)
	}
	t.Setenv("PYPLAY_DB", "mysql://nope")
	if _, _, err := pyplay(t, nil, "snippets", "export"); err == nil || !strings.Contains(err.Error(), "unknown database") {
		t.Errorf("PYPLAY_DB not honoured: %v", err)
	}
}
