// The worker's side of turtle graphics: installs turtle.py where `import
// turtle` finds it (Pyodide and MicroPython), and gives it the module
// pyplay_turtle, whose draw() queues drawing ops for the page. Ops travel
// in "turtle" messages, batched and paced like the program's text output
// (worker.ts posts them, text and drawing in the order they were made).
// tracer(0) holds ops back until update() (or the end of the run).

import TURTLE_SOURCE from "./turtle.py";

/** Where turtle.py is written in the runtime's file system (added to sys.path). */
const TURTLE_DIR = "/lib/pyplay";

/** Ops per "turtle" message at most; more wait for the next. */
const BATCH_OPS = 2000;
/** Ops tracer(0) holds back at most: a program that never calls update() is drawn in steps of this. */
const HELD_OPS = 50_000;

export interface DrawingHost {
  /** Posts what is pending now (text first, then drawing). */
  flush(): void;
  /** Posts now if a batch is due (or full), otherwise soon. */
  soon(full: boolean): void;
  /** Text is waiting to be posted. */
  textPending(): boolean;
  /** Output is dropped (a benchmark is sampling). */
  muted(): boolean;
}

interface PythonRuntime {
  FS: { mkdirTree(path: string): void; writeFile(path: string, data: string): void };
  registerJsModule(name: string, module: object): void;
  runPython(code: string): unknown;
}

export class TurtleDrawing {
  private ops: string[] = [];
  private held: string[] = [];
  private holding = false;

  constructor(private readonly host: DrawingHost) {}

  get pending(): boolean {
    return this.ops.length > 0;
  }

  /** The ops to post now; the caller posts them. */
  take(): string[] {
    const ops = this.ops;
    this.ops = [];
    return ops;
  }

  /** The module turtle.py imports as pyplay_turtle. */
  readonly module = {
    draw: (op: string) => {
      if (this.host.muted()) return;
      if (this.holding) {
        this.held.push(op);
        if (this.held.length >= HELD_OPS) this.module.update();
        return;
      }
      if (this.host.textPending()) this.host.flush();
      this.ops.push(op);
      this.host.soon(this.ops.length >= BATCH_OPS);
    },
    hold: (on: boolean) => {
      this.holding = !!on;
      if (!this.holding) this.module.update();
    },
    update: () => {
      if (this.held.length === 0) return;
      if (this.host.textPending()) this.host.flush();
      this.ops.push(...this.held);
      this.held = [];
      this.host.soon(this.ops.length >= BATCH_OPS);
    },
  };

  /** Installs turtle.py and pyplay_turtle in a freshly started interpreter. */
  install(py: PythonRuntime): void {
    py.FS.mkdirTree(TURTLE_DIR);
    py.FS.writeFile(`${TURTLE_DIR}/turtle.py`, TURTLE_SOURCE);
    py.registerJsModule("pyplay_turtle", this.module);
    py.runPython(`import sys\nif ${JSON.stringify(TURTLE_DIR)} not in sys.path: sys.path.append(${JSON.stringify(TURTLE_DIR)})`);
  }

  /**
   * A run ended: what tracer(0) held back is drawn, as Tk would once the
   * program ends, and the next run imports a fresh turtle module.
   */
  endRun(runPython: (code: string) => unknown): void {
    this.holding = false;
    this.module.update();
    try {
      runPython("import sys\nsys.modules.pop('turtle', None)");
    } catch {
      // The interpreter is unusable; the next start installs afresh.
    }
  }
}
