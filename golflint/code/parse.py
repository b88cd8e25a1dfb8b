"""Parse Python source into the `ast` of Python 3.12+, on any interpreter golflint supports.

The challenge runs Python 3.12, and submissions use its grammar: PEP 701 f-strings such as
`f"{d["k"]}"` (the same quote inside a replacement field, backslashes, nested f-strings) fail
`ast.parse` on 3.10/3.11 although CPython 3.12 accepts them. So:

1. `ast.parse` first (a leading UTF-8 byte-order mark removed: CPython skips it when it runs a file).
2. Where that fails on an interpreter older than 3.12, libcst's native parser reads the code with
   the 3.12 grammar. Every f-string the running `ast` cannot read is replaced, in the text, by a
   placeholder name on the same lines; the rest is parsed by `ast` as usual, and each placeholder
   is then swapped for the `ast.JoinedStr` that 3.12 would build (literal parts as constants, fields
   as `FormattedValue` whose expressions are parsed by this same function), with the f-string's
   own line numbers. Every rule therefore sees one tree, the same as under 3.12.
   libcst reading a whole 60 KB module (and resolving every node's position) takes seconds, for
   the two or three f-strings that need it. So a lexical scan finds the string literals first
   (`_string_groups`: comments, prefixes, quotes, PEP 701 replacement fields, implicit
   concatenation) and libcst reads only the groups the running `ast` cannot; the whole-module
   reading remains the fallback where the scan is unsure.
   Most such f-strings only reuse their own quote inside a field (`f"{d["k"]}"`): written with
   the other quote (`f'{d["k"]}'`, the same length, so every position stays) the running `ast`
   reads them as they are, and libcst (0.3 s to import) is not needed at all (`_quotes_swapped`).
   Their parts then carry the positions the running `ast` gives every other f-string of the file.
3. Code that no grammar accepts keeps the `SyntaxError` of the running `ast` (GL000).
"""

from __future__ import annotations

import ast
import bisect
import re
import sys
from typing import Any

BOM = "\ufeff"
_PLACEHOLDER = "__golflint_pep701_{}__"


def parse_source(source: str, filename: str = "<unknown>") -> ast.Module:
    """The module's tree, as Python 3.12 parses it; raises SyntaxError/ValueError like `ast.parse`."""
    source = source.removeprefix(BOM)
    try:
        return ast.parse(source, filename=filename)
    except SyntaxError:
        if sys.version_info >= (3, 12):
            raise
        try:
            tree = _parse_as_312(source, filename)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            tree = None  # the 3.12 reading failed too: report the running `ast`'s own error
        if tree is None:
            raise
        tree.golflint_read_as_312 = True   # (`read_plainly`)
        return tree


def read_plainly(tree: ast.Module) -> bool:
    """Was this tree (from `parse_source`) read by the running `ast` from the text as it is, not
    through the 3.12 f-string reading?"""
    return not getattr(tree, "golflint_read_as_312", False)


def _parse_as_312(source: str, filename: str) -> ast.Module | None:
    """The tree of code the running `ast` rejects, read with 3.12's f-strings: by `ast` with the
    offending strings' quotes swapped where that suffices, else with libcst reading those strings
    (or the whole module where the scan is unsure); None when no reading succeeds."""
    offending = _offending_groups(source)
    swapped = _quotes_swapped(source, offending) if offending else None
    if swapped is not None:
        try:
            return ast.parse(swapped, filename=filename)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            pass  # not why the code fails, or not only: libcst reads it below
    try:
        pieces = _read_offending_groups(source, offending)
        if pieces is _NONE_OFFENDING:
            # The scan is sure, and the running `ast` reads every f-string: 3.12's f-strings are
            # not why the code fails, and a whole-module reading would find no string to replace.
            return None
        if pieces is not None:
            tree = _substitute_pieces(source, filename, *pieces)
            if tree is not None:
                return tree
        pieces = _read_whole_module(source)  # the scan was unsure, or the code is broken anyway
        return _substitute_pieces(source, filename, *pieces) if pieces else None
    except ImportError:  # pragma: no cover - libcst is a dependency
        return None


