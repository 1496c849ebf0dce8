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
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/pyplay/pyplay/server"
	"github.com/pyplay/pyplay/snippets"
	"github.com/pyplay/pyplay/snippets/storage"
)

func init() { extraCommands["snippets"] = runSnippets }

// Defaults of serve's sharing flags. A classroom behind one NAT address
// shares a bucket, hence a generous burst.
const (
	defaultCreatesPerMinute = 30
	defaultCreateBurst      = 20
	// maxMaxCode keeps -max-code sane: request bodies are read into memory.
	maxMaxCode = 16 << 20
)

// snippetFlags are serve's flags about sharing and the snippet store
// (-db is Main.DB).
type snippetFlags struct {
	MaxCode        byteSize
	Rate           perMinute
	Burst          positiveInt
	TrustedProxies prefixList

	store snippets.Store
}

// register adds the flags to fs, with their values from the environment
// applied (the command line, parsed afterwards, wins).
func (f *snippetFlags) register(fs *flag.FlagSet) error {
	f.MaxCode = byteSize(snippets.DefaultLimits.MaxCode)
	f.Rate = defaultCreatesPerMinute
	f.Burst = defaultCreateBurst
	return registerEnvFlags(fs, []envFlag{
		{&f.MaxCode, "max-code", "PYPLAY_MAX_CODE", "largest snippet code accepted, in bytes (or with KiB/MiB)"},
		{&f.Rate, "rate", "PYPLAY_RATE", "snippets one client (IPv4 address or IPv6 /64) may share per minute; 0 for no limit"},
		{&f.Burst, "burst", "PYPLAY_BURST", "snippets one client may share at once before -rate applies"},
		{&f.TrustedProxies, "trusted-proxies", "PYPLAY_TRUSTED_PROXIES",
			"comma-separated CIDRs (or addresses) of reverse proxies whose X-Forwarded-For / X-Real-IP name the client; empty: trust no header"},
	})
}

// serverOptions are the flags as the server takes them.
func (f *snippetFlags) serverOptions() server.SnippetOptions {
	return server.SnippetOptions{
		Limits:           snippets.Limits{MaxCode: int(f.MaxCode)},
		CreatesPerMinute: float64(f.Rate),
		CreateBurst:      int(f.Burst),
	}
}

// openStore opens the store dsn names, logging which one.
func openStore(ctx context.Context, dsn string, log *slog.Logger) (snippets.Store, error) {
	start := time.Now()
	st, err := storage.Open(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", describeDSN(dsn), err)
	}
	log.Info("store open", "db", describeDSN(dsn), "duration", time.Since(start).Round(time.Millisecond))
	return st, nil
}

// describeDSN names a database for logs and messages, without a password.
func describeDSN(dsn string) string {
	return storage.Redact(dsn)
}

// byteSize is a flag of bytes: 65536, 64KiB, 64K, 1MiB.
type byteSize int

func (b *byteSize) String() string { return strconv.Itoa(int(*b)) }

func (b *byteSize) Set(s string) error {
	num, mult := strings.TrimSpace(s), 1
	for _, u := range []struct {
		suffix string
		mult   int
	}{{"KiB", 1 << 10}, {"KB", 1 << 10}, {"K", 1 << 10}, {"MiB", 1 << 20}, {"MB", 1 << 20}, {"M", 1 << 20}, {"B", 1}} {
		if n, ok := strings.CutSuffix(num, u.suffix); ok {
			num, mult = strings.TrimSpace(n), u.mult
			break
		}
	}
	n, err := strconv.Atoi(num)
	if err != nil || n <= 0 || n > maxMaxCode/mult {
		return fmt.Errorf("want a size from 1 byte to %d MiB, like 65536 or 64KiB", maxMaxCode>>20)
	}
	*b = byteSize(n * mult)
	return nil
}

// perMinute is a non-negative rate.
type perMinute float64

