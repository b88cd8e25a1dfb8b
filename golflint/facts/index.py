"""Cheap, intra-procedural dataflow over one Python unit: scopes, reaching definitions, literal paths.

One walk of the unit's tree builds an index (cached per unit, shared by every rule that asks):
each function's local definitions with the source position where they take effect, the nodes that
belong to each scope, the functions by name, and the class-level settings (`Hyperparameters.x`).

A definition takes effect at the END of its statement, and a use sees the latest definition that
took effect before it. So `h = h * P + tok` reads the previous `h`, and a loop-carried value
(`prev = target` at the bottom of a loop body) is not seen by uses earlier in that body: those read
the previous iteration's value, which is exactly the "already scored" token. That one ordering rule
is what keeps the prediction rules precise without a full control-flow graph.
"""

from __future__ import annotations

import ast
import bisect
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..code.names import ImportMap, string_value
from ..code.units import CHILD_FIELDS, CodeUnit, child_fields, group_by_type
from ..memo import folder_memo
from .declared import Fact, provides

FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
Pos = tuple[int, int]

# Methods that return the same tokens in another shape or dtype: `y.unsqueeze(-1).long()` is `y`.
VIEW_METHODS = frozenset({
    "unsqueeze", "squeeze", "view", "reshape", "view_as", "reshape_as", "flatten", "long", "int",
    "to", "type", "contiguous", "clone", "detach", "cuda", "cpu", "expand", "expand_as", "numpy",
    "tolist", "item", "astype", "asnumpy",
})


def _pos(node: ast.AST) -> Pos:
    return (getattr(node, "lineno", 0), getattr(node, "col_offset", 0))


def _end(node: ast.AST) -> Pos:
    return (getattr(node, "end_lineno", None) or getattr(node, "lineno", 0),
            getattr(node, "end_col_offset", None) or 0)


@dataclass(eq=False)
class Scope:
    """A function (or the module body) with its local definitions in source order."""

    node: ast.AST
    parent: Scope | None = None
    # name -> [(position where it takes effect, value expression or None for opaque)], sorted
    defs: dict[str, list[tuple[Pos, ast.expr | None]]] = field(default_factory=dict)
    # every node that belongs to this scope (nested function bodies belong to their own scope)
    nodes: list[ast.AST] = field(default_factory=list)
    _closures: dict[int, list[ast.AST]] = field(default_factory=dict, repr=False)
    # tables other modules derive from `nodes` once per scope (see `derived`)
    _derived: dict[Any, Any] = field(default_factory=dict, repr=False)

    def derived(self, key: str, build: Callable[[Scope], Any]) -> Any:
        """`build(self)`, computed once per scope: a table over this scope's nodes that the
        fact modules ask for again at every expression they follow."""
        out = self._derived.get(key)
        if out is None:
            out = self._derived[key] = build(self)
        return out

    def of(self, *kinds: type) -> list[ast.AST]:
        """This scope's nodes of these types, in `nodes` order: sorted once per scope, so the many
        questions about its calls (or subscripts, ...) do not scan every node each."""
        if len(kinds) != 1:
            wanted = frozenset(kinds)
            merged = self._derived.get(wanted)
            if merged is None:
                merged = self._derived[wanted] = [n for n in self.nodes if type(n) in wanted]
            return merged
        kind = kinds[0]
        by_type = self._derived.get("by_type")
        if by_type is None:
            by_type = self._derived["by_type"] = group_by_type(self.nodes)
        return by_type.get(kind, [])

    @property
    def name(self) -> str:
        return getattr(self.node, "name", "<module>")

    def add(self, name: str, pos: Pos, value: ast.expr | None) -> None:
        bisect.insort(self.defs.setdefault(name, []), (pos, value), key=lambda d: d[0])

    def reaching(self, name: str, at: Pos, skip: Callable[[ast.expr], bool] | None = None) -> list[ast.expr]:
        """The value of the latest definition of `name` before `at` (enclosing scopes for free names).
        `skip`: definitions passed over for the one before them (a branch no run takes)."""
        entries = self.defs.get(name)
        if entries:
            i = bisect.bisect_left(entries, at, key=lambda d: d[0])
            # none before `at`: bound here, but only later (a loop-carried or not-yet-bound value)
            for _pos, value in reversed(entries[:i]):
                if value is None:
                    return []
                if skip is None or not skip(value):
                    return [value]
            return []
        scope = self.parent
        while scope is not None:
            outer = scope.defs.get(name)
            if outer:
                value = outer[-1][1]
                return [value] if value is not None else []
            scope = scope.parent
        return []

    def closure(self, expr: ast.AST) -> list[ast.AST]:
        """Every node of `expr` and, through the names it reads, of their reaching definitions.

        Cached: the prediction rules ask for the same expressions' dependencies many times."""
        found = self._closures.get(id(expr))
        if found is None:
            found = self._closures[id(expr)] = self._closure(expr)
        return found

    def _closure(self, expr: ast.AST) -> list[ast.AST]:
        """Each expression's nodes in `walk`'s order (walked here, as a list: no generator per
        expression), then the reaching definitions its names read, last found first."""
        out: list[ast.AST] = []
        stack = [expr]
        seen: set[int] = {id(expr)}
        fields, AST, Name, Load = CHILD_FIELDS, ast.AST, ast.Name, ast.Load
        while stack:
            below = [stack.pop()]
            while below:
                node = below.pop()
                out.append(node)
                kind = type(node)
                if kind is Name and isinstance(node.ctx, Load):
                    for value in self.reaching(node.id, _pos(node)):
                        if id(value) not in seen:
                            seen.add(id(value))
                            stack.append(value)
                names = fields.get(kind)
                if names is None:
                    names = child_fields(kind)
                for name in names:   # what `walk` pushes, in its order (inline: no call per node)
                    value = getattr(node, name)
                    if type(value) is list:
                        for item in value:
                            if isinstance(item, AST):
                                below.append(item)
                    elif isinstance(value, AST):
                        below.append(value)
        return out


