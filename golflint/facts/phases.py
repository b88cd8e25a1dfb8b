"""When a piece of code runs: during evaluation, at import time, only under a command, or otherwise.

Structure decides, never names; the API vocabulary (no-grad contexts, training steps, losses) is
the rulebook's (facts/semantics.py):
- a *scoring function* has a no-grad region that accumulates (`total += ...`) the result of a call
  (a model forward, a loss): the evaluation loop;
- a *training function* takes a training step (`.backward()`, `torch.autograd.grad`, an
  optimizer's `.step()`; directly or through calls) and is not a scoring function;
- a *scoring loop* is a loop that accumulates a forward or a loss under no-grad, or calls a
  scoring function (a training loop also sums its losses, but not under no-grad);
- in any body (a function's or the module's), statements after the last one that trains run after
  training ends, so they belong to evaluation (quantize, round-trip, final score);
- evaluation is everything those reach through calls resolved inside the submission's own units;
- module-level code runs at import time, unless an `if` on `sys.argv` or on parsed arguments guards
  it (a data-preparation command such as `python train_gpt.py download`).
"""

from __future__ import annotations

import ast
import enum
import weakref
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..code.units import CodeUnit
from ..memo import folder_memo
from .declared import Fact, provides
from .index import FUNCTIONS, UnitIndex, imported_root, index_of, walk
from .semantics import Semantics

if TYPE_CHECKING:
    from ..submission import Submission

LOOPS = (ast.For, ast.AsyncFor, ast.While)
BUILTINS = frozenset({"len", "float", "int", "sum", "min", "max", "abs", "round", "range", "bool",
                      "str", "print", "enumerate", "zip", "sorted", "list", "tuple"})


class Phase(str, enum.Enum):
    EVAL = "evaluation"
    IMPORT = "import time"
    COMMAND = "a separate command"
    OTHER = "training or set-up"


def _module_name(unit: CodeUnit) -> str:
    path = unit.path.removesuffix(".py")
    return path.replace("/", ".").removesuffix(".__init__")