def _read_whole_module(source: str) -> tuple[list, Any, Any] | None:
    """libcst reads the whole module: (offending string nodes, module, positions), or None."""
    import libcst as cst
    from libcst.metadata import MetadataWrapper, PositionProvider

    try:
        module = cst.parse_module(source, config=cst.PartialParserConfig(python_version="3.12"))
    except cst.ParserSyntaxError:  # no grammar accepts it
        return None
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    positions = wrapper.resolve(PositionProvider)
    offending = _offending_strings(wrapper.module)
    return (offending, wrapper.module, positions) if offending else None


# `_read_offending_groups` was sure of every string group, and the running `ast` reads them all
_NONE_OFFENDING: Any = object()


def _offending_groups(source: str) -> list[tuple[int, int]] | None:
    """(start, end) of each string group holding an f-string that the running `ast` cannot read;
    None when the scan is unsure."""
    groups = _string_groups(source)
    if groups is None:
        return None
    offending = []
    for start, end in groups:
        text = source[start:end]
        if "{" not in text:
            continue
        try:
            ast.parse("(" + text + "\n)", mode="eval")
            continue  # the running `ast` reads it
        except SyntaxError:
            offending.append((start, end))
    return offending


def _quotes_swapped(source: str, offending: list[tuple[int, int]]) -> str | None:
    """`source` with each of the `offending` f-strings (`_offending_groups`) written with its
    other quote character, when every one of them can be: a single f-string (no implicit
    concatenation), quoted with one `'` or `"`, on one line, with no backslash, and the other quote
    character nowhere in it. PEP 701 lets a field reuse the string's own quote (`f"{d["k"]}"`);
    the other quote outside (`f'{d["k"]}'`) is a string every grammar reads the same way, of the
    same length. None when one cannot be swapped."""
    out, last = [], 0
    for start, end in offending:
        group = source[start:end]
        found = _STRING_START.match(group)
        if found is None or "\\" in group or "\n" in group:
            return None
        prefix = found.group().rstrip("'\"")
        quote = found.group()[len(prefix):]
        other = "'" if quote == '"' else '"'
        if len(quote) != 1 or "f" not in prefix.lower() or other in group \
                or _string_end(group, found.end(), quote, "r" in prefix.lower(), True) != len(group):
            return None   # triple-quoted, a concatenation, or the other quote is used inside
        out += [source[last:start], prefix, other, group[found.end():-1], other]
        last = end
    out.append(source[last:])
    return "".join(out)


def _read_offending_groups(source: str, offending: list[tuple[int, int]] | None) -> Any:
    """libcst reads only the string groups the running `ast` cannot (`offending`, from
    `_offending_groups`): (nodes, a module for `code_for_node`, their positions in the file);
    `_NONE_OFFENDING` when the scan is sure and the running `ast` reads every group; None when
    the scan is unsure."""
    if offending is None:
        return None
    if not offending:
        return _NONE_OFFENDING
    # imported only here: about 0.3 s, for code that has such strings
    import libcst as cst
    from libcst.metadata import MetadataWrapper, PositionProvider

    line_starts = [0] + [m.end() for m in re.finditer("\n", source)]
    nodes: list[Any] = []
    positions = _ShiftedPositions()
    config = cst.PartialParserConfig(python_version="3.12")
    for start, end in offending:
        text = source[start:end]
        try:
            module = cst.parse_module("(" + text + "\n)\n", config=config)
        except cst.ParserSyntaxError:
            return None
        wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        body = wrapper.module.body
        statement = body[0] if len(body) == 1 else None
        expr = statement.body[0] if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1 else None
        # The string node itself, its range inside the parentheses we added (libcst keeps them as
        # the node's own lpar/rpar, outside the range it reports).
        node = expr.value if isinstance(expr, cst.Expr) else None
        if not isinstance(node, (cst.FormattedString, cst.ConcatenatedString)):
            return None
        line = bisect.bisect_right(line_starts, start)
        column = start - line_starts[line - 1]
        positions.add(wrapper.resolve(PositionProvider), line - 1, column - 1)
        nodes.append(node)
    return (nodes, cst.Module(body=[]), positions) if nodes else None


