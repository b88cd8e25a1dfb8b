"""CodeUnit: one piece of code that runs, as the analyzer sees it.

A unit is a file on disk (train_gpt.py, an imported sibling module, a C/C++/CUDA sibling), or a
layer decoded from a self-extracting script ("train_gpt.py (decoded, layer 1)"), or native source
passed as a Python string. Rules iterate over `sub.code_units` and report with `rule.report_at(unit, line)`.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Optional

from .parse import parse_source

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
    # exec/eval sites found by code/packed.py's scan (None: not scanned yet)
    exec_sites: list | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.label:
            self.label = self.path

    @classmethod
    def parse_python(cls, path: str, source: str, **kw) -> "CodeUnit":
        unit = cls(path=path, source=source, language=PYTHON, **kw)
        try:
            unit.tree = parse_source(source, filename=unit.label)  # 3.12 grammar everywhere
        except SyntaxError as exc:
            unit.syntax_error = exc.msg
            unit.syntax_error_line = exc.lineno
        except (ValueError, RecursionError, MemoryError) as exc:  # NUL bytes, absurd nesting
            unit.syntax_error = str(exc) if isinstance(exc, ValueError) and str(exc) else (
                "it nests too deeply for Python's own parser" if isinstance(exc, RecursionError) else
                "Python's own parser ran out of memory on it (it nests too deeply or is too large)")
        return unit

    @property
    def is_python(self) -> bool:
        return self.language == PYTHON

    @property
    def runs_as_main(self) -> bool | None:
        """Whether `__name__ == "__main__"` holds while this unit's module body runs: the entry
        script is started as a program (True); a sibling reached only through an import is
        imported (False: its main block never runs); code decoded from or exec'd by another unit
        takes that unit's namespace; anything else (another counted script) is not known (None)."""
        if self.parent is not None:
            return self.parent.runs_as_main
        if self.reason == "entry":
            return True
        if self.reason.startswith("imported by"):
            return False
        return None

    @cached_property
    def lines(self) -> list[str]:
        return self.source.splitlines()

    def line_text(self, line: int | None) -> str:
        if line is None or not (1 <= line <= len(self.lines)):
            return ""
        return self.lines[line - 1]

    @cached_property
    def _walked(self) -> tuple[list[ast.AST], dict[int, ast.AST]]:
        return walk_tree(self.tree) if self.tree is not None else ([], {})

    @property
    def walk_order(self) -> list[ast.AST]:
        """Every node of the tree in ast.walk's breadth-first order, without expression contexts
        and operator singletons (see `walk_tree`): one walk shared by every rule and fact."""
        return self._walked[0]

    @property
    def parents(self) -> dict[int, ast.AST]:
        """id(node) -> its parent, for every node of `walk_order` but the root."""
        return self._walked[1]

    @cached_property
    def index(self) -> dict[type, list[ast.AST]]:
        """Every node of the tree by type, from one walk: rules ask for `unit.nodes(ast.Call)`
        instead of walking a 150 KB tree again each. Expression contexts and operators are not
        indexed (they are shared singletons; nothing asks for them)."""
        return group_by_type(self.walk_order)

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

    @cached_property
    def _calls_by_name(self) -> dict[str, list[tuple[int, ast.AST]]]:
        """Resolved call name ("" where there is none) -> (place in `nodes(ast.Call)`, call)."""
        call_name = self.imports.call_name
        return placed_by_key(self.nodes(ast.Call), lambda call: call_name(call) or "")  # type: ignore[arg-type]

    @property
    def call_names(self) -> Iterable[str]:
        """Every resolved call name of the unit (`ImportMap.call_name`; "" for calls of no name)."""
        return self._calls_by_name.keys()

    def calls_named(self, names: Iterable[str]) -> list[ast.AST]:
        """The calls whose name, resolved through the unit's imports (`ImportMap.call_name`), is
        one of `names`, in `nodes(ast.Call)` order: the rules that look for a few library calls
        ask this instead of resolving the name of every call of the unit again each."""
        return picked(self._calls_by_name, names)

    def calls_where(self, keep: Callable[[str], bool]) -> list[ast.AST]:
        """The calls whose resolved name `keep` accepts, in `nodes(ast.Call)` order."""
        return picked(self._calls_by_name, [name for name in self._calls_by_name if keep(name)])

    @property
    def root_path(self) -> str:
        """The on-disk file this unit ultimately came from."""
        unit = self
        while unit.parent is not None:
            unit = unit.parent
        return unit.path


def placed_by_key(nodes: Iterable[ast.AST], key: Callable[[ast.AST], str]) -> dict[str, list[tuple[int, ast.AST]]]:
    """`nodes` by `key`, each with its place in `nodes`: a table that `picked` reads."""
    table: dict[str, list[tuple[int, ast.AST]]] = {}
    for place, node in enumerate(nodes):
        name = key(node)
        found = table.get(name)
        if found is None:
            table[name] = [(place, node)]
        else:
            found.append((place, node))
    return table