class UnitIndex:
    """Scopes, functions and class settings of one Python unit, built in one walk."""

    def __init__(self, unit: CodeUnit):
        self.unit = unit
        self.imports: ImportMap = unit.imports
        self.module = Scope(unit.tree)
        self.scopes: list[Scope] = [self.module]
        self.scope_of: dict[int, Scope] = {}      # id(function node) -> its scope
        self.functions: dict[str, list[ast.AST]] = {}
        self.class_attrs: dict[str, ast.expr] = {}
        self.parents: dict[int, ast.AST] = {}
        if unit.tree is not None:
            self._visit(list(ast.iter_child_nodes(unit.tree)), unit.tree, self.module)

    # -- building ---------------------------------------------------------------------------------
    def _bind(self, scope: Scope, target: ast.AST, value: ast.expr | None, pos: Pos) -> None:
        if isinstance(target, ast.Name):
            scope.add(target.id, pos, value)
        elif isinstance(target, (ast.Tuple, ast.List)):
            pairs = value.elts if isinstance(value, (ast.Tuple, ast.List)) and \
                len(value.elts) == len(target.elts) else [value] * len(target.elts)
            for elt, part in zip(target.elts, pairs):
                self._bind(scope, elt, part, pos)
        elif isinstance(target, ast.Starred):
            self._bind(scope, target.value, value, pos)

    def _visit(self, children: list[ast.AST], parent: ast.AST, scope: Scope) -> None:
        stack = list(children)
        parents, nodes, record, fields = self.parents, scope.nodes, _DEF_KINDS, CHILD_FIELDS
        for child in stack:
            parents[id(child)] = parent
        while stack:
            node = stack.pop()
            nodes.append(node)
            kind = type(node)
            if kind in _SCOPE_KINDS:
                self._enter_function(node, scope)
                continue
            if kind is ast.ClassDef:
                self._class_settings(node, scope)
            elif kind in record:
                self._record_defs(node, scope)
            names = fields.get(kind)
            if names is None:
                names = child_fields(kind)
            for name in names:
                value = getattr(node, name)
                if type(value) is list:
                    for item in value:
                        if isinstance(item, ast.AST):
                            parents[id(item)] = node
                            stack.append(item)
                elif isinstance(value, ast.AST):
                    parents[id(value)] = node
                    stack.append(value)

    def _class_settings(self, node: ast.ClassDef, scope: Scope) -> None:
        scope.add(node.name, _end(node), None)
        for stmt in node.body:
            if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None:
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                for t in targets:
                    if isinstance(t, ast.Name):
                        self.class_attrs.setdefault(t.id, stmt.value)

    def _enter_function(self, node: ast.AST, outer: Scope) -> None:
        inner = Scope(node, parent=outer)
        self.scopes.append(inner)
        self.scope_of[id(node)] = inner
        if not isinstance(node, ast.Lambda):
            outer.add(node.name, _end(node), None)
            self.functions.setdefault(node.name, []).append(node)
            # decorators and defaults run in the enclosing scope
            self._visit([*node.decorator_list, *node.args.defaults,
                         *(d for d in node.args.kw_defaults if d is not None)], node, outer)
        args = node.args
        for a in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg):
            if a is not None:
                inner.add(a.arg, _pos(node), None)
        self._visit(node.body if isinstance(node.body, list) else [node.body], node, inner)

    def _record_defs(self, node: ast.AST, scope: Scope) -> None:
        if isinstance(node, ast.Assign):
            for t in node.targets:
                self._bind(scope, t, node.value, _end(node))
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            self._bind(scope, node.target, node.value, _end(node))
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            value = ast.BinOp(left=ast.Name(node.target.id, ast.Load(), lineno=node.lineno,
                                            col_offset=node.col_offset),
                              op=node.op, right=node.value)
            ast.copy_location(value, node)
            scope.add(node.target.id, _end(node), value)
        elif isinstance(node, ast.NamedExpr):
            self._bind(scope, node.target, node.value, _end(node))
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            self._bind(scope, node.target, node.iter, _end(node.target))
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if item.optional_vars is not None:
                    self._bind(scope, item.optional_vars, item.context_expr, _end(item.optional_vars))
        elif isinstance(node, COMPREHENSIONS):
            for gen in node.generators:
                self._bind(scope, gen.target, gen.iter, _pos(node))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                scope.add((alias.asname or alias.name).split(".")[0], _end(node), None)

    # -- queries ----------------------------------------------------------------------------------
    def scope_for(self, function: ast.AST) -> Scope:
        return self.scope_of.get(id(function), self.module)

    def enclosing_function(self, node: ast.AST) -> ast.AST | None:
        parent = self.parents.get(id(node))
        while parent is not None and not isinstance(parent, FUNCTIONS):
            parent = self.parents.get(id(parent))
        return parent

    def scope_containing(self, node: ast.AST) -> Scope:
        fn = self.enclosing_function(node)
        return self.scope_for(fn) if fn is not None else self.module

    def statement_of(self, node: ast.AST) -> ast.AST:
        while not isinstance(node, ast.stmt):
            parent = self.parents.get(id(node))
            if parent is None:
                return node
            node = parent
        return node

    def resolve_string(self, expr: ast.AST | None, scope: Scope, depth: int = 0) -> str | None:
        """A string a path expression evaluates to, with '*' for the parts that are not literal.

        Follows local names, module constants, class settings (`args.data_path` -> the class body
        `data_path = os.environ.get("DATA_PATH", "./data")`), environment defaults, os.path.join,
        `Path(a) / b`, `+` and f-strings. None when nothing literal is known.
        """
        if expr is None or depth > 8:
            return None
        literal = string_value(expr)
        if literal is not None:
            return literal
        if isinstance(expr, ast.Name):
            values = scope.reaching(expr.id, _pos(expr))
            return self.resolve_string(values[0], scope, depth + 1) if values else None
        if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name) \
                and expr.attr in self.class_attrs:
            return self.resolve_string(self.class_attrs[expr.attr], self.module, depth + 1)
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, (ast.Add, ast.Div)):
            left = self.resolve_string(expr.left, scope, depth + 1)
            right = self.resolve_string(expr.right, scope, depth + 1)
            if left is None and right is None:
                return None
            sep = "/" if isinstance(expr.op, ast.Div) else ""
            return f"{left or '*'}{sep}{right or '*'}"
        if isinstance(expr, ast.Call):
            name = self.imports.call_name(expr) or ""
            last = name.rsplit(".", 1)[-1]
            if name in ("os.environ.get", "os.getenv") and len(expr.args) >= 2:
                return self.resolve_string(expr.args[1], scope, depth + 1)
            if name in ("os.path.join", "posixpath.join") and expr.args:
                parts = [self.resolve_string(a, scope, depth + 1) for a in expr.args]
                if all(p is None for p in parts):
                    return None
                return "/".join(p or "*" for p in parts)
            if last in ("Path", "PurePath", "str", "fspath", "expanduser", "abspath", "realpath") \
                    and expr.args:
                return self.resolve_string(expr.args[0], scope, depth + 1)
            if isinstance(expr.func, ast.Attribute) and expr.func.attr in ("resolve", "absolute",
                                                                           "expanduser"):
                return self.resolve_string(expr.func.value, scope, depth + 1)
        return None