# A string literal starts here: an optional prefix (not the tail of a name) and its quotes.
_STRING_START = re.compile(r"""(?:(?<![\w])(?i:rb|br|fr|rf|r|b|u|f))?(?:\'\'\'|\"\"\"|'|")""")
_TOP_LEVEL = re.compile(r"""#|[()\[\]{}]|(?:(?<![\w])(?i:rb|br|fr|rf|r|b|u|f))?(?:\'\'\'|\"\"\"|'|")""")
_OPEN, _CLOSE = "([{", ")]}"


def _string_groups(source: str) -> list[tuple[int, int]] | None:
    """(start, end) offsets of every run of adjacent string literals (one implicit concatenation)
    holding an f-string, read with the 3.12 grammar's lexical rules; None where unsure."""
    groups: list[tuple[int, int]] = []
    depth = 0
    i, n = 0, len(source)
    while True:
        m = _TOP_LEVEL.search(source, i)
        if m is None:
            return groups
        token = m.group()
        if token == "#":
            end = source.find("\n", m.start())
            i = n if end < 0 else end
            continue
        if token in _OPEN:
            depth += 1
            i = m.end()
            continue
        if token in _CLOSE:
            depth = max(depth - 1, 0)
            i = m.end()
            continue
        start, has_f = m.start(), False
        end = m.start()
        while True:
            found = _STRING_START.match(source, end)
            if found is None:
                break
            prefix = found.group().rstrip("'\"").lower()
            has_f = has_f or "f" in prefix
            end = _string_end(source, found.end(), found.group()[len(prefix):], "r" in prefix, "f" in prefix)
            if end is None:
                return None
            end_of_group = end
            end = _skip_blank(source, end, depth > 0)
        if has_f:
            groups.append((start, end_of_group))
        i = end_of_group


def _skip_blank(source: str, i: int, newlines: bool) -> int:
    """Past spaces, tabs, line continuations, and (inside brackets) newlines and comments."""
    n = len(source)
    while i < n:
        ch = source[i]
        if ch in " \t\f":
            i += 1
        elif ch == "\\" and source.startswith("\n", i + 1):
            i += 2
        elif newlines and ch in "\r\n":
            i += 1
        elif newlines and ch == "#":
            end = source.find("\n", i)
            i = n if end < 0 else end
        else:
            break
    return i


def _string_end(source: str, i: int, quote: str, raw: bool, formatted: bool) -> int | None:
    """The offset just past the string whose body starts at `i`, or None (unterminated, unsure)."""
    n = len(source)
    while i < n:
        if source.startswith(quote, i):
            return i + len(quote)
        ch = source[i]
        if ch == "\\":
            i += 1 if formatted and source[i + 1:i + 2] in ("{", "}") else 2
        elif ch == "\n" and len(quote) == 1:
            return None
        elif formatted and ch == "{":
            if source.startswith("{", i + 1):
                i += 2
            else:
                end = _field_end(source, i + 1, quote)
                if end is None:
                    return None
                i = end
        elif formatted and ch == "}":
            if not source.startswith("}", i + 1):
                return None
            i += 2
        else:
            i += 1
    return None


