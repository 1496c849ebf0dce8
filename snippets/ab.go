package snippets

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pyplay/pyplay/snippets/strictjson"
)

// An AB is an A/B benchmark: two or three snippets (arms A, B and
// optionally C; A is the baseline) measured in turns, round by round, on
// one or more runtimes, spread over several fresh interpreters. Each
// (interpreter, runtime, arm) is an ordinary Run whose AB field links it
// here. An AB is immutable once created except for Ended.
type AB struct {
	ID string `json:"id"`
	// Arms are the snippet IDs compared, A first: two or three of them.
	// The same snippet may be two arms (an A/A benchmark, to see the noise).
	Arms []string `json:"arms"`
	// Runtimes are the runtimes every arm is measured on (ABRuntimes).
	Runtimes []string `json:"runtimes"`
	// Threshold is the relative difference that counts as none (0.02 is
	// 2 %); 0 is allowed.
	Threshold float64 `json:"threshold"`
	// BudgetMs is the producer's time budget for taking rounds.
	BudgetMs int `json:"budgetMs"`
	// Interpreters is how many fresh interpreters the rounds are spread over.
	Interpreters int       `json:"interpreters"`
	Created      time.Time `json:"created"`
	// Ended is when the server first found the benchmark done (decided,
	// or its producer finished); nil while it is not.
	Ended *time.Time `json:"ended,omitempty"`
	// Stored counts what the store holds for the benchmark's runs when it
	// was read, so that a cache of its results can tell whether anything
	// changed without reading the samples. Set by GetAB and ListABs.
	Stored ABCounts `json:"-"`
}

// ABCounts summarises the runs linked to an A/B benchmark: every stored
// batch, run start and run end changes it.
type ABCounts struct {
	Runs    int // runs linked to the benchmark
	Running int // of which still running
	Done    int // of which ended with status done
	Batches int // batches stored for those runs
}

// ABLink ties a run to an A/B benchmark: which arm it measures and in which
// interpreter (0, 1, 2, …) of the benchmark.
type ABLink struct {
	ID          string `json:"id"`
	Arm         string `json:"arm"`
	Interpreter int    `json:"interpreter"`
}

// ABArms names the arms in order: A is the baseline, then B and C.
var ABArms = []string{"a", "b", "c"}

// ABRuntimes are the runtimes an A/B benchmark may measure. PyScript is
// left out: a PyScript run times a whole page, not a function the harness
// can call round after round.
var ABRuntimes = []string{string(Pyodide), string(MicroPython), CPythonNative}

// Defaults and bounds of an A/B benchmark's settings.
const (
	DefaultABThreshold    = 0.02
	DefaultABBudgetMs     = 60_000
	DefaultABInterpreters = 5

	MaxABThreshold    = 1.0 // 100 %: anything larger is not a threshold
	MinABBudgetMs     = 100
	MaxABBudgetMs     = 3_600_000 // an hour
	MaxABInterpreters = 20
	// MaxABInterpreterIndex bounds the interpreter a run may name, so that
	// a producer that restarts crashed interpreters has room, but a
	// runaway counter does not.
	MaxABInterpreterIndex = 999
	// MaxABBody bounds POST /api/bench/ab's body: the fields need a few
	// hundred bytes.
	MaxABBody = 4 << 10
	// abIDBytes random bytes make an AB ID of 16 base64url characters.
	abIDBytes = 12
	abIDLen   = 16
)

// ABStore keeps A/B benchmarks. Runs are linked to one by Run.AB, given to
// RunStore.CreateRun.
type ABStore interface {
	// CreateAB stores a new A/B benchmark; ab must pass AB.Validate
	// (Invalid), its arms must exist (NotFound) and its ID must be new
	// (Conflict). It sets ab.Created (UTC, millisecond precision).
	CreateAB(ctx context.Context, ab *AB) error
	// GetAB returns an A/B benchmark with its Stored counts, or NotFound.
	GetAB(ctx context.Context, id string) (*AB, error)
	// ListABs returns the A/B benchmarks with snippetID as any arm, newest
	// first, at most limit, with their Stored counts. None is an empty
	// list, not an error.
	ListABs(ctx context.Context, snippetID string, limit int) ([]*AB, error)
	// ABRuns returns the runs linked to an A/B benchmark, oldest first,
	// each with every sample ordered by Seq, read in one snapshot. An
	// unknown benchmark has none.
	ABRuns(ctx context.Context, id string) ([]*Run, error)
	// EndAB records that the benchmark is done; the first time is kept.
	// An unknown benchmark is NotFound.
	EndAB(ctx context.Context, id string) error
}

// NewABID returns a new random A/B benchmark ID: 16 base64url characters
// (96 bits), unguessable, so that a benchmark is only found by its link.
func NewABID() string {
	b := make([]byte, abIDBytes)
	rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// ValidABID reports whether id could be an A/B benchmark ID.
func ValidABID(id string) bool {
	if len(id) != abIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if !isBase64URL(id[i]) {
			return false
		}
	}
	return true
}

