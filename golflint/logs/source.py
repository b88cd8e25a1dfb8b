"""The source code a train log carries, compared with the code a submission ships.

The baseline and most records write their own source at the top of each log (`log0(code)`),
followed by a line of 100 `=`. Comparing that source with the shipped (decoded) code tells whether
the logs came from the code in the folder. Comparison is on the syntax tree, so comments and
formatting never count as differences.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from ..code.units import same_tree, walk_tree

SEPARATOR = "=" * 100


@dataclass
class SourceDiff:
    functions: list[str] = field(default_factory=list)      # top-level defs/classes that differ
    only_in_log: list[str] = field(default_factory=list)
    only_shipped: list[str] = field(default_factory=list)
    settings: list[str] = field(default_factory=list)       # "NAME: log 0.04, shipped 0.05"

    @property
    def size(self) -> int:
        return len(self.functions) + len(self.only_in_log) + len(self.only_shipped) + len(self.settings)

    @property
    def empty(self) -> bool:
        return not (self.functions or self.only_in_log or self.only_shipped or self.settings)


def logged_source(text: str) -> str | None:
    """The Python source a log starts with (before its first 100-`=` line), if it parses as such."""
    head, sep, _ = text.partition("\n" + SEPARATOR + "\n")
    if not sep or len(head) < 100:  # a header, not a script
        return None
    return head + "\n"


class Definitions:
    """A module's top-level functions and classes, and its settings' defaults, read once.

    Comparing two copies of one script is the common case (every seed's log carries the code it
    ran), so each definition is compared by its source text first, and by its syntax tree (which
    ignores comments and formatting) only when the texts differ."""

    def __init__(self, tree: ast.Module, source: str | None = None, calls: list[ast.AST] | None = None) -> None:
        """`calls`: the tree's calls in ast.walk's order, when a unit has them indexed already."""
        lines = source.splitlines() if source is not None else None
        self.nodes: dict[str, ast.AST] = {}
        self.texts: dict[str, str | None] = {}
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                self.nodes[node.name] = node
                start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                end = node.end_lineno or node.lineno
                self.texts[node.name] = "\n".join(lines[start - 1:end]) if lines is not None else None
        if calls is None:
            calls = [n for n in walk_tree(tree)[0] if type(n) is ast.Call]
        self.env = _env_defaults(calls)

    def same(self, other: "Definitions", name: str) -> bool:
        text = self.texts.get(name)
        if text is not None and text == other.texts.get(name):
            return True
        return same_tree(self.nodes[name], other.nodes[name])


def _env_defaults(calls: list[ast.AST]) -> dict[str, str]:
    """`os.environ.get("NAME", default)` / `os.getenv(...)` defaults, by setting name, from the
    tree's calls in ast.walk's breadth-first order (the first default wins)."""
    out = {}
    for node in calls:
        if not (len(node.args) >= 2 and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)):
            continue
        func = node.func
        # `os.environ.get` / `environ.get` / `os.getenv` / `getenv`, read from the tree (no unparse
        # of every call of a 150 KB script)
        if isinstance(func, ast.Attribute):
            tail = func.attr
            base = func.value
            name = (base.attr if isinstance(base, ast.Attribute) else base.id if isinstance(base, ast.Name) else "")
            matched = (tail == "get" and name.endswith("environ")) or tail.endswith("getenv")
        else:
            matched = isinstance(func, ast.Name) and func.id.endswith("getenv")
        if matched:
            out.setdefault(node.args[0].value, ast.unparse(node.args[1]))
    return out


def compare(logged: ast.Module | Definitions, shipped: ast.Module | Definitions) -> SourceDiff:
    mine = logged if isinstance(logged, Definitions) else Definitions(logged)
    theirs = shipped if isinstance(shipped, Definitions) else Definitions(shipped)
    diff = SourceDiff()
    diff.functions = sorted(n for n in mine.nodes.keys() & theirs.nodes.keys() if not mine.same(theirs, n))
    diff.only_in_log = sorted(mine.nodes.keys() - theirs.nodes.keys())
    diff.only_shipped = sorted(theirs.nodes.keys() - mine.nodes.keys())
    log_env, ship_env = mine.env, theirs.env
    diff.settings = [f"{n}: log {log_env[n]}, shipped {ship_env[n]}"
                     for n in sorted(log_env.keys() & ship_env.keys()) if log_env[n] != ship_env[n]]
    return diff
