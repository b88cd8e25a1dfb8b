"""What a value is made of, by structure: a constant or a setting, a measured length, a clock.

Used by the scoring rules to tell a cut to a fixed count (`val[:2_000_000]`, `[:N]` with
`N = int(os.environ.get(...))`, a parameter with a constant default) from a trim measured from
the data (`val[:usable + 1]` with `usable` computed from `numel()`), and a loop bound on a step
count from one on the data's own length. Names never decide: only what a name is bound to.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence

from .declared import Fact, need, provides
from .index import FUNCTIONS, Scope, UnitIndex, walk

LENGTH_CALLS = frozenset({"len", "numel", "size", "nelement", "count"})
LENGTH_ATTRS = frozenset({"shape"})
CLOCK_CALLS = frozenset({"time.time", "time.perf_counter", "time.monotonic", "time.time_ns",
                         "time.perf_counter_ns", "time.monotonic_ns"})
ENV_CALLS = frozenset({"os.environ.get", "os.getenv"})
MAX_DEPTH = 12


def _scope_at(idx: UnitIndex, node: ast.AST) -> Scope:
    return idx.scope_containing(node)


@provides(Fact.VALUES)
def measured(idx: UnitIndex, expr: ast.AST) -> bool:
    """Does `expr` (through its reaching definitions) measure data: `len(x)`, `x.numel()`, `x.shape`?"""
    scope = _scope_at(idx, expr)
    for node in scope.closure(expr):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if name in LENGTH_CALLS:
                return True
        elif isinstance(node, ast.Attribute) and node.attr in LENGTH_ATTRS:
            return True
    return False


@provides(Fact.VALUES)
def clocked(idx: UnitIndex, expr: ast.AST) -> bool:
    """Does `expr` (through its reaching definitions) read a clock?"""
    scope = _scope_at(idx, expr)
    return any(isinstance(n, ast.Call) and (idx.imports.call_name(n) or "") in CLOCK_CALLS
               for n in scope.closure(expr))


def _parameter_default(idx: UnitIndex, name: ast.Name) -> ast.expr | None:
    """The default of the enclosing function's parameter `name`, if it is one."""
    fn = idx.enclosing_function(name)
    while fn is not None:
        a = fn.args
        positional = [*a.posonlyargs, *a.args]
        defaults = dict(zip([p.arg for p in positional[len(positional) - len(a.defaults):]], a.defaults))
        defaults.update({p.arg: d for p, d in zip(a.kwonlyargs, a.kw_defaults) if d is not None})
        if name.id in defaults:
            return defaults[name.id]
        if any(p.arg == name.id for p in (*positional, *a.kwonlyargs)):
            return None
        fn = idx.enclosing_function(fn)
    return None