// ABIDRule is ValidABID's rule in words, for error messages.
const ABIDRule = "16 letters, digits, '-' or '_'"

// ArmIndex returns the position of an arm name ("a" is 0), or -1.
func ArmIndex(arm string) int { return slices.Index(ABArms, arm) }

// ArmSnippet returns the snippet of the named arm, if the benchmark has it.
func (ab *AB) ArmSnippet(arm string) (string, bool) {
	i := ArmIndex(arm)
	if i < 0 || i >= len(ab.Arms) {
		return "", false
	}
	return ab.Arms[i], true
}

// Validate reports the first problem with ab as a new benchmark (an *Error
// with code Invalid), or nil. Created, Ended and Stored are the store's.
func (ab *AB) Validate() error {
	if ab == nil {
		return Errorf(Invalid, "no A/B benchmark")
	}
	if !ValidABID(ab.ID) {
		return Errorf(Invalid, "A/B benchmark id %q must be %s", ab.ID, ABIDRule)
	}
	if len(ab.Arms) < 2 || len(ab.Arms) > len(ABArms) {
		return Errorf(Invalid, "an A/B benchmark compares 2 or 3 snippets, not %d", len(ab.Arms))
	}
	for i, id := range ab.Arms {
		if !ValidID(id) {
			return Errorf(Invalid, "%s %q is not a snippet ID (the part after /s/ in a share link)", ABArms[i], id)
		}
	}
	if err := checkABRuntimes(ab.Runtimes); err != nil {
		return err
	}
	if !(ab.Threshold >= 0 && ab.Threshold <= MaxABThreshold) {
		return Errorf(Invalid, "threshold %v must be between 0 and %v (0.02 is 2 %%)", ab.Threshold, MaxABThreshold)
	}
	if ab.BudgetMs < MinABBudgetMs || ab.BudgetMs > MaxABBudgetMs {
		return Errorf(Invalid, "budgetMs %d must be between %d and %d", ab.BudgetMs, MinABBudgetMs, MaxABBudgetMs)
	}
	if ab.Interpreters < 1 || ab.Interpreters > MaxABInterpreters {
		return Errorf(Invalid, "interpreters %d must be between 1 and %d", ab.Interpreters, MaxABInterpreters)
	}
	return nil
}

func checkABRuntimes(rts []string) error {
	if len(rts) == 0 {
		return Errorf(Invalid, "runtimes is empty; name at least one of %s", strings.Join(ABRuntimes, ", "))
	}
	for i, rt := range rts {
		switch {
		case rt == string(PyScript):
			return Errorf(Invalid, "runtime pyscript cannot take part in an A/B benchmark: a PyScript page is timed as a whole, not round by round; use pyodide or micropython")
		case !slices.Contains(ABRuntimes, rt):
			return Errorf(Invalid, "unknown runtime %q; use %s", truncate(rt, 32), strings.Join(ABRuntimes, ", "))
		case slices.Contains(rts[:i], rt):
			return Errorf(Invalid, "runtime %s is listed twice", rt)
		}
	}
	return nil
}

// Validate reports the first problem with a run's link to an A/B benchmark
// that can be seen without the benchmark: whether the benchmark exists and
// the arm's snippet and the runtime fit it is the server's to check.
func (l *ABLink) Validate() error {
	if !ValidABID(l.ID) {
		return Errorf(Invalid, "ab id %q must be %s", truncate(l.ID, 32), ABIDRule)
	}
	if ArmIndex(l.Arm) < 0 {
		return Errorf(Invalid, "ab arm %q must be a, b or c", truncate(l.Arm, 32))
	}
	if l.Interpreter < 0 || l.Interpreter > MaxABInterpreterIndex {
		return Errorf(Invalid, "ab interpreter %d must be between 0 and %d", l.Interpreter, MaxABInterpreterIndex)
	}
	return nil
}

