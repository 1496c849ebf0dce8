# pyplay — `make run` and `make test` work on a fresh machine with Go and Node.
GO      ?= go
NPM     ?= npm
BIN     := bin/pyplay
GOPKGS  := cmd server snippets static

.PHONY: all deps build run dev test test-go test-browser lint bench bench-http bench-startup bench-trust bench-suite bench-output soak clean

all: build

# Front-end packages (pinned in package-lock.json), installed when missing.
node_modules/.package-lock.json: package.json package-lock.json
	$(NPM) ci --no-audit --no-fund
	@touch $@

deps: node_modules/.package-lock.json

# Bundle the front end into static/dist, then build the self-contained binary.
build: deps
	$(GO) run ./cmd/pyplay build
	$(GO) build -o $(BIN) ./cmd/pyplay

run: build
	./$(BIN) serve

# Rebuilds the front end on every change and serves it from disk.
dev: deps
	$(GO) run ./cmd/pyplay serve -dev

lint: deps
	$(GO) vet ./...
	@out="$$(gofmt -l $(GOPKGS))"; if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	npx tsc --noEmit -p .

test-go: build
	$(GO) test -race -count=1 ./...

test-browser: build
	node --test --test-concurrency=1 web/e2e/

test: lint test-go test-browser

bench: build
	$(GO) test -run '^$$' -bench . -benchtime 2s ./...
	# WebSocket load: 200 producers, 20 viewers, against the real binary on loopback (BENCHMARKS.md).
	$(GO) run ./cmd/wsload -bin $(BIN)
	$(GO) run ./cmd/snippetbench -bin $(BIN) -write BENCHMARKS.md
	# Start-up: navigation to first output, pyplay vs plain Pyodide, cold and return visit (BENCHMARKS.md).
	ROUNDS=5 node web/e2e/startup.bench.mjs
	# Output: print-loop throughput and how the page answers during a flood and after Stop (BENCHMARKS.md).
	ROUNDS=3 node web/e2e/flood.bench.mjs

# Snippet HTTP load: wrk (3 interleaved rounds of 5 s runs, 2 threads, 32 connections, loopback) against
# the real binary on SQLite and on PostgreSQL, beside a constant baseline route (about 3 minutes);
# rewrites its section of BENCHMARKS.md.
bench-http: build
	$(GO) run ./cmd/snippetbench -bin $(BIN) -write BENCHMARKS.md

bench-startup: build
	ROUNDS=5 node web/e2e/startup.bench.mjs

# Can A/B verdicts be believed? Repeated A/A and A/B (+10 % work) benchmarks of a fixed program through the
# editor's Benchmark panel in headless Chromium, against the real binary: false-alarm and detection rates.
# N benchmarks of each (default 6: about 12 minutes on a busy 2-core machine), RUNTIMES=pyodide[,micropython];
# rewrites its section of BENCHMARKS.md.
bench-trust: build
	WRITE=BENCHMARKS.md node web/e2e/trust.bench.mjs

# The reference suite (issue 15): ROUNDS rounds (default 3) of /bench/suite's Run suite in headless Chromium,
# then bench-native (CPython and -go) on every workload, against the real binary on a fresh database; prints
# the table and rewrites its section of BENCHMARKS.md (about 5 minutes on a quiet 2-core machine).
# PYTHON=… measures another native interpreter; PYTHONS=a,b adds interpreters to the plain-loop cross-check.
bench-suite: build
	ROUNDS=$(or $(ROUNDS),3) $(if $(PYTHON),PYTHON=$(PYTHON)) WRITE=BENCHMARKS.md node web/e2e/suite.bench.mjs

# Output floods: lines per second into the page, and the page's answer time after Stop, per runtime.
bench-output: build
	ROUNDS=3 node web/e2e/flood.bench.mjs

# Soak: ten minutes (SOAK=-duration 3m for less) of hostile and normal clients at once against the real
# binary on loopback; reports the normal clients' success and latency, the server's memory, goroutines
# and open files over time, and checks that everything acknowledged is stored (cmd/soak, BENCHMARKS.md).
soak: build
	$(GO) run ./cmd/soak -bin $(BIN) $(SOAK)

clean:
	rm -rf bin static/dist/assets static/dist/runtime static/dist/manifest.json
