# The driver of `pyplay bench-native`: times a snippet in this interpreter
# with the rules of the browser harness (web/harness.ts) and reports on
# file descriptor 3, one JSON object per line:
#
#   {"type": "env", "env": {...}, "config": {...}, "runtimeVersion": "3.11.7", "firstRunMs": 1.2}
#   {"type": "sample", "warmup": true, "ns": 1234.5, "iters": 10}
#   {"type": "error", "error": "Traceback ..."}
#   {"type": "done", "reason": "..."}
#
# The snippet's code arrives on stdin, the settings as JSON in argv[1].
# Its output is dropped, input() is refused, and each iteration runs in a
# fresh namespace, as in the browser.
#
# A/B mode (settings "ab": true, for `pyplay bench-native -compare`): stdin
# holds {"codes": [A, B, ...]}; the arms warm up in turns, then the driver
# reports {"type": "ready"} and takes one round per command read from file
# descriptor 4: "round 1 0" times one sample of each arm in that order
# (the caller shuffles it), "end" stops. Its reports carry "arm" (0 is A):
#
#   {"type": "env", ..., "firstRunMs": [1.2, 1.3]}
#   {"type": "sample", "arm": 1, "warmup": false, "ns": 1234.5, "iters": 10}
#   {"type": "error", "arm": 1, "error": "Traceback ..."}
import builtins
import json
import linecache
import math
import os
import platform
import sys
import time
import traceback

NO_INPUT = "input() is not available while benchmarking: the benchmark runs the program many times"
TICKS_PER_SAMPLE = 100


class Null:
    def write(self, s):
        return len(s)

    def flush(self):
        pass

    def isatty(self):
        return False


def no_input(prompt=""):
    raise RuntimeError(NO_INPUT)


