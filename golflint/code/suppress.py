"""Suppression comments: `# golflint: ignore[GL201] reason` (C/C++: `// golflint: ignore[...]`).

A comment suppresses the listed rules on its own line, or, when it sits on the first line of a
statement, on every line of that statement (a multi-line call reported on its second line is still
covered). Codes are mandatory and so is the reason: a comment without one suppresses nothing and is
reported (GL901). A comment that suppressed nothing is reported too (GL900).
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass, field

from .units import CodeUnit

PATTERN = re.compile(r"golflint:\s*ignore\[(?P<codes>[^\]]*)\](?P<reason>.*)$", re.IGNORECASE)
NATIVE_COMMENT = re.compile(r"//(?P<body>.*)$|/\*(?P<block>.*?)\*/")


@dataclass
class Suppression:
    unit: CodeUnit
    line: int
    codes: tuple[str, ...]
    reason: str
    covers: set[int] = field(default_factory=set)
    used: set[str] = field(default_factory=set)

    def matches(self, rule_id: str) -> bool:
        return any(rule_id.upper().startswith(c) for c in self.codes)


def _python_comments(unit: CodeUnit) -> list[tuple[int, str]]:
    """Comments that mention golflint. Tokenizing a whole 150 KB script costs ~0.4 s, so lines are
    pre-filtered by text and a `#` is confirmed to start a comment by checking it lies in no string
    literal of the parsed tree (tokenize is only the fallback for unparsable code)."""
    candidates = [(i, line) for i, line in enumerate(unit.lines, 1)
                  if "#" in line and "golflint" in line.lower()]
    if not candidates:
        return []
    if unit.tree is None:
        out: list[tuple[int, str]] = []
        try:
            for tok in tokenize.generate_tokens(io.StringIO(unit.source).readline):
                if tok.type == tokenize.COMMENT:
                    out.append((tok.start[0], tok.string))
        except (tokenize.TokenError, IndentationError, SyntaxError):
            out = [(i, line[line.index("#"):]) for i, line in candidates]
        return out
    strings = [n for n in unit.nodes(ast.Constant, ast.JoinedStr)
               if isinstance(n, ast.JoinedStr) or isinstance(n.value, (str, bytes))]

    def in_string(line: int, col: int) -> bool:
        for n in strings:
            start, end = (n.lineno, n.col_offset), (n.end_lineno or n.lineno, n.end_col_offset or 0)
            if start <= (line, col) < end:
                return True
        return False

    out = []
    for i, line in candidates:
        # the first '#' outside any string literal starts the comment
        pos = line.find("#")
        while pos != -1:
            col = len(line[:pos].encode("utf-8"))  # ast columns are UTF-8 byte offsets
            if not in_string(i, col):
                out.append((i, line[pos:]))
                break
            pos = line.find("#", pos + 1)
    return out


def _comments(unit: CodeUnit) -> list[tuple[int, str]]:
    if unit.is_python:
        return _python_comments(unit)
    out = []
    for i, line in enumerate(unit.lines, 1):
        for m in NATIVE_COMMENT.finditer(line):
            out.append((i, m.group("body") or m.group("block") or ""))
    return out


def _statement_spans(unit: CodeUnit) -> dict[int, tuple[int, int]]:
    """First line of each statement -> (first, last) line of its own text (headers only for blocks)."""
    spans: dict[int, tuple[int, int]] = {}
    if unit.tree is None:
        return spans
    statements = [n for t, nodes in unit.index.items() if issubclass(t, ast.stmt) for n in nodes]
    for node in statements:
        end = node.end_lineno or node.lineno
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.stmt):
            first_child = body[0].lineno
            decorators = getattr(node, "decorator_list", [])
            end = max(node.lineno, first_child - 1)
            if decorators:
                spans.setdefault(decorators[0].lineno, (decorators[0].lineno, end))
        spans.setdefault(node.lineno, (node.lineno, end))
    return spans


def parse_suppressions(unit: CodeUnit) -> list[Suppression]:
    if "golflint" not in unit.source.lower():
        return []
    out = []
    spans = _statement_spans(unit) if unit.is_python else {}
    for line, comment in _comments(unit):
        m = PATTERN.search(comment)
        if not m:
            continue
        codes = tuple(c.strip().upper() for c in m.group("codes").split(",") if c.strip())
        reason = m.group("reason").strip().lstrip(":-— ").strip()
        sup = Suppression(unit, line, codes, reason, covers={line})
        if line in spans:
            first, last = spans[line]
            sup.covers.update(range(first, last + 1))
        out.append(sup)
    return out
