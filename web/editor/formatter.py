import ast as _ast, io as _io, json as _json, keyword as _keyword, tokenize as _tokenize, warnings as _warnings


def _pyplay_format_json(src):
    """_pyplay_format for the worker: {"code": ...} or {"error": ...} as JSON, with warnings silenced."""
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")  # e.g. SyntaxWarning from ast.parse: not the program's output
        try:
            code, error = _pyplay_format(src)
        except Exception as e:  # a bug here must not look like the program's
            code, error = None, "the formatter failed (%s: %s); the code was left as it was" % (type(e).__name__, e)
    return _json.dumps({"code": code, "error": error})


def _pyplay_format(src):
    """Whitespace-only formatting of Python source, refused unless the AST is unchanged.

    Returns (code, None) or (None, reason). Indentation becomes 4 spaces a
    level, spaces around operators and after commas follow PEP 8, trailing
    whitespace and surplus blank lines go. Comments, strings and line breaks
    stay as written: only the space between tokens changes.
    """
    T = _tokenize
    try:
        before = _ast.dump(_ast.parse(src))
    except SyntaxError as e:
        return None, "line %s: %s: fix the syntax error first" % (e.lineno, e.msg)
    lines = src.splitlines(True)
    try:
        toks = list(T.generate_tokens(_io.StringIO(src).readline))
    except (T.TokenError, SyntaxError) as e:
        return None, "could not read the code: %s" % (e,)

    def text(start, end):
        (r1, c1), (r2, c2) = start, end
        if r1 == r2:
            return lines[r1 - 1][c1:c2]
        return lines[r1 - 1][c1:] + "".join(lines[r1:r2 - 1]) + lines[r2 - 1][:c2]

    def width(s):
        return len(s.expandtabs(8))

    OPEN, CLOSE = "([{", ")]}"
    # Operands: after one of these, + - * ** are binary and ( [ hug.
    WORDLIKE = {"True", "False", "None"}
    # Hard keywords that end an operand position ("x if y" vs "not -x").
    names = T.tok_name
    out = []  # finished lines
    cur = []  # pieces of the current line
    depth = 0  # the logical line's indentation level
    frames = [{"br": "", "annot": False, "lam": False}]  # bracket stack of the logical line
    prev = None  # previous significant token: (kind, string)
    line_start = True  # nothing written on this physical line yet
    logical_start = True  # the next token starts a logical line
    indent_map = {0: 0}  # original indentation width -> new, for comment lines
    orig_indent = 0  # original indentation width of the logical line
    prev_end = None  # end of the previous token
    shift = 0  # new minus original indentation of the logical line
    stmt_kw = False  # the logical line is a match/case statement (soft keywords)
    first, ntok = "", 0  # the logical line's first token, and how many were written
    blank = 0  # blank lines in a row
    i = 0
    n = len(toks)

    def operand_before():
        if prev is None:
            return False
        kind, s = prev
        if kind == "NAME":
            if stmt_kw and ntok == 1:
                return False  # "match -x:", "case -1:"
            return s in WORDLIKE or not _keyword.iskeyword(s)
        if kind in ("NUMBER", "STRING", "FSTR"):
            return True
        return kind == "OP" and (s in CLOSE or s == "...")

    def space(kind, s):
        """The space to put before a token, given prev and the frames."""
        if prev is None or line_start:
            return ""
        pk, ps = prev
        top = frames[-1]
        if kind == "COMMENT":
            return "  "
        if pk == "OP" and ps in OPEN:
            return ""
        if kind == "OP" and s in CLOSE:
            return ""
        if kind == "OP" and s in (",", ";"):
            return ""
        if pk == "OP" and ps in (",", ";"):
            return " "
        if pk == "UNARY":
            return ""
        if kind == "OP" and s == ":":
            return ""
        if pk == "OP" and ps == ":":
            return "" if top["br"] == "[" else " "
        if kind == "OP" and s == ".":
            if pk == "NUMBER" or (pk == "NAME" and _keyword.iskeyword(ps) and ps not in WORDLIKE):
                return " "
            return ""
        if pk == "OP" and ps == ".":
            return " " if kind == "NAME" and _keyword.iskeyword(s) and s not in WORDLIKE else ""
        if kind == "OP" and s in "([":
            return "" if operand_before() else " "
        if kind == "OP" and s == "=" and top["br"] == "(" and not top["annot"] or kind == "OP" and s == "=" and top["lam"]:
            return ""
        if pk == "OP" and ps == "=" and (top["br"] == "(" and not top["annot"] or top["lam"]):
            return ""
        if pk == "OP" and ps == "..." and kind == "NAME" and not _keyword.iskeyword(s) and first == "from":
            return ""  # from ...pkg import x
        return " "

    def soft_statement(at):
        """Whether the logical line at toks[at] (match or case) is a statement: it ends with a colon."""
        last = second = None
        for t in toks[at + 1:]:
            k = names[t.type]
            if k == "NEWLINE":
                break
            if k not in ("COMMENT", "NL"):
                second = second or t.string
                last = t.string
        return last == ":" and second not in (":", "=", ".")

    def comment_indent(at, w):
        """The indentation of a comment line: that of the code line below when it was aligned with it."""
        d = depth
        for t in toks[at + 1:]:
            k = names[t.type]
            if k == "INDENT":
                d += 1
            elif k == "DEDENT":
                d -= 1
            elif k == "ENDMARKER":
                break
            elif k not in ("COMMENT", "NL", "NEWLINE"):
                if width(lines[t.start[0] - 1][: t.start[1]]) == w:
                    return d * 4
                break
        known = [k for k in indent_map if k <= w]
        base = max(known) if known else 0
        return indent_map[base] + (w - base)

    def newline():
        nonlocal cur, line_start
        out.append("".join(cur).rstrip())
        cur = []
        line_start = True

    while i < n:
        tok = toks[i]
        kind = names[tok.type]
        s = tok.string
        if kind in ("ENCODING", "ENDMARKER"):
            i += 1
            continue
        if kind == "INDENT":
            indent_map[width(tok.string)] = (depth + 1) * 4
            depth += 1
            i += 1
            continue
        if kind == "DEDENT":
            depth -= 1
            i += 1
            continue
        if kind in ("NEWLINE", "NL"):
            if line_start and not cur:
                blank += 1
                if blank <= 2 and out:
                    out.append("")
            else:
                blank = 0
                newline()
            if kind == "NEWLINE":
                logical_start = True
                frames[:] = [{"br": "", "annot": False, "lam": False}]
                prev = None
            prev_end = tok.end
            i += 1
            continue
        # A token that continues a line after a backslash.
        if prev_end is not None and not line_start and tok.start[0] > prev_end[0]:
            if "\\" in text(prev_end, tok.start):
                cur.append(" \\")
                newline()  # the token below starts a continuation line
        if logical_start and kind != "COMMENT":
            first, ntok = s, 0
            stmt_kw = s in ("match", "case") and soft_statement(i)
        if line_start:
            blank = 0
            lead = lines[tok.start[0] - 1][: tok.start[1]]
            if logical_start and kind != "COMMENT":
                orig_indent = width(lead)
                new_indent = depth * 4
                shift = new_indent - orig_indent
                indent_map[orig_indent] = new_indent
                cur.append(" " * new_indent)
            elif kind == "COMMENT" and logical_start:
                cur.append(" " * comment_indent(i, width(lead)))
            else:
                # A continuation line inside brackets keeps its place
                # relative to the line it continues.
                cur.append(" " * max(0, width(lead) + shift))
        # f-strings (3.12+) and t-strings (3.14) are tokens of their own
        # inside: keep each whole, as written.
        if kind in ("FSTRING_START", "TSTRING_START"):
            level = 0
            j = i
            while j < n:
                k = names[toks[j].type]
                if k.endswith("STRING_START"):
                    level += 1
                elif k.endswith("STRING_END"):
                    level -= 1
                    if level == 0:
                        break
                j += 1
            if j >= n:
                return None, "could not read an f-string"
            piece = text(tok.start, toks[j].end)
            cur.append(space("STRING", piece) + piece)
            prev = ("FSTR", piece)
            ntok += 1
            prev_end = toks[j].end
            line_start = logical_start = False
            i = j + 1
            continue
        if kind == "ERRORTOKEN":
            return None, "line %d: cannot read %r" % (tok.start[0], s)
        if kind == "COMMENT":
            cur.append(space(kind, s) + s.rstrip())
            prev_end = tok.end
            line_start = False
            i += 1
            continue
        if kind == "OP":
            top = frames[-1]
            unary = False
            if s in ("-", "+", "~", "*", "**") and not operand_before():
                unary = True
            if s == "@" and logical_start:
                unary = True
            sp = space(kind, s)
            cur.append(sp + s)
            if s in OPEN:
                frames.append({"br": s, "annot": False, "lam": False})
            elif s in CLOSE and len(frames) > 1:
                frames.pop()
            elif s == ",":
                top["annot"] = False
            elif s == ":" and top["lam"]:
                top["lam"] = False
            elif s == ":" and top["br"] == "(":
                top["annot"] = True
            prev = ("UNARY" if unary else "OP", s)
            ntok += 1
        else:
            if kind == "NAME" and s == "lambda":
                frames[-1]["lam"] = True
            cur.append(space(kind, s) + s)
            prev = (kind, s)
            ntok += 1
        prev_end = tok.end
        line_start = logical_start = False
        i += 1
    if cur:
        newline()
    while out and out[-1] == "":
        out.pop()
    result = "\n".join(out) + "\n" if out else ""
    try:
        after = _ast.dump(_ast.parse(result))
    except SyntaxError as e:
        return None, "formatting would break line %s (%s); the code was left as it was" % (e.lineno, e.msg)
    if after != before:
        return None, "formatting would change what the program means; the code was left as it was"
    return result, None
