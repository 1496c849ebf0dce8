package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestDataDir(t *testing.T) {
	for db, want := range map[string]string{
		"sqlite:./data/pyplay.db":        "data",
		"sqlite:/var/lib/pyplay/db":      "/var/lib/pyplay",
		"sqlite:///var/lib/pyplay/db":    "/var/lib/pyplay",
		"postgres://u@h/db":              "data",
		"sqlite:pyplay.db":               ".",
		"sqlite:/srv/pyplay/x/pyplay.db": "/srv/pyplay/x",
	} {
		if got := dataDir(db); got != want {
			t.Errorf("dataDir(%q) = %q, want %q", db, got, want)
		}
	}
	var f packagesFlag
	src, err := f.source("sqlite:./data/pyplay.db")
	if err != nil || src.Dir != "data/packages" || src.Explicit {
		t.Errorf("default source %+v %v", src, err)
	}
	f.Value = "http://insecure.example.com/"
	if _, err := f.source(""); err == nil || !strings.Contains(err.Error(), "-packages") {
		t.Errorf("http mirror: %v", err)
	}
}

func TestPackagesCommandErrors(t *testing.T) {
	var out, errw bytes.Buffer
	if err := run(context.Background(), []string{"packages"}, &out, &errw); err == nil {
		t.Error("packages without import succeeded")
	}
	err := run(context.Background(), []string{"packages", "import", "-packages", t.TempDir(), "/nonexistent/pyodide.tar.bz2"}, &out, &errw)
	if err == nil {
		t.Error("import of a missing archive succeeded")
	}
}
