package storetest

import (
	"testing"
	"time"

	"github.com/pyplay/pyplay/snippets"
)

// RunImport tests snippets.Importer, for stores that implement it. open is
// as for Run.
func RunImport(t *testing.T, open func(t *testing.T) snippets.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s snippets.Importer, st snippets.Store)
	}{
		{"KeepsCreated", testImportKeepsCreated},
		{"BackdatesExisting", testImportBackdatesExisting},
		{"WithoutCreated", testImportWithoutCreated},
		{"ChecksID", testImportChecksID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := open(t)
			im, ok := st.(snippets.Importer)
			if !ok {
				t.Fatalf("%T is not a snippets.Importer", st)
			}
			tt.fn(t, im, st)
		})
	}
}

var longAgo = time.Date(2021, 3, 4, 5, 6, 7, 891_000_000, time.UTC)

func testImportKeepsCreated(t *testing.T, im snippets.Importer, st snippets.Store) {
	sn := sealed(snippets.Snippet{Runtime: snippets.Pyodide, Code: "print('restored')"})
	sn.Created = longAgo.Add(456 * time.Microsecond) // finer than stores keep
	created, err := im.Import(ctx(t), sn)
	if err != nil || !created {
		t.Fatalf("Import = %v, %v; want true, nil", created, err)
	}
	if !sn.Created.Equal(longAgo) {
		t.Errorf("Import set Created to %v, want %v", sn.Created, longAgo)
	}
	got, err := st.Get(ctx(t), sn.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Created.Equal(longAgo) || got.Created.Location() != time.UTC {
		t.Errorf("Get: Created %v, want %v", got.Created, longAgo)
	}
	// Importing the same backup again changes nothing.
	again := sealed(snippets.Snippet{Runtime: snippets.Pyodide, Code: "print('restored')"})
	again.Created = longAgo.Add(time.Hour)
	created, err = im.Import(ctx(t), again)
	if err != nil || created {
		t.Fatalf("second Import = %v, %v; want false, nil", created, err)
	}
	if !again.Created.Equal(longAgo) {
		t.Errorf("second Import: Created %v, want the stored %v", again.Created, longAgo)
	}
}

func testImportBackdatesExisting(t *testing.T, im snippets.Importer, st snippets.Store) {
	sn := sealed(snippets.Snippet{Runtime: snippets.MicroPython, Code: "print('shared before the backup was restored')"})
	put(t, st, sn)
	old := sealed(snippets.Snippet{Runtime: snippets.MicroPython, Code: sn.Code})
	old.Created = longAgo
	if created, err := im.Import(ctx(t), old); err != nil || created {
		t.Fatalf("Import = %v, %v; want false, nil", created, err)
	}
	got, err := st.Get(ctx(t), sn.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Created.Equal(longAgo) {
		t.Errorf("Created %v, want the earlier %v", got.Created, longAgo)
	}
}

func testImportWithoutCreated(t *testing.T, im snippets.Importer, st snippets.Store) {
	sn := sealed(snippets.Snippet{Runtime: snippets.Pyodide, Code: "print('undated')"})
	before := time.Now()
	if created, err := im.Import(ctx(t), sn); err != nil || !created {
		t.Fatalf("Import = %v, %v", created, err)
	}
	checkTime(t, "Created", sn.Created, before, time.Now())
}

func testImportChecksID(t *testing.T, im snippets.Importer, st snippets.Store) {
	sn := sealed(snippets.Snippet{Runtime: snippets.Pyodide, Code: "print('original')"})
	sn.Code = "print('tampered')"
	sn.Created = longAgo
	_, err := im.Import(ctx(t), sn)
	wantCode(t, "Import of a snippet whose ID is not its content's", err, snippets.Invalid)
	if _, err := st.Get(ctx(t), sn.ID); snippets.ErrorCode(err) != snippets.NotFound {
		t.Errorf("Get after a refused Import: %v", err)
	}
}
