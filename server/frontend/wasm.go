package frontend

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// The reference suite's kernels (server/bench/suite) compiled to
// WebAssembly: Go with the running toolchain (GOOS=js GOARCH=wasm, plus the
// toolchain's own wasm_exec.js) and Rust with Debian's rustc and its wasm32
// standard library (packages rustc and libstd-rust-dev-wasm32) when they are
// installed. Everything lands in static/dist/wasm/, served at /wasm/, with a
// manifest.json saying what was built:
//
//	{"go-wasm": {"version": "go1.26.8", "file": "go-kernels.wasm", "stamp": "…"},
//	 "rust-wasm": {"version": "rustc 1.63.0", "file": "rust-kernels.wasm", "stamp": "…"}
//	              or {"missing": "why"}}
//
// A kernel is rebuilt only when its stamp (a hash of its sources and the
// compiler's version) changes, so repeated builds cost a few stat calls.

// DefaultRustC is where Debian's rustc lives. Another rustc on PATH (say
// rustup's) usually lacks the wasm32 standard library, so the path is fixed.
const DefaultRustC = "/usr/bin/rustc"

const (
	suiteDir       = "server/bench/suite"
	rustTarget     = "wasm32-unknown-unknown"
	goKernelFile   = "go-kernels.wasm"
	rustKernelFile = "rust-kernels.wasm"
)

// WasmKernel is one entry of static/dist/wasm/manifest.json.
type WasmKernel struct {
	Version string `json:"version,omitempty"`
	File    string `json:"file,omitempty"`
	Missing string `json:"missing,omitempty"` // why this kernel was not built
	Stamp   string `json:"stamp,omitempty"`   // hash of sources and compiler
}

func (o BuildOptions) wasmDir() string { return filepath.Join(o.dist(), "wasm") }

// buildWasm compiles the suite's kernels into static/dist/wasm/.
func buildWasm(opts BuildOptions) error { return buildWasmInto(opts, opts.wasmDir()) }

// BuildWasm compiles the suite's kernels from the sources under opts.Root
// into dir (as `pyplay build` does into static/dist/wasm/) and returns the
// manifest it wrote there. Tests use it.
func BuildWasm(opts BuildOptions, dir string) (map[string]WasmKernel, error) {
	if err := opts.normalize(); err != nil {
		return nil, err
	}
	if err := buildWasmInto(opts, dir); err != nil {
		return nil, err
	}
	var m map[string]WasmKernel
	data, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err == nil {
		err = json.Unmarshal(data, &m)
	}
	return m, err
}

func buildWasmInto(opts BuildOptions, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("build: %w", err)
	}
	prev := map[string]WasmKernel{}
	if data, err := os.ReadFile(filepath.Join(dir, "manifest.json")); err == nil {
		_ = json.Unmarshal(data, &prev) // a bad old manifest just means rebuilding
	}
	m := map[string]WasmKernel{}
	start := time.Now()
	gk, err := buildGoKernels(opts, dir, prev["go-wasm"])
	if err != nil {
		return err
	}
	m["go-wasm"] = gk
	rk, err := buildRustKernels(opts, dir, prev["rust-wasm"])
	if err != nil {
		return err
	}
	m["rust-wasm"] = rk
	for name, k := range m {
		if k.Missing != "" {
			opts.Logger.Warn(name+" kernels not built: "+k.Missing, "runtime", name)
		}
	}
	// An old build must not be embedded and served as if current.
	for name, file := range map[string]string{"go-wasm": goKernelFile, "rust-wasm": rustKernelFile} {
		if m[name].Missing != "" {
			for _, suffix := range []string{"", ".br", ".gz"} {
				os.Remove(filepath.Join(dir, file+suffix))
			}
		}
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if old, err := os.ReadFile(filepath.Join(dir, "manifest.json")); err != nil || !bytes.Equal(old, data) {
		if err := writeFileAtomic(filepath.Join(dir, "manifest.json"), data); err != nil {
			return fmt.Errorf("build: write wasm manifest: %w", err)
		}
	}
	opts.Logger.Debug("wasm kernels", "duration", time.Since(start).Round(time.Millisecond))
	return nil
}

