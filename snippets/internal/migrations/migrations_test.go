package migrations

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoad(t *testing.T) {
	fsys := fstest.MapFS{
		"m/002_runs.sql":  {Data: []byte("CREATE TABLE runs (x int);")},
		"m/001_init.sql":  {Data: []byte("CREATE TABLE snippets (x int);")},
		"m/README.md":     {Data: []byte("not a migration")},
		"m/010_later.txt": {Data: []byte("ignored")},
	}
	ms, err := Load(fsys, "m")
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].Version != 1 || ms[0].Name != "001_init.sql" || ms[1].Version != 2 || !strings.Contains(ms[1].SQL, "runs") {
		t.Fatalf("Load = %+v", ms)
	}
}

func TestLoadRejects(t *testing.T) {
	tests := map[string]fstest.MapFS{
		"gap":       {"m/001_a.sql": {}, "m/003_c.sql": {}},
		"duplicate": {"m/001_a.sql": {}, "m/001_b.sql": {}},
		"bad name":  {"m/init.sql": {}},
		"zero":      {"m/000_a.sql": {}},
		"empty":     {"m/README": {}},
	}
	for name, fsys := range tests {
		if _, err := Load(fsys, "m"); err == nil {
			t.Errorf("%s: Load succeeded", name)
		}
	}
}