def _field_end(source: str, i: int, quote: str) -> int | None:
    """Just past the `}` closing a replacement field whose expression starts at `i`."""
    n = len(source)
    depth = 0
    while i < n:
        found = _STRING_START.match(source, i)
        if found is not None:
            prefix = found.group().rstrip("'\"").lower()
            end = _string_end(source, found.end(), found.group()[len(prefix):], "r" in prefix, "f" in prefix)
            if end is None:
                return None
            i = end
            continue
        ch = source[i]
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            if depth == 0:
                return i + 1 if ch == "}" else None
            depth -= 1
        elif ch == "#":
            end = source.find("\n", i)
            if end < 0:
                return None
            i = end
            continue
        elif depth == 0 and ch == ":":
            return _spec_end(source, i + 1, quote)
        elif source.startswith(quote, i):
            return None
        i += 1
    return None


def _spec_end(source: str, i: int, quote: str) -> int | None:
    """Just past the `}` closing a replacement field whose format spec starts at `i`."""
    n = len(source)
    while i < n:
        ch = source[i]
        if ch == "}":
            return i + 1
        if ch == "{":
            end = _field_end(source, i + 1, quote)
            if end is None:
                return None
            i = end
            continue
        if source.startswith(quote, i) or (ch == "\n" and len(quote) == 1):
            return None
        i += 2 if ch == "\\" else 1
    return None


class _ShiftedPositions:
    """Positions of nodes parsed from a snippet, moved to where the snippet sits in the file."""

    def __init__(self) -> None:
        self._maps: list[tuple[Any, int, int]] = []

    def add(self, positions: Any, line_shift: int, column_shift: int) -> None:
        self._maps.append((positions, line_shift, column_shift))

    def _find(self, node: Any) -> tuple[Any, int, int] | None:
        for entry in self._maps:
            if node in entry[0]:
                return entry
        return None

    def __contains__(self, node: Any) -> bool:
        return self._find(node) is not None

    def __getitem__(self, node: Any) -> Any:
        from libcst._position import CodePosition, CodeRange

        entry = self._find(node)
        if entry is None:
            raise KeyError(node)
        positions, line_shift, column_shift = entry
        pos = positions[node]

        def moved(p: Any) -> Any:
            return CodePosition(p.line + line_shift, p.column + (column_shift if p.line == 1 else 0))

        return CodeRange(moved(pos.start), moved(pos.end))


def _substitute_pieces(source: str, filename: str, offending: list, module: Any, positions: Any) -> ast.Module | None:
    lines = source.splitlines(keepends=True)
    place = _Placer(lines)
    replacements: dict[str, ast.expr] = {}
    prefix = "_p"
    while re.search(r"\b" + prefix + r"\d", source):  # never a name the submission uses
        prefix = "_" + prefix
    spans = []
    for n, node in enumerate(offending):
        pos = positions[node]
        spans.append((pos.start.line, pos.start.column, pos.end.line, pos.end.column, n, node))
    # Replace from the end so earlier positions stay valid. The placeholder keeps the f-string's
    # lines and its width in UTF-8 bytes (how `ast` counts columns), so every other node keeps
    # the position 3.12 gives it.
    for start_line, start_col, end_line, end_col, n, node in sorted(spans, reverse=True):
        joined = _joined_str(node, module, positions, filename, place)
        if joined is None:
            return None
        head = lines[start_line - 1][:start_col]
        tail = lines[end_line - 1][end_col:]
        if start_line == end_line:
            width = place.byte_col(start_line, end_col) - place.byte_col(start_line, start_col)
            text = name = f"{prefix}{n}".ljust(width, "_")
        else:
            name = f"{prefix}{n}"
            text = ("(" + name + "\n" * (end_line - start_line)
                    + " " * max(place.byte_col(end_line, end_col) - 1, 0) + ")")
        replacements[name] = joined
        lines[start_line - 1:end_line] = [head + text + tail]
    try:
        tree = ast.parse("".join(lines), filename=filename)
    except (SyntaxError, ValueError, RecursionError):
        return None
    return _substitute(tree, replacements)


