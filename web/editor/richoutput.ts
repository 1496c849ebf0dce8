// Rich output in the Output log: what display() and a program's last
// expression send (runtime/display.py, as DisplayItem messages) made into an
// element for Output.appendBlock.
//
// - PNG, JPEG and SVG become an <img> from a blob: URL with a Download link
//   (right-click "Save image" works too). SVG is never put in the page's
//   DOM: as an image it cannot run scripts or load anything.
// - HTML runs in an <iframe sandbox="allow-scripts"> (no allow-same-origin)
//   of the preview origin's /display document (server/display.go): an opaque
//   origin that cannot reach the playground's DOM, cookies or storage, nor
//   the preview origin's. The frame reports its content's height; the frame
//   grows up to MAX_FRAME_HEIGHT and scrolls beyond it. Without a preview
//   origin the HTML is shown as source.
// - Markdown is shown as its source (pyplay bundles no Markdown renderer).
//
// See docs/output.md.

import "./richoutput.css";
import { MAX_DISPLAY_BYTES, type DisplayItem } from "../runtime/messages";
import { el } from "../dom";

/** The tallest an HTML output's frame grows, in CSS pixels; taller content scrolls inside it. */
export const MAX_FRAME_HEIGHT = 640;

/** Characters of data one item may have: MAX_DISPLAY_BYTES, as base64 for images. */
const MAX_DISPLAY_CHARS = Math.ceil(MAX_DISPLAY_BYTES / 3) * 4 + 4;

const IMAGES: Record<string, { ext: string; label: string; binary: boolean }> = {
  "image/png": { ext: "png", label: "PNG", binary: true },
  "image/jpeg": { ext: "jpg", label: "JPEG", binary: true },
  "image/svg+xml": { ext: "svg", label: "SVG", binary: false },
};

/** An element for the log and what Output needs to account for it. */
export interface Rendered {
  el: HTMLElement;
  /** Bytes it holds (counted against the log's limit for rich output). */
  bytes: number;
  /** What stands for it in the log's text (show all, download). */
  text: string;
  /** Frees what it holds (blob: URLs, the frame's listener) once it leaves the page. */
  dispose(): void;
}

export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(1)} KB`;
  return `${(n / 1e6).toFixed(1)} MB`;
}

function decodeBase64(s: string): Uint8Array {
  const bin = atob(s.replace(/\s+/g, ""));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function refused(message: string, text: string): Rendered {
  const e = el("div", { className: "out-rich rich-refused" }, message);
  return { el: e, bytes: 0, text: `[${text}]\n`, dispose() {} };
}

/** Renders item, the n-th rich output of the run; frameURL is the /display document (null: no preview origin). */
export function renderDisplay(item: DisplayItem, n: number, frameURL: string | null): Rendered {
  const mime = String(item?.mime ?? "");
  const data = String(item?.data ?? "");
  if (data.length > MAX_DISPLAY_CHARS) {
    return refused(
      `display(): this ${mime} output is over the ${MAX_DISPLAY_BYTES / 1024 / 1024} MB limit of one output; it is not shown.`,
      `${mime} output over the size limit, not shown`,
    );
  }
  const image = IMAGES[mime];
  if (image) return renderImage(mime, image, data, n);
  if (mime === "text/html") return frameURL ? renderFrame(data, n, frameURL) : renderSource(data, "text/html", n,
    "HTML shown as source: this server has no preview origin to render it in safely.");
  if (mime === "text/markdown") return renderSource(data, "text/markdown", n, "");
  return renderSource(data, mime, n, `${mime} shown as text.`);
}

function renderImage(mime: string, kind: { ext: string; label: string; binary: boolean }, data: string, n: number): Rendered {
  let bytes: Uint8Array | string;
  try {
    bytes = kind.binary ? decodeBase64(data) : data;
  } catch {
    return refused(`display(): the ${mime} output is not valid base64; it is not shown.`, `${mime} output, not valid base64`);
  }
  const size = typeof bytes === "string" ? new Blob([bytes]).size : bytes.length;
  const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: mime }));
  const name = `output-${n}.${kind.ext}`;
  const img = el("img", { className: "rich-img", src: url, alt: `Image output ${n} of the program (${kind.label}, ${formatBytes(size)})` });
  const download = el("a", { href: url, download: name, className: "rich-download" }, "Download");
  download.title = `Save ${name}`;
  const bar = el("div", { className: "rich-bar" }, download, el("span", {}, `${kind.label} · ${formatBytes(size)}`));
  const box = el("div", { className: "out-rich" }, img, bar);
  box.dataset.mime = mime;
  return { el: box, bytes: data.length, text: `[${name}: ${mime}, ${formatBytes(size)}]\n`, dispose: () => URL.revokeObjectURL(url) };
}

function renderSource(data: string, mime: string, n: number, note: string): Rendered {
  const box = el("div", { className: "out-rich" }, el("pre", {}, data));
  if (note) box.append(el("div", { className: "rich-note" }, note));
  box.dataset.mime = mime;
  return { el: box, bytes: data.length, text: data.endsWith("\n") ? data : data + "\n", dispose() {} };
}

// ---- HTML frames ---------------------------------------------------------------
// One listener for every frame: a message counts only from a frame's own
// window, and only from an opaque origin (the sandbox makes it "null").

type FrameHandler = (msg: { type?: unknown; height?: unknown }) => void;
const frames = new Map<HTMLIFrameElement, FrameHandler>();
let listening = false;

function listen(): void {
  if (listening) return;
  listening = true;
  window.addEventListener("message", (e) => {
    if (e.origin !== "null" || !e.source) return;
    for (const [frame, handler] of frames) if (frame.contentWindow === e.source) handler(e.data ?? {});
  });
}

function renderFrame(html: string, n: number, frameURL: string): Rendered {
  listen();
  const frame = el("iframe", { className: "rich-frame", title: `HTML output ${n} of the program`, src: frameURL });
  // Scripts run, but in an opaque origin: no allow-same-origin (docs/output.md).
  frame.setAttribute("sandbox", "allow-scripts");
  frame.setAttribute("referrerpolicy", "no-referrer");
  const box = el("div", { className: "out-rich" }, frame);
  box.dataset.mime = "text/html";
  frames.set(frame, (msg) => {
    if (msg.type === "ready") {
      // The frame's origin is opaque: "*" is the only target that reaches it.
      frame.contentWindow?.postMessage({ type: "render", html }, "*");
    } else if (msg.type === "size" && typeof msg.height === "number" && Number.isFinite(msg.height)) {
      // +2: the frame's border.
      frame.style.height = `${Math.max(16, Math.min(MAX_FRAME_HEIGHT, Math.ceil(msg.height))) + 2}px`;
    }
  });
  return {
    el: box,
    bytes: html.length,
    text: `[HTML output ${n}, ${formatBytes(html.length)}]\n`,
    dispose: () => frames.delete(frame),
  };
}

/** The /display document on the preview origin of previewURL (the PyScript preview's URL), for this page; null without one. */
export function displayFrameURL(previewURL: string | undefined): string | null {
  if (!previewURL) return null;
  const url = new URL("/display", new URL(previewURL, location.href));
  url.searchParams.set("parent", location.origin);
  return url.href;
}
