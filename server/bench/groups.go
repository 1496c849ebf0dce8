package bench

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/pyplay/pyplay/snippets"
)

// A benchGroup is where a run ran, the unit of the comparison table:
// runtime × browser × machine. Runs of one group are pooled.
//
// The keys come from the run and its free-form env (docs/bench.md):
//   - runtime: the run's runtime (pyodide, micropython, cpython-native),
//     and for PyScript also the interpreter it ran on (env.interpreter):
//     "pyscript/pyodide", "pyscript/micropython" ("pyscript" when the run
//     does not say), since the two are as different as Pyodide and
//     MicroPython. The runtime version is shown, not grouped on, so that a
//     dashboard does not split whenever Pyodide updates.
//   - browser: env.browser when set (a name such as "Firefox" with
//     env.browserVersion "128.0.1", as the harness sends, or "Firefox
//     128.0.1", or an object {name, version}), otherwise parsed from
//     env.userAgent; reduced to name and major version ("Firefox 128").
//     Native runs (cpython-native, native-go) have browser "native".
//   - machine: env.platform (navigator.platform in a browser, "Linux
//     x86_64" from bench-native; the operating system from the user agent
//     when absent) and env.cores (navigator.hardwareConcurrency,
//     os.cpu_count()): "Linux x86_64, 2 cores".
type benchGroup struct {
	Key     string `json:"key"` // runtime|browser|machine, stable, for ?baseline=
	Runtime string `json:"runtime"`
	Browser string `json:"browser"`
	Machine string `json:"machine"`
	Label   string `json:"label"` // for people: "pyodide · Chrome 156 · Linux x86_64, 2 cores"
}

// runEnv is the part of a run's env that pyplay reads; the rest is shown
// as is.
type runEnv struct {
	UserAgent           string          `json:"userAgent"`
	Browser             json.RawMessage `json:"browser"`
	BrowserVersion      string          `json:"browserVersion"`
	Platform            string          `json:"platform"`
	Cores               float64         `json:"cores"`
	TimerResolutionNs   float64         `json:"timerResolutionNs"`
	Hidden              bool            `json:"hidden"`
	CrossOriginIsolated *bool           `json:"crossOriginIsolated"`
	Interpreter         string          `json:"interpreter"` // PyScript runs: pyodide or micropython
}

// parseEnv reads what it can: env is free-form, so a field of an
// unexpected type is ignored rather than failing the whole run.
func parseEnv(raw json.RawMessage) runEnv {
	var fields map[string]json.RawMessage
	var e runEnv
	if json.Unmarshal(raw, &fields) != nil {
		return e
	}
	get := func(name string, v any) { _ = json.Unmarshal(fields[name], v) }
	get("userAgent", &e.UserAgent)
	get("browserVersion", &e.BrowserVersion)
	get("platform", &e.Platform)
	get("cores", &e.Cores)
	get("timerResolutionNs", &e.TimerResolutionNs)
	get("hidden", &e.Hidden)
	get("crossOriginIsolated", &e.CrossOriginIsolated)
	get("interpreter", &e.Interpreter)
	e.Browser = fields["browser"]
	return e
}

// seriesRuntime is the runtime a run is compared as: its runtime, with the
// interpreter for PyScript runs.
func seriesRuntime(r *snippets.Run, env runEnv) string {
	if r.Runtime == string(snippets.PyScript) && snippets.ValidInterpreter(snippets.Interpreter(env.Interpreter)) {
		return r.Runtime + "/" + env.Interpreter
	}
	return r.Runtime
}

// runtimeOf is seriesRuntime for a run whose env is not parsed yet.
func runtimeOf(r *snippets.Run) string { return seriesRuntime(r, parseEnv(r.Env)) }

func groupOf(r *snippets.Run) benchGroup {
	env := parseEnv(r.Env)
	g := benchGroup{Runtime: seriesRuntime(r, env), Browser: browserOf(env), Machine: machineOf(env)}
	if g.Browser == "" {
		if snippets.NativeRuntime(r.Runtime) {
			g.Browser = "native"
		} else {
			g.Browser = "unknown browser"
		}
	}
	g.Key = g.Runtime + "|" + g.Browser + "|" + g.Machine
	g.Label = g.Runtime + " · " + g.Browser + " · " + g.Machine
	return g
}

