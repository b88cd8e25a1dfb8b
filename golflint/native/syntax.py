"""tree-sitter parsing of native units, cached per unit, plus the few tree helpers the checks use.

C files use the C grammar; C++ and CUDA use the C++ grammar. CUDA-only keywords and `<<<...>>>`
launch configurations are blanked out first (same length, so lines and columns stay true).
"""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Iterator

from tree_sitter import Language, Node, Parser

from ..facts.declared import Fact, provides
from ..memo import folder_memo

if TYPE_CHECKING:
    from ..code.units import CodeUnit

CUDA_WORDS = re.compile(r"\b(__global__|__device__|__host__|__shared__|__constant__|__forceinline__|"
                        r"__restrict__|__launch_bounds__\s*\([^)]*\))")
LAUNCH = re.compile(r"<<<.*?>>>", re.S)


@lru_cache(maxsize=2)
def _parser(grammar: str) -> Parser:
    if grammar == "c":
        import tree_sitter_c as module
    else:
        import tree_sitter_cpp as module
    return Parser(Language(module.language()))


def _blank(m: re.Match) -> str:
    return re.sub(r"[^\n]", " ", m.group(0))


@dataclass
class Function:
    name: str
    node: Node
    params: list[str]
    body: Node
    # Every node of the body by type, from one walk (checks filter these instead of re-walking).
    nodes: dict[str, list[Node]]
    cache: dict = field(default_factory=dict)

    def within(self, container: Node, *types: str) -> list[Node]:
        start, end = container.start_byte, container.end_byte
        out = [n for t in types for n in self.nodes.get(t, []) if start <= n.start_byte and n.end_byte <= end]
        if len(types) > 1:
            out.sort(key=lambda n: n.start_byte)
        return out


@dataclass
class NativeTree:
    root: Node
    source: bytes
    error_line: int | None      # first line with a syntax error, None when it parses cleanly
    _functions: list[Function] | None = None

    @property
    def functions(self) -> list[Function]:
        if self._functions is None:
            found = []
            for name, node, params, body in functions(self.root):
                by_type: dict[str, list[Node]] = {}
                for n in walk(body):
                    by_type.setdefault(n.type, []).append(n)
                found.append(Function(name, node, params, body, by_type))
            self._functions = found
        return self._functions


_TREES: "weakref.WeakKeyDictionary[CodeUnit, NativeTree]" = folder_memo(weakref.WeakKeyDictionary())


@provides(Fact.NATIVE)
def tree_of(unit: "CodeUnit") -> NativeTree:
    if unit not in _TREES:
        text = unit.source
        if unit.language == "cuda":
            text = LAUNCH.sub(_blank, CUDA_WORDS.sub(_blank, text))
        data = text.encode("utf-8", errors="replace")
        tree = _parser("c" if unit.language == "c" else "cpp").parse(data)
        _TREES[unit] = NativeTree(tree.root_node, data, _first_error(tree.root_node))
    return _TREES[unit]


def _first_error(root: Node) -> int | None:
    if not root.has_error:
        return None
    stack = [root]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            return node.start_point[0] + 1
        if node.has_error:
            stack.extend(reversed(node.children))
    return root.start_point[0] + 1


def text(node: Node | None) -> str:
    return node.text.decode("utf-8", errors="replace") if node is not None and node.text is not None else ""


def line(node: Node) -> int:
    return node.start_point[0] + 1


def walk(node: Node) -> Iterator[Node]:
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(n.children))


def of_type(node: Node, *types: str) -> Iterator[Node]:
    return (n for n in walk(node) if n.type in types)


def subscript_parts(node: Node) -> tuple[Node | None, Node | None]:
    """(array, index) of a subscript expression in either grammar."""
    array = node.child_by_field_name("argument")
    index = node.child_by_field_name("index")
    if index is None:
        indices = node.child_by_field_name("indices")
        if indices is not None:
            named = [c for c in indices.named_children]
            index = named[0] if named else None
    return array, index


def functions(root: Node) -> Iterator[tuple[str, Node, list[str], Node]]:
    """(name, definition, parameter names, body) of every function definition."""
    for fn in of_type(root, "function_definition"):
        decl = fn.child_by_field_name("declarator")
        while decl is not None and decl.type not in ("function_declarator",):
            decl = decl.child_by_field_name("declarator")
        body = fn.child_by_field_name("body")
        if decl is None or body is None:
            continue
        name = text(decl.child_by_field_name("declarator")).split("::")[-1]
        params = []
        plist = decl.child_by_field_name("parameters")
        for p in (plist.named_children if plist is not None else []):
            ids = [n for n in of_type(p, "identifier")]
            if ids:
                params.append(text(ids[-1]))
        yield name, fn, params, body


def is_write_target(node: Node) -> bool:
    """True when `node` (a subscript) is assigned to, compound-assigned or incremented."""
    parent = node.parent
    if parent is None:
        return False
    if parent.type == "update_expression":
        return True
    if parent.type == "assignment_expression" and parent.child_by_field_name("left") == node:
        return True
    return False