func (r *perMinute) String() string { return strconv.FormatFloat(float64(*r), 'g', -1, 64) }

func (r *perMinute) Set(s string) error {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || v < 0 || v > 1e6 {
		return errors.New("want a number of snippets per minute, 0 for no limit")
	}
	*r = perMinute(v)
	return nil
}

// positiveInt is an integer of at least 1.
type positiveInt int

func (p *positiveInt) String() string { return strconv.Itoa(int(*p)) }

func (p *positiveInt) Set(s string) error {
	v, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || v < 1 {
		return errors.New("want a whole number of at least 1")
	}
	*p = positiveInt(v)
	return nil
}

// prefixList is a comma- or space-separated list of CIDRs; a bare address
// is a range of one.
type prefixList []netip.Prefix

func (l *prefixList) String() string {
	if l == nil {
		return ""
	}
	parts := make([]string, len(*l))
	for i, p := range *l {
		parts[i] = p.String()
	}
	return strings.Join(parts, ",")
}

func (l *prefixList) Set(s string) error {
	var out prefixList
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return fmt.Errorf("%q is neither a CIDR like 10.0.0.0/8 nor an address", f)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	*l = out
	return nil
}

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

// runSnippets is `pyplay snippets …`, the operator's tools.
func runSnippets(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, snippetsUsage)
		if len(args) == 0 {
			return errors.New("snippets: name a command: delete, export or import")
		}
		return flag.ErrHelp
	}
	cmd, args := args[0], args[1:]
	fs := flag.NewFlagSet("snippets "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, snippetsUsage) }
	dsn := fs.String("db", envDefault("PYPLAY_DB", storage.DefaultDSN), "store: sqlite:PATH or postgres://… (PYPLAY_DB)")
	var run func(context.Context, snippets.Store) error
	switch cmd {
	case "delete":
		if err := fs.Parse(args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			return errors.New("snippets delete: name the snippets to delete, e.g. pyplay snippets delete 5Sp1bQ0Ug3u")
		}
		ids := fs.Args()
		for _, id := range ids {
			if !snippets.ValidID(id) {
				return fmt.Errorf("snippets delete: %q is not a snippet ID (the part after /s/ in a link)", id)
			}
		}
		run = func(ctx context.Context, st snippets.Store) error {
			return deleteSnippets(ctx, st, ids, stdout, stderr)
		}
	case "export":
		out := fs.String("o", "", "write to this file (replaced only once the export is complete) instead of stdout")
		if err := fs.Parse(args); err != nil {
			return err
		}
		if fs.NArg() > 0 {
			return fmt.Errorf("snippets export: unexpected argument %q; use -o FILE", fs.Arg(0))
		}
		run = func(ctx context.Context, st snippets.Store) error { return exportToFile(ctx, st, *out, stdout, stderr) }
	case "import":
		if err := fs.Parse(args); err != nil {
			return err
		}
		if fs.NArg() > 1 {
			return errors.New("snippets import: give one file, or none to read stdin")
		}
		run = func(ctx context.Context, st snippets.Store) error {
			name := fs.Arg(0)
			if name == "" || name == "-" {
				return importSnippets(ctx, st, os.Stdin, "stdin", stderr)
			}
			f, err := os.Open(name)
			if err != nil {
				return fmt.Errorf("snippets import: %w", err)
			}
			defer f.Close()
			return importSnippets(ctx, st, f, name, stderr)
		}
	default:
		fmt.Fprint(stderr, snippetsUsage)
		return fmt.Errorf("snippets: unknown command %q", cmd)
	}
	st, err := storage.Open(ctx, *dsn)
	if err != nil {
		return fmt.Errorf("snippets %s: open %s: %w", cmd, describeDSN(*dsn), err)
	}
	err = run(ctx, st)
	if cerr := st.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("snippets %s: close the store: %w", cmd, cerr)
	}
	return err
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
