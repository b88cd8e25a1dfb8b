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


def _comments(unit: CodeUnit) -> list[tuple[int, str]]:
    if unit.is_python:
        out: list[tuple[int, str]] = []
        try:
            for tok in tokenize.generate_tokens(io.StringIO(unit.source).readline):
                if tok.type == tokenize.COMMENT:
                    out.append((tok.start[0], tok.string))
        except (tokenize.TokenError, IndentationError, SyntaxError):
            # Unparsable source: fall back to a line scan, good enough for comments.
            out = [(i, line[line.index("#"):]) for i, line in enumerate(unit.lines, 1) if "#" in line]
        return out
    out = []
    for i, line in enumerate(unit.lines, 1):
        for m in NATIVE_COMMENT.finditer(line):
            out.append((i, m.group("body") or m.group("block") or ""))
    return out


def _statement_spans(tree: ast.Module | None) -> dict[int, tuple[int, int]]:
    """First line of each statement -> (first, last) line of its own text (headers only for blocks)."""
    spans: dict[int, tuple[int, int]] = {}
    if tree is None:
        return spans
    for node in ast.walk(tree):
        if not isinstance(node, ast.stmt):
            continue
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
    out = []
    spans = _statement_spans(unit.tree) if unit.is_python else {}
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