class FixedBound:
    """Is an expression a constant or a configured setting (not computed from the data)?

    `value` is the number when it is known (a literal, or a setting's default, or the value a run
    command gives the setting when `overrides` names it: environment variable -> number).
    Unknown expressions (a parameter without default, a computed count) are not fixed."""

    def __init__(self, idx: UnitIndex, overrides: Mapping[str, float] | None = None,
                 runs: Sequence[Mapping[str, float]] | None = None):
        """`runs`: the settings of each run command, when the caller knows them. Only then is a
        definition in a branch that no run takes (its test decided against it by the settings of
        every run, and by the defaults) passed over; without them every definition counts."""
        need(Fact.VALUES)
        self.idx = idx
        self.overrides = overrides or {}
        self.runs = None if runs is None else [dict(self.overrides)] + [{**dict(r), **self.overrides} for r in runs]

    def __call__(self, expr: ast.AST) -> tuple[bool, float | None]:
        return self._fixed(expr, 0)

    def _fixed(self, node: ast.AST, depth: int) -> tuple[bool, float | None]:
        idx = self.idx
        if depth > MAX_DEPTH or node is None:
            return False, None
        if isinstance(node, ast.Constant):
            ok = isinstance(node.value, (int, float)) and not isinstance(node.value, bool)
            return ok, (node.value if ok else None)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            ok, v = self._fixed(node.operand, depth + 1)
            return ok, (-v if v is not None else None)
        if isinstance(node, ast.Call):
            name = idx.imports.call_name(node) or ""
            if name in ENV_CALLS:
                key = node.args[0] if node.args else None
                if isinstance(key, ast.Constant) and key.value in self.overrides:
                    return True, self.overrides[key.value]
                default = node.args[1] if len(node.args) > 1 else None
                value = None
                if isinstance(default, ast.Constant):
                    try:
                        value = float(default.value)
                    except (TypeError, ValueError):
                        value = None
                return True, value
            if name in ("int", "float", "builtins.int", "builtins.float") and node.args:
                return self._fixed(node.args[0], depth + 1)
            if name in ("min", "builtins.min") and len(node.args) > 1:
                # capped by a fixed count even when another argument is measured from the data
                found = [self._fixed(a, depth + 1) for a in node.args]
                values = [v for ok, v in found if ok and v is not None]
                if any(ok for ok, _ in found):
                    return True, min(values) if values else None
            return False, None
        if isinstance(node, ast.Subscript) and idx.imports.qualname(node.value) == "os.environ":
            key = node.slice
            if isinstance(key, ast.Constant) and key.value in self.overrides:
                return True, self.overrides[key.value]
            return True, None
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.FloorDiv, ast.Pow)):
            (a, x), (b, y) = self._fixed(node.left, depth + 1), self._fixed(node.right, depth + 1)
            if not (a and b):
                return False, None
            try:
                value = None if x is None or y is None else {
                    ast.Add: lambda: x + y, ast.Sub: lambda: x - y, ast.Mult: lambda: x * y,
                    ast.FloorDiv: lambda: x // y, ast.Pow: lambda: x ** y}[type(node.op)]()
            except (ArithmeticError, OverflowError):
                value = None
            return True, value
        if isinstance(node, ast.Name):
            # a definition in a branch no run takes (a smoke-test cap under an unset switch) is
            # passed over, when the runs are known
            values = _scope_at(idx, node).reaching(node.id, (node.lineno, node.col_offset),
                                                   skip=self._switched_off if self.runs is not None else None)
            if values:
                return self._fixed(values[0], depth + 1)
            default = _parameter_default(idx, node)
            if default is not None:
                return self._fixed(default, depth + 1)
            return False, None
        if isinstance(node, ast.Attribute) and node.attr in idx.class_attrs:
            return self._fixed(idx.class_attrs[node.attr], depth + 1)
        return False, None


    def _switched_off(self, node: ast.AST) -> bool:
        """Does `node` sit in an `if` branch whose test the environment settings decide against it?"""
        parents = self.idx.parents
        child, parent = node, parents.get(id(node))
        while parent is not None and not isinstance(parent, FUNCTIONS):
            if isinstance(parent, ast.If) and child is not parent.test:
                wanted = any(child is stmt for stmt in parent.body)
                decided = [self._env_test(parent.test, settings) for settings in self.runs or []]
                if decided and all(holds is not None and holds != wanted for holds in decided):
                    return True
            child, parent = parent, parents.get(id(parent))
        return False

    def _env_test(self, test: ast.AST, settings: Mapping[str, float]) -> bool | None:
        """`os.environ.get("X") == "1"` (or `!=`, or the read wrapped in int/float/str) decided from
        the run's setting of X, else the read's default (none: unset); None when not of that form."""
        if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], (ast.Eq, ast.NotEq))):
            return None
        left, right = test.left, test.comparators[0]
        if isinstance(left, ast.Constant):
            left, right = right, left
        if not isinstance(right, ast.Constant):
            return None
        while isinstance(left, ast.Call) and (self.idx.imports.call_name(left) or "") in _CASTS and left.args:
            left = left.args[0]
        if not (isinstance(left, ast.Call) and (self.idx.imports.call_name(left) or "") in ENV_CALLS and left.args
                and isinstance(left.args[0], ast.Constant)):
            return None
        key = left.args[0].value
        if key in settings:
            value: object = settings[key]
        elif len(left.args) > 1:
            if not isinstance(left.args[1], ast.Constant):
                return None
            value = left.args[1].value
        else:
            value = None  # unset: the read gives None
        equal = _same_setting(value, right.value)
        return equal if isinstance(test.ops[0], ast.Eq) else not equal


_CASTS = frozenset({"int", "float", "str", "builtins.int", "builtins.float", "builtins.str"})


def _same_setting(value: object, literal: object) -> bool:
    if value is None or literal is None:
        return value is literal
    try:
        return float(value) == float(literal)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value) == str(literal)


