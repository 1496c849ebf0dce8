// Sharing and drafts on the editor page: the Share button stores the
// program as a snippet and hands out its link; on a shared snippet's page
// the "edited since shared" badge follows the editor; and unsaved work is
// kept in localStorage per page (the scratch page, each snippet), restored
// after a reload with a note and a way back to the shared version.

import "./share.css";
import { el } from "../dom";

/** A snippet as the page config names it. */
export interface SnippetRef {
  id: string;
  runtime: string;
  /** As stored (Share sends it again, or the ID would change). */
  title: string;
  /** What the snippet is called: its title or what its code opens with (the server derives it); "" if nothing. */
  name?: string;
}

/** What sharing needs from the page. The editor may not exist yet when Share is built. */
export interface ShareHost {
  code(): string;
  setCode(code: string): void;
  /** The PyScript page body, or null when PyScript mode is not set up yet. */
  html(): string | null;
  setHTML(html: string): void;
  /** The PyScript interpreter, or null when PyScript mode is not set up yet. */
  interpreter(): string | null;
  setInterpreter(interpreter: string): void;
  /** The page has become the snippet it just shared. */
  shared(snippet: SnippetRef): void;
}

/** What a page holds: compared with the shared version, kept as a draft. */
interface State {
  code: string;
  runtime: string;
  html: string;
  interpreter: string; // PyScript's: "pyodide" or "micropython"
}

interface Draft extends State {
  saved: number; // ms since the epoch
}

const DRAFT_PREFIX = "pyplay.draft.v1:";
/** Drafts kept in this browser at most; the oldest go first. */
const MAX_DRAFTS = 30;
const SAVE_DELAY_MS = 400;
const TOAST_MS = 6000;

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T | null;

/** localStorage that may be missing or full: drafts are a convenience, never an error. */
const store = {
  get(key: string): string | null {
    try {
      return localStorage.getItem(key);
    } catch {
      return null;
    }
  },
  set(key: string, value: string): boolean {
    try {
      localStorage.setItem(key, value);
      return true;
    } catch {
      return false;
    }
  },
  remove(key: string): void {
    try {
      localStorage.removeItem(key);
    } catch {
      /* nothing to do */
    }
  },
  keys(): string[] {
    try {
      return Object.keys(localStorage);
    } catch {
      return [];
    }
  },
};

function sameState(a: State, b: State): boolean {
  // The page body and the interpreter only matter to PyScript snippets.
  return (
    a.code === b.code &&
    a.runtime === b.runtime &&
    (a.runtime !== "pyscript" || (a.html === b.html && a.interpreter === b.interpreter))
  );
}

export function snippetTitle(s: SnippetRef | undefined): string {
  return s ? s.name || s.title || `Snippet ${s.id}` : "main.py";
}

function timeAgo(ms: number): string {
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 60) return "just now";
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return new Date(ms).toLocaleDateString();
}

export class Share {
  private snippet: SnippetRef | undefined;
  /** What the page was opened with (or last shared): dirtiness is measured against it. */
  private baseline: State;
  private saveTimer = 0;
  private toastTimer = 0;
  private toastReturn: HTMLElement | null = null;
  private busy = false;
  private held = false;
  private readonly source = byId<HTMLTextAreaElement>("source");
  private readonly runtimeSel = byId<HTMLSelectElement>("runtime")!;
  private readonly button = byId<HTMLButtonElement>("share");
  private readonly dirty = byId<HTMLElement>("dirty");
  private readonly note = el("span", { id: "draft-note", className: "draft-note", hidden: true });
  private readonly revert = el("button", { id: "revert", type: "button", className: "small", hidden: true });
  private readonly download = el("a", { id: "download", className: "download", hidden: true }, "Download .py");
  private readonly toast = el("div", { id: "share-toast", className: "toast", hidden: true });

