package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/pyplay/pyplay/snippets"
)

const snippetsUsage = `usage: pyplay snippets <command> [-db DSN] [arguments]

commands:
  delete ID...        remove snippets (a leaked secret, say) and their benchmark runs
  export [-o FILE]    write every snippet as JSON Lines, oldest first (stdout by default)
  import [FILE]       read snippets written by export (stdin by default, or -); the
                      IDs are checked against the content, existing ones are kept

-db DSN names the store as for serve (PYPLAY_DB; default sqlite:./data/pyplay.db):
sqlite:PATH or postgres://user:password@host/database. Export from one kind and
import into the other to move between them.
`

// storeJob is the work of one snippets command, given the open store.
type storeJob func(ctx context.Context, st snippets.Store) error

// snippetsCommands parse a snippets command's flags and arguments (with
// -db already registered on fs) into its job, so that a mistake on the
// command line is reported before any store is opened.
var snippetsCommands = map[string]func(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) (storeJob, error){
	"delete": parseDelete,
	"export": parseExport,
	"import": parseImport,
}

// runSnippets is `pyplay snippets …`, the operator's tools.
func runSnippets(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, snippetsUsage)
		if len(args) == 0 {
			return errors.New("snippets: name a command: delete, export or import")
		}
		return flag.ErrHelp
	}
	name, args := args[0], args[1:]
	parse, ok := snippetsCommands[name]
	if !ok {
		fmt.Fprint(stderr, snippetsUsage)
		return fmt.Errorf("snippets: unknown command %q", name)
	}
	fs := flag.NewFlagSet("snippets "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, snippetsUsage) }
	var db storeFlag
	if err := db.register(fs); err != nil {
		return err
	}
	job, err := parse(fs, args, stdout, stderr)
	if err != nil {
		return err
	}
	st, err := db.open(ctx)
	if err != nil {
		return fmt.Errorf("snippets %s: %w", name, err)
	}
	err = job(ctx, st)
	if cerr := st.Close(); err == nil && cerr != nil {
		// Reported: the last writes of an import may be in it.
		err = fmt.Errorf("snippets %s: close the store: %w", name, cerr)
	}
	return err
}

func parseDelete(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) (storeJob, error) {
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() == 0 {
		return nil, errors.New("snippets delete: name the snippets to delete, e.g. pyplay snippets delete 5Sp1bQ0Ug3u")
	}
	ids := fs.Args()
	for _, id := range ids {
		if !snippets.ValidID(id) {
			return nil, fmt.Errorf("snippets delete: %q is not a snippet ID (the part after /s/ in a link)", id)
		}
	}
	return func(ctx context.Context, st snippets.Store) error {
		return deleteSnippets(ctx, st, ids, stdout, stderr)
	}, nil
}

func parseExport(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) (storeJob, error) {
	out := fs.String("o", "", "write to this file (replaced only once the export is complete) instead of stdout")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("snippets export: unexpected argument %q; use -o FILE", fs.Arg(0))
	}
	return func(ctx context.Context, st snippets.Store) error {
		return exportToFile(ctx, st, *out, stdout, stderr)
	}, nil
}

func parseImport(fs *flag.FlagSet, args []string, _, stderr io.Writer) (storeJob, error) {
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 1 {
		return nil, errors.New("snippets import: give one file, or none to read stdin")
	}
	name := fs.Arg(0)
	return func(ctx context.Context, st snippets.Store) error {
		if name == "" || name == "-" {
			return importSnippets(ctx, st, os.Stdin, "stdin", stderr)
		}
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("snippets import: %w", err)
		}
		defer f.Close()
		return importSnippets(ctx, st, f, name, stderr)
	}, nil
}

func deleteSnippets(ctx context.Context, st snippets.Store, ids []string, stdout, stderr io.Writer) error {
	var failed []string
	for _, id := range ids {
		err := st.Delete(ctx, id)
		switch {
		case err == nil:
			fmt.Fprintf(stdout, "deleted %s\n", id)
		case snippets.ErrorCode(err) == snippets.NotFound:
			fmt.Fprintf(stderr, "pyplay: no snippet with ID %s\n", id)
			failed = append(failed, id)
		default:
			return fmt.Errorf("snippets delete %s: %w", id, err)
		}
	}
	if len(failed) < len(ids) {
		fmt.Fprintln(stderr, "Note: the link answers 404 within two seconds (running servers keep snippets in memory that long).\n"+
			"Shared snippets are served as immutable, so browsers and proxies that fetched one may keep a copy for up to a year.")
	}
	if len(failed) > 0 {
		return fmt.Errorf("snippets delete: %d of %d IDs not found", len(failed), len(ids))
	}
	return nil
}