def timer_resolution_ns():
    """The median step between distinct perf_counter_ns readings."""
    clock = time.perf_counter_ns
    steps = []
    last = clock()
    deadline = last + 50_000_000
    while len(steps) < 201:
        t = clock()
        if t != last:
            steps.append(t - last)
            last = t
        if t > deadline:
            break
    if not steps:
        return 1_000_000
    steps.sort()
    return max(1, steps[len(steps) // 2])


def iters_for(target_ns, per_iter_ns):
    if not per_iter_ns > 0:
        return 1_000_000
    return max(1, min(1_000_000_000, math.ceil(target_ns / per_iter_ns)))


def median(xs):
    s = sorted(xs)
    m = len(s) // 2
    return s[m] if len(s) % 2 else (s[m - 1] + s[m]) / 2


class ProgramError(Exception):
    def __init__(self, text, arm=0):
        super().__init__(text)
        self.arm = arm


def rounds(cfg, emit, loop, arms, target_ns, env, config, version):
    """A/B mode: warm the arms up in turns, then time rounds on command."""
    clock = time.perf_counter_ns
    first = []
    try:
        for arm in range(arms):
            first.append(loop(1, arm))
    except ProgramError:
        emit(type="env", env=env, config=config, runtimeVersion=version, firstRunMs=[0] * arms)
        raise
    emit(type="env", env=env, config=config, runtimeVersion=version, firstRunMs=[ns / 1e6 for ns in first])

    # Warmup by the usual rules, the arms taking turns so that each gets
    # the same machine.
    start = clock()
    per_iter = [[] for _ in range(arms)]
    iters = [iters_for(target_ns, ns) for ns in first]
    n = 0
    while True:
        for arm in range(arms):
            ns = loop(iters[arm], arm)
            per_iter[arm].append(ns / iters[arm])
            emit(type="sample", arm=arm, warmup=True, ns=ns / iters[arm], iters=iters[arm])
            iters[arm] = iters_for(target_ns, ns / iters[arm])
        n += 1
        elapsed_ms = (clock() - start) / 1e6
        if (elapsed_ms >= cfg["warmupMs"] and n >= cfg["minWarmup"]) or elapsed_ms >= cfg["maxWarmupMs"]:
            break
    iters = [iters_for(target_ns, median(p[-5:])) for p in per_iter]
    emit(type="ready")

    with os.fdopen(4, "r") as commands:
        for line in commands:
            words = line.split()
            if not words or words[0] == "end":
                break
            for arm in map(int, words[1:]):
                ns = loop(iters[arm], arm)
                emit(type="sample", arm=arm, warmup=False, ns=ns / iters[arm], iters=iters[arm])
    emit(type="done", reason="")


def main():
    cfg = json.loads(sys.argv[1])
    out = os.fdopen(3, "w", buffering=1)

    def emit(**kw):
        out.write(json.dumps(kw) + "\n")

    source = sys.stdin.read()
    sys.stdin = open(os.devnull)
    ab = bool(cfg.get("ab"))
    sources = json.loads(source)["codes"] if ab else [source]
    # Each arm's code is its own file, so that a traceback names the arm.
    names = ["main.py"] if not ab else [f"{'abc'[i]}/main.py" for i in range(len(sources))]
    null = Null()
    real_stdout, real_stderr = sys.stdout, sys.stderr

    res = timer_resolution_ns()
    target_ns = max(TICKS_PER_SAMPLE * res, cfg["minSampleMs"] * 1e6)
    impl = platform.python_implementation()
    version = platform.python_version()
    env = {
        "platform": f"{platform.system()} {platform.machine()}",
        "cores": os.cpu_count() or 0,
        "python": f"{impl} {version}",
        "pythonImplementation": impl,
        "pythonVersion": version,
        "pythonBuild": " ".join(platform.python_build()),
        "pythonCompiler": platform.python_compiler(),
        "os": platform.platform(),
        "timer": "time.perf_counter_ns",
        "timerResolutionNs": res,
        "hidden": False,
    }
    config = {
        "harness": "pyplay-bench-native/1",
        "warmupMs": cfg["warmupMs"],
        "minWarmup": cfg["minWarmup"],
        "maxWarmupMs": cfg["maxWarmupMs"],
        "minSampleMs": cfg["minSampleMs"],
        "targetSampleMs": round(target_ns / 1e6, 3),
        "ticksPerSample": TICKS_PER_SAMPLE,
        "samples": cfg.get("samples"),
        "budgetMs": cfg["budgetMs"],
        "freshNamespace": True,
        "stdout": "suppressed",
    }
    if ab:
        config["ab"] = True
        config["rounds"] = "one measured sample per arm per round, arms in a shuffled order"
        del config["samples"]

    codes = []
    for i, (src, name) in enumerate(zip(sources, names)):
        linecache.cache[name] = (len(src), None, src.splitlines(True), name)
        try:
            codes.append(compile(src, name, "exec"))
        except BaseException as e:
            emit(type="env", env=env, config=config, runtimeVersion=version, firstRunMs=[0] * len(sources) if ab else 0)
            emit(type="error", arm=i, error="".join(traceback.format_exception_only(type(e), e)))
            return

    clock = time.perf_counter_ns

    def loop(n, arm=0):
        """Runs an arm's code n times; returns the elapsed ns."""
        code, name = codes[arm], names[arm]
        sys.stdout, sys.stderr = null, null
        try:
            t0 = clock()
            for _ in range(n):
                try:
                    exec(code, {"__name__": "__main__", "__builtins__": builtins, "__file__": name, "input": no_input})
                except SystemExit as e:
                    if e.code is not None and e.code != 0:
                        raise
            return clock() - t0
        except BaseException as e:
            tb = e.__traceback__
            # Drop this driver's frames: the traceback starts in the snippet.
            while tb is not None and tb.tb_frame.f_code.co_filename != name:
                tb = tb.tb_next
            raise ProgramError("".join(traceback.format_exception(type(e), e, tb)), arm) from None
        finally:
            sys.stdout, sys.stderr = real_stdout, real_stderr

    if ab:
        rounds(cfg, emit, loop, len(codes), target_ns, env, config, version)
        return

    # The first run: one execution, as a user's first Run.
    try:
        first_ns = loop(1)
    except ProgramError:
        emit(type="env", env=env, config=config, runtimeVersion=version, firstRunMs=0)
        raise
    emit(type="env", env=env, config=config, runtimeVersion=version, firstRunMs=first_ns / 1e6)

    # Warmup: time-based with a minimum count, recalibrating the iterations
    # as the code speeds up; the samples are reported, flagged.
    start = clock()
    per_iter = []
    iters = iters_for(target_ns, first_ns)
    n = 0
    while True:
        ns = loop(iters)
        per_iter.append(ns / iters)
        emit(type="sample", warmup=True, ns=ns / iters, iters=iters)
        iters = iters_for(target_ns, ns / iters)
        n += 1
        elapsed_ms = (clock() - start) / 1e6
        if (elapsed_ms >= cfg["warmupMs"] and n >= cfg["minWarmup"]) or elapsed_ms >= cfg["maxWarmupMs"]:
            break

    # Measured samples all loop the same count, from the settled warmup.
    iters = iters_for(target_ns, median(per_iter[-5:]))
    for i in range(cfg["samples"]):
        if (clock() - start) / 1e6 >= cfg["budgetMs"]:
            emit(type="done", reason=f"time budget of {cfg['budgetMs'] / 1000:g} s reached after {i} of {cfg['samples']} samples")
            return
        ns = loop(iters)
        emit(type="sample", warmup=False, ns=ns / iters, iters=iters)
    emit(type="done", reason="")


if __name__ == "__main__":
    try:
        main()
    except ProgramError as e:
        os.write(3, (json.dumps({"type": "error", "arm": e.arm, "error": str(e)}) + "\n").encode())