  /**
   * Builds sharing for the page opened on snippet (undefined: the scratch
   * page). Call it before the editor replaces the server-rendered
   * textarea: a draft is restored into the textarea, so the editor starts
   * on it. initialHTML and initialInterpreter are the PyScript page body and
   * interpreter the server rendered.
   */
  constructor(
    snippet: SnippetRef | undefined,
    initialHTML: string,
    initialInterpreter: string,
    private readonly host: ShareHost,
  ) {
    this.snippet = snippet;
    this.baseline = {
      code: this.source?.value ?? "",
      // ?runtime= may have opened a snippet on another runtime: that is an edit.
      runtime: snippet?.runtime ?? this.runtimeSel.value,
      html: initialHTML,
      interpreter: initialInterpreter || "pyodide",
    };
    this.toast.setAttribute("role", "alert");
    this.toast.addEventListener("keydown", (e) => {
      if (e.key !== "Escape") return;
      e.stopPropagation();
      this.hideToast();
    });
    document.body.append(this.toast);
    this.dirty?.after(this.note, this.revert, this.download);
    this.revert.addEventListener("click", () => this.revertToBaseline());
    this.button?.addEventListener("click", () => void this.share());
    this.runtimeSel.addEventListener("change", () => this.edited());
    // The PyScript page body and interpreter have their own controls (pyscript/mode.ts).
    document.addEventListener("input", (e) => {
      if ((e.target as HTMLElement | null)?.id === "page-html") this.edited();
    });
    document.addEventListener("change", (e) => {
      if ((e.target as HTMLElement | null)?.id === "interpreter") this.edited();
    });
    window.addEventListener("pagehide", () => this.saveNow());
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "hidden") this.saveNow();
    });
    // Back and Forward between snippets this page shared: load what the
    // address names (the draft of the page being left is saved first).
    window.addEventListener("popstate", () => {
      if (location.pathname !== this.path()) {
        this.saveNow();
        location.reload();
      }
    });
    this.restoreDraft();
    this.showLinks();
  }

  /** The editor or the runtime changed. */
  edited(): void {
    this.updateBadge();
    clearTimeout(this.saveTimer);
    this.saveTimer = window.setTimeout(() => this.saveNow(), SAVE_DELAY_MS);
  }

  private state(): State {
    return {
      // Until the editor replaces the server-rendered textarea, the textarea holds the code.
      code: this.source?.isConnected ? this.source.value : this.host.code(),
      runtime: this.runtimeSel.value,
      html: this.host.html() ?? this.baseline.html,
      interpreter: this.host.interpreter() ?? this.baseline.interpreter,
    };
  }

  private isDirty(): boolean {
    return !sameState(this.state(), this.baseline);
  }

  private path(): string {
    return this.snippet ? `/s/${this.snippet.id}` : "/";
  }

  private draftKey(): string {
    return DRAFT_PREFIX + (this.snippet ? `s/${this.snippet.id}` : "scratch");
  }

  private updateBadge(): void {
    const dirty = this.isDirty();
    if (this.dirty) this.dirty.hidden = !this.snippet || !dirty;
    this.revert.hidden = !dirty || (!this.snippet && this.note.hidden);
    if (!dirty) this.note.hidden = true;
  }

  /** Keeps the editor's state as this page's draft, or drops the draft when there is nothing unsaved. */
  saveNow(): void {
    clearTimeout(this.saveTimer);
    const key = this.draftKey();
    const st = this.state();
    if (sameState(st, this.baseline)) {
      store.remove(key);
      return;
    }
    const draft: Draft = { ...st, saved: Date.now() };
    if (!store.set(key, JSON.stringify(draft))) {
      // Full: make room by dropping other pages' drafts, then try once more.
      this.pruneDrafts(0, key);
      store.set(key, JSON.stringify(draft));
    }
    this.pruneDrafts(MAX_DRAFTS, key);
  }

  /** Drops the oldest drafts beyond keep, never the current page's. */
  private pruneDrafts(keep: number, current: string): void {
    const drafts = store
      .keys()
      .filter((k) => k.startsWith(DRAFT_PREFIX) && k !== current)
      .map((k) => ({ k, saved: this.readDraft(k)?.saved ?? 0 }))
      .sort((a, b) => b.saved - a.saved);
    for (const d of drafts.slice(Math.max(0, keep - 1))) store.remove(d.k);
  }

  private readDraft(key: string): Draft | null {
    const raw = store.get(key);
    if (!raw) return null;
    try {
      const d = JSON.parse(raw) as Partial<Draft>;
      if (typeof d.code !== "string" || typeof d.runtime !== "string") return null;
      return {
        code: d.code,
        runtime: d.runtime,
        html: typeof d.html === "string" ? d.html : "",
        // Drafts from before the interpreter was kept ran on the default.
        interpreter: d.interpreter === "micropython" ? "micropython" : "pyodide",
        saved: Number(d.saved) || 0,
      };
    } catch {
      return null;
    }
  }

  /** Puts this page's draft into the server-rendered textarea and select, before the editor starts. */
  private restoreDraft(): void {
    const key = this.draftKey();
    const d = this.readDraft(key);
    if (!d) {
      store.remove(key);
      return;
    }
    if (sameState(d, this.baseline)) {
      store.remove(key);
      return;
    }
    if (this.source) this.source.value = d.code;
    else this.host.setCode(d.code);
    // ?runtime=… asks for a runtime: the draft brings its code, not its runtime.
    const asked = new URLSearchParams(location.search).has("runtime");
    if (!asked && [...this.runtimeSel.options].some((o) => o.value === d.runtime)) this.runtimeSel.value = d.runtime;
    if (d.html !== this.baseline.html) this.host.setHTML(d.html);
    if (d.interpreter !== this.baseline.interpreter) this.host.setInterpreter(d.interpreter);
    this.note.textContent = `Unsaved edits restored (${timeAgo(d.saved)})`;
    this.note.title = `Your edits from ${new Date(d.saved).toLocaleString()} were kept in this browser.`;
    this.note.hidden = false;
    this.revert.hidden = false;
    if (this.dirty) this.dirty.hidden = !this.snippet;
  }

  /** While a benchmark runs (true), Revert is off: it would change the runtime and interpreter under it. */
  hold(on: boolean): void {
    this.held = on;
    this.revert.disabled = on;
  }

  /** Back to the shared version (or, on the scratch page, to the starter program). */
  private revertToBaseline(): void {
    if (this.held) return;
    const b = this.baseline;
    this.host.setCode(b.code);
    this.host.setHTML(b.html);
    this.host.setInterpreter(b.interpreter);
    if (this.runtimeSel.value !== b.runtime) {
      this.runtimeSel.value = b.runtime;
      this.runtimeSel.dispatchEvent(new Event("change")); // the page starts that runtime
    }
    this.note.hidden = true;
    store.remove(this.draftKey());
    this.updateBadge();
    this.button?.focus();
  }

  private showLinks(): void {
    this.revert.textContent = this.snippet ? "Revert to shared" : "Start over";
    this.revert.title = this.snippet
      ? "Throw away the edits and show the shared version again"
      : "Throw away the restored draft and start from the example program";
    this.download.hidden = !this.snippet;
    if (this.snippet) {
      this.download.href = `/s/${this.snippet.id}.py`;
      this.download.title = "The code as a .py file";
    }
    this.updateBadge();
  }

  /** Stores the program and hands out its link. */
  async share(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    const button = this.button;
    // Busy, not disabled: a disabled button would drop the keyboard focus to <body>.
    button?.setAttribute("aria-busy", "true");
    button?.setAttribute("aria-disabled", "true");
    const st = this.state();
    const body: Record<string, string> = { code: st.code, runtime: st.runtime };
    if (this.snippet?.title) body.title = this.snippet.title;
    if (st.runtime === "pyscript" && st.html) body.html = st.html;
    if (st.runtime === "pyscript") body.interpreter = st.interpreter;
    const link = this.post(body);
    // Copying starts now, inside the click: browsers may refuse a
    // clipboard write once the user activation has passed, which a slow
    // request would outlast.
    const copied = this.copyLater(link.then((r) => r.url));
    try {
      const r = await link;
      this.becomeSnippet({ id: r.id, runtime: st.runtime, title: this.snippet?.title ?? "", name: r.name }, st);
      if (await copied) {
        this.showToast("ok", "Link copied", r.url, r.id);
      } else {
        this.showCopyFallback(r.url, r.id);
      }
    } catch (err) {
      this.showToast("error", `Could not share: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      this.busy = false;
      button?.removeAttribute("aria-busy");
      button?.removeAttribute("aria-disabled");
    }
  }

  private async post(body: Record<string, string>): Promise<{ id: string; url: string; name: string }> {
    let res: Response;
    try {
      res = await fetch("/api/snippets", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
    } catch {
      throw new Error("the server did not answer; check the connection and try again");
    }
    const data = (await res.json().catch(() => null)) as {
      id?: string;
      name?: string;
      error?: { message?: string };
    } | null;
    if (!res.ok || !data?.id) {
      const why = data?.error?.message ?? `${res.status} ${res.statusText}`;
      if (res.status === 429) {
        const after = res.headers.get("Retry-After");
        throw new Error(data?.error?.message ?? `too many shares; try again in ${after ?? "a few"} seconds`);
      }
      throw new Error(why);
    }
    return { id: data.id, url: new URL(`/s/${data.id}`, location.origin).href, name: data.name ?? "" };
  }

  /** Writes the URL the promise gives to the clipboard; false when the browser would not. */
  private async copyLater(url: Promise<string>): Promise<boolean> {
    const clip = navigator.clipboard;
    if (!clip) {
      await url.catch(() => {});
      return false;
    }
    if (typeof ClipboardItem !== "undefined" && clip.write) {
      try {
        const blob = url.then((u) => new Blob([u], { type: "text/plain" }));
        await clip.write([new ClipboardItem({ "text/plain": blob })]);
        return true;
      } catch {
        // Some browsers take no promise in a ClipboardItem; try plain text.
      }
    }
    try {
      await clip.writeText(await url);
      return true;
    } catch {
      return false;
    }
  }

  /** The page now shows the snippet it shared: address bar, title, badge, draft. */
  private becomeSnippet(s: SnippetRef, st: State): void {
    // The edits of a snippet are saved now, under the new link; Back to
    // the old link shows the old snippet. The scratch page keeps its work
    // (Back to / shows what was there).
    if (this.snippet) store.remove(this.draftKey());
    else this.saveNow();
    this.snippet = s;
    this.baseline = st;
    store.remove(this.draftKey());
    const path = `/s/${s.id}`;
    if (location.pathname !== path) history.pushState({ snippet: s.id }, "", path);
    document.title = `${snippetTitle(s)} · pyplay`;
    const title = byId("snippet-title");
    if (title) title.textContent = snippetTitle(s);
    this.note.hidden = true;
    this.showLinks();
    this.host.shared(s);
  }

  private showToast(kind: "ok" | "error", text: string, url?: string, id?: string): void {
    const parts: (Node | string)[] = [el("span", { className: "toast-text" }, text)];
    if (url) parts.push(el("a", { href: url, className: "toast-link" }, url));
    if (id) parts.push(this.embedCode(id));
    this.openToast(kind, parts, kind === "ok");
  }

  /** The clipboard was refused: show the link selected, ready for Ctrl+C. */
  private showCopyFallback(url: string, id: string): void {
    const field = el("input", { readOnly: true, value: url, className: "toast-field", size: Math.min(url.length, 48) });
    field.setAttribute("aria-label", "Link to this snippet");
    const hint = el("span", { className: "toast-text" }, "Copy this link:");
    this.openToast("ok", [hint, field, this.embedCode(id)], false);
    field.focus();
    field.select();
    let copied = false;
    try {
      copied = document.execCommand("copy");
    } catch {
      copied = false;
    }
    if (copied) {
      hint.textContent = "Link copied:";
      this.armToastTimer();
    } else {
      hint.textContent = `Press ${navigator.platform.startsWith("Mac") ? "⌘C" : "Ctrl+C"} to copy this link:`;
    }
  }

  /**
   * "Embed": the <iframe> that shows the snippet on another site
   * (/embed/{id}), ready to copy. The allow attribute lets the frame be
   * cross-origin isolated when the embedding page is (README, "Embedding").
   */
  private embedCode(id: string): HTMLElement {
    const src = new URL(`/embed/${id}`, location.origin).href;
    const code =
      `<iframe src="${src}" width="100%" height="360" title="Python program (pyplay)" ` +
      `allow="cross-origin-isolated; clipboard-write" loading="lazy" style="border:1px solid #ccc;border-radius:6px"></iframe>`;
    const field = el("textarea", { readOnly: true, value: code, className: "toast-embed-code", rows: 3 });
    field.setAttribute("aria-label", "Embed code");
    field.addEventListener("focus", () => field.select());
    const copy = el("button", { type: "button", className: "small" }, "Copy");
    copy.addEventListener("click", async () => {
      field.select();
      let ok = false;
      try {
        await navigator.clipboard.writeText(code);
        ok = true;
      } catch {
        ok = document.execCommand("copy");
      }
      copy.textContent = ok ? "Copied" : "Press Ctrl+C";
    });
    const details = el("details", { className: "toast-embed" }, el("summary", {}, "Embed"), field, copy);
    details.addEventListener("toggle", () => {
      if (details.open) this.armToastTimer(2 * TOAST_MS);
    });
    return details;
  }

  private openToast(kind: "ok" | "error", content: (Node | string)[], autoHide: boolean): void {
    // Where the person was, to go back to when the toast closes.
    this.toastReturn = document.activeElement instanceof HTMLElement && !this.toast.contains(document.activeElement) ? document.activeElement : this.button;
    const close = el("button", { type: "button", className: "toast-close", title: "Dismiss" }, "×");
    close.setAttribute("aria-label", "Dismiss");
    close.addEventListener("click", () => this.hideToast());
    this.toast.dataset.kind = kind;
    this.toast.replaceChildren(...content, close);
    this.toast.hidden = false;
    clearTimeout(this.toastTimer);
    if (autoHide || kind === "error") this.armToastTimer(kind === "error" ? 2 * TOAST_MS : TOAST_MS);
  }

  private armToastTimer(ms = TOAST_MS): void {
    clearTimeout(this.toastTimer);
    this.toastTimer = window.setTimeout(() => {
      // Not while someone is reading or using it.
      if (this.toast.matches(":hover, :focus-within")) this.armToastTimer(ms);
      else this.hideToast();
    }, ms);
  }

  private hideToast(): void {
    clearTimeout(this.toastTimer);
    const hadFocus = this.toast.contains(document.activeElement);
    this.toast.hidden = true;
    if (hadFocus) (this.toastReturn?.isConnected ? this.toastReturn : this.button)?.focus();
  }
}
