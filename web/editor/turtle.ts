// Turtle graphics in the Output log: draws the ops turtle.py sends
// (runtime/turtle-worker.ts) in an SVG, animating each move over the
// time the program spends on it (the worker sleeps as long), so the
// drawing grows as the program runs. Coordinates are turtle's: (0, 0) in
// the centre, y up; the SVG's y is -y. Consecutive segments of one pen
// are merged into one <path>; fills are <polygon>s, dots <circle>s,
// write() <text>, stamps <polygon>s. At most MAX_TURTLE_ITEMS items are
// drawn; after that a note says the drawing was cut short.

const SVG = "http://www.w3.org/2000/svg";

/** Items (line segments, dots, fills, texts, stamps) one drawing holds at most. */
export const MAX_TURTLE_ITEMS = 50_000;
/** Segments per <path> before a new one starts (keeps each path's update cheap). */
const PATH_SEGMENTS = 500;

type Op = (string | number | null | number[])[];

interface Sprite {
  g: SVGGElement;
  poly: SVGPolygonElement;
  x: number;
  y: number;
  heading: number;
  shape: string;
  visible: boolean;
  pen: string;
  fill: string;
  stretch: [number, number];
  outline: number;
  tilt: number;
}

interface OpenPath {
  el: SVGPathElement;
  color: string;
  width: number;
  segments: number;
  x: number;
  y: number;
  d: string[];
}

interface Animation {
  op: Op;
  start: number;
  ms: number;
  line: SVGLineElement | null;
}

const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : 0);
const str = (v: unknown): string => (typeof v === "string" ? v : "");
const fmt = (n: number): string => String(+n.toFixed(2));
/** A colour for an SVG attribute: turtle.py sends #rrggbb or "none". */
const color = (v: unknown): string => (typeof v === "string" && /^(#[0-9a-f]{6}|none)$/i.test(v) ? v : "#000000");

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number> = {}): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
}

function fontFamily(family: string): string {
  const f = family.toLowerCase();
  const generic = /courier|mono|consol/.test(f) ? "monospace" : /times|serif|georgia/.test(f) && !/sans/.test(f) ? "serif" : "sans-serif";
  return family ? `"${family.replace(/["\\]/g, "")}", ${generic}` : generic;
}

export class TurtleCanvas {
  /** The block put in the Output log. */
  readonly el: HTMLElement;
  private readonly svg: SVGSVGElement;
  private readonly bg: SVGRectElement;
  private readonly drawing: SVGGElement;
  private readonly spritesLayer: SVGGElement;
  private readonly caption: HTMLElement;
  private readonly note: HTMLElement;
  private readonly sprites = new Map<number, Sprite>();
  private readonly shapes = new Map<string, number[]>();
  private readonly paths = new Map<number, OpenPath>();
  private readonly fills = new Map<number, SVGPolygonElement>();
  private readonly stamps = new Map<number, SVGElement>();
  private readonly dirty = new Set<OpenPath>();
  private readonly counts = new Map<number, number>();
  private items = 0;
  private queue: Op[] = [];
  private received = 0;
  private applied = 0;
  private waiters: [number, () => void][] = [];
  private anim: Animation | null = null;
  private frame = 0;
  private instant = false;
  private readonly onVisibility = () => {
    if (document.hidden) this.finish();
  };

  constructor() {
    this.svg = svg("svg", { viewBox: "-200 -200 400 400", role: "img", "aria-label": "Turtle drawing" });
    this.bg = svg("rect", { x: -200, y: -200, width: 400, height: 400, fill: "#ffffff", class: "turtle-bg" });
    this.drawing = svg("g", { class: "turtle-drawing", "stroke-linecap": "round", "stroke-linejoin": "round" });
    this.spritesLayer = svg("g", { class: "turtle-sprites" });
    this.svg.append(this.bg, this.drawing, this.spritesLayer);
    this.caption = document.createElement("div");
    this.caption.className = "turtle-title";
    this.caption.hidden = true;
    this.note = document.createElement("div");
    this.note.className = "turtle-note";
    this.note.setAttribute("role", "note");
    this.note.hidden = true;
    this.el = document.createElement("div");
    this.el.className = "turtle";
    this.el.append(this.caption, this.svg, this.note);
    this.resize(400, 400);
    document.addEventListener("visibilitychange", this.onVisibility);
  }