def picked(table: dict[str, list[tuple[int, ast.AST]]], keys: Iterable[str]) -> list[ast.AST]:
    """The nodes of a `placed_by_key` table under any of `keys`, in their first order."""
    found = [pair for key in set(keys) for pair in table.get(key, ())]
    if len(found) > 1:
        found.sort(key=_place)
    return [node for _, node in found]


def _place(pair: tuple[int, ast.AST]) -> int:
    return pair[0]


def nodes_under(node: ast.AST) -> list[ast.AST]:
    """`node` and every node below it in ast.walk's breadth-first order, as a list, without
    ast.walk's per-node generator overhead (about twice as fast on a long script)."""
    AST = ast.AST
    out = [node]
    for current in out:
        for name in current._fields:
            value = getattr(current, name, None)
            if isinstance(value, AST):
                out.append(value)
            elif isinstance(value, list):
                out.extend(item for item in value if isinstance(item, AST))
    return out


# Fields that never hold anything a rule looks at: expression contexts and operator singletons.
_SKIPPED_FIELDS = frozenset({"ctx", "op", "ops", "type_comment", "type_ignores"})
# Fields the grammar types as identifiers, strings, numbers or constants: never a node, so a walk
# need not read them. A name's `id` and an attribute's `attr` alone were read at a third of the
# nodes of every walk of a tree (the unit's walk, the unit index's, the expression walks).
_SCALAR_FIELDS: dict[type, frozenset[str]] = {
    ast.Name: frozenset({"id"}), ast.Attribute: frozenset({"attr"}),
    ast.Constant: frozenset({"value", "kind"}), ast.keyword: frozenset({"arg"}),
    ast.arg: frozenset({"arg"}), ast.alias: frozenset({"name", "asname"}),
    ast.FunctionDef: frozenset({"name"}), ast.AsyncFunctionDef: frozenset({"name"}),
    ast.ClassDef: frozenset({"name"}), ast.ImportFrom: frozenset({"module", "level"}),
    ast.FormattedValue: frozenset({"conversion"}), ast.comprehension: frozenset({"is_async"}),
    ast.Global: frozenset({"names"}), ast.Nonlocal: frozenset({"names"}),
    ast.ExceptHandler: frozenset({"name"}),
}
# node type -> its `child_fields` (filled as types are met)
CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


def child_fields(kind: type) -> tuple[str, ...]:
    """The fields of a node type that may hold child nodes a rule looks at, in field order."""
    fields = CHILD_FIELDS.get(kind)
    if fields is None:
        scalar = _SCALAR_FIELDS.get(kind, frozenset())
        fields = CHILD_FIELDS[kind] = tuple(f for f in kind._fields
                                            if f not in _SKIPPED_FIELDS and f not in scalar)
    return fields


def walk_tree(tree: ast.AST) -> tuple[list[ast.AST], dict[int, ast.AST]]:
    """(`tree` and every node below it in ast.walk's breadth-first order, id(node) -> parent),
    from one pass without ast.walk's generators. Expression contexts and operators are left out:
    they are singletons shared by the whole tree, so they have no one parent, and leaving leaves
    out keeps every other node in the same relative order."""
    AST = ast.AST
    order = [tree]
    parents: dict[int, ast.AST] = {}
    fields = CHILD_FIELDS
    for node in order:
        kind = type(node)
        names = fields.get(kind)
        if names is None:
            names = child_fields(kind)
        for name in names:
            value = getattr(node, name, None)
            if type(value) is list:
                for item in value:
                    if isinstance(item, AST):
                        parents[id(item)] = node
                        order.append(item)
            elif isinstance(value, AST):
                parents[id(value)] = node
                order.append(value)
    return order, parents


def same_tree(a: ast.AST, b: ast.AST) -> bool:
    """Whether two trees are equal as `ast.dump(..., include_attributes=False)` would find them
    (positions ignored), without formatting either: stops at the first difference. Constants
    compare by type and value, as their reprs would (`1`, `1.0` and `True` differ)."""
    AST = ast.AST
    pending = [(a, b)]
    while pending:
        x, y = pending.pop()
        if type(x) is not type(y):
            return False
        if isinstance(x, AST):
            pending.extend((getattr(x, f, None), getattr(y, f, None)) for f in x._fields)
        elif type(x) is list:
            if len(x) != len(y):
                return False
            pending.extend(zip(x, y))
        elif x != y:
            return False
    return True


def group_by_type(nodes: list[ast.AST]) -> dict[type, list[ast.AST]]:
    """`nodes` grouped by their type, each group in the order given."""
    by_type: dict[type, list[ast.AST]] = {}
    for node in nodes:
        found = by_type.get(type(node))
        if found is None:
            by_type[type(node)] = [node]
        else:
            found.append(node)
    return by_type