func buildGoKernels(opts BuildOptions, dir string, prev WasmKernel) (WasmKernel, error) {
	// A -root holding only the front end (as some tests serve) has no kernels.
	if main := filepath.Join(opts.Root, filepath.FromSlash(suiteDir), "go-wasm", "main.go"); !exists(main) || !exists(filepath.Join(opts.Root, "go.mod")) {
		return WasmKernel{Missing: "no Go kernel sources (" + main + ")"}, nil
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return WasmKernel{Missing: "no go command on PATH"}, nil
	}
	out, err := exec.Command(goBin, "env", "GOVERSION", "GOROOT").Output()
	if err != nil {
		return WasmKernel{}, fmt.Errorf("build: go env: %w", err)
	}
	lines := strings.Fields(string(out))
	if len(lines) != 2 {
		return WasmKernel{}, fmt.Errorf("build: go env printed %q", out)
	}
	version, goroot := lines[0], lines[1]
	execJS := ""
	for _, p := range []string{"lib/wasm/wasm_exec.js", "misc/wasm/wasm_exec.js"} {
		if _, err := os.Stat(filepath.Join(goroot, p)); err == nil {
			execJS = filepath.Join(goroot, p)
			break
		}
	}
	if execJS == "" {
		return WasmKernel{}, fmt.Errorf("build: no wasm_exec.js in %s (lib/wasm or misc/wasm)", goroot)
	}
	src := filepath.Join(opts.Root, filepath.FromSlash(suiteDir))
	stamp, err := stampOf([]string{version, goroot}, opts.Root, "go.mod", "go.sum",
		suiteDir+"/*.go", suiteDir+"/*.json", suiteDir+"/go-wasm/*.go")
	if err != nil {
		return WasmKernel{}, err
	}
	k := WasmKernel{Version: version, File: goKernelFile, Stamp: stamp}
	if _, err := copyIfChanged(execJS, filepath.Join(dir, "wasm_exec.js")); err != nil {
		return WasmKernel{}, fmt.Errorf("build: copy wasm_exec.js: %w", err)
	}
	if prev == k && exists(filepath.Join(dir, goKernelFile)) {
		return k, nil
	}
	tmp := filepath.Join(dir, goKernelFile+".tmp")
	cmd := exec.Command(goBin, "build", "-trimpath", "-ldflags=-s -w", "-o", tmp, "./go-wasm")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		return WasmKernel{}, fmt.Errorf("build: go-wasm kernels (GOOS=js GOARCH=wasm go build): %w\n%s", err, out)
	}
	if err := os.Rename(tmp, filepath.Join(dir, goKernelFile)); err != nil {
		return WasmKernel{}, fmt.Errorf("build: %w", err)
	}
	opts.Logger.Info("built go-wasm kernels", "version", version)
	return k, nil
}

func buildRustKernels(opts BuildOptions, dir string, prev WasmKernel) (WasmKernel, error) {
	rustc := opts.RustC
	if rustc == "" {
		rustc = DefaultRustC
	}
	const hint = "apt-get install rustc libstd-rust-dev-wasm32"
	if src := filepath.Join(opts.Root, filepath.FromSlash(suiteDir), "rust", "kernels.rs"); !exists(src) {
		return WasmKernel{Missing: "no Rust kernel sources (" + src + ")"}, nil
	}
	if _, err := os.Stat(rustc); err != nil {
		return WasmKernel{Missing: fmt.Sprintf("%s not found (%s)", rustc, hint)}, nil
	}
	out, err := exec.Command(rustc, "--version").Output()
	if err != nil {
		return WasmKernel{Missing: fmt.Sprintf("%s --version failed: %v", rustc, err)}, nil
	}
	version := strings.TrimSpace(string(out))
	if f := strings.Fields(version); len(f) >= 2 {
		version = f[0] + " " + f[1] // "rustc 1.63.0", without the build date
	}
	out, err = exec.Command(rustc, "--print", "sysroot").Output()
	if err != nil {
		return WasmKernel{Missing: fmt.Sprintf("%s --print sysroot failed: %v", rustc, err)}, nil
	}
	std := filepath.Join(strings.TrimSpace(string(out)), "lib", "rustlib", rustTarget, "lib")
	if libs, _ := filepath.Glob(filepath.Join(std, "libstd-*.rlib")); len(libs) == 0 {
		return WasmKernel{Missing: fmt.Sprintf("%s has no %s standard library in %s (%s)", rustc, rustTarget, std, hint)}, nil
	}
	stamp, err := stampOf([]string{version, rustc}, opts.Root, suiteDir+"/rust/*.rs")
	if err != nil {
		return WasmKernel{}, err
	}
	k := WasmKernel{Version: version, File: rustKernelFile, Stamp: stamp}
	if prev == k && exists(filepath.Join(dir, rustKernelFile)) {
		return k, nil
	}
	tmp := filepath.Join(dir, rustKernelFile+".tmp")
	cmd := exec.Command(rustc, "--target", rustTarget, "-O", "--crate-type", "cdylib",
		"-C", "strip=symbols", "-C", "panic=abort", "-o", tmp, "kernels.rs")
	cmd.Dir = filepath.Join(opts.Root, filepath.FromSlash(suiteDir), "rust")
	if out, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		return WasmKernel{}, fmt.Errorf("build: rust-wasm kernels (%s): %w\n%s", rustc, err, out)
	}
	if err := os.Rename(tmp, filepath.Join(dir, rustKernelFile)); err != nil {
		return WasmKernel{}, fmt.Errorf("build: %w", err)
	}
	opts.Logger.Info("built rust-wasm kernels", "version", version)
	return k, nil
}

// stampOf hashes extra strings and the files matching globs (slash paths
// relative to root), skipping tests.
func stampOf(extra []string, root string, globs ...string) (string, error) {
	h := sha256.New()
	for _, e := range extra {
		fmt.Fprintf(h, "%s\n", e)
	}
	var files []string
	for _, g := range globs {
		m, err := filepath.Glob(filepath.Join(root, filepath.FromSlash(g)))
		if err != nil {
			return "", err
		}
		for _, f := range m {
			if !strings.HasSuffix(f, "_test.go") {
				files = append(files, f)
			}
		}
	}
	sort.Strings(files)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return "", fmt.Errorf("build: %w", err)
		}
		rel, _ := filepath.Rel(root, f)
		fmt.Fprintf(h, "%s %d\n", filepath.ToSlash(rel), len(data))
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil || !errors.Is(err, fs.ErrNotExist)
}

func writeFileAtomic(p string, data []byte) error {
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}
