"""Runtime evidence that a native hint gated on the scored token never opened its gate.

GL104's native half reports a branch, gated on the token being scored, that writes a per-position
output (a hint). Whether that hint reaches a score is decided on the Python side, often by values
rather than branches: `mask = valid & (prob >= tau)` with a configured `tau` above any probability
closes the gate without any `if`. golflint does not evaluate such values; the runs do. When

1. every array the gated branch writes reaches Python (through the call into the C function and,
   at most, one `return` of a tuple unpacked by the caller) and flows on only through statements
   that also read one boolean mask built from those arrays (the mask guards every route of the
   hint onward: to scores, returns, attributes, control flow);
2. the code prints the count of that mask (`mask.sum()`, `count_nonzero(mask)`) in an f-string; and
3. every log backing the claims (each claimed seed's matching log; every log when the claims name
   none) prints that line, always with the count 0,

then the gate never opened in the claimed runs: the finding stays, as a warning that says so (the
settings that keep it closed are still one environment variable from leaking the answer). Nothing
here reads a variable or function name for its meaning: names only bind uses to definitions and a
Python call to the C symbol it calls.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterator

from ..logs.counts import identifiable, printed_line, printed_values
from .syntax import line, subscript_parts, text, tree_of, walk

if TYPE_CHECKING:
    from ..code.units import CodeUnit
    from ..submission import Submission

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef
COUNT_CALLS = ("count_nonzero",)
MAX_SHOWN = 160                      # characters of the log line quoted in the message     # numpy/torch: count of a mask's true elements


@dataclass(frozen=True)
class ClosedGate:
    mask: str            # the Python mask, as written
    file: str            # where it is built
    line: int
    shown: str           # the log text showing the zero count
    logs: tuple[str, ...]

    def describe(self) -> str:
        return (f"the gate never opened in the claimed runs: every hint this branch emits reaches the score "
                f"only through `{self.mask}` ({self.file} line {self.line}), and every log backing the "
                f"claims ({', '.join(self.logs)}) prints its count as 0 (`{self.shown}`); settings that "
                "open it would let the answer decide the hint")


# -- the C side: what the gated branch writes ---------------------------------------------------------
JUMPS = ("return_statement", "break_statement", "continue_statement", "goto_statement")


def gated_outputs(unit: "CodeUnit", at_line: int) -> tuple[str, list[int]] | None:
    """(C function, parameter positions) of the per-position arrays written by either branch of
    the `if` whose condition starts on `at_line`, when those arrays are the branch's only way out:
    no jump leaves it (a `continue` or `return` taken on the answer changes what runs next), no
    return value of the function reads a variable the branch assigns, and the branch stores into
    no parameter other than those arrays (state reached through a parameter, `st->bonus = ...`).
    Calls and locals inside the branch, and state updated after it from a variable it assigned,
    are not followed (see docs/packed-native-config.md)."""
    for fn in tree_of(unit).functions:
        for node in fn.nodes.get("if_statement", []):
            cond = node.child_by_field_name("condition")
            if cond is None or line(cond) != at_line:
                continue
            branches = [b for b in (node.child_by_field_name("consequence"),
                                    node.child_by_field_name("alternative")) if b is not None]
            positions: set[int] = set()
            assigned: set[str] = set()
            for branch in branches:
                if fn.within(branch, *JUMPS):
                    return None
                for write in fn.within(branch, "assignment_expression", "update_expression"):
                    target = write.child_by_field_name("left" if write.type == "assignment_expression" else "argument")
                    if target is None:
                        return None
                    if target.type == "subscript_expression" and text(subscript_parts(target)[0]) in fn.params:
                        positions.add(fn.params.index(text(subscript_parts(target)[0])))
                    elif target.type == "identifier":
                        assigned.add(text(target))
                    else:
                        return None       # a field or an element reached through a parameter
            returned = {text(n) for r in fn.nodes.get("return_statement", []) for n in walk(r)
                        if n.type == "identifier"}
            if returned & assigned or assigned & set(fn.params):
                return None
            if positions:
                return fn.name, sorted(positions)
    return None


# -- the Python side: statements as reads and writes ---------------------------------------------------
@dataclass
class _Step:
    node: ast.AST
    reads: set[str]
    binds: set[str]          # names whose value the step sets (plain or element-wise)
    kind: str                # "bind" | "use" | "escape" (stores into something we do not follow)
    # The reads of each value the step passes on separately (the elements of a returned or bound
    # tuple, list or dict), each with what the target reads (`out[mask] = v`): one element that
    # reads no guard carries its value past the guard whatever its siblings read.
    parts: list[set[str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.parts:
            self.parts = [self.reads]


def _parts(value: ast.AST | None, extra: set[str]) -> list[set[str]]:
    if isinstance(value, (ast.Tuple, ast.List, ast.Set)):
        return [p for e in value.elts for p in _parts(e, extra)] or [set(extra)]
    if isinstance(value, ast.Dict):
        return [p for e in value.values for p in _parts(e, extra)] or [set(extra)]
    return [_loads(value) | extra]


def _loads(node: ast.AST | None) -> set[str]:
    if node is None:
        return set()
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _target(t: ast.AST) -> tuple[set[str], set[str], bool]:
    """(bound names, names read by the target, escapes) of an assignment target."""
    if isinstance(t, ast.Name):
        return {t.id}, set(), False
    if isinstance(t, (ast.Tuple, ast.List)):
        binds, reads, escapes = set(), set(), False
        for e in t.elts:
            b, r, x = _target(e.value if isinstance(e, ast.Starred) else e)
            binds |= b
            reads |= r
            escapes |= x
        return binds, reads, escapes
    if isinstance(t, ast.Subscript):
        base = t.value
        while isinstance(base, ast.Subscript):
            base = base.value
        if isinstance(base, ast.Name):
            return {base.id}, _loads(t.slice) | _loads(t.value) - {base.id}, False
    return set(), _loads(t), True


def _steps(body: list[ast.stmt]) -> Iterator[_Step]:
    for stmt in body:
        if isinstance(stmt, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            value = stmt.value
            binds, reads, escapes = set(), _loads(value), False
            for t in targets:
                b, r, x = _target(t)
                binds |= b
                reads |= r
                escapes |= x
            target_reads = reads - _loads(value)
            if isinstance(stmt, ast.AugAssign):
                reads |= binds
                target_reads |= binds
            yield _Step(stmt, reads, binds, "escape" if escapes else "bind", _parts(value, target_reads))
        elif isinstance(stmt, (ast.For, ast.AsyncFor)):
            binds, reads, escapes = _target(stmt.target)
            yield _Step(stmt, _loads(stmt.iter) | reads, binds, "escape" if escapes else "bind")
            yield from _steps(stmt.body + stmt.orelse)
        elif isinstance(stmt, (ast.If, ast.While)):
            yield _Step(stmt.test, _loads(stmt.test), set(), "use")
            yield from _steps(stmt.body + stmt.orelse)
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            for item in stmt.items:
                binds, reads, _ = _target(item.optional_vars) if item.optional_vars is not None else (set(), set(), False)
                yield _Step(item.context_expr, _loads(item.context_expr) | reads, binds, "bind")
            yield from _steps(stmt.body)
        elif isinstance(stmt, ast.Try) or type(stmt).__name__ == "TryStar":
            yield from _steps(stmt.body + stmt.orelse + stmt.finalbody)  # type: ignore[attr-defined]
            for handler in stmt.handlers:  # type: ignore[attr-defined]
                yield from _steps(handler.body)
        elif isinstance(stmt, (ast.Return, ast.Expr)):
            yield _Step(stmt, _loads(stmt), set(), "use", _parts(stmt.value, set()))
        else:
            # nested functions and classes, match, raise, ...
            yield _Step(stmt, _loads(stmt), set(), "use")


def _reach(steps: list[_Step], seeds: set[str], stop: set[str], skip: set[int], exclude: set[str]) -> set[str]:
    """Names whose value derives from `seeds` through steps that do not read `stop`."""
    found = set(seeds)
    changed = True
    while changed:
        changed = False
        for s in steps:
            if id(s.node) in skip or s.kind == "use" or not any(p & found and not p & stop for p in s.parts):
                continue
            new = s.binds - found - exclude
            if new:
                found |= new
                changed = True
    return found


def _escapes(steps: list[_Step], flowing: set[str], guard: set[str], skip: set[int],
             modules: set[str]) -> list[_Step]:
    """Steps that carry a flowing value past the guard: uses (returns, calls for their effect,
    tests) and stores into what is not followed, and any method call on another object given a
    flowing value without the guard (`cache.update(hint)` keeps it, whatever is assigned)."""
    out = []
    for s in steps:
        if id(s.node) in skip:
            continue
        if s.kind != "bind" and any(p & flowing and not p & guard for p in s.parts):
            out.append(s)
            continue
        for call in (n for n in ast.walk(s.node) if isinstance(n, ast.Call)):
            given = set().union(*(_loads(a) for a in (*call.args, *(k.value for k in call.keywords))))
            if not (given & flowing) or given & guard or not isinstance(call.func, ast.Attribute):
                continue
            receiver = call.func.value
            while isinstance(receiver, (ast.Attribute, ast.Subscript, ast.Call)):
                receiver = receiver.func if isinstance(receiver, ast.Call) else receiver.value
            if isinstance(receiver, ast.Name) and receiver.id not in modules and receiver.id not in flowing:
                out.append(s)
                break
    return out


def _mask_source(value: ast.AST) -> bool:
    """A boolean mask: a comparison, or `&` of comparisons and masks."""
    if isinstance(value, ast.Compare):
        return True
    if isinstance(value, ast.BinOp) and isinstance(value.op, ast.BitAnd):
        sides = (value.left, value.right)
        return all(isinstance(s, (ast.Compare, ast.Name, ast.BinOp, ast.Call, ast.Attribute)) for s in sides) \
            and any(_mask_source(s) for s in sides)
    return False


def _counted(value: ast.AST) -> str | None:
    """m when `value` is the number of true elements of the mask m: `m.sum()`, `int(m.sum())`,
    `m.sum().item()`, `np.count_nonzero(m)`."""
    while True:
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id in ("int", "float") \
                and len(value.args) == 1:
            value = value.args[0]
        elif isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr == "item" \
                and not value.args:
            value = value.func.value
        else:
            break
    if not isinstance(value, ast.Call):
        return None
    func = value.func
    if isinstance(func, ast.Attribute) and func.attr == "sum" and not value.args and not value.keywords \
            and isinstance(func.value, ast.Name):
        return func.value.id
    called = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    if called in COUNT_CALLS and len(value.args) == 1 and isinstance(value.args[0], ast.Name):
        return value.args[0].id
    return None


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    out: dict[ast.AST, ast.AST] = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            out[child] = node
    return out


def _enclosing(parents: dict[ast.AST, ast.AST], node: ast.AST, kinds: tuple[type, ...]) -> ast.AST | None:
    node = parents.get(node)  # type: ignore[assignment]
    while node is not None and not isinstance(node, kinds):
        node = parents.get(node)  # type: ignore[assignment]
    return node


def _statement(parents: dict[ast.AST, ast.AST], node: ast.AST) -> ast.AST:
    while not isinstance(node, ast.stmt) and node in parents:
        node = parents[node]
    return node


# -- the analysis --------------------------------------------------------------------------------------
class _Program:
    def __init__(self, sub: "Submission"):
        self.units = [u for u in sub.python_units if u.tree is not None]
        self.parents = {id(u): _parents(u.tree) for u in self.units}   # type: ignore[arg-type]
        self.classes = {n.name for u in self.units for n in ast.walk(u.tree)  # type: ignore[arg-type]
                        if isinstance(n, ast.ClassDef)}

    def calls(self) -> Iterator[tuple["CodeUnit", ast.Call]]:
        for u in self.units:
            for node in ast.walk(u.tree):  # type: ignore[arg-type]
                if isinstance(node, ast.Call):
                    yield u, node

    def function_of(self, unit: "CodeUnit", node: ast.AST) -> FunctionNode | None:
        fn = _enclosing(self.parents[id(unit)], node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        return fn if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) else None

    def callers(self, unit: "CodeUnit", fn: FunctionNode) -> list[tuple["CodeUnit", ast.Call]] | None:
        """Every call of `fn`; None when a call with its name cannot be told apart from it."""
        owner = self.parents[id(unit)].get(fn)
        cls = owner.name if isinstance(owner, ast.ClassDef) else None
        out = []
        for u, call in self.calls():
            func = call.func
            if isinstance(func, ast.Name) and func.id == fn.name:
                if cls is not None:
                    continue          # a plain call never reaches a method
                out.append((u, call))
            elif isinstance(func, ast.Attribute) and func.attr == fn.name:
                if cls is None:
                    return None
                kind = self._receiver_class(u, call, func.value)
                if kind == cls:
                    out.append((u, call))
                elif kind is None:
                    return None       # an object we cannot type: it may be this one
        return out

    def _receiver_class(self, unit: "CodeUnit", call: ast.Call, receiver: ast.AST) -> str | None:
        """The class of the object a method is called on; "" when it is an imported module (not
        one of ours); None when it cannot be told."""
        parents = self.parents[id(unit)]
        if isinstance(receiver, ast.Call) and isinstance(receiver.func, ast.Name):
            return receiver.func.id if receiver.func.id in self.classes else None   # `Hinter(lut).run(ids)`
        if not isinstance(receiver, ast.Name):
            return None
        if receiver.id in ("self", "cls"):
            owner = _enclosing(parents, call, (ast.ClassDef,))
            return owner.name if isinstance(owner, ast.ClassDef) else None
        if receiver.id in unit.imports.aliases or receiver.id in unit.imports.modules:
            return ""
        scope = self.function_of(unit, call) or unit.tree
        values = [n.value for n in ast.walk(scope)  # type: ignore[arg-type]
                  if isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == receiver.id
                                                       for t in n.targets)]
        if len(values) != 1 or not isinstance(values[0], ast.Call) or not isinstance(values[0].func, ast.Name):
            return None
        made = values[0].func.id
        return made if made in self.classes else None


def _modules(unit: "CodeUnit") -> set[str]:
    return set(unit.imports.aliases) | {m.split(".")[0] for m in unit.imports.modules}


def _arg_names(unit: "CodeUnit", arg: ast.AST) -> set[str]:
    return _loads(arg) - _modules(unit)


def closed_gate(sub: "Submission", unit: "CodeUnit", at_line: int) -> ClosedGate | None:
    """Evidence that the branch of `unit` at `at_line` never opened its gate in the claimed runs."""
    found = gated_outputs(unit, at_line)
    if found is None:
        return None
    c_name, positions = found
    program = _Program(sub)
    c_calls = [(u, c) for u, c in program.calls()
               if isinstance(c.func, ast.Attribute) and c.func.attr == c_name]
    if not c_calls:
        return None
    verdicts = [_judge_call(sub, program, u, c, positions) for u, c in c_calls]
    if any(v is None for v in verdicts):
        return None
    return verdicts[0]


def _judge_call(sub: "Submission", program: _Program, unit: "CodeUnit", call: ast.Call,
                positions: list[int]) -> ClosedGate | None:
    if any(isinstance(a, ast.Starred) for a in call.args) or max(positions) >= len(call.args):
        return None
    arrays: set[str] = set()
    for p in positions:
        arrays |= _arg_names(unit, call.args[p])
    fn = program.function_of(unit, call)
    if fn is None or not arrays:
        return None
    c_statement = _statement(program.parents[id(unit)], call)
    here = _closed_in(sub, unit, fn, arrays, {id(c_statement)})
    if here is not None:
        return here
    # One hop: the arrays leave through a returned tuple that every caller unpacks.
    steps = list(_steps(fn.body))
    skip = {id(c_statement)}
    flowing = _reach(steps, arrays, set(), skip, set())
    returned: set[int] = set()
    for s in _escapes(steps, flowing, set(), skip, _modules(unit)):
        if not isinstance(s.node, ast.Return) or not isinstance(s.node.value, ast.Tuple):
            return None
        returned |= {i for i, e in enumerate(s.node.value.elts) if _loads(e) & flowing}
    if not returned:
        return None
    callers = program.callers(unit, fn)
    if not callers:
        return None
    verdicts = []
    for u, site in callers:
        stmt = _statement(program.parents[id(u)], site)
        caller = program.function_of(u, site)
        if caller is None or not (isinstance(stmt, ast.Assign) and stmt.value is site and len(stmt.targets) == 1
                                  and isinstance(stmt.targets[0], (ast.Tuple, ast.List))):
            return None
        elts = stmt.targets[0].elts
        if any(isinstance(e, ast.Starred) or not isinstance(e, ast.Name) for e in elts) or max(returned) >= len(elts):
            return None
        names = {elts[i].id for i in returned}  # type: ignore[attr-defined]
        verdicts.append(_closed_in(sub, u, caller, names, {id(stmt)}))
    if any(v is None for v in verdicts):
        return None
    return verdicts[0]


def _closed_in(sub: "Submission", unit: "CodeUnit", fn: FunctionNode, arrays: set[str],
               skip: set[int]) -> ClosedGate | None:
    """A mask in `fn`, built from `arrays`, that guards every onward use of them and whose count
    every claimed log prints as 0."""
    steps = list(_steps(fn.body))
    flowing = _reach(steps, arrays, set(), skip, set())
    definitions: dict[str, list[ast.Assign]] = {}
    for node in ast.walk(fn):
        if isinstance(node, ast.Assign):
            for t in node.targets:
                if isinstance(t, ast.Name):
                    definitions.setdefault(t.id, []).append(node)
    for fstring in (n for n in ast.walk(fn) if isinstance(n, ast.JoinedStr)):
        for position, value in enumerate(v for v in fstring.values if isinstance(v, ast.FormattedValue)):
            mask = _counted(value.value)
            defs = definitions.get(mask or "", [])
            if mask is None or mask not in flowing or len(defs) != 1 or not _mask_source(defs[0].value):
                continue
            if not _guards(steps, arrays, mask, skip, _modules(unit)):
                continue
            shown = _zero_in_every_claimed_log(sub, fstring, position)
            if shown is None:
                continue
            text_, logs = shown
            return ClosedGate(ast.unparse(defs[0].targets[0]), unit.label, defs[0].lineno, text_, logs)
    return None


def _guards(steps: list[_Step], arrays: set[str], mask: str, skip: set[int], modules: set[str]) -> bool:
    """Does every onward use of `arrays` also read `mask` (or a value built from it alone)?"""
    gated = _reach(steps, {mask}, set(), skip, set())
    flowing: set[str] = set(arrays)
    for _ in range(4):
        pure = gated - flowing
        again = _reach(steps, arrays, pure, skip, {mask})
        if again == flowing:
            break
        flowing = again
    pure = gated - flowing
    if mask not in pure:
        return False
    return not _escapes(steps, flowing, pure, skip, modules)


def _zero_in_every_claimed_log(sub: "Submission", fstring: ast.JoinedStr, position: int) -> tuple[str, tuple[str, ...]] | None:
    from ..logs.evidence import seed_evidence

    parts: list[str | None] = []
    for v in fstring.values:
        if isinstance(v, ast.Constant) and isinstance(v.value, str):
            parts.append(v.value)
        else:
            parts.append(None)
    if not identifiable(parts):
        return None
    evidence = seed_evidence(sub)
    if evidence:
        if any(ev.matched is None for ev in evidence):
            return None       # a claimed run without its log: nothing shows what it did
        logs = [ev.matched.path for ev in evidence]  # type: ignore[union-attr]
    else:
        logs = [log.path for log in sub.logs if log.problem is None]
    if not logs:
        return None
    shown = ""
    for path in dict.fromkeys(logs):
        text_ = sub.text(path) or ""
        values = printed_values(text_, parts, position)
        if not values or any(v != "0" for v in values):
            return None
        shown = shown or printed_line(text_, parts) or ""
    if len(shown) > MAX_SHOWN:
        shown = shown[:MAX_SHOWN - 3] + "..."
    return shown, tuple(dict.fromkeys(logs))