// exportToFile exports to path, or stdout when path is empty. A file is
// written beside its final name and renamed into place once complete and
// synced, so a failed export never leaves a truncated backup behind that
// looks whole.
func exportToFile(ctx context.Context, st snippets.Store, path string, stdout, stderr io.Writer) error {
	if path == "" {
		n, err := exportSnippets(ctx, st, stdout)
		if err != nil {
			return fmt.Errorf("snippets export: after %d snippets: %w", n, err)
		}
		fmt.Fprintf(stderr, "exported %d snippets\n", n)
		return nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("snippets export: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	n, err := exportSnippets(ctx, st, tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("snippets export to %s: %w", path, err)
	}
	fmt.Fprintf(stderr, "exported %d snippets to %s\n", n, path)
	return nil
}

// exportSnippets writes every snippet to w as one JSON object a line, in
// creation order: {"id","code","runtime","title","html"?,"interpreter"?,"created"}
// (interpreter only when a PyScript page runs on MicroPython: the default
// is not written).
func exportSnippets(ctx context.Context, st snippets.Store, w io.Writer) (int, error) {
	bw := bufio.NewWriterSize(w, 256<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false) // a backup is read by people and programs, not browsers
	n := 0
	err := st.Each(ctx, func(sn *snippets.Snippet) error {
		if err := enc.Encode(sn); err != nil {
			return err
		}
		n++
		return nil
	})
	if err != nil {
		return n, err
	}
	return n, bw.Flush()
}

// maxImportLine bounds one line of an import: far beyond any snippet the
// server accepts, small enough that a corrupt file cannot exhaust memory.
const maxImportLine = 64 << 20

// importRecord is one exported snippet; pointers tell missing from empty.
type importRecord struct {
	ID      *string `json:"id"`
	Code    *string `json:"code"`
	Runtime *string `json:"runtime"`
	Title   string  `json:"title"`
	HTML    string  `json:"html"`
	// Interpreter may name the default, "pyodide" (a hand-written line):
	// it is the same snippet as one without.
	Interpreter string     `json:"interpreter"`
	Created     *time.Time `json:"created"`
}

// importSnippets stores each line of r. Every ID must be the address of its
// content, so a backup edited by hand cannot put code under another
// snippet's link. Snippets already present are left as they are, so an
// interrupted import can simply be run again. It stops at the first bad
// line, saying which.
func importSnippets(ctx context.Context, st snippets.Store, r io.Reader, name string, stderr io.Writer) error {
	br := bufio.NewReaderSize(r, 256<<10)
	var added, present int
	report := func() {
		fmt.Fprintf(stderr, "imported %d snippets from %s: %d new, %d already present\n", added+present, name, added, present)
	}
	for line := 1; ; line++ {
		data, err := readLine(br)
		if err == io.EOF {
			break
		}
		if err != nil {
			report()
			return fmt.Errorf("snippets import: %s:%d: %w", name, line, err)
		}
		if len(bytes.TrimSpace(data)) == 0 {
			continue
		}
		sn, err := parseImportLine(data)
		if err != nil {
			report()
			return fmt.Errorf("snippets import: %s:%d: %w", name, line, err)
		}
		created, err := snippets.Import(ctx, st, sn)
		if err != nil {
			report()
			return fmt.Errorf("snippets import: %s:%d: %s: %w", name, line, sn.ID, err)
		}
		if created {
			added++
		} else {
			present++
		}
	}
	report()
	return nil
}

// readLine returns the next line without its newline, or io.EOF.
func readLine(br *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > maxImportLine {
			return nil, fmt.Errorf("line longer than %d MiB", maxImportLine>>20)
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF && len(line) > 0:
			return line, nil
		case err != nil:
			return nil, err
		}
		return bytes.TrimSuffix(line, []byte("\n")), nil
	}
}

func parseImportLine(data []byte) (*snippets.Snippet, error) {
	var rec importRecord
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rec); err != nil {
		return nil, fmt.Errorf("not a snippet as export writes them: %v", err)
	}
	if dec.More() {
		return nil, errors.New("more than one JSON value on the line")
	}
	switch {
	case rec.ID == nil:
		return nil, errors.New(`"id" is missing`)
	case rec.Code == nil:
		return nil, errors.New(`"code" is missing`)
	case rec.Runtime == nil:
		return nil, errors.New(`"runtime" is missing`)
	}
	sn := &snippets.Snippet{ID: *rec.ID, Code: *rec.Code, Runtime: snippets.Runtime(*rec.Runtime), Title: rec.Title, HTML: rec.HTML,
		Interpreter: snippets.Interpreter(rec.Interpreter)}
	sn.Normalize()
	if rec.Created != nil {
		sn.Created = rec.Created.UTC()
	}
	if err := sn.CheckStorable(); err != nil {
		return nil, fmt.Errorf("%s (was the line edited after export?)", snippets.ErrorMessage(err))
	}
	return sn, nil
}
