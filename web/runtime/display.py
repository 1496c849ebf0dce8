# Rich output for Pyodide programs (runtime/display.ts installs it with the
# driver in worker.ts): the display() builtin, the value of a bare last
# expression (sys.displayhook, called by the rewritten program), and
# matplotlib figures (plt.show() and a Figure as a value).
#
# An object is shown by the first representation it has, in the order of
# _PYPLAY_ORDER: _repr_mimebundle_ first (its best MIME type by that order),
# then _repr_png_, _repr_jpeg_, _repr_svg_, _repr_html_, _repr_markdown_,
# then repr(). Plain text is printed (it flows with print() and counts
# against the Output log's line limits); anything else goes to the page as
# one MIME type and its data (base64 for images) through pyplay_io.display,
# which posts what was printed before it first, so the order is exact.
#
# Nothing here refers to a JavaScript object until it runs: it is part of
# the memory snapshot (see worker.ts).

import ast, base64, builtins, os, sys

_PYPLAY_ORDER = ("image/png", "image/jpeg", "image/svg+xml", "text/html", "text/markdown")
_PYPLAY_METHODS = {
    "image/png": "_repr_png_",
    "image/jpeg": "_repr_jpeg_",
    "image/svg+xml": "_repr_svg_",
    "text/html": "_repr_html_",
    "text/markdown": "_repr_markdown_",
}
_PYPLAY_BINARY = ("image/png", "image/jpeg")
# _PYPLAY_DISPLAY_MAX (bytes of one representation) is set by display.ts.

# A non-interactive backend: figures are drawn to PNG, never to a window.
os.environ["MPLBACKEND"] = "agg"


def _pyplay_unwrap(data):
    # _repr_*_ methods and bundles may give (data, metadata).
    if isinstance(data, tuple) and len(data) == 2 and isinstance(data[1], dict):
        return data[0]
    return data


def _pyplay_payload(mime, data):
    # (the data as sent, its size in bytes), or None when unusable.
    data = _pyplay_unwrap(data)
    if data is None:
        return None
    if mime in _PYPLAY_BINARY:
        if isinstance(data, str):
            # Already base64 (the Jupyter convention in bundles).
            data = data.strip()
            return data, len(data) * 3 // 4
        if isinstance(data, (bytes, bytearray, memoryview)):
            raw = bytes(data)
            return base64.b64encode(raw).decode("ascii"), len(raw)
        return None
    if isinstance(data, (bytes, bytearray)):
        data = bytes(data).decode("utf-8", "replace")
    if not isinstance(data, str):
        return None
    return data, len(data.encode("utf-8", "replace"))


def _pyplay_figure_png(obj):
    # A matplotlib Figure as PNG bytes, or None when obj is not one.
    mod = sys.modules.get("matplotlib.figure")
    fig = getattr(mod, "Figure", None) if mod is not None else None
    if not isinstance(fig, type) or not isinstance(obj, fig):
        return None
    import io
    buf = io.BytesIO()
    obj.savefig(buf, format="png", bbox_inches="tight")
    return buf.getvalue()


def _pyplay_candidates(obj):
    # (mime, data) pairs, best first.
    if isinstance(obj, type):
        return  # a class: its _repr_*_ are unbound methods
    png = _pyplay_figure_png(obj)
    if png is not None:
        yield "image/png", png
    bundle_fn = getattr(obj, "_repr_mimebundle_", None)
    if callable(bundle_fn):
        bundle = bundle_fn()
        if isinstance(bundle, tuple) and len(bundle) == 2:
            bundle = bundle[0]
        if isinstance(bundle, dict):
            for mime in _PYPLAY_ORDER:
                if mime in bundle:
                    yield mime, bundle[mime]
            if "text/plain" in bundle:
                yield "text/plain", bundle["text/plain"]
    for mime in _PYPLAY_ORDER:
        fn = getattr(obj, _PYPLAY_METHODS[mime], None)
        if callable(fn):
            yield mime, fn()