// DecodeAB reads the body of POST /api/bench/ab, strictly (every field
// known, once, of the right type), and returns the benchmark it asks for
// with defaults filled in and no ID: the caller makes one (NewABID) and
// checks that the arms exist. Errors are Invalid or TooLarge.
//
//	{"a": ID, "b": ID, "c"?: ID, "runtimes": ["pyodide", …],
//	 "threshold"?: 0.02, "budgetMs"?: 60000, "interpreters"?: 5}
func DecodeAB(r io.Reader) (*AB, error) {
	body, err := io.ReadAll(io.LimitReader(r, MaxABBody+1))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, Errorf(TooLarge, "request body is larger than %d bytes", tooBig.Limit)
		}
		return nil, Errorf(Invalid, "could not read the request body: %v", err)
	}
	if len(body) > MaxABBody {
		return nil, Errorf(TooLarge, "request body is larger than %d bytes", MaxABBody)
	}
	if !utf8.Valid(body) {
		return nil, Errorf(Invalid, "request body is not valid UTF-8 (at byte %d)", firstInvalidUTF8(body))
	}
	const example = `send a JSON object like {"a": "ID", "b": "ID", "runtimes": ["pyodide"]}`
	dec := json.NewDecoder(bytes.NewReader(body))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err == io.EOF {
		return nil, Errorf(Invalid, "request body is empty; %s", example)
	} else if err != nil {
		return nil, jsonError(body, dec, err)
	}
	if rest := bytes.TrimLeft(body[dec.InputOffset():], " \t\r\n"); len(rest) > 0 {
		line, col := position(body, int64(len(body)-len(rest)))
		return nil, Errorf(Invalid, "unexpected data after the JSON object at line %d, column %d", line, col)
	}
	obj, err := strictjson.Split(raw)
	var dup *strictjson.DuplicateKeyError
	switch {
	case errors.Is(err, strictjson.ErrNotObject):
		return nil, Errorf(Invalid, "request body must be a JSON object, not %s; %s", describeValue(raw), example)
	case errors.As(err, &dup):
		return nil, Errorf(Invalid, "field %q appears more than once", dup.Key)
	case err != nil:
		return nil, Errorf(Invalid, "malformed JSON: %v", err)
	}
	ab := &AB{Threshold: DefaultABThreshold, BudgetMs: DefaultABBudgetMs, Interpreters: DefaultABInterpreters}
	arms := map[string]string{}
	var runtimes bool
	for _, key := range obj.Keys {
		v := obj.Fields[key]
		switch key {
		case "a", "b", "c":
			s, err := abString(key, v)
			if err != nil {
				return nil, err
			}
			arms[key] = s
		case "runtimes":
			if err := abStrings(key, v, &ab.Runtimes); err != nil {
				return nil, err
			}
			runtimes = true
		case "threshold":
			f, err := abNumber(key, v)
			if err != nil {
				return nil, err
			}
			ab.Threshold = f
		case "budgetMs":
			n, err := abInteger(key, v)
			if err != nil {
				return nil, err
			}
			ab.BudgetMs = n
		case "interpreters":
			n, err := abInteger(key, v)
			if err != nil {
				return nil, err
			}
			ab.Interpreters = n
		default:
			return nil, Errorf(Invalid, "unknown field %q; the fields are a, b, c, runtimes, threshold, budgetMs and interpreters", truncate(key, 32))
		}
	}
	for _, arm := range []string{"a", "b"} {
		if _, ok := arms[arm]; !ok {
			return nil, Errorf(Invalid, "%s is missing: the ID of the snippet to use as %s (the part after /s/ in a share link)", arm, strings.ToUpper(arm))
		}
	}
	ab.Arms = []string{arms["a"], arms["b"]}
	if c, ok := arms["c"]; ok {
		ab.Arms = append(ab.Arms, c)
	}
	if !runtimes {
		return nil, Errorf(Invalid, `runtimes is missing; name the runtimes to measure, e.g. ["pyodide"]`)
	}
	// Validate wants an ID; the caller makes the real one.
	ab.ID = strings.Repeat("x", abIDLen)
	err = ab.Validate()
	ab.ID = ""
	if err != nil {
		return nil, err
	}
	return ab, nil
}

func abString(key string, v json.RawMessage) (string, error) {
	var s string
	if v[0] != '"' || json.Unmarshal(v, &s) != nil {
		return "", Errorf(Invalid, "field %q must be a string, not %s", key, describeValue(v))
	}
	return s, nil
}

func abStrings(key string, v json.RawMessage, dst *[]string) error {
	if v[0] != '[' {
		return Errorf(Invalid, "field %q must be an array of strings, not %s", key, describeValue(v))
	}
	elems, ok := strictjson.Elements(v, len(ABRuntimes))
	if !ok {
		return Errorf(Invalid, "field %q has more than %d elements", key, len(ABRuntimes))
	}
	out := make([]string, 0, len(elems))
	for _, e := range elems {
		s, err := abString(key+"[]", e)
		if err != nil {
			return err
		}
		out = append(out, s)
	}
	*dst = out
	return nil
}

// abNumber reads a finite number; its range is Validate's to check.
func abNumber(key string, v json.RawMessage) (float64, error) {
	if c := v[0]; c != '-' && (c < '0' || c > '9') {
		return 0, Errorf(Invalid, "field %q must be a number, not %s", key, describeValue(v))
	}
	f, err := strconv.ParseFloat(string(v), 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, Errorf(Invalid, "field %q is out of range", key)
	}
	if f == 0 {
		f = 0 // -0 is 0
	}
	return f, nil
}

// abInteger reads an integer written as one (no fraction or exponent).
func abInteger(key string, v json.RawMessage) (int, error) {
	if c := v[0]; c != '-' && (c < '0' || c > '9') {
		return 0, Errorf(Invalid, "field %q must be an integer, not %s", key, describeValue(v))
	}
	n, err := strconv.ParseInt(string(v), 10, 32)
	if errors.Is(err, strconv.ErrRange) {
		return 0, Errorf(Invalid, "field %q is out of range", key)
	}
	if err != nil {
		return 0, Errorf(Invalid, "field %q must be a whole number, not %s", key, truncate(string(v), 32))
	}
	return int(n), nil
}

// truncate keeps echoed input in messages short.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