def _offending_strings(module: Any) -> list[Any]:
    """The outermost string expressions (f-strings, implicit concatenations) that the running
    `ast` cannot read, in source order."""
    import libcst as cst

    found: list[Any] = []

    class Visitor(cst.CSTVisitor):
        def on_visit(self, node: cst.CSTNode) -> bool:
            if isinstance(node, (cst.FormattedString, cst.ConcatenatedString)):
                try:
                    ast.parse("(" + module.code_for_node(node) + "\n)", mode="eval")
                except SyntaxError:
                    found.append(node)
                # Readable or replaced as a whole: nothing inside needs a look of its own.
                return False
            return True

    module.visit(Visitor())
    return found


def _string_parts(node: Any) -> list[Any]:
    """The SimpleString / FormattedString pieces of an implicitly concatenated string, in order."""
    import libcst as cst

    if isinstance(node, cst.ConcatenatedString):
        return _string_parts(node.left) + _string_parts(node.right)
    return [node]


def _literal_text(prefix: str, quote: str, raw: str) -> str:
    """The value of a literal piece of an f-string (escapes decoded, `{{` and `}}` halved)."""
    raw = raw.replace("{{", "{").replace("}}", "}")
    plain_prefix = prefix.lower().replace("f", "")
    return ast.literal_eval(plain_prefix + quote + raw + quote)


def _joined_str(node: Any, module: Any, positions: Any, filename: str, place: _Placer) -> ast.expr | None:
    import libcst as cst

    values: list[ast.expr] = []
    bytes_value: bytes | None = None
    for part in _string_parts(node):
        if isinstance(part, cst.SimpleString):
            value = ast.literal_eval(part.value)
            if isinstance(value, bytes):
                bytes_value = (bytes_value or b"") + value
                continue
            constant = ast.Constant(value)
            place(constant, positions[part])
            _append_constant(values, value, constant)
        elif isinstance(part, cst.FormattedString):
            pieces = _formatted_pieces(part, module, positions, filename, place)
            if pieces is None:
                return None
            for piece in pieces:
                if isinstance(piece, ast.Constant):
                    _append_constant(values, piece.value, piece)
                else:
                    values.append(piece)
        else:
            return None
    if bytes_value is not None:
        return None  # bytes never mix with f-strings; not code any grammar accepts
    pos = positions[node]
    result = ast.JoinedStr(values=values)
    place(result, pos)
    for value in values:
        if isinstance(value, ast.Constant) and not hasattr(value, "lineno"):
            place(value, pos)
    return result


def _append_constant(values: list[ast.expr], text: str, where: ast.AST | None = None) -> None:
    """Adjacent literal text is one Constant in 3.12's tree (spanning both pieces)."""
    if not text:
        return
    if values and isinstance(values[-1], ast.Constant):
        merged = ast.Constant(values[-1].value + text)
        ast.copy_location(merged, values[-1])
        if where is not None and hasattr(where, "end_lineno"):
            merged.end_lineno, merged.end_col_offset = where.end_lineno, where.end_col_offset
        values[-1] = merged
    else:
        constant = ast.Constant(text)
        if where is not None and hasattr(where, "lineno"):
            ast.copy_location(constant, where)
            constant.end_lineno, constant.end_col_offset = where.end_lineno, where.end_col_offset
        values.append(constant)


