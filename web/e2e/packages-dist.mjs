// A small Pyodide package distribution for the browser tests and benchmarks
// of -packages: two pure-Python wheels made with Python's zipfile,
// pyplaydemo_b depending on pyplaydemo_a, and a lock file for them with the
// runtime's info and correct sha256s.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./helpers.mjs";

const runtimeLock = JSON.parse(readFileSync(join(ROOT, "node_modules/pyodide/pyodide-lock.json"), "utf8"));

// Pure-Python wheels, written with Python's zipfile (with the dist-info a
// wheel installer expects).
const WHEELS = `
import sys, os, zipfile, hashlib, base64
def wheel(path, name, files, requires=()):
    dist = f"{name}-1.0.dist-info"
    meta = f"Metadata-Version: 2.1\\nName: {name}\\nVersion: 1.0\\n" + "".join(f"Requires-Dist: {r}\\n" for r in requires)
    files = dict(files)
    files[f"{dist}/METADATA"] = meta
    files[f"{dist}/WHEEL"] = "Wheel-Version: 1.0\\nGenerator: pyplay-test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"
    record = []
    for n, body in files.items():
        d = base64.urlsafe_b64encode(hashlib.sha256(body.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{n},sha256={d},{len(body.encode())}")
    record.append(f"{dist}/RECORD,,")
    files[f"{dist}/RECORD"] = "\\n".join(record) + "\\n"
    with zipfile.ZipFile(path, "w") as z:
        for n, body in files.items():
            z.writestr(n, body)
out, pad = sys.argv[1], int(sys.argv[2])
a = {"pyplaydemo_a/__init__.py": "def greet():\\n    return 'hello from a'\\n"}
if pad:
    a["pyplaydemo_a/pad.txt"] = base64.b64encode(os.urandom(pad * 3 // 4)).decode()
wheel(f"{out}/pyplaydemo_a-1.0-py3-none-any.whl", "pyplaydemo_a", a)
wheel(f"{out}/pyplaydemo_b-1.0-py3-none-any.whl", "pyplaydemo_b",
      {"pyplaydemo_b/__init__.py": "import pyplaydemo_a\\ndef f():\\n    return 'b uses ' + pyplaydemo_a.greet()\\n"},
      requires=["pyplaydemo_a"])
`;

export const A = "pyplaydemo_a-1.0-py3-none-any.whl";
export const B = "pyplaydemo_b-1.0-py3-none-any.whl";

/**
 * Writes the distribution: both wheels and the lock file. badShaOf: a file
 * whose sha256 the lock gets wrong; padBytes: bytes of incompressible data
 * in pyplaydemo_a (benchmarks).
 */
export function makeDistribution({ badShaOf, padBytes = 0 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "pyplay-packages-"));
  execFileSync("python3", ["-c", WHEELS, dir, String(padBytes)]);
  const entry = (name, file, depends) => {
    let sha = createHash("sha256").update(readFileSync(join(dir, file))).digest("hex");
    if (badShaOf === file) sha = "0".repeat(64);
    return {
      name, version: "1.0", file_name: file, install_dir: "site", package_type: "package",
      sha256: sha, imports: [name], depends, unvendored_tests: false,
    };
  };
  const lock = {
    info: runtimeLock.info,
    packages: { "pyplaydemo-a": entry("pyplaydemo_a", A, []), "pyplaydemo-b": entry("pyplaydemo_b", B, ["pyplaydemo-a"]) },
  };
  writeFileSync(join(dir, "pyodide-lock.json"), JSON.stringify(lock, null, 1));
  return dir;
}

