"""Severity of code findings under the run configuration.

A GL1xx/GL2xx finding on a line that only runs behind a setting (`if args.ttt_enabled:`, an early
`if not TTT: return`, or a function whose every call sits behind one) is judged under the resolved
configuration: when the branch runs, the finding keeps its severity and names the setting and where
it comes from ("with TTT_ENABLED=1 from README.md line 12"); when no checked run command runs it,
the finding becomes a warning that names the switch. Guards golflint cannot evaluate statically
leave the finding unchanged. Nothing is executed: guards are evaluated over literals and settings.
"""

from __future__ import annotations

import ast
import weakref
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from ..findings import Finding, Severity
from ..memo import folder_memo
from .model import Setting, Variant

if TYPE_CHECKING:
    from ..code.units import CodeUnit
    from ..submission import Submission

GATED_FAMILIES = ("1", "2")
MAX_CALL_DEPTH = 3
EXITS = (ast.Return, ast.Continue, ast.Break, ast.Raise)
# Containers filled after their one binding (`.append()`, `[k] = v`): that binding is not their value.
_MUTABLE_DISPLAYS = (ast.List, ast.Dict, ast.Set, ast.ListComp, ast.DictComp, ast.SetComp)
TRUTHY = {"1", "true", "yes", "on", "y", "t"}


class _Unknown(Exception):
    pass


@dataclass
class Reach:
    runs: bool | None                 # None: cannot tell statically
    settings: list[Setting] = field(default_factory=list)


# -- guard evaluation ------------------------------------------------------------------------------
class _Index:
    """Per-unit lookups: parents, name bindings, class attributes, argparse options, call sites."""

    def __init__(self, unit: "CodeUnit"):
        self.unit = unit
        # the unit's shared breadth-first walk (ast.walk's order): id(node) -> parent
        self.parents: dict[int, ast.AST] = unit.parents
        self.bindings: dict[str, list[ast.expr | None]] = {}
        self.attributes: dict[str, list[ast.expr | None]] = {}
        for node in unit.nodes(ast.Assign, ast.AnnAssign, ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            value = None if isinstance(node, ast.AugAssign) else node.value
            in_class = isinstance(self.parents.get(id(node)), ast.ClassDef)
            for t in targets:
                if isinstance(t, ast.Name):
                    (self.attributes if in_class else self.bindings).setdefault(t.id, []).append(value)
                elif isinstance(t, ast.Attribute):
                    self.attributes.setdefault(t.attr, []).append(value)
        self.options: dict[str, ast.Call] = {}
        self.calls: dict[str, list[ast.Call]] = {}
        for call in unit.nodes(ast.Call):
            func = call.func  # type: ignore[attr-defined]
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
            if name:
                self.calls.setdefault(name, []).append(call)  # type: ignore[arg-type]
            if name == "add_argument":
                flags = [a.value for a in call.args if isinstance(a, ast.Constant)  # type: ignore[attr-defined]
                         and isinstance(a.value, str) and a.value.startswith("--")]
                dest = next((k.value.value for k in call.keywords if k.arg == "dest"  # type: ignore[attr-defined]
                             and isinstance(k.value, ast.Constant)), None)
                if flags:
                    self.options[dest or flags[0][2:].replace("-", "_")] = call  # type: ignore[assignment]


    def enclosing_function(self, node: ast.AST) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
        parent = self.parents.get(id(node))
        while parent is not None and not isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            parent = self.parents.get(id(parent))
        return parent if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef)) else None

    def parameter_value(self, func: ast.FunctionDef | ast.AsyncFunctionDef, name: str) -> ast.expr:
        """The value a parameter holds on every call: its default (a setting read from the
        environment when the function is defined, say) when the body never rebinds it and no call
        in the unit passes it; anything else is not known statically."""
        default = _parameter_defaults(func).get(name)
        if default is None:
            raise _Unknown
        for node in ast.walk(func):
            if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, (ast.Store, ast.Del)):
                raise _Unknown
            if isinstance(node, (ast.Global, ast.Nonlocal)) and name in node.names:
                raise _Unknown
        a = func.args
        positional = [p.arg for p in (*a.posonlyargs, *a.args)]
        method = bool(positional) and isinstance(self.parents.get(id(func)), ast.ClassDef)
        for call in self.calls.get(func.name, []):
            if any(isinstance(x, ast.Starred) for x in call.args) or any(k.arg is None for k in call.keywords):
                raise _Unknown            # *args / **kwargs may carry it
            passed = positional[1:len(call.args) + 1] if method and isinstance(call.func, ast.Attribute) \
                else positional[:len(call.args)]
            if name in passed or any(k.arg == name for k in call.keywords):
                raise _Unknown
        if self._references(func.name):
            raise _Unknown                # passed around as a value: callers we cannot see
        return default

    def _references(self, fname: str) -> list[ast.Name]:
        """The loads of the name `fname` other than as the function of a call (a reference that
        passes the function around). Each name asked is found by its own scan, remembered: the
        few names asked per check cost less than a table of every name in a long script."""
        table = self.__dict__.setdefault("loads", {})
        found = table.get(fname)
        if found is None:
            callees = {id(c.func) for c in self.calls.get(fname, [])}
            found = table[fname] = [node for node in self.unit.nodes(ast.Name)
                                    if node.id == fname and isinstance(node.ctx, ast.Load)  # type: ignore[attr-defined]
                                    and id(node) not in callees]
        return found