def _formatted_pieces(part: Any, module: Any, positions: Any, filename: str,
                      place: _Placer) -> list[ast.expr] | None:
    import libcst as cst

    prefix = part.prefix
    quote = part.quote
    pieces: list[ast.expr] = []
    for piece in part.parts:
        if isinstance(piece, cst.FormattedStringText):
            constant = ast.Constant(_literal_text(prefix, quote, piece.value))
            if piece in positions:
                place(constant, positions[piece])
            pieces.append(constant)
            continue
        expression = _field_expression(piece.expression, module, positions, filename, place)
        if expression is None:
            return None
        conversion = ord(piece.conversion) if piece.conversion else -1
        spec = None
        if piece.format_spec is not None:
            spec_values: list[ast.expr] = []
            for spec_piece in piece.format_spec:
                if isinstance(spec_piece, cst.FormattedStringText):
                    _append_constant(spec_values, _literal_text(prefix, quote, spec_piece.value))
                else:
                    nested = _formatted_pieces(
                        _Fake(prefix, quote, [spec_piece]), module, positions, filename, place)
                    if nested is None:
                        return None
                    spec_values.extend(nested)
            spec = ast.JoinedStr(values=spec_values)
            place(spec, positions[piece])
            for value in spec_values:
                if isinstance(value, ast.Constant):
                    place(value, positions[piece])
        if piece.equal is not None:
            # `{x=}` shows the expression's text before its value (repr unless a spec/conversion says).
            text = module.code_for_node(piece.expression)
            pieces.append(ast.Constant(text + "="))
            if conversion == -1 and spec is None:
                conversion = ord("r")
        value = ast.FormattedValue(value=expression, conversion=conversion, format_spec=spec)
        place(value, positions[piece])
        pieces.append(value)
    return pieces


class _Fake:
    """A FormattedString-like holder, to reuse `_formatted_pieces` for replacement fields in a spec."""

    def __init__(self, prefix: str, quote: str, parts: list[Any]) -> None:
        self.prefix, self.quote, self.parts = prefix, quote, parts


def _field_expression(expr: Any, module: Any, positions: Any, filename: str,
                      place: _Placer) -> ast.expr | None:
    code = module.code_for_node(expr)
    pos = positions[expr]
    try:
        tree = parse_source("(" + code + "\n)", filename=filename)
    except (SyntaxError, ValueError, RecursionError):
        return None
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Expr):
        return None
    value = tree.body[0].value
    shift = place.byte_col(pos.start.line, pos.start.column) - 1
    # Move the expression to where it sits in the file: same lines; columns on its first line
    # shifted by its start column less the "(" we added.
    for sub in ast.walk(value):
        if hasattr(sub, "lineno"):
            if sub.lineno == 1:
                sub.col_offset += shift
            if getattr(sub, "end_lineno", None) == 1 and sub.end_col_offset is not None:
                sub.end_col_offset += shift
    ast.increment_lineno(value, pos.start.line - 1)
    return value


class _Placer:
    """Sets a node's position from a libcst range: same lines; columns as `ast` counts them
    (UTF-8 bytes), where libcst counts characters."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = list(lines)

    def byte_col(self, line: int, column: int) -> int:
        if not (1 <= line <= len(self.lines)):
            return column
        return len(self.lines[line - 1][:column].encode("utf-8"))

    def __call__(self, node: ast.AST, pos: Any) -> None:
        node.lineno = pos.start.line
        node.col_offset = self.byte_col(pos.start.line, pos.start.column)
        node.end_lineno = pos.end.line
        node.end_col_offset = self.byte_col(pos.end.line, pos.end.column)


def _substitute(tree: ast.Module, replacements: dict[str, ast.expr]) -> ast.Module:
    """`tree` with each placeholder name swapped for its f-string, in place. One iterative walk
    (ast.NodeTransformer's recursive visit of every node took about as long as the parse itself);
    like it, a swapped-in f-string is not walked again (its fields were parsed on their own)."""
    AST, Name = ast.AST, ast.Name
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        for field in node._fields:
            value = getattr(node, field, None)
            if isinstance(value, AST):
                if type(value) is Name and value.id in replacements:
                    setattr(node, field, replacements[value.id])
                else:
                    stack.append(value)
            elif isinstance(value, list):
                for i, item in enumerate(value):
                    if isinstance(item, AST):
                        if type(item) is Name and item.id in replacements:
                            value[i] = replacements[item.id]
                        else:
                            stack.append(item)
    return tree