  /** Queues ops (JSON arrays); resolves once they are drawn. */
  apply(ops: string[]): Promise<void> {
    for (const s of ops) {
      let op: unknown;
      try {
        op = JSON.parse(s);
      } catch {
        continue;
      }
      if (Array.isArray(op) && typeof op[0] === "string") {
        this.queue.push(op as Op);
        this.received++;
      }
    }
    const target = this.received;
    const done = new Promise<void>((resolve) => this.waiters.push([target, resolve]));
    this.pump();
    return done;
  }

  /** Draws everything queued at once, ending the animation under way (the run ended). */
  finish(): void {
    this.instant = true;
    if (this.anim) this.complete();
    this.pump();
    this.instant = false;
  }

  dispose(): void {
    cancelAnimationFrame(this.frame);
    document.removeEventListener("visibilitychange", this.onVisibility);
    this.anim = null;
    this.queue = [];
    this.applied = this.received;
    this.resolve();
  }

  private pump(): void {
    while (!this.anim && this.queue.length > 0) {
      const op = this.queue.shift()!;
      if (this.start(op)) break;
      this.applied++;
    }
    this.commit();
    this.resolve();
  }

  private resolve(): void {
    const keep: [number, () => void][] = [];
    for (const w of this.waiters) {
      if (this.applied >= w[0]) w[1]();
      else keep.push(w);
    }
    this.waiters = keep;
  }

  /** Starts an animated op (true) or carries out an instant one (false). */
  private start(op: Op): boolean {
    const kind = op[0];
    const ms = kind === "l" || kind === "m" ? num(op[6]) : kind === "t" ? num(op[4]) : 0;
    const sprite = this.sprites.get(num(op[1]));
    const seen = kind === "l" || (sprite?.visible ?? false);
    if (ms <= 0 || this.instant || document.hidden || !seen) {
      this.exec(op);
      return false;
    }
    this.commit();
    let line: SVGLineElement | null = null;
    if (kind === "l" && color(op[7]) !== "none" && !this.full()) {
      line = svg("line", {
        x1: fmt(num(op[2])), y1: fmt(-num(op[3])), x2: fmt(num(op[2])), y2: fmt(-num(op[3])),
        stroke: color(op[7]), "stroke-width": Math.max(num(op[8]), 0.5), class: "turtle-moving",
      });
      this.drawing.append(line);
    }
    this.anim = { op, start: performance.now(), ms, line };
    this.frame = requestAnimationFrame((t) => this.step(t));
    return true;
  }

  private step(now: number): void {
    const a = this.anim;
    if (!a) return;
    const p = Math.min(1, Math.max(0, (now - a.start) / a.ms));
    if (p >= 1) {
      this.complete();
      this.pump();
      return;
    }
    const op = a.op;
    const s = this.sprites.get(num(op[1]));
    if (op[0] === "t") {
      if (s) this.place(s, s.x, s.y, num(op[2]) - num(op[3]) * (1 - p));
    } else {
      const x = num(op[2]) + (num(op[4]) - num(op[2])) * p;
      const y = num(op[3]) + (num(op[5]) - num(op[3])) * p;
      a.line?.setAttribute("x2", fmt(x));
      a.line?.setAttribute("y2", fmt(-y));
      if (s) this.place(s, x, y, s.heading);
    }
    this.frame = requestAnimationFrame((t) => this.step(t));
  }

  /** Ends the animation under way: its op takes full effect. */
  private complete(): void {
    const a = this.anim!;
    cancelAnimationFrame(this.frame);
    a.line?.remove();
    this.anim = null;
    this.exec(a.op);
    this.applied++;
  }

  private full(): boolean {
    if (this.items < MAX_TURTLE_ITEMS) return false;
    if (this.note.hidden) {
      this.note.textContent = `This drawing reached the limit of ${MAX_TURTLE_ITEMS.toLocaleString("en-US")} lines, dots, fills, texts and stamps; what the program drew after that is not shown.`;
      this.note.hidden = false;
    }
    return true;
  }

  private count(tid: number): boolean {
    if (this.full()) return false;
    this.items++;
    this.counts.set(tid, (this.counts.get(tid) ?? 0) + 1);
    return true;
  }

  private add(tid: number, e: SVGElement): void {
    e.dataset.turtle = String(tid);
    this.drawing.append(e);
  }