@provides(Fact.VALUES)
def loop_of(idx: UnitIndex, node: ast.AST) -> ast.AST | None:
    """The innermost loop around `node` inside its function."""
    parent = idx.parents.get(id(node))
    while parent is not None and not isinstance(parent, FUNCTIONS):
        if isinstance(parent, (ast.For, ast.AsyncFor, ast.While)):
            return parent
        parent = idx.parents.get(id(parent))
    return None


def _deep_closure(idx: UnitIndex, expr: ast.AST, limit: int = 2000) -> list[ast.AST]:
    """`closure`, also through class settings (`args.cap` -> the class body's `cap = ...`)."""
    out: list[ast.AST] = []
    seen: set[int] = set()
    stack = [expr]
    while stack and len(out) < limit:
        node = stack.pop()
        for n in _scope_at(idx, node).closure(node):
            if id(n) in seen:
                continue
            seen.add(id(n))
            out.append(n)
            if isinstance(n, ast.Attribute) and n.attr in idx.class_attrs:
                stack.append(idx.class_attrs[n.attr])
    return out


def _reaching_all(idx: UnitIndex, name: ast.Name) -> list[ast.AST]:
    """Every definition of `name` in its scope (a cap reduced later by `cap -= reserve`)."""
    scope = _scope_at(idx, name)
    return [v for _, v in scope.defs.get(name.id, []) if v is not None]


class TrainingTimer:
    """Where the training loop compares a clock with the training cap, and whether time is
    reserved inside it: the cap (a setting equal to the track's training seconds, or that in ms)
    reduced by a positive constant or setting before the comparison."""

    def __init__(self, idx: UnitIndex, train_seconds: float):
        need(Fact.VALUES)
        self.idx = idx
        self.caps = {float(train_seconds), float(train_seconds) * 1000.0}
        self.fixed = FixedBound(idx)
        self.timers: list[tuple[int, bool]] = []     # (line, reserved)
        if idx.unit.tree is None:
            return
        for node in idx.unit.nodes(ast.Compare):
            operands = [node.left, *node.comparators]
            clock = [o for o in operands if clocked(idx, o)]
            if not clock:
                continue
            for other in operands:
                if other in clock:
                    continue
                closure = _deep_closure(idx, other)
                limits = [v for v in (self._cap_value(n) for n in closure) if v is not None]
                if not limits:
                    continue
                # a cap set below the track's limit (590 s), a cap minus a reserve, or an assertion
                # that training plus calibration fit: time is reserved
                below = any(v < min(c for c in self.caps if c >= v) for v in limits)
                in_assert = isinstance(idx.statement_of(node), ast.Assert)
                self.timers.append((node.lineno, below or in_assert or self._reserved(other, closure)))

    def _cap_value(self, node: ast.AST) -> float | None:
        """A number (or a setting's default text) between half the track's training limit and the
        limit, in seconds or milliseconds: the training timer's cap."""
        if not isinstance(node, ast.Constant) or isinstance(node.value, bool):
            return None
        try:
            value = float(node.value)
        except (TypeError, ValueError):
            return None
        return value if any(cap / 2 <= value <= cap for cap in self.caps) else None

    def _reserved(self, expr: ast.AST, closure: list[ast.AST]) -> bool:
        candidates = list(closure)
        for n in closure:
            if isinstance(n, ast.Name):
                candidates.extend(_reaching_all(self.idx, n))
        for n in candidates:
            if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Sub) and not clocked(self.idx, n.right):
                ok, value = self.fixed(n.right)
                if ok and value is not None and value > 0:
                    return True
                if not ok and any(self._is_setting(m) for m in _deep_closure(self.idx, n.right)):
                    return True   # a reserve computed from a setting we cannot evaluate
        return False

    def _is_setting(self, node: ast.AST) -> bool:
        """An environment setting whose default is a positive number."""
        if not (isinstance(node, ast.Call) and (self.idx.imports.call_name(node) or "") in ENV_CALLS
                and len(node.args) > 1 and isinstance(node.args[1], ast.Constant)):
            return False
        try:
            return float(node.args[1].value) > 0
        except (TypeError, ValueError):
            return False


__all__ = ["FixedBound", "TrainingTimer", "clocked", "loop_of", "measured", "walk"]