var (
	majorVersion = regexp.MustCompile(`^\D*(\d+)`)
	// uaBrowsers are tried in order: Edge and Opera also say Chrome, and
	// Chrome also says Safari.
	uaBrowsers = []struct {
		name string
		re   *regexp.Regexp
	}{
		{"Edge", regexp.MustCompile(`Edg(?:e|A|iOS)?/(\d+)`)},
		{"Opera", regexp.MustCompile(`OPR/(\d+)`)},
		{"Firefox", regexp.MustCompile(`(?:Firefox|FxiOS)/(\d+)`)},
		{"Chrome", regexp.MustCompile(`(?:Chrome|CriOS)/(\d+)`)},
		{"Safari", regexp.MustCompile(`Version/(\d+)[^ ]* (?:Mobile/\S+ )?Safari/`)},
	}
	uaSystems = []struct{ needle, name string }{
		{"Android", "Android"}, {"iPhone", "iOS"}, {"iPad", "iPadOS"}, {"Windows", "Windows"},
		{"Mac OS X", "macOS"}, {"CrOS", "ChromeOS"}, {"Linux", "Linux"},
	}
)

// browserOf names the browser and its major version, "" when unknown.
func browserOf(env runEnv) string {
	var s string
	if json.Unmarshal(env.Browser, &s) == nil && !unknown(s) {
		return nameAndMajor(s + " " + env.BrowserVersion)
	}
	var o struct{ Name, Version string }
	if json.Unmarshal(env.Browser, &o) == nil && o.Name != "" {
		return nameAndMajor(o.Name + " " + o.Version)
	}
	for _, b := range uaBrowsers {
		if m := b.re.FindStringSubmatch(env.UserAgent); m != nil {
			return b.name + " " + m[1]
		}
	}
	return ""
}

// nameAndMajor turns "Chrome 156.0.7000.1" into "Chrome 156".
func nameAndMajor(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	i := strings.IndexAny(s, "0123456789")
	if i < 0 {
		return shortText(s)
	}
	name := strings.TrimSpace(s[:i])
	if m := majorVersion.FindStringSubmatch(s[i:]); m != nil {
		return shortText(strings.TrimSpace(name + " " + m[1]))
	}
	return shortText(s)
}

// machineOf names the platform and core count, "unknown machine" when
// neither is known.
func machineOf(env runEnv) string {
	platform := strings.Join(strings.Fields(env.Platform), " ")
	if p, ok := goPlatforms[platform]; ok {
		platform = p
	}
	if unknown(platform) {
		platform = ""
		for _, sys := range uaSystems {
			if strings.Contains(env.UserAgent, sys.needle) {
				platform = sys.name
				break
			}
		}
	}
	switch cores := int(env.Cores); {
	case platform == "" && cores <= 0:
		return "unknown machine"
	case cores <= 0:
		return shortText(platform)
	case platform == "":
		return fmt.Sprintf("%d cores", cores)
	case cores == 1:
		return shortText(platform) + ", 1 core"
	default:
		return fmt.Sprintf("%s, %d cores", shortText(platform), cores)
	}
}

// goPlatforms names Go's GOOS GOARCH (as `pyplay bench-native -go`
// reports its platform) as Python's platform.system() and machine() do
// (cpython-native runs, and navigator.platform on Linux), so that native Go
// and native CPython on one machine are the same machine.
var goPlatforms = map[string]string{
	"linux amd64": "Linux x86_64", "linux arm64": "Linux aarch64", "linux 386": "Linux i686",
	"darwin amd64": "Darwin x86_64", "darwin arm64": "Darwin arm64",
	"windows amd64": "Windows AMD64", "windows arm64": "Windows ARM64",
}

// unknown reports an empty value or the harness's "unknown".
func unknown(s string) bool {
	s = strings.TrimSpace(s)
	return s == "" || strings.EqualFold(s, "unknown")
}

// shortText keeps labels from free-form env fields short and on one line.
func shortText(s string) string {
	s = strings.ReplaceAll(s, "|", "/") // the key separator
	if r := []rune(s); len(r) > 60 {
		return string(r[:60]) + "…"
	}
	return s
}