  /** Carries out one op at once. */
  private exec(op: Op): void {
    const tid = num(op[1]);
    switch (op[0]) {
      case "screen":
        this.resize(num(op[1]) || 400, num(op[2]) || 400);
        if (op[3]) this.bg.setAttribute("fill", color(op[3]));
        break;
      case "bg":
        this.bg.setAttribute("fill", color(op[1]));
        break;
      case "title":
        this.caption.textContent = str(op[1]);
        this.caption.hidden = !op[1];
        this.svg.setAttribute("aria-label", str(op[1]) || "Turtle drawing");
        break;
      case "shape":
        this.shapes.set(str(op[1]), Array.isArray(op[2]) ? op[2].map(num) : []);
        for (const s of this.sprites.values()) if (s.shape === op[1]) this.look(s);
        break;
      case "look": {
        let s = this.sprites.get(tid);
        if (!s) {
          const g = svg("g", { class: "turtle-sprite" });
          g.dataset.turtle = String(tid);
          const poly = svg("polygon", { "vector-effect": "non-scaling-stroke" });
          g.append(poly);
          this.spritesLayer.append(g);
          s = { g, poly, x: 0, y: 0, heading: 0, shape: "", visible: true, pen: "", fill: "", stretch: [1, 1], outline: 1, tilt: 0 };
          this.sprites.set(tid, s);
        }
        s.shape = str(op[2]);
        s.visible = op[3] === 1;
        s.pen = color(op[4]);
        s.fill = color(op[5]);
        s.stretch = [num(op[6]) || 1, num(op[7]) || 1];
        s.outline = num(op[8]);
        s.tilt = num(op[9]);
        this.look(s);
        this.place(s, num(op[10]), num(op[11]), num(op[12]));
        break;
      }
      case "l":
      case "m": {
        const [x1, y1, x2, y2] = [num(op[2]), num(op[3]), num(op[4]), num(op[5])];
        if (op[0] === "l" && color(op[7]) !== "none") this.segment(tid, x1, y1, x2, y2, color(op[7]), num(op[8]));
        const s = this.sprites.get(tid);
        if (s) this.place(s, x2, y2, s.heading);
        break;
      }
      case "t": {
        const s = this.sprites.get(tid);
        if (s) this.place(s, s.x, s.y, num(op[2]));
        break;
      }
      case "dot":
        if (this.count(tid)) {
          this.add(tid, svg("circle", { cx: fmt(num(op[2])), cy: fmt(-num(op[3])), r: fmt(num(op[4]) / 2), fill: color(op[5]) }));
        }
        break;
      case "write":
        if (this.count(tid)) this.text(tid, op);
        break;
      case "bf": {
        if (!this.count(tid)) break;
        const poly = svg("polygon", { fill: "none", stroke: "none", "fill-rule": "evenodd" });
        this.add(tid, poly);
        this.fills.set(tid, poly);
        this.paths.delete(tid); // the outline goes above the fill
        break;
      }
      case "ef": {
        const poly = this.fills.get(tid);
        this.fills.delete(tid);
        if (!poly) break;
        const pts = Array.isArray(op[3]) ? op[3].map(num) : [];
        const points: string[] = [];
        for (let i = 0; i + 1 < pts.length; i += 2) points.push(`${fmt(pts[i])},${fmt(-pts[i + 1])}`);
        poly.setAttribute("points", points.join(" "));
        poly.setAttribute("fill", color(op[2]));
        break;
      }
      case "stamp": {
        const s = this.sprites.get(tid);
        if (!s || !this.count(tid)) break;
        const copy = s.g.cloneNode(true) as SVGGElement;
        copy.removeAttribute("visibility");
        copy.setAttribute("class", "turtle-stamp");
        this.add(tid, copy);
        this.stamps.set(num(op[2]), copy);
        this.paths.delete(tid);
        break;
      }
      case "unstamp":
        this.stamps.get(num(op[2]))?.remove();
        this.stamps.delete(num(op[2]));
        break;
      case "clear":
        for (const e of this.drawing.querySelectorAll(`[data-turtle="${tid}"]`)) e.remove();
        this.items -= this.counts.get(tid) ?? 0;
        this.counts.delete(tid);
        this.paths.delete(tid);
        this.fills.delete(tid);
        break;
      case "clearall":
        this.drawing.replaceChildren();
        this.spritesLayer.replaceChildren();
        this.sprites.clear();
        this.paths.clear();
        this.fills.clear();
        this.stamps.clear();
        this.counts.clear();
        this.items = 0;
        this.bg.setAttribute("fill", "#ffffff");
        break;
    }
  }