def _pyplay_show(obj):
    for mime, data in _pyplay_candidates(obj):
        if mime == "text/plain":
            text = _pyplay_unwrap(data)
            if isinstance(text, str):
                print(text)
                return
            continue
        p = _pyplay_payload(mime, data)
        if p is None:
            continue
        payload, size = p
        if size > _PYPLAY_DISPLAY_MAX:
            print(
                f"display(): the {mime} representation of {type(obj).__name__} is {size / 1e6:.1f} MB, "
                f"over the {_PYPLAY_DISPLAY_MAX / 1e6:.0f} MB limit of one output; showing the next one",
                file=sys.stderr,
            )
            continue
        import pyplay_io
        sys.stdout.flush()
        sys.stderr.flush()
        pyplay_io.display(mime, payload)
        return
    print(repr(obj))


def display(*objs, **kwargs):
    """Shows each object in the Output log in its richest form: an image
    (_repr_png_, _repr_jpeg_, _repr_svg_, a matplotlib Figure), HTML
    (_repr_html_, in a sandboxed frame), Markdown (_repr_markdown_, as text),
    or its repr()."""
    for obj in objs:
        _pyplay_show(obj)


def _pyplay_displayhook(value):
    # The value of the program's last expression (and of `python -i`-like
    # uses of sys.displayhook): shown unless it is None.
    if value is not None:
        _pyplay_show(value)


builtins.display = display
sys.displayhook = _pyplay_displayhook


def _pyplay_compile(code, flags):
    # Compiles the program; when its last statement is an expression (not the
    # module docstring), its value goes to sys.displayhook, as at a console.
    # Nodes keep their positions, so tracebacks name the program's lines.
    # compile(), not ast.parse: a SyntaxError then has no frame of ast.py to show.
    tree = compile(code, "main.py", "exec", flags=flags | ast.PyCF_ONLY_AST, dont_inherit=True)
    body = tree.body
    if body and isinstance(body[-1], ast.Expr):
        last = body[-1]
        doc = len(body) == 1 and isinstance(last.value, ast.Constant) and isinstance(last.value.value, str)
        if not doc:
            hook = ast.Attribute(
                value=ast.Call(func=ast.Name("__import__", ast.Load()), args=[ast.Constant("sys")], keywords=[]),
                attr="displayhook",
                ctx=ast.Load(),
            )
            call = ast.Call(func=hook, args=[last.value], keywords=[])
            for node in (hook, hook.value, hook.value.func, hook.value.args[0], call):
                ast.copy_location(node, last.value)
                node.end_lineno, node.end_col_offset = last.value.end_lineno, last.value.end_col_offset
            last.value = call
    return compile(tree, "main.py", "exec", flags=flags, dont_inherit=True)


# ---- matplotlib: plt.show() displays the open figures, then closes them ----

def _pyplay_pyplot_show(*args, **kwargs):
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is None:
        return
    for num in plt.get_fignums():
        display(plt.figure(num))
    plt.close("all")


def _pyplay_patch_pyplot(plt):
    if getattr(plt.show, "__name__", "") != "_pyplay_pyplot_show":
        plt.show = _pyplay_pyplot_show


class _PyplayPyplotHook:
    # A meta path finder that only watches for matplotlib.pyplot: the real
    # finders load it, then its show() is replaced.
    def find_spec(self, name, path, target=None):
        if name != "matplotlib.pyplot":
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        real = getattr(loader, "exec_module", None)
        if real is None:
            return spec

        def exec_module(module):
            real(module)
            _pyplay_patch_pyplot(module)

        try:
            loader.exec_module = exec_module
        except (AttributeError, TypeError):
            pass
        return spec


if not any(isinstance(f, _PyplayPyplotHook) for f in sys.meta_path):
    sys.meta_path.insert(0, _PyplayPyplotHook())


def _pyplay_close_figures():
    # After a run: figures do not outlive the program that made them.
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        try:
            plt.close("all")
        except Exception:
            pass
