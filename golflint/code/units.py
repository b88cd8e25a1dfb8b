"""CodeUnit: one piece of code that runs, as the analyzer sees it.

A unit is a file on disk (train_gpt.py, an imported sibling module, a C/C++/CUDA sibling), or a
layer decoded from a self-extracting script ("train_gpt.py (decoded, layer 1)"), or native source
passed as a Python string. Rules iterate over `sub.code_units` and report with `rule.report_at(unit, line)`.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from .names import ImportMap

PYTHON = "python"
NATIVE_LANGUAGES = ("c", "cpp", "cuda")


@dataclass(eq=False)
class CodeUnit:
    path: str                         # the file on disk it comes from, relative to the submission
    source: str
    language: str = PYTHON
    label: str = ""                   # how findings name it; defaults to `path`
    layer: int = 0                    # 0 = on disk; n = n-th decoded layer
    parent: Optional["CodeUnit"] = None
    counted: bool = True              # are its stored bytes part of the counted code bytes?
    # How the unit entered the analysis: "entry", "imported by train_gpt.py line 12", ...
    reason: str = "entry"
    tree: ast.Module | None = None
    syntax_error: str | None = None
    syntax_error_line: int | None = None
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.label:
            self.label = self.path

    @classmethod
    def parse_python(cls, path: str, source: str, **kw) -> "CodeUnit":
        unit = cls(path=path, source=source, language=PYTHON, **kw)
        try:
            unit.tree = ast.parse(source, filename=unit.label)
        except SyntaxError as exc:
            unit.tree = _parse_requoted(source, unit.label) if "f-string" in (exc.msg or "") else None
            if unit.tree is None:
                unit.syntax_error = exc.msg
                unit.syntax_error_line = exc.lineno
        except (ValueError, RecursionError, MemoryError) as exc:  # NUL bytes, absurd nesting
            unit.syntax_error = str(exc) or type(exc).__name__
        return unit

    @property
    def is_python(self) -> bool:
        return self.language == PYTHON

    @cached_property
    def lines(self) -> list[str]:
        return self.source.splitlines()

    def line_text(self, line: int | None) -> str:
        if line is None or not (1 <= line <= len(self.lines)):
            return ""
        return self.lines[line - 1]

    @cached_property
    def index(self) -> dict[type, list[ast.AST]]:
        """Every node of the tree by type, from one walk: rules ask for `unit.nodes(ast.Call)`
        instead of walking a 150 KB tree again each."""
        by_type: dict[type, list[ast.AST]] = {}
        if self.tree is None:
            return by_type
        # ast.walk's breadth-first order, without its per-node generator overhead (~2x faster here).
        AST = ast.AST
        queue = [self.tree]
        for node in queue:
            by_type.setdefault(type(node), []).append(node)
            for name in node._fields:
                value = getattr(node, name, None)
                if isinstance(value, AST):
                    queue.append(value)
                elif isinstance(value, list):
                    queue.extend(item for item in value if isinstance(item, AST))
        return by_type

    def nodes(self, *types: type) -> list[ast.AST]:
        if len(types) == 1:
            return self.index.get(types[0], [])
        out: list[ast.AST] = []
        for t in types:
            out.extend(self.index.get(t, []))
        out.sort(key=lambda n: (getattr(n, "lineno", 0), getattr(n, "col_offset", 0)))
        return out

    @cached_property
    def imports(self) -> "ImportMap":
        from .names import ImportMap

        return ImportMap.from_nodes(self.nodes(ast.Import, ast.ImportFrom))

    @property
    def root_path(self) -> str:
        """The on-disk file this unit ultimately came from."""
        unit = self
        while unit.parent is not None:
            unit = unit.parent
        return unit.path


def _parse_requoted(source: str, label: str) -> ast.Module | None:
    """Python 3.12 lets an f-string's fields reuse its own quote (`f"{d.get("k")}"`); older
    parsers reject it. Swap such nested strings' quotes (same length, same lines) and parse again."""
    fixed = requote_fstrings(source)
    if fixed is None or fixed == source:
        return None
    try:
        return ast.parse(fixed, filename=label)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def requote_fstrings(source: str) -> str | None:
    """`f"a{x["k"]}"` -> `f"a{x['k']}"`, character for character; None when a nested string
    holds both quote kinds (nothing safe to swap to)."""
    out = list(source)
    i, n = 0, len(source)
    while i < n:
        c = source[i]
        if c == "#":
            while i < n and source[i] != "\n":
                i += 1
            continue
        if c in "'\"":
            j = i - 1
            while j >= 0 and source[j] in "rRbBuUfF":
                j -= 1
            prefix = source[j + 1:i].lower()
            if j >= 0 and (source[j].isalnum() or source[j] == "_"):
                prefix = ""
            triple = source.startswith(c * 3, i)
            quote = c * 3 if triple else c
            if "f" in prefix and not triple:
                end = _fstring(source, out, i + 1, c)
                if end is None:
                    return None
                i = end
                continue
            i = _string_end(source, i + len(quote), quote, "r" in prefix)
            continue
        i += 1
    return "".join(out)


def _string_end(source: str, i: int, quote: str, raw: bool) -> int:
    n = len(source)
    while i < n:
        if source[i] == "\\" and not raw:
            i += 2
            continue
        if source.startswith(quote, i):
            return i + len(quote)
        if len(quote) == 1 and source[i] == "\n":
            return i
        i += 1
    return n


def _fstring(source: str, out: list[str], i: int, q: str) -> int | None:
    """Scan a one-line f-string body from i; re-quote nested strings that use q. Returns the end."""
    other = "'" if q == '"' else '"'
    depth, n = 0, len(source)
    while i < n and source[i] != "\n":
        c = source[i]
        if depth == 0:
            if c == "\\":
                i += 2
                continue
            if source.startswith("{{", i):
                i += 2
                continue
            if c == "{":
                depth = 1
            elif c == q:
                return i + 1
            i += 1
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        elif c in "'\"":
            end = _string_end(source, i + 1, c, False)
            if c == q:
                body = source[i + 1:end - 1]
                if other in body or end > n or source[end - 1] != q:
                    return None
                out[i] = out[end - 1] = other
            i = end
            continue
        i += 1
    return i