def _parameter_names(func: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    a = func.args
    names = {p.arg for p in (*a.posonlyargs, *a.args, *a.kwonlyargs)}
    names.update(p.arg for p in (a.vararg, a.kwarg) if p is not None)
    return names


def _parameter_defaults(func: ast.FunctionDef | ast.AsyncFunctionDef) -> dict[str, ast.expr]:
    a = func.args
    positional = [*a.posonlyargs, *a.args]
    out = {p.arg: d for p, d in zip(positional[len(positional) - len(a.defaults):], a.defaults)}
    out.update({p.arg: d for p, d in zip(a.kwonlyargs, a.kw_defaults) if d is not None})
    return out


_INDEXES: "weakref.WeakKeyDictionary[CodeUnit, _Index]" = folder_memo(weakref.WeakKeyDictionary())


def _index(unit: "CodeUnit") -> _Index:
    if unit not in _INDEXES:
        _INDEXES[unit] = _Index(unit)
    return _INDEXES[unit]


class _Evaluator:
    def __init__(self, idx: _Index, variant: Variant):
        self.idx = idx
        self.variant = variant
        self.used: list[Setting] = []
        self.depth = 0

    def truth(self, node: ast.AST) -> bool:
        value = self.value(node)
        return bool(value)

    def value(self, node: ast.AST) -> Any:
        self.depth += 1
        try:
            if self.depth > 40:
                raise _Unknown
            return self._value(node)
        finally:
            self.depth -= 1

    def _env(self, var: str, default: ast.AST | None, required: bool) -> Any:
        setting = self.variant.settings.get(var)
        if setting is not None and setting.value is not None and not setting.source.startswith("default"):
            self.used.append(setting)
            return setting.value
        if default is not None:
            if not isinstance(default, ast.Constant):
                return self.value(default)
            if setting is not None:
                self.used.append(setting)
            else:
                self.used.append(Setting(var, None, "unset"))
            return default.value
        if required:
            raise _Unknown  # os.environ["X"] with X unset raises at run time
        self.used.append(setting or Setting(var, None, "unset"))
        return None

    def _value(self, node: ast.AST) -> Any:
        imports = self.idx.unit.imports
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            return [self.value(e) for e in node.elts]
        if isinstance(node, ast.BoolOp):
            if isinstance(node.op, ast.And):
                result: Any = True
                for v in node.values:
                    result = self.value(v)
                    if not result:
                        return result
                return result
            for v in node.values:
                result = self.value(v)
                if result:
                    return result
            return result
        if isinstance(node, ast.UnaryOp):
            v = self.value(node.operand)
            if isinstance(node.op, ast.Not):
                return not v
            if isinstance(node.op, ast.USub) and isinstance(v, (int, float)):
                return -v
            raise _Unknown
        if isinstance(node, ast.Compare):
            left = self.value(node.left)
            for op, comp in zip(node.ops, node.comparators):
                if isinstance(comp, ast.Attribute) and imports.qualname(comp) == "os.environ" \
                        and isinstance(op, (ast.In, ast.NotIn)) and isinstance(left, str):
                    setting = self.variant.settings.get(left)
                    present = setting is not None and setting.value is not None \
                        and not setting.source.startswith("default")
                    if setting is not None:
                        self.used.append(setting)
                    ok = present if isinstance(op, ast.In) else not present
                    right = left
                else:
                    right = self.value(comp)
                    ok = _compare(op, left, right)
                if not ok:
                    return False
                left = right
            return True
        if isinstance(node, ast.Subscript):
            if imports.qualname(node.value) == "os.environ":
                var = self.value(node.slice)
                if isinstance(var, str):
                    return self._env(var, None, required=True)
            raise _Unknown
        if isinstance(node, ast.Name):
            if node.id == "__name__" and self.idx.unit.runs_as_main is not None:
                # the entry script (and code decoded from it) runs as __main__; an imported sibling
                # under its module name
                return "__main__" if self.idx.unit.runs_as_main else PurePosixPath(self.idx.unit.path).stem
            func = self.idx.enclosing_function(node)
            if func is not None and node.id in _parameter_names(func):
                return self.value(self.idx.parameter_value(func, node.id))
            bound = self.idx.bindings.get(node.id, [])
            if len(bound) == 1 and bound[0] is not None:
                if isinstance(bound[0], _MUTABLE_DISPLAYS):
                    # `batch = []` filled by `.append()` later: its one binding is not its value
                    raise _Unknown
                return self.value(bound[0])
            raise _Unknown
        if isinstance(node, ast.Attribute):
            return self._attribute(node)
        if isinstance(node, ast.Call):
            return self._call(node)
        raise _Unknown

    def _attribute(self, node: ast.Attribute) -> Any:
        option = self.idx.options.get(node.attr)
        if option is not None:
            return self._option(node.attr, option)
        bound = self.idx.attributes.get(node.attr, [])
        if len(bound) == 1 and bound[0] is not None:
            return self.value(bound[0])
        raise _Unknown

    def _option(self, dest: str, call: ast.Call) -> Any:
        kw = {k.arg: k.value for k in call.keywords if k.arg}
        flags = [a.value for a in call.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        given = next((self.variant.args[f] for f in flags if f in self.variant.args), None)
        action = kw.get("action")
        store_true = isinstance(action, ast.Constant) and action.value == "store_true"
        if given is not None:
            self.used.append(Setting(given.name, given.value, given.source))
            if store_true:
                return True
            kind = kw.get("type")
            cast = {"int": int, "float": float, "str": str}.get(kind.id if isinstance(kind, ast.Name) else "")
            try:
                return cast(given.value) if cast else given.value
            except (TypeError, ValueError):
                raise _Unknown from None
        default = kw.get("default")
        self.used.append(Setting(f"--{dest.replace('_', '-')}", None, f"default in {self.idx.unit.label} "
                                 f"line {call.lineno}"))
        if default is None:
            return False if store_true else None
        return self.value(default)

    def _call(self, node: ast.Call) -> Any:
        imports = self.idx.unit.imports
        name = imports.call_name(node) or ""
        if name in ("os.environ.get", "os.getenv") and node.args:
            var = self.value(node.args[0])
            if not isinstance(var, str):
                raise _Unknown
            default = node.args[1] if len(node.args) > 1 else next(
                (k.value for k in node.keywords if k.arg == "default"), None)
            return self._env(var, default if default is not None else ast.Constant(None), required=False)
        if name in ("int", "float", "str", "bool") and len(node.args) == 1:
            v = self.value(node.args[0])
            try:
                return {"int": int, "float": float, "str": str, "bool": bool}[name](v)
            except (TypeError, ValueError):
                raise _Unknown from None
        if name in ("getattr", "builtins.getattr") and len(node.args) == 3 \
                and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str):
            # getattr(args, "flag", default): the setting when the code defines one, else the default
            attr = node.args[1].value
            if attr in self.idx.options or attr in self.idx.attributes:
                return self._attribute(ast.Attribute(value=node.args[0], attr=attr, ctx=ast.Load()))
            return self.value(node.args[2])
        if isinstance(node.func, ast.Attribute) and node.func.attr in ("lower", "upper", "strip") and not node.args:
            v = self.value(node.func.value)
            if isinstance(v, str):
                return getattr(v, node.func.attr)()
        raise _Unknown


def _compare(op: ast.cmpop, a: Any, b: Any) -> bool:
    try:
        if isinstance(op, ast.Eq):
            return a == b
        if isinstance(op, ast.NotEq):
            return a != b
        if isinstance(op, ast.In):
            return a in b
        if isinstance(op, ast.NotIn):
            return a not in b
        if isinstance(op, ast.Is):
            return a is b
        if isinstance(op, ast.IsNot):
            return a is not b
        if isinstance(op, ast.Gt):
            return a > b
        if isinstance(op, ast.GtE):
            return a >= b
        if isinstance(op, ast.Lt):
            return a < b
        if isinstance(op, ast.LtE):
            return a <= b
    except TypeError:
        raise _Unknown from None
    raise _Unknown


# -- which guards a line sits behind -------------------------------------------------------------------
def _innermost_statement(idx: _Index, line: int) -> ast.stmt | None:
    """The deepest statement spanning `line` (the first one in walk order among equals).

    Found by descending from the module's body: a statement spans its nested statements' lines, and
    two statements side by side share a line only as simple statements after `;` (no nested ones),
    so the first statement spanning the line at each level leads to the deepest. A descent visits a
    few dozen statements where a table of every line would cover every nested statement's span."""
    tree = idx.unit.tree
    found: ast.stmt | None = None
    bodies = [tree.body] if isinstance(tree, ast.Module) else []
    while bodies:
        spanning = None
        for body in bodies:
            spanning = next((s for s in body if s.lineno <= line <= (s.end_lineno or s.lineno)), None)
            if spanning is not None:
                break
        if spanning is None:
            return found
        found = spanning
        bodies = _nested_bodies(spanning)
    return found


def _nested_bodies(stmt: ast.stmt) -> list[list[ast.stmt]]:
    """The statement lists directly inside `stmt`, in field order (handlers' and cases' bodies
    where they stand)."""
    out: list[list[ast.stmt]] = []
    for name in stmt._fields:
        value = getattr(stmt, name, None)
        if not isinstance(value, list) or not value:
            continue
        if isinstance(value[0], ast.stmt):
            out.append(value)
        elif isinstance(value[0], (ast.excepthandler, ast.match_case)):
            out.extend(item.body for item in value)
    return out


def _exits(body: list[ast.stmt], idx: _Index) -> bool:
    if not body:
        return False
    last = body[-1]
    if isinstance(last, EXITS):
        return True
    if isinstance(last, ast.Expr) and isinstance(last.value, ast.Call):
        return idx.unit.imports.call_name(last.value) in ("sys.exit", "exit", "quit", "os._exit")
    return False


def _guards(idx: _Index, stmt: ast.stmt) -> tuple[list[tuple[ast.expr, bool]], ast.AST | None]:
    """(test, required truth) pairs between `stmt` and its function, and that function (or None)."""
    guards: list[tuple[ast.expr, bool]] = []
    node: ast.AST = stmt
    while id(node) in idx.parents:
        parent = idx.parents[id(node)]
        for attr in ("body", "orelse", "finalbody", "handlers"):
            siblings = getattr(parent, attr, None)
            if isinstance(siblings, list) and node in siblings:
                for earlier in siblings[:siblings.index(node)]:
                    if isinstance(earlier, ast.If) and not earlier.orelse and _exits(earlier.body, idx):
                        guards.append((earlier.test, False))
                if isinstance(parent, ast.If) and attr in ("body", "orelse"):
                    guards.append((parent.test, attr == "body"))
                break
        if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return guards, parent
        node = parent
    return guards, None


def reach(unit: "CodeUnit", line: int, variant: Variant, depth: int = 0) -> Reach:
    idx = _index(unit)
    stmt = _innermost_statement(idx, line)
    if stmt is None:
        return Reach(None)
    guards, func = _guards(idx, stmt)
    used: list[Setting] = []
    unknown = False
    for test, wanted in guards:
        ev = _Evaluator(idx, variant)
        try:
            taken = ev.truth(test) == wanted
        except _Unknown:
            unknown = True
            continue
        if not taken:
            return Reach(False, ev.used)
        used.extend(ev.used)
    if func is not None and depth < MAX_CALL_DEPTH:
        sites = [c for c in idx.calls.get(func.name, []) if not (func.lineno <= c.lineno <= (func.end_lineno or 0))]
        if sites:
            results = [reach(unit, c.lineno, variant, depth + 1) for c in sites]
            if all(r.runs is False for r in results):
                return Reach(False, [s for r in results for s in r.settings])
            taken_sites = [r for r in results if r.runs]
            if taken_sites:
                used.extend(taken_sites[0].settings)
            else:
                unknown = True
        else:
            unknown = unknown or bool(used)
    if unknown:
        return Reach(None, used)
    return Reach(True, used)


# -- applying it to findings -------------------------------------------------------------------------
def _describe(settings: list[Setting]) -> str:
    seen: dict[str, Setting] = {}
    for s in settings:
        seen.setdefault(s.name, s)
    return ", ".join(s.describe() for s in seen.values())


def apply_gating(sub: "Submission", findings: list[Finding]) -> list[Finding]:
    if not any(f.rule[2:3] in GATED_FAMILIES and f.line is not None for f in findings):
        return findings
    cfg = sub.run_config
    variants = cfg.checked_variants
    units = {u.label: u for u in sub.python_units}
    evidence_rules = set(sub.settings.get("logs.ran_evidence_rules", []) or [])
    closed_rules = set(sub.settings.get("logs.closed_gate_rules", []) or [])
    native = {u.label: u for u in sub.native_units} if closed_rules else {}
    out: list[Finding] = []
    for f in findings:
        native_unit = native.get(f.where or f.file or "")
        if native_unit is not None and f.rule in closed_rules and f.line is not None \
                and f.severity == Severity.ERROR:
            out.append(_closed_gate(sub, native_unit, f))
            continue
        unit = units.get(f.where or f.file or "")
        if f.rule[2:3] not in GATED_FAMILIES or f.line is None or unit is None or not variants:
            out.append(f)
            continue
        results = [(v, reach(unit, f.line, v)) for v in variants]
        if all(r.runs is False for _, r in results) and f.rule in evidence_rules:
            # the configuration says the branch is off, but the logs may show it ran
            shown = _printed_in_logs(sub, unit, f.line, variants[0])
            if shown is not None:
                out.append(f.with_(message=f"{f.message} (the logs show this code ran: they print "
                                           f"`{shown}`, which only this branch prints)"))
                continue
        out.append(_judged(f, results))
    return out


def _closed_gate(sub: "Submission", unit: "CodeUnit", f: Finding) -> Finding:
    """A native branch gated on the scored token whose Python gate every claimed run kept shut
    (native/gate_evidence.py): a warning that says so; otherwise the finding as it was."""
    from ..native.gate_evidence import closed_gate

    assert f.line is not None
    try:
        evidence = closed_gate(sub, unit, f.line)
    except RecursionError:
        return f          # code nested beyond what the walk follows: no evidence, the error stays
    if evidence is None:
        return f
    return f.with_(severity=Severity.WARNING, message=f"{f.message} ({evidence.describe()})",
                   data={**f.data, "closed_gate": {"mask": evidence.mask, "file": evidence.file,
                                                   "line": evidence.line, "logs": list(evidence.logs)}})


MIN_LOG_FRAGMENT = 10   # characters of literal text a log line must share with the code


def _guarded_block(idx: _Index, stmt: ast.stmt, func: ast.AST, variant: Variant) -> list[ast.stmt]:
    """The statements of the innermost branch holding `stmt` inside its function whose `if` tests
    settings (a guard the run configuration decides; tests on data are passed over), or the
    function's body: what runs whenever the settings let `stmt` run."""
    node: ast.AST = stmt
    while id(node) in idx.parents and node is not func:
        parent = idx.parents[id(node)]
        if isinstance(parent, ast.If) and node is not parent.test:
            try:
                _Evaluator(idx, variant).truth(parent.test)
            except _Unknown:
                node = parent
                continue
            for body in (parent.body, parent.orelse):
                if node in body:
                    return body
        node = parent
    return list(getattr(func, "body", []))


def _printed_in_logs(sub: "Submission", unit: "CodeUnit", line: int, variant: Variant) -> str | None:
    """A literal fragment of a message formatted in the branch holding `line` (the innermost `if`
    branch of its function, or the function's body): an f-string's or a string's text of at least
    MIN_LOG_FRAGMENT characters, found nowhere else in the unit, that a log of the submission
    contains. The run that made the logs executed that branch."""
    idx = _index(unit)
    stmt = _innermost_statement(idx, line)
    func = idx.enclosing_function(stmt) if stmt is not None else None
    if func is None or not sub.log_files:
        return None
    fragments: set[str] = set()
    for node in (n for top in _guarded_block(idx, stmt, func, variant) for n in ast.walk(top)):
        if isinstance(node, ast.JoinedStr):
            parts = [v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)]
        elif isinstance(node, ast.Call):
            parts = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        else:
            continue
        fragments |= {p.strip() for p in parts if len(p.strip()) >= MIN_LOG_FRAGMENT
                      and any(c.isalpha() for c in p)}
    if not fragments:
        return None
    inside = "\n".join(unit.lines[func.lineno - 1:func.end_lineno or func.lineno])
    whole = unit.source
    fragments = {x for x in fragments if whole.count(x) == inside.count(x)}
    texts = [sub.text(rel) or "" for rel in sub.log_files]
    for fragment in sorted(fragments, key=lambda x: (-len(x), x)):
        if any(fragment in t for t in texts):
            return fragment
    return None


def _judged(f: Finding, results: list[tuple[Variant, Reach]]) -> Finding:
    runs = [(v, r) for v, r in results if r.runs]
    skipped = [(v, r) for v, r in results if r.runs is False]
    if runs and any(r.settings for _, r in runs):
        v, r = runs[0]
        note = f"with {_describe(r.settings)}"
        if skipped:
            note += f"; {', '.join(sv.label for sv, _ in skipped)} does not run it"
        return f.with_(message=f"{f.message} ({note})",
                       data={**f.data, "gating": {"runs": True, "settings": _as_data(r.settings)}})
    if skipped and len(skipped) == len(results):
        r = skipped[0][1]
        severity = Severity.WARNING if f.severity == Severity.ERROR else f.severity
        return f.with_(severity=severity,
                       message=f"{f.message} (not run as submitted: {_describe(r.settings)} switches this "
                               "branch off; check the setting before enabling it)",
                       data={**f.data, "gating": {"runs": False, "settings": _as_data(r.settings)}})
    return f


def _as_data(settings: list[Setting]) -> dict[str, dict[str, str | None]]:
    return {s.name: {"value": s.value, "source": s.source} for s in settings}
