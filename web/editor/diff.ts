// The smallest single change between two texts, so that replacing the code
// (Format) keeps the cursor, the scroll position and the undo history
// meaningful. A module of its own: codebox.ts needs it before CodeMirror
// (editor.ts) is loaded.

/** The one change that turns a into b: the common start and end are kept. */
export function difference(a: string, b: string): { from: number; to: number; insert: string } {
  let start = 0;
  const max = Math.min(a.length, b.length);
  while (start < max && a.charCodeAt(start) === b.charCodeAt(start)) start++;
  let end = 0;
  while (end < max - start && a.charCodeAt(a.length - 1 - end) === b.charCodeAt(b.length - 1 - end)) end++;
  return { from: start, to: a.length - end, insert: b.slice(start, b.length - end) };
}