  private resize(w: number, h: number): void {
    w = Math.min(Math.max(w, 1), 10000);
    h = Math.min(Math.max(h, 1), 10000);
    this.svg.setAttribute("viewBox", `${fmt(-w / 2)} ${fmt(-h / 2)} ${w} ${h}`);
    for (const [k, v] of Object.entries({ x: -w / 2, y: -h / 2, width: w, height: h })) this.bg.setAttribute(k, fmt(v));
    this.el.style.maxWidth = `${w}px`;
  }

  /** Adds a segment to the turtle's open path (one pen, continuing where it ended, nothing drawn since), or starts one. */
  private segment(tid: number, x1: number, y1: number, x2: number, y2: number, stroke: string, width: number): void {
    if (!this.count(tid)) return;
    let p = this.paths.get(tid);
    if (!p || p.color !== stroke || p.width !== width || p.x !== x1 || p.y !== y1 || p.segments >= PATH_SEGMENTS || this.drawing.lastChild !== p.el) {
      const el = svg("path", { fill: "none", stroke, "stroke-width": Math.max(width, 0.5) });
      this.add(tid, el);
      p = { el, color: stroke, width, segments: 0, x: x1, y: y1, d: [`M${fmt(x1)} ${fmt(-y1)}`] };
      this.paths.set(tid, p);
    }
    p.d.push(`L${fmt(x2)} ${fmt(-y2)}`);
    p.segments++;
    p.x = x2;
    p.y = y2;
    this.dirty.add(p);
  }

  /** Writes the paths' new segments into the page. */
  private commit(): void {
    for (const p of this.dirty) {
      p.el.setAttribute("d", p.d.join(""));
      p.el.dataset.segments = String(p.segments);
    }
    this.dirty.clear();
  }

  private text(tid: number, op: Op): void {
    const size = (num(op[7]) || 8) * (4 / 3); // points to pixels
    const style = str(op[8]).toLowerCase();
    const t = svg("text", {
      x: fmt(num(op[2])),
      y: fmt(-num(op[3]) - size * 0.25),
      fill: color(op[9]),
      "font-size": fmt(size),
      "font-family": fontFamily(str(op[6])),
      "text-anchor": op[5] === "center" ? "middle" : op[5] === "right" ? "end" : "start",
    });
    t.style.whiteSpace = "pre";
    if (style.includes("bold")) t.setAttribute("font-weight", "bold");
    if (style.includes("italic")) t.setAttribute("font-style", "italic");
    if (style.includes("underline")) t.setAttribute("text-decoration", "underline");
    const lines = str(op[4]).split("\n");
    if (lines.length === 1) t.textContent = lines[0];
    else {
      // Lines stack upwards from the turtle, as in Tk (the text's bottom is at the turtle).
      lines.forEach((line, i) => {
        const span = svg("tspan", { x: fmt(num(op[2])), dy: i === 0 ? fmt(-size * 1.2 * (lines.length - 1)) : fmt(size * 1.2) });
        span.textContent = line;
        t.append(span);
      });
    }
    this.add(tid, t);
    this.paths.delete(tid);
  }

  private look(s: Sprite): void {
    const pts = this.shapes.get(s.shape) ?? [];
    const points: string[] = [];
    for (let i = 0; i + 1 < pts.length; i += 2) points.push(`${fmt(pts[i])},${fmt(-pts[i + 1])}`);
    s.poly.setAttribute("points", points.join(" "));
    s.poly.setAttribute("fill", s.fill);
    s.poly.setAttribute("stroke", s.pen);
    s.poly.setAttribute("stroke-width", String(Math.max(s.outline, 0)));
    if (s.visible && points.length > 0) s.g.removeAttribute("visibility");
    else s.g.setAttribute("visibility", "hidden");
  }

  private place(s: Sprite, x: number, y: number, heading: number): void {
    s.x = x;
    s.y = y;
    s.heading = heading;
    // Shape points have y along the heading; SVG turns clockwise.
    const [w, l] = s.stretch;
    s.g.setAttribute("transform", `translate(${fmt(x)} ${fmt(-y)}) rotate(${fmt(90 - heading - s.tilt)}) scale(${fmt(w)} ${fmt(l)})`);
  }
}
