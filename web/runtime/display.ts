// Rich output in the runtime worker: the Python half (display.py for
// Pyodide, a smaller display() for MicroPython) and the limit they share
// with the page (editor/richoutput.ts). worker.ts installs the Python with
// its driver and posts what it hands to pyplay_io.display as a "display"
// message, after the output printed before it.

import DISPLAY_PY from "./display.py";
import { MAX_DISPLAY_BYTES } from "./messages";

/** Installed in Pyodide before the driver (which calls _pyplay_compile and _pyplay_close_figures). */
export const PYODIDE_DISPLAY = `${DISPLAY_PY}\n_PYPLAY_DISPLAY_MAX = ${MAX_DISPLAY_BYTES}\n`;

/**
 * MicroPython's display(): the _repr_*_ methods and repr(), no
 * _repr_mimebundle_, no matplotlib, and no value of a last expression
 * (MicroPython has no ast module to find it).
 */
export const MICROPYTHON_DISPLAY = `
def _pyplay_display(*objs):
    import binascii
    for obj in objs:
        shown = False
        if not isinstance(obj, type):
            for mime, name, binary in (("image/png", "_repr_png_", True), ("image/jpeg", "_repr_jpeg_", True),
                    ("image/svg+xml", "_repr_svg_", False), ("text/html", "_repr_html_", False),
                    ("text/markdown", "_repr_markdown_", False)):
                fn = getattr(obj, name, None)
                if fn is None:
                    continue
                data = fn()
                if isinstance(data, tuple):
                    data = data[0]
                if data is None:
                    continue
                if binary:
                    if isinstance(data, str):
                        size = len(data) * 3 // 4
                    else:
                        size = len(data)
                        data = binascii.b2a_base64(data).decode().strip()
                else:
                    data = str(data)
                    size = len(data)
                if size > ${MAX_DISPLAY_BYTES}:
                    print("display(): the " + mime + " representation is over the ${MAX_DISPLAY_BYTES / 1024 / 1024} MB limit of one output; showing the next one", file=sys.stderr)
                    continue
                pyplay_io.display(mime, data)
                shown = True
                break
        if not shown:
            print(repr(obj))
`;