_SCOPE_KINDS = frozenset({*FUNCTIONS, ast.Lambda})
_DEF_KINDS = frozenset({ast.Assign, ast.AnnAssign, ast.AugAssign, ast.NamedExpr, ast.For, ast.AsyncFor,
                        ast.With, ast.AsyncWith, ast.Import, ast.ImportFrom, *COMPREHENSIONS})
def walk(node: ast.AST) -> Iterator[ast.AST]:
    """`ast.walk` without expression contexts and operator singletons (about twice as fast)."""
    stack = [node]
    push, pop, fields, AST = stack.append, stack.pop, CHILD_FIELDS, ast.AST
    while stack:
        node = pop()
        yield node
        names = fields.get(type(node))
        if names is None:
            names = child_fields(type(node))
        for name in names:
            value = getattr(node, name)
            if type(value) is list:
                for item in value:   # a loop: a generator per list cost more than its items
                    if isinstance(item, AST):
                        push(item)
            elif isinstance(value, AST):
                push(value)


def imported_root(imports: ImportMap, call: ast.Call) -> bool:
    """Does the called name start at an imported module or name (`requests.get`, `np.load`)?"""
    func = call.func
    while isinstance(func, ast.Attribute):
        func = func.value
    return isinstance(func, ast.Name) and func.id in imports.aliases