class ProgramPhases:
    def __init__(self, units: Iterable[CodeUnit], semantics: Semantics):
        self.semantics = semantics
        self.units = [u for u in units if u.tree is not None]
        self.index = {id(u): index_of(u) for u in self.units}
        self.by_module = {_module_name(u): u for u in self.units if u.layer == 0}
        # (unit id, function node id) -> list of (unit, callee function node)
        self.calls: dict[tuple[int, int], list[tuple[CodeUnit, ast.AST]]] = {}
        self._owner: dict[int, CodeUnit] = {}
        self._nograd_ids: dict[int, set[int]] = {}   # id(function) -> ids of its no-grad nodes
        for unit in self.units:
            idx = self.index[id(unit)]
            for scope in idx.scopes:
                callees = []
                for node in scope.of(ast.Call):
                    callees.extend(self.resolve_call(unit, node))
                self.calls[(id(unit), id(scope.node))] = callees
                self._owner[id(scope.node)] = unit
        self.scoring = {id(fn) for unit in self.units for fn in self._functions(unit)
                        if self._is_scoring(unit, fn)}
        self.training = self._training_functions()
        self._post_training_nodes: set[int] = set()
        self.eval_functions = self._reach(self._eval_roots())
        self.every_run = self._reach(self._module_callees(guarded=False))
        self.command_only = self._reach(self._module_callees(guarded=True)) - self.every_run

    # -- call resolution --------------------------------------------------------------------------
    def _functions(self, unit: CodeUnit) -> list[ast.AST]:
        return [fn for fns in self.index[id(unit)].functions.values() for fn in fns]

    def resolve_call(self, unit: CodeUnit, call: ast.Call) -> list[tuple[CodeUnit, ast.AST]]:
        idx = self.index[id(unit)]
        func = call.func
        if isinstance(func, ast.Name) and func.id in idx.functions:
            return [(unit, fn) for fn in idx.functions[func.id]]
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) \
                and func.value.id in ("self", "cls") and func.attr in idx.functions:
            return [(unit, fn) for fn in idx.functions[func.attr]]
        if not imported_root(idx.imports, call):
            return []
        qualname = idx.imports.qualname(func) or ""
        module, _, name = qualname.rpartition(".")
        target = self.by_module.get(module)
        if target is not None and target is not unit:
            fns = self.index[id(target)].functions.get(name, [])
            return [(target, fn) for fn in fns]
        return []

    # -- classification ---------------------------------------------------------------------------
    def _is_scoring(self, unit: CodeUnit, fn: ast.AST) -> bool:
        idx = self.index[id(unit)]
        scope = idx.scope_for(fn)
        for region in self._nograd_regions(unit, fn):
            for node in walk(region):
                if self._accumulates_forward(idx, scope, node):
                    return True
        return False

    def _nograd(self, idx: UnitIndex, expr: ast.AST) -> bool:
        return idx.imports.qualname(expr.func if isinstance(expr, ast.Call) else expr) \
            in self.semantics.nograd_contexts

    def _nograd_regions(self, unit: CodeUnit, fn: ast.AST) -> list[ast.AST]:
        idx = self.index[id(unit)]
        if any(self._nograd(idx, d) for d in getattr(fn, "decorator_list", ())):
            return [fn]
        scope = idx.scope_for(fn)
        # (callers only ask whether a node lies in one, so With before AsyncWith is no matter)
        return [node for node in (*scope.of(ast.With), *scope.of(ast.AsyncWith))
                if any(self._nograd(idx, item.context_expr) for item in node.items)]

    def _accumulates_forward(self, idx: UnitIndex, scope, node: ast.AST) -> bool:
        """`total += <something computed from a model forward or a loss>`."""
        return isinstance(node, ast.AugAssign) and isinstance(node.op, ast.Add) \
            and isinstance(node.target, (ast.Name, ast.Attribute, ast.Subscript)) \
            and any(self._is_forward_or_loss(idx, c) for c in scope.closure(node.value))

    def _is_forward_or_loss(self, idx: UnitIndex, node: ast.AST) -> bool:
        if not isinstance(node, ast.Call):
            return False
        name = idx.imports.call_name(node) or ""
        if self.semantics.is_loss(name):
            return True
        func = node.func
        if isinstance(func, ast.Name):
            return func.id not in BUILTINS and func.id not in idx.imports.aliases
        return isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) \
            and func.value.id == "self"

    def is_training_step(self, unit: CodeUnit, node: ast.AST) -> bool:
        """A call that trains (the rulebook's training steps)."""
        if not isinstance(node, ast.Call):
            return False
        method = node.func.attr if isinstance(node.func, ast.Attribute) else None
        qualname = self.index[id(unit)].imports.call_name(node) or ""
        return self.semantics.is_training_step(qualname, method)

    def _has_backward(self, unit: CodeUnit, scope_node: ast.AST) -> bool:
        scope = self.index[id(unit)].scope_for(scope_node)
        return any(self.is_training_step(unit, n) for n in scope.of(ast.Call))

    def scoring_loop(self, unit: CodeUnit, loop: ast.AST) -> bool:
        """Does this loop score: accumulate a forward or a loss under no-grad, or call a scoring
        function? (A loop that only sums other things, such as a pruning budget, does not.)"""
        idx = self.index[id(unit)]
        fn = idx.enclosing_function(loop)
        scope = idx.scope_for(fn) if fn is not None else idx.module
        nograd = self._nograd_ids.get(id(fn))
        if nograd is None:
            nograd = self._nograd_ids[id(fn)] = {
                id(n) for r in (self._nograd_regions(unit, fn) if fn is not None else []) for n in walk(r)}
        for node in walk(loop):
            if id(node) in nograd and self._accumulates_forward(idx, scope, node):
                return True
            if isinstance(node, ast.Call) and any(id(callee) in self.scoring
                                                  for _, callee in self.resolve_call(unit, node)):
                return True
        return False

    def _training_functions(self) -> set[int]:
        trains = {id(fn) for unit in self.units for fn in self._functions(unit)
                  if id(fn) not in self.scoring and self._has_backward(unit, fn)}
        changed = True
        while changed:
            changed = False
            for unit in self.units:
                for fn in self._functions(unit):
                    if id(fn) in trains or id(fn) in self.scoring:
                        continue
                    if any(id(c) in trains for _, c in self.calls.get((id(unit), id(fn)), ())):
                        trains.add(id(fn))
                        changed = True
        return trains

    def _statement_trains(self, unit: CodeUnit, stmt: ast.stmt) -> bool:
        for node in walk(stmt):
            if isinstance(node, ast.Call):
                if self.is_training_step(unit, node):
                    return True
                if any(id(fn) in self.training for _, fn in self.resolve_call(unit, node)):
                    return True
        return False

    def post_training(self, unit: CodeUnit, body: list[ast.stmt]) -> list[ast.stmt]:
        """The statements of `body` after its last statement that trains."""
        last = -1
        for i in range(len(body) - 1, -1, -1):  # from the end: the first that trains is the last
            stmt = body[i]
            if not isinstance(stmt, (*FUNCTIONS, ast.ClassDef)) and self._statement_trains(unit, stmt):
                last = i
                break
        # definitions after it only bind names; their bodies run when called
        return [s for s in body[last + 1:] if not isinstance(s, (*FUNCTIONS, ast.ClassDef))] if last >= 0 else []

    def _eval_roots(self) -> list[tuple[CodeUnit, ast.AST]]:
        roots = [(unit, fn) for unit in self.units for fn in self._functions(unit)
                 if id(fn) in self.scoring]
        for unit in self.units:
            bodies = [unit.tree.body] + [fn.body for fn in self._functions(unit)
                                         if id(fn) in self.training]
            for body in bodies:
                for stmt in self.post_training(unit, body):
                    for node in walk(stmt):
                        self._post_training_nodes.add(id(node))
                        if isinstance(node, ast.Call):
                            roots.extend(self.resolve_call(unit, node))
        return roots

    def _module_callees(self, guarded: bool) -> list[tuple[CodeUnit, ast.AST]]:
        out = []
        for unit in self.units:
            idx = self.index[id(unit)]
            for node in idx.module.of(ast.Call):
                if self.command_guarded(unit, node) == guarded:
                    out.extend(self.resolve_call(unit, node))
        return out

    def _reach(self, roots: list[tuple[CodeUnit, ast.AST]]) -> set[int]:
        seen: set[int] = set()
        stack = list(roots)
        while stack:
            unit, fn = stack.pop()
            if id(fn) in seen:
                continue
            seen.add(id(fn))
            stack.extend(self.calls.get((id(unit), id(fn)), ()))
        return seen

    def command_guarded(self, unit: CodeUnit, node: ast.AST) -> bool:
        """Is `node` inside the body of an `if` that tests the command line?"""
        idx = self.index[id(unit)]
        child, parent = node, idx.parents.get(id(node))
        while parent is not None and not isinstance(parent, FUNCTIONS):
            if isinstance(parent, ast.If) and child in parent.body and self._tests_command(unit, parent.test):
                return True
            child, parent = parent, idx.parents.get(id(parent))
        return False

    def _tests_command(self, unit: CodeUnit, test: ast.AST) -> bool:
        idx = self.index[id(unit)]
        scope = idx.scope_containing(test)
        for node in walk(test):
            if isinstance(node, ast.Attribute) and idx.imports.qualname(node) == "sys.argv":
                return True
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                for value in scope.reaching(node.value.id, (node.lineno, node.col_offset)):
                    if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) \
                            and value.func.attr in ("parse_args", "parse_known_args"):
                        return True
        return False

    # -- the answer -------------------------------------------------------------------------------
    def phase(self, unit: CodeUnit, node: ast.AST) -> Phase:
        idx = self.index.get(id(unit))
        if idx is None:
            return Phase.OTHER
        if id(node) in self._post_training_nodes:
            return Phase.EVAL
        fn = idx.enclosing_function(node)
        if fn is None:
            return Phase.COMMAND if self.command_guarded(unit, node) else Phase.IMPORT
        if id(fn) in self.eval_functions:
            return Phase.EVAL
        if id(fn) in self.command_only or self.command_guarded(unit, node):
            return Phase.COMMAND
        return Phase.OTHER


_CACHE: weakref.WeakKeyDictionary[Submission, ProgramPhases] = folder_memo(weakref.WeakKeyDictionary())


@provides(Fact.PHASES)
def phases_of(sub: Submission) -> ProgramPhases:
    found = _CACHE.get(sub)
    if found is None:
        found = _CACHE[sub] = ProgramPhases(sub.python_units, Semantics.from_settings(sub.settings))
    return found
