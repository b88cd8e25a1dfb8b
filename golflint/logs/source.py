"""The source code a train log carries, compared with the code a submission ships.

The baseline and most records write their own source at the top of each log (`log0(code)`),
followed by a line of 100 `=`. Comparing that source with the shipped (decoded) code tells whether
the logs came from the code in the folder. Comparison is on the syntax tree, so comments and
formatting never count as differences.
"""

from __future__ import annotations

import ast
import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..code.parse import parse_source, read_plainly
from ..code.units import same_tree, walk_tree

if TYPE_CHECKING:
    from ..code.units import CodeUnit

_ABSENT = object()

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

    @classmethod
    def of_chunks(cls, chunks: list["_Chunk"]) -> "Definitions":
        """The Definitions of a module made of these chunks, in order (`LoggedSources`): what
        reading the whole module gives."""
        out = cls.__new__(cls)
        out.nodes, out.texts = {}, {}
        calls = []
        for k, chunk in enumerate(chunks):
            for name, node, text in chunk.defs:
                out.nodes[name] = node
                out.texts[name] = text
            calls.extend((depth, k, place, name, default) for depth, place, name, default in chunk.env)
        # breadth first over the module: by depth, then by chunk (the statements' order), then
        # by place in the chunk's own breadth-first order
        calls.sort(key=lambda c: c[:3])
        out.env = {}
        for _, _, _, name, default in calls:
            out.env.setdefault(name, default)
        return out

    def same(self, other: "Definitions", name: str) -> bool:
        text = self.texts.get(name)
        if text is not None and text == other.texts.get(name):
            return True
        return same_tree(self.nodes[name], other.nodes[name])


def _env_defaults(calls: list[ast.AST]) -> dict[str, str]:
    """`os.environ.get("NAME", default)` / `os.getenv(...)` defaults, by setting name, from the
    tree's calls in ast.walk's breadth-first order (the first default wins)."""
    out: dict[str, str] = {}
    for node in calls:
        found = _env_default(node)
        if found is not None:
            out.setdefault(*found)
    return out


def _env_default(node: ast.AST) -> tuple[str, str] | None:
    """(name, default) of an `os.environ.get("NAME", default)` / `os.getenv(...)` call."""
    if not (len(node.args) >= 2 and isinstance(node.args[0], ast.Constant)  # type: ignore[attr-defined]
            and isinstance(node.args[0].value, str)):  # type: ignore[attr-defined]
        return None
    func = node.func  # type: ignore[attr-defined]
    # `os.environ.get` / `environ.get` / `os.getenv` / `getenv`, read from the tree (no unparse
    # of every call of a 150 KB script)
    if isinstance(func, ast.Attribute):
        tail = func.attr
        base = func.value
        name = (base.attr if isinstance(base, ast.Attribute) else base.id if isinstance(base, ast.Name) else "")
        matched = (tail == "get" and name.endswith("environ")) or tail.endswith("getenv")
    else:
        matched = isinstance(func, ast.Name) and func.id.endswith("getenv")
    return (node.args[0].value, ast.unparse(node.args[1])) if matched else None  # type: ignore[attr-defined]


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


# -- reading logged sources in chunks ---------------------------------------------------------------
# The logs of one folder carry versions of one script: every seed's log the same text, and the
# ablations' logs texts that differ from it and from the shipped code in a few definitions (over
# the accepted records, 63% of the logged source is text the folder's shipped code or another of
# its logs holds too). So a logged text is cut into chunks at its top-level `def`/`class` lines
# (with their decorators), and each chunk is parsed once per folder, or not at all where the
# shipped code holds the same text. A chunk starts at column 0 with a new statement, so where
# every chunk parses on its own, the text parses as their statements in order; where one does
# not (a cut inside a string), the whole text is parsed.
_CHUNK_START = re.compile(r"^(?:def |async def |class |@)", re.M)
# Line breaks `str.splitlines` knows besides "\n" (the texts of definitions are cut from its
# lines, the tree counts "\n", "\r\n" and "\r"), a byte order mark, and the one future import that
# changes how later lines parse: texts that hold one are parsed whole.
_NOT_CUT = re.compile("[\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029\ufeff]|barry_as_FLUFL")


def _chunk_starts(source: str) -> list[int] | None:
    """Where `source` is cut into chunks (offsets of line starts, 0 first), or None."""
    if _NOT_CUT.search(source):
        return None
    cuts = [0]
    for found in _CHUNK_START.finditer(source):
        at = found.start()
        # a `def` under a decorator line belongs to the decorator's chunk
        if at and not source.startswith("@", source.rfind("\n", 0, at - 1) + 1):
            cuts.append(at)
    return cuts