_CACHE: weakref.WeakKeyDictionary[CodeUnit, UnitIndex] = folder_memo(weakref.WeakKeyDictionary())


@provides(Fact.INDEX)
def index_of(unit: CodeUnit) -> UnitIndex:
    """The (cached) index of a parsed Python unit."""
    found = _CACHE.get(unit)
    if found is None:
        found = _CACHE[unit] = UnitIndex(unit)
    return found


def strip_views(expr: ast.AST) -> ast.AST:
    """`y.unsqueeze(-1).long()` / `y[..., None]` -> `y`: the same tokens in another shape."""
    while True:
        if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) \
                and expr.func.attr in VIEW_METHODS:
            expr = expr.func.value
        elif isinstance(expr, ast.Subscript) and _only_new_axes(expr.slice):
            expr = expr.value
        else:
            return expr


def _only_new_axes(index: ast.AST) -> bool:
    parts = index.elts if isinstance(index, ast.Tuple) else [index]
    has_new_axis = False
    for p in parts:
        if isinstance(p, ast.Constant) and p.value is None:
            has_new_axis = True
        elif isinstance(p, ast.Constant) and p.value is Ellipsis or isinstance(p, ast.Slice) and p.lower is None and p.upper is None and p.step is None:
            continue
        else:
            return False
    return has_new_axis


def slice_stop(index: ast.AST) -> int | None:
    """The constant negative stop of the last sliced axis (`x[:, :-1]` -> -1), else None."""
    parts = index.elts if isinstance(index, ast.Tuple) else [index]
    for p in reversed(parts):
        if isinstance(p, ast.Slice):
            stop = p.upper
            if isinstance(stop, ast.UnaryOp) and isinstance(stop.op, ast.USub) \
                    and isinstance(stop.operand, ast.Constant) and isinstance(stop.operand.value, int):
                return -stop.operand.value
            return None
    return None


def slice_start(index: ast.AST) -> int | None:
    """The constant positive start of the last sliced axis (`x[:, 1:]` -> 1), else None."""
    parts = index.elts if isinstance(index, ast.Tuple) else [index]
    for p in reversed(parts):
        if isinstance(p, ast.Slice):
            start = p.lower
            if isinstance(start, ast.Constant) and isinstance(start.value, int):
                return start.value
            return None
    return None