class _Chunk:
    """One chunk's part of a module's Definitions: its top-level definitions (name, node, text)
    and its `os.environ.get` defaults as (depth in the module, place in breadth-first order, name,
    default); places compare only within one chunk."""

    __slots__ = ("defs", "env")

    def __init__(self, statements: list[ast.stmt], text: str, first_line: int,
                 env: list[tuple[int, int, str, str]]) -> None:
        lines = text.splitlines()
        self.defs = []
        for node in statements:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                start = min([node.lineno, *(d.lineno for d in node.decorator_list)]) - first_line
                end = (node.end_lineno or node.lineno) - first_line + 1
                self.defs.append((node.name, node, "\n".join(lines[start:end])))
        self.env = env

    @classmethod
    def parsed(cls, text: str, filename: str) -> _Chunk:
        tree = ast.parse(text, filename=filename)
        env = []
        if "environ" in text or "getenv" in text or not text.isascii():   # (identifiers are NFKC'd)
            nodes, parents = walk_tree(tree)
            for place, node in enumerate(nodes):
                if type(node) is ast.Call:
                    found = _env_default(node)
                    if found is not None:
                        env.append((_depth(node, parents), place, *found))
        return cls(tree.body, text, 1, env)


def _depth(node: ast.AST, parents: dict[int, ast.AST]) -> int:
    depth = 0
    while id(node) in parents:
        node = parents[id(node)]
        depth += 1
    return depth


class LoggedSources:
    """Reads the sources a folder's logs carry (`definitions`), each chunk once, taking the
    chunks the shipped scripts hold from their units."""

    def __init__(self, shipped: Iterable[CodeUnit]) -> None:
        self._chunks: dict[str, _Chunk | None] = {}
        self._shipped = list(shipped)   # cut when first needed

    def definitions(self, source: str, filename: str) -> Definitions:
        """The Definitions of `source`; raises what `parse_source` raises on text that is not code."""
        cuts = _chunk_starts(source)
        if cuts is not None:
            self._cut_shipped()
            chunks = []
            for start, end in zip(cuts, [*cuts[1:], len(source)]):
                text = source[start:end]
                chunk = self._chunks.get(text, _ABSENT)
                if chunk is _ABSENT:
                    try:
                        chunk = _Chunk.parsed(text, filename)
                    except (SyntaxError, ValueError, RecursionError, MemoryError):
                        chunk = None   # no chunk reading: the whole text is parsed
                    self._chunks[text] = chunk
                if chunk is None:
                    break
                chunks.append(chunk)
            else:
                return Definitions.of_chunks(chunks)
        return Definitions(parse_source(source, filename=filename), source)

    def _cut_shipped(self) -> None:
        """The shipped scripts' chunks, each with the statements its lines hold: where no
        statement spans a cut, a chunk parsed alone gives those statements (the running `ast`
        read the script as it is), and its defaults are those of the unit's indexed calls there."""
        while self._shipped:
            unit = self._shipped.pop()
            source, tree = unit.source, unit.tree
            cuts = _chunk_starts(source) if tree is not None and read_plainly(tree) else None
            if cuts is None:
                continue
            ends = [*cuts[1:], len(source)]
            lines = [1]
            for start, end in zip(cuts, ends):   # the first line of each chunk, then past the last
                lines.append(lines[-1] + source.count("\n", start, end))
            by_chunk: list[list[ast.stmt]] = [[] for _ in cuts]
            k = 0
            for node in tree.body:
                first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", ()))])
                while k + 1 < len(cuts) and lines[k + 1] <= first:
                    k += 1
                if (node.end_lineno or node.lineno) >= lines[k + 1]:
                    break   # a statement across a cut (a `def` line inside a string)
                by_chunk[k].append(node)
            else:
                env: list[list[tuple[int, int, str, str]]] = [[] for _ in cuts]
                for place, call in enumerate(unit.nodes(ast.Call)):   # breadth first
                    found = _env_default(call)
                    if found is not None:
                        at = bisect.bisect_right(lines, call.lineno) - 1  # type: ignore[attr-defined]
                        env[at].append((_depth(call, unit.parents), place, *found))
                for k, (start, end) in enumerate(zip(cuts, ends)):
                    text = source[start:end]
                    if text not in self._chunks:
                        self._chunks[text] = _Chunk(by_chunk[k], text, lines[k], env[k])
