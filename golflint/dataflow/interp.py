"""An abstract execution of a submission's Python code over taint labels.

It runs the module body of each root unit in statement order, follows calls into local functions,
classes and sibling modules by inlining them (bounded depth, recursion cut), runs every loop body
twice (iteration 0, then "a later iteration"), takes both branches of every `if`, and records a
trace of events: reads of validation/training files, training updates (backward, autograd.grad,
in-place parameter writes), cache writes keyed by token content, scores (a no-grad model output on
validation data accumulated into a total), calibration forwards, best-of and selection on scores.
Functions no root reaches are run afterwards on their own, each as a separate trace segment.

Taint propagates semgrep-style: through assignment, containers, slicing, arithmetic and calls
(a call's result carries its arguments' labels unless it is a known sanitizer such as `len`).
Nothing here executes or imports submission code.
"""

from __future__ import annotations

import ast
import builtins
import re
from collections.abc import Iterable, Sequence
from typing import Any

from ..code.names import ImportMap
from ..code.units import CodeUnit, nodes_under
from ..facts.index import index_of
from ..facts.values import FixedBound
from .model import (
    CACHE_WRITE,
    CLASS,
    EARLIER,
    EMPTY,
    FUNC,
    HOOK,
    ITER,
    MOD,
    OBJ,
    OUT,
    PARAM,
    PREFIX,
    SCORE,
    STATEFUL,
    TRAIN,
    TRAINPATH,
    TREAD,
    FIT,
    GRAD,
    LEAF,
    LOSS,
    CUT,
    MATCH,
    STORED,
    STORED_SEQ,
    VALPATH,
    VIA,
    WEIGHTS,
    WIDE,
    Event,
    Region,
    earlier_iteration,
    earlier_tokens_only,
    has_data,
    label_memo,
    is_data,
    regions_of,
)
from .spec import PLACEHOLDER, Spec

_STRUCTURAL = (FUNC, CLASS, MOD)
LOG_CALLS = frozenset({"log", "log2", "log10", "log1p", "logsumexp"})
_BUILTIN_MODULE_ROOTS = ("builtins",)


def _structural(label: Any) -> bool:
    return isinstance(label, tuple) and label[0] in _STRUCTURAL


_STRIPPED = label_memo()
_KINDS = label_memo()
_OBJECTS = label_memo()


def _kinds(labels: frozenset) -> frozenset:
    """The kinds (first items) of the tuple labels in `labels`: one memoized look-up answers
    "does this value hold a module, a class, an object, a model output?" without a scan."""
    if type(labels) is not frozenset:
        return frozenset(x[0] for x in labels if isinstance(x, tuple))
    out = _KINDS.get(labels)
    if out is None:
        out = _KINDS.remember(labels, frozenset(x[0] for x in labels if isinstance(x, tuple)))
    return out


_HANDLERS: dict[tuple[type, str], dict[type, Any]] = {}


def _handler_table(cls: type, prefix: str) -> dict[type, Any]:
    """node type -> the method `prefix + node type name` of the interpreter class (or None), filled
    as node types are met (`_fill_handler`): the interpreter reads it at every node with one dict
    lookup, instead of a string concatenation and a bound-method lookup."""
    return _HANDLERS.setdefault((cls, prefix), {})


def _fill_handler(table: dict[type, Any], cls: type, prefix: str, kind: type) -> Any:
    method = table[kind] = getattr(cls, prefix + kind.__name__, None)
    return method


def _in_order(items: list) -> tuple:
    """`items` (members of a label set) in an order that is the same in every run. A frozenset's
    order follows its members' hashes, and a string's hash changes from one process to the next
    (PYTHONHASHSEED): the functions a call may reach, or the objects it acts on, were visited in
    that order, so the events they record, and with them a verdict, could differ between two runs
    of the same check."""
    return tuple(sorted(items, key=repr)) if len(items) > 1 else tuple(items)


def _split_side(sl: ast.AST) -> tuple[str, str] | None:
    """(bound text, "head" | "tail") for `[:k]` / `[0:k]` and `[k:]` / `[k:end]` with k a name."""
    if not isinstance(sl, ast.Slice) or sl.step is not None:
        return None
    if (sl.lower is None or isinstance(sl.lower, ast.Constant) and sl.lower.value == 0) \
            and isinstance(sl.upper, ast.Name):
        return sl.upper.id, "head"
    if isinstance(sl.lower, ast.Name):
        return sl.lower.id, "tail"
    return None


def _strip(labels: frozenset) -> frozenset:
    """Labels a computed value inherits (no function/class/module references)."""
    # Memoized: the same label sets come back hundreds of thousands of times in a long script,
    # and a frozenset keeps its hash, so a hit costs one dict lookup instead of a scan.
    out = _STRIPPED.get(labels)
    if out is None:
        out = labels
        for x in labels:  # a plain loop: a generator and a call per label cost twice as much
            if isinstance(x, tuple) and x[0] in _STRUCTURAL:
                out = frozenset(y for y in labels if not (isinstance(y, tuple) and y[0] in _STRUCTURAL))
                break
        _STRIPPED.remember(labels, out)
    return out


def _cache_contents(labels: frozenset, write: Event) -> frozenset:
    """What a table carries after a cache write: statistics of those tokens, not the tokens,
    plus a mark of the write, so a later score can be tied to the very cache it reads.

    A later score that reads the table scores *its own* tokens; tying the table's regions to it would
    make the legal score-then-update cache (chunk i feeds the prediction of chunk i+1) look like a
    rescoring of chunk i. Rescoring is still caught when the same tokens are read fresh again.
    """
    return frozenset(x for x in labels if not isinstance(x, Region)) | {(CACHE_WRITE, write.time)}


def _reads_itself(container: ast.AST, stmt: ast.AST) -> bool:
    """Does the value written into `container[...]` read that same container (`t[k] = t.get(k, 0) + 1`)?
    Compared as expressions, whatever they are called."""
    value = getattr(stmt, "value", None)
    if value is None or not isinstance(container, (ast.Name, ast.Attribute)):
        return False
    text = ast.dump(container, include_attributes=False).replace("ctx=Store()", "ctx=Load()")
    return any(type(n) is type(container) and ast.dump(n, include_attributes=False) == text
               for n in ast.walk(value))


def _is_classmethod(fnode: ast.AST) -> bool:
    return any(isinstance(d, ast.Name) and d.id == "classmethod" for d in getattr(fnode, "decorator_list", ()))


def _rebound_names(fnode: ast.AST) -> set[str]:
    """Names a function binds to a new value (`x = ...`, `for x in`, `with ... as x`), as opposed
    to names it only updates in place (`x += ...`, `x[k] = ...`)."""
    out: set[str] = set()

    def names(target: ast.AST) -> None:
        if isinstance(target, ast.Name):
            out.add(target.id)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for elt in target.elts:
                names(elt)
        elif isinstance(target, ast.Starred):
            names(target.value)

    for n in ast.walk(fnode):
        if isinstance(n, ast.Assign):
            for t in n.targets:
                names(t)
        elif isinstance(n, (ast.AnnAssign, ast.NamedExpr)):
            names(n.target)
        elif isinstance(n, (ast.For, ast.AsyncFor, ast.comprehension)):
            names(n.target)
        elif isinstance(n, ast.withitem) and n.optional_vars is not None:
            names(n.optional_vars)
    return out


def _keep_iter(labels: frozenset) -> frozenset:
    if ITER not in _kinds(labels):   # memoized: most sets hold no loop label
        return EMPTY
    return frozenset(x for x in labels if isinstance(x, tuple) and x[0] == ITER)


class Budget(Exception):
    """The statement budget ran out: stop inlining, keep what was found."""


class FuncInfo:
    __slots__ = ("cls", "fid", "is_static", "module", "node", "nograd", "unit")

    def __init__(self, fid, node, unit, module, cls, nograd, is_static):
        self.fid, self.node, self.unit, self.module, self.cls = fid, node, unit, module, cls
        self.nograd, self.is_static = nograd, is_static


class ClassInfo:
    __slots__ = ("bases", "cid", "fields", "is_module", "methods", "module", "node", "unit")

    def __init__(self, cid, node, unit, module):
        self.cid, self.node, self.unit, self.module = cid, node, unit, module
        self.bases: list[int] = []
        self.fields: dict[str, frozenset] = {}
        self.methods: dict[str, int] = {}
        self.is_module = False


class ModuleInfo:
    __slots__ = ("env", "mid", "name", "state", "unit")

    def __init__(self, mid, unit, name):
        self.mid, self.unit, self.name = mid, unit, name
        self.env: dict[str, frozenset] = {}
        self.state = "new"   # new -> running -> done


class Frame:
    __slots__ = (
        "closure",
        "env",
        "fid",
        "frame_id",
        "func",
        "globals_",
        "line",
        "loops",
        "masks",
        "module",
        "ret",
        "site",
    )

    def __init__(self, frame_id, module, closure, func):
        self.frame_id = frame_id
        self.env: dict[str, frozenset] = {}
        self.module: ModuleInfo = module
        self.closure: Frame | None = closure
        self.func: FuncInfo | None = func
        self.ret: frozenset = EMPTY
        self.globals_: set[str] = set()
        self.line = 0
        self.loops: list[tuple] = []   # (loop key, iteration, loop node) innermost last
        self.masks: set[str] = set()   # local names bound to a boolean mask (`_is_mask`)
        self.site: tuple | None = None  # where the call that made this frame was (unit label, line, col)


def module_name(path: str) -> str:
    p = path.removesuffix(".py")
    p = p.removesuffix("/__init__")
    return p.replace("/", ".")


class Interpreter:
    def __init__(self, units: list[CodeUnit], spec: Spec):
        self.spec = spec
        self.units = units
        self.events: list[Event] = []
        self.clock = 0
        self.segment = 0
        self.statements = 0
        self.exhausted = False
        self.funcs: dict[int, FuncInfo] = {}
        self.func_by_node: dict[int, int] = {}
        self.classes: dict[int, ClassInfo] = {}
        self._module_class: dict[int, bool] = {}   # cid -> _is_module_class (bases never change)
        self._chains: dict[int, list[ClassInfo]] = {}   # cid -> _class_chain
        self.class_by_node: dict[int, int] = {}
        self.modules: dict[int, ModuleInfo] = {}
        self.module_by_name: dict[str, ModuleInfo] = {}
        self.heap: dict[Any, dict[str, frozenset]] = {}
        self.obj_class: dict[Any, int] = {}
        self.global_fields: dict[str, frozenset] = {}
        self.frames: list[Frame] = []
        # the innermost frame and its unit/imports, kept in step with `frames` (_push/_pop): read
        # at nearly every node, where a property call cost more than the work around it
        self.frame: Frame = None  # type: ignore[assignment]
        self.unit: CodeUnit = None  # type: ignore[assignment]
        self.imports: ImportMap = None  # type: ignore[assignment]
        self._stmt_table = _handler_table(type(self), "_s_")
        self._expr_table = _handler_table(type(self), "_e_")
        self.closures: dict[int, Frame] = {}
        self.frame_counter = 0
        self.later_running = 0   # loops running their later iteration now, in every frame (`_loop`)
        self.if_counter = 0
        self.path: list[tuple[int, int]] = []
        self._mask_tails: frozenset[str] | None = None   # last names of the mask calls (a cheap pre-test)
        self._method_roles = _method_role_names(spec)   # method names with a role in `_method_call`
        self._call_roles = _call_role_names(spec)       # function names with a role in `_library_call_inner`
        # id(if) -> (its _main_guard, the indexes of its bodies that fall through)
        self._if_facts: dict[int, tuple[bool | None, tuple[int, ...]]] = {}
        self.nograd = False
        self.calib_hooks = 0
        self.regions: dict[tuple, Region] = {}
        self.executed_funcs: set[int] = set()
        self.call_stack: list[int] = []
        self._str_cache: dict[int, frozenset] = {}
        self._assigned_cache: dict[int, set[str]] = {}
        self._loops_done: set[int] = set()   # units whose loops' names are all in _assigned_cache
        self._calib_cache: dict[int, bool] = {}
        self._val_cache_writes: set[int] = set()   # times of cache writes keyed by validation tokens
        self._cache_writes: dict[int, Event] = {}   # every cache write, by its time
        self.frozen: set = set()                    # module objects whose parameters were frozen
        self.packs: dict = {}                       # `*args` received by a function: its positions
        # module weights serialized so far (saved to a file or a buffer): a later read of a stored
        # file may hold them
        self.saved_weights: frozenset = EMPTY
        # calls with a `*args` argument (few), found once: a call's arguments are not scanned for one
        self._starred_calls: set[int] = set()
        for unit in units:
            if unit.tree is None:
                continue
            parents = unit.parents
            for starred in unit.nodes(ast.Starred):
                call = parents.get(id(starred))
                if type(call) is ast.Call and any(a is starred for a in call.args):
                    self._starred_calls.add(id(call))
        for i, unit in enumerate(units):
            info = ModuleInfo(i, unit, module_name(unit.path) if unit.layer == 0 else "")
            self.modules[i] = info
            if info.name and info.name not in self.module_by_name:
                self.module_by_name[info.name] = info

    # ------------------------------------------------------------------ driving
    def release(self) -> None:
        """Drop what the regions cached about themselves once the verdicts are made. A region's
        lineage holds the region itself (a reference cycle), and a region holds its unit, so the
        unit's whole syntax tree waited for the garbage collector after every check; without the
        caches it is freed as soon as the check lets go of it."""
        for region in self.regions.values():
            region.forget_derived()

    def run(self, roots: list[CodeUnit]) -> None:
        for unit in roots:
            info = next(m for m in self.modules.values() if m.unit is unit)
            self._new_segment()
            self._run_module(info)
        # Functions no root reached: each on its own, with unknown arguments, when they can reach
        # a source at all (most never-called code is model internals).
        relevant = self._relevant_functions()   # of the functions not run so far
        for fid in list(self.funcs):
            if fid in self.executed_funcs or self.exhausted or fid not in relevant:
                continue
            info = self.funcs[fid]
            self._new_segment()
            self_labels = EMPTY
            if info.cls is not None:
                self_labels = self._alloc(("standalone", fid), info.cls)
            try:
                self._invoke(fid, None, [], {}, self_labels, line=info.node.lineno, closure=None)
            except Budget:
                self.exhausted = True

    @staticmethod
    def _source_label(labels: frozenset) -> bool:
        return VALPATH in labels or TRAINPATH in labels or has_data(labels)

    def _attrs_with_sources(self) -> set[str]:
        out = {k for k, v in self.global_fields.items() if self._source_label(v)}
        for c in self.classes.values():
            out |= {k for k, v in c.fields.items() if self._source_label(v)}
        for fields in self.heap.values():
            out |= {k for k, v in fields.items() if self._source_label(v)}
        return out

    def _relevant_functions(self) -> set[int]:
        """Functions whose own run can reach a source: their text mentions a source-carrying
        global or attribute, a data path literal, a read call, or another such function (run or
        not). A cheap textual over-approximation (most never-called code is model internals).
        Only the functions no root ran are asked about; the set may hold others too."""
        idents = set(self._attrs_with_sources())
        idents |= {tail.rsplit(".", 1)[-1] for tail in self.spec.read_calls}
        for mod in self.modules.values():
            idents |= {k for k, v in mod.env.items() if self._source_label(v)}
        literal = [r.pattern for r in (self.spec.val_re, self.spec.train_re) if r is not None]
        path_rx = re.compile(r"[\"'][^\"'\n]*(?:%s)" % "|".join(literal)) if literal else None
        if all(_WORD.fullmatch(i) for i in idents):
            return self._relevant_by_words(idents, path_rx)
        texts = {fid: self._text_of(fid) for fid in self.funcs}
        relevant: set[int] = set()
        changed = True
        while changed:
            changed = False
            rx = re.compile(r"\b(?:%s)\b" % "|".join(map(re.escape, sorted(idents)))) if idents else None
            for fid, text in texts.items():
                if fid in relevant:
                    continue
                if (rx is not None and rx.search(text)) or (path_rx is not None and path_rx.search(text)):
                    relevant.add(fid)
                    name = getattr(self.funcs[fid].node, "name", None)
                    if name:
                        idents.add(name)
                    changed = True
        return relevant

    def _text_of(self, fid: int) -> str:
        info = self.funcs[fid]
        return "\n".join(info.unit.lines[info.node.lineno - 1: getattr(info.node, "end_lineno", info.node.lineno)])

    def _relevant_by_words(self, idents: set[str], path_rx) -> set[int]:
        """`_relevant_functions` when every identifier is one word: `\\bname\\b` matches exactly
        where `name` is one of the text's words. A function is relevant when a chain of functions,
        each mentioning the next one's name, leads from it to one whose text mentions a source
        (a seed). So the chains are followed from the functions no root ran only, splitting a
        text into words when a chain reaches its function: over the accepted records, a quarter
        of the functions' text is in functions no root ran."""
        funcs = self.funcs
        by_name: dict[str, list[int]] = {}
        for fid, info in funcs.items():
            name = getattr(info.node, "name", None)
            if name:
                by_name.setdefault(name, []).append(fid)
        names = by_name.keys()
        seeds: dict[int, bool] = {}
        mentioned: dict[int, set[str]] = {}   # the function names a function's text mentions

        def seed(fid: int) -> bool:
            known = seeds.get(fid)
            if known is None:
                text = self._text_of(fid)
                words = set(_WORD.findall(text))
                known = seeds[fid] = not words.isdisjoint(idents) or (
                    path_rx is not None and path_rx.search(text) is not None)
                mentioned[fid] = words & names
            return known

        reaches: dict[int, bool] = {}   # does a chain lead from the function to a seed?
        relevant: set[int] = set()
        for start in funcs:
            if start in self.executed_funcs:
                continue
            found = reaches.get(start)
            if found is None:
                seen, queue, found = {start}, [start], False
                for fid in queue:   # grows while read: breadth first
                    known = reaches.get(fid)
                    if known is False:
                        continue   # nothing it leads to is a seed
                    if known or seed(fid):
                        found = True
                        break
                    for name in mentioned[fid]:
                        for other in by_name[name]:
                            if other not in seen:
                                seen.add(other)
                                queue.append(other)
                if found:
                    reaches[start] = True
                else:
                    for fid in seen:   # every chain from these was followed to its end
                        reaches[fid] = False
            if found:
                relevant.add(start)
        return relevant

    def _new_segment(self) -> None:
        self.segment += 1
        self.path = []
        self.nograd = False
        self.calib_hooks = 0

    def _run_module(self, info: ModuleInfo) -> None:
        if info.state != "new":
            return
        info.state = "running"
        frame = self._push_frame(info, None, None)
        frame.env = info.env
        try:
            self._exec_block(info.unit.tree.body if info.unit.tree else [])
        except Budget:
            self.exhausted = True
        finally:
            self._pop()
            info.state = "done"

    def _push_frame(self, module, closure, func) -> Frame:
        self.frame_counter += 1
        frame = Frame(self.frame_counter, module, closure, func)
        self._push(frame)
        return frame

    def _push(self, frame: Frame) -> None:
        self.frames.append(frame)
        self.frame = frame
        self.unit = unit = frame.module.unit
        self.imports = unit.imports

    def _pop(self) -> None:
        self.frames.pop()
        if self.frames:
            frame = self.frame = self.frames[-1]
            self.unit = unit = frame.module.unit
            self.imports = unit.imports
        else:
            self.frame = self.unit = self.imports = None  # type: ignore[assignment]

    def _tick(self) -> int:
        self.clock += 1
        return self.clock

    def event(self, kind: str, node: ast.AST, labels: frozenset, **detail: Any) -> Event:
        ev = Event(kind=kind, time=self._tick(), unit=self.unit, line=getattr(node, "lineno", self.frame.line),
                   regions=regions_of(labels), labels=labels, path=tuple(self.path),
                   stack=tuple((f.frame_id, f.module.unit, f.line, id(f.func.node) if f.func else 0)
                              for f in self.frames),
                   segment=self.segment, nograd=self.nograd, detail=detail)
        if kind in ("score", "cache"):
            # the loops running, outermost first, with their iteration: tells a table written in an
            # earlier chunk of the scoring loop from one written in an earlier pass
            ev.detail["loops"] = tuple((key, k) for f in self.frames for key, k, _ in f.loops)
        self.events.append(ev)
        return ev

    # ------------------------------------------------------------------ names
    def lookup(self, name: str) -> frozenset:
        frame = self.frame
        if name in frame.globals_:
            return frame.module.env.get(name, EMPTY)
        f: Frame | None = frame
        while f is not None:
            if name in f.env:
                return f.env[name]
            f = f.closure
        return frame.module.env.get(name, EMPTY)

    def bound(self, name: str) -> bool:
        f: Frame | None = self.frame
        while f is not None:
            if name in f.env:
                return True
            f = f.closure
        return name in self.frame.module.env

    def bind(self, name: str, labels: frozenset) -> None:
        frame = self.frame
        if name in frame.globals_:
            frame.module.env[name] = labels
        else:
            frame.env[name] = labels

    # ------------------------------------------------------------------ objects
    def _alloc(self, site: Any, cid: int | None) -> frozenset:
        # An object is abstracted by where it is made and, inside a function, by where that function
        # was called (one level of calling context): two calls of a builder from two places make two
        # objects, so the second call does not read the state the first one left.
        oid = ("obj", site, self.frame.site if self.frames else None)
        self.heap.setdefault(oid, {})
        if cid is not None:
            self.obj_class[oid] = cid
        return frozenset({(OBJ, oid)})

    @staticmethod
    def _objs(labels: frozenset) -> tuple:
        """The objects in `labels`, in a fixed order (what is done per object, calls and events,
        happens in this order)."""
        # memoized like _strip: asked of every receiver, container and callee
        if type(labels) is not frozenset:
            return _in_order([x[1] for x in labels if isinstance(x, tuple) and x[0] == OBJ])
        out = _OBJECTS.get(labels)
        if out is None:
            out = _OBJECTS.remember(labels, _in_order([x[1] for x in labels if isinstance(x, tuple) and x[0] == OBJ]))
        return out

    def _class_chain(self, cid: int) -> list[ClassInfo]:
        # kept per class, as _is_module_class: a class's bases are set when it is created (the
        # chain is dropped again once they are), and the ClassInfos it lists are read live
        known = self._chains.get(cid)
        if known is not None:
            return known
        out, todo, seen = [], [cid], set()
        while todo:
            c = todo.pop(0)
            if c in seen or c not in self.classes:
                continue
            seen.add(c)
            out.append(self.classes[c])
            todo.extend(self.classes[c].bases)
        if cid in self.classes:
            self._chains[cid] = out
        return out

    def _method(self, cid: int, name: str) -> int | None:
        for c in self._class_chain(cid):
            if name in c.methods:
                return c.methods[name]
        return None

    def _is_module_class(self, cid: int) -> bool:
        # asked for every object of every method call: a class's bases and `is_module` are set
        # when it is created, before anything can ask, so the answer is kept per class
        found = self._module_class.get(cid)
        if found is None:
            found = any(c.is_module for c in self._class_chain(cid))
            if cid in self.classes:
                self._module_class[cid] = found
        return found

    def load_attr(self, recv: frozenset, attr: str) -> frozenset:
        if not recv:
            # nothing known of the receiver (a library module's name): what the general path
            # below gives it, the attribute's global fields, without its tests
            out = self.global_fields.get(attr, EMPTY)
            return out | {PARAM} if attr in self.spec.param_attrs else out
        out = EMPTY
        objs = self._objs(recv)
        kinds = _kinds(recv)
        if MOD in kinds:
            for x in recv:
                if isinstance(x, tuple) and x[0] == MOD:
                    mod = self.modules[x[1]]
                    self._run_module(mod)
                    out |= mod.env.get(attr, EMPTY)
        for oid in objs:
            fields = self.heap.get(oid, {})
            if attr in fields:
                found = fields[attr]   # most loads read one field: its very set, not a copy
                out = out | found if out else found
            cid = self.obj_class.get(oid)
            if cid is not None:
                for c in self._class_chain(cid):
                    if attr in c.fields:
                        found = c.fields[attr]
                        out = out | found if out else found
                        break
                if attr not in fields and self._is_module_class(cid) and self._method(cid, attr) is not None:
                    # a bound method of a module (`torch.compile(model.forward_logits)`): calling
                    # what wraps it runs that module
                    out |= {(OBJ, oid)}
        if CLASS in kinds:
            for x in recv:
                if isinstance(x, tuple) and x[0] == CLASS:
                    for c in self._class_chain(x[1]):
                        if attr in c.fields:
                            out |= c.fields[attr]
                            break
        if not objs and kinds.isdisjoint(_STRUCTURAL):
            out |= _strip(recv) | self.global_fields.get(attr, EMPTY)
        if attr in self.spec.param_attrs:
            out |= {PARAM}
        return out

    def store_attr(self, recv: frozenset, attr: str, labels: frozenset) -> None:
        objs = self._objs(recv)
        for oid in objs:
            fields = self.heap.setdefault(oid, {})
            fields[attr] = fields.get(attr, EMPTY) | labels
        for x in recv:
            if isinstance(x, tuple) and x[0] == MOD:
                env = self.modules[x[1]].env
                env[attr] = env.get(attr, EMPTY) | labels
        if not objs:
            self.global_fields[attr] = self.global_fields.get(attr, EMPTY) | labels

    # ------------------------------------------------------------------ regions
    def region(self, node: ast.AST, index_labels: frozenset, parents: frozenset, all_loops: bool = False) -> Region:
        gens = set()
        iter_loops = {x[1] for x in index_labels if isinstance(x, tuple) and x[0] == ITER}
        stateful = all_loops or STATEFUL in index_labels
        for f in self.frames:
            for loop_key, k, _ in f.loops:
                if stateful or loop_key in iter_loops:
                    gens.add((loop_key, k))
        key = (self.unit.label, getattr(node, "lineno", 0), getattr(node, "col_offset", 0))
        gens_f = frozenset(gens)
        ikey = (key, gens_f, parents)
        r = self.regions.get(ikey)
        if r is None:
            r = Region(key, gens_f, parents, self.unit, key[1])
            self.regions[ikey] = r
        return r

    def _cut(self, node: ast.AST, labels: frozenset, index_labels: frozenset, all_loops: bool = False) -> frozenset:
        """`labels` sliced by an index: a new sub-region when the index changes per iteration."""
        regs = regions_of(labels)
        if not regs:
            return labels
        if not all_loops and STATEFUL not in index_labels and not any(
                isinstance(x, tuple) and x[0] == ITER for x in index_labels):
            return labels
        r = self.region(node, index_labels, regs, all_loops)
        return (labels - regs) | {r}

    # ------------------------------------------------------------------ statements
    def _exec_block(self, body: Iterable[ast.stmt]) -> None:
        pushed = 0
        table = self._stmt_table
        limit = self.spec.max_statements
        try:
            for stmt in body:
                # _exec, inline (one call less per statement)
                self.statements += 1
                if self.statements > limit:
                    raise Budget()
                self.frame.line = stmt.lineno
                method = table.get(type(stmt), _UNSET)
                if method is _UNSET:
                    method = _fill_handler(table, type(self), "_s_", type(stmt))
                if method is None:
                    for child in ast.iter_child_nodes(stmt):
                        if isinstance(child, ast.expr):
                            self.eval(child)
                    continue
                confined = method(self, stmt)
                if confined is not None:
                    # `if eval_only: ...; return` — the rest of this block runs only on the path
                    # through the branch that falls through, never after the one that left
                    self.path.append(confined)
                    pushed += 1
        finally:
            if pushed:
                del self.path[-pushed:]

    def _exec(self, node: ast.stmt) -> tuple[int, int] | None:
        """Runs one statement; an `if` one of whose branches always leaves returns the path step
        (execution id, branch) that the rest of the enclosing block is confined to."""
        self.statements += 1
        if self.statements > self.spec.max_statements:
            raise Budget()
        self.frame.line = node.lineno
        method = self._stmt_table.get(type(node), _UNSET)
        if method is _UNSET:
            method = _fill_handler(self._stmt_table, type(self), "_s_", type(node))
        if method is not None:
            return method(self, node)
        else:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.expr):
                    self.eval(child)

    def _s_Expr(self, node: ast.Expr) -> None:
        self.eval(node.value)

    def _s_Assign(self, node: ast.Assign) -> None:
        labels = self.eval(node.value)
        loops = self.frame.loops
        if loops and isinstance(loops[-1][2], ast.While) and isinstance(node.value, ast.Call):
            # A `while` loop has no loop variable: what a call returns in its body (the next
            # claimed batch, the next chunk) is that iteration's own.
            labels = labels | {(ITER, loops[-1][0])}
        for target in node.targets:
            self.assign(target, labels, node, value_node=node.value)

    def _s_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.assign(node.target, self.eval(node.value), node, value_node=node.value)

    def _s_AugAssign(self, node: ast.AugAssign) -> None:
        value = self.eval(node.value)
        if isinstance(node.target, ast.Name) and node.target.id in self.frame.masks and not self._is_mask(
                ast.BinOp(left=ast.Name(id=node.target.id, ctx=ast.Load()), op=node.op, right=node.value)):
            self.frame.masks.discard(node.target.id)   # `gate |= tokens`: no mask any more
        self.accumulate(node.target, value, node)

    def _s_Return(self, node: ast.Return) -> None:
        if node.value is not None:
            self.frame.ret |= self.eval(node.value)

    def _s_Global(self, node: ast.Global) -> None:
        self.frame.globals_.update(node.names)

    _s_Nonlocal = None  # closures are looked up through the frame chain

    def _s_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            mod = self._sibling(alias.name, 0)
            if alias.asname:
                self.bind(alias.asname, frozenset({(MOD, mod.mid)}) if mod else EMPTY)
            else:
                top = alias.name.split(".")[0]
                top_mod = self._sibling(top, 0)
                self.bind(top, frozenset({(MOD, top_mod.mid)}) if top_mod else EMPTY)

    def _s_ImportFrom(self, node: ast.ImportFrom) -> None:
        mod = self._sibling(node.module or "", node.level)
        for alias in node.names:
            if alias.name == "*":
                if mod is not None:
                    self._run_module(mod)
                    for k, v in mod.env.items():
                        self.bind(k, v)
                continue
            labels = EMPTY
            if mod is not None:
                self._run_module(mod)
                labels = mod.env.get(alias.name, EMPTY)
                if not labels:
                    sub = self._sibling(f"{node.module}.{alias.name}" if node.module else alias.name, node.level)
                    if sub is not None:
                        labels = frozenset({(MOD, sub.mid)})
            elif node.level or node.module is None:
                sub = self._sibling(alias.name, node.level)
                if sub is not None:
                    labels = frozenset({(MOD, sub.mid)})
            self.bind(alias.asname or alias.name, labels)

    def _sibling(self, name: str, level: int) -> ModuleInfo | None:
        if level:
            base = self.frame.module.name.split(".")
            base = base[: max(0, len(base) - level)]
            name = ".".join([*base, name] if name else base)
        return self.module_by_name.get(name) if name else None

    def _s_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef, cls: int | None = None) -> None:
        fid = self._register_func(node, cls)
        closure = self.frame if self.frame.func is not None else None
        if closure is not None:
            self.closures[closure.frame_id] = closure
        self.bind(node.name, frozenset({(FUNC, fid, closure.frame_id if closure else 0)}))

    _s_AsyncFunctionDef = _s_FunctionDef

    def _register_func(self, node, cls: int | None) -> int:
        key = id(node)
        if key in self.func_by_node:
            return self.func_by_node[key]
        fid = len(self.funcs) + 1
        nograd = False
        is_static = False
        for dec in getattr(node, "decorator_list", []):
            target = dec.func if isinstance(dec, ast.Call) else dec
            q = self.imports.qualname(target) or ""
            if q in self.spec.nograd_contexts:
                nograd = True
            if q in ("staticmethod", "builtins.staticmethod"):
                is_static = True
        self.funcs[fid] = FuncInfo(fid, node, self.unit, self.frame.module, cls, nograd, is_static)
        self.func_by_node[key] = fid
        return fid

    def _s_ClassDef(self, node: ast.ClassDef) -> None:
        key = id(node)
        cid = self.class_by_node.get(key)
        if cid is None:
            cid = len(self.classes) + 1
            self.class_by_node[key] = cid
            info = ClassInfo(cid, node, self.unit, self.frame.module)
            self.classes[cid] = info
            for base in node.bases:
                q = self.imports.qualname(base) or ""
                if q.endswith("Module") and "." in q or q in ("nn.Module", "torch.nn.Module"):
                    info.is_module = True
                for x in self.eval(base):
                    if isinstance(x, tuple) and x[0] == CLASS:
                        info.bases.append(x[1])
            self._module_class.pop(cid, None)  # in case evaluating a base asked before they were known
            self._chains.pop(cid, None)
            # The class body runs in its own namespace; its assignments become class fields.
            outer = self.frame
            body_frame = self._push_frame(outer.module, outer if outer.func is not None else None, None)
            try:
                for stmt in node.body:
                    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        info.methods[stmt.name] = self._register_func(stmt, cid)
                    else:
                        self._exec(stmt)
            finally:
                self._pop()
            info.fields.update(body_frame.env)
        self.bind(node.name, frozenset({(CLASS, cid)}))

    def _s_If(self, node: ast.If) -> tuple[int, int] | None:
        facts = self._if_facts.get(id(node))
        if facts is None:   # facts of the code alone, asked again at each run of the `if`
            going_on = tuple(i for i, body in enumerate((node.body, node.orelse)) if not _leaves(body))
            facts = self._if_facts[id(node)] = (_main_guard(node.test), going_on)
        is_main, going_on = facts
        if is_main is not None and self.frame.func is None:
            # `if __name__ == "__main__":` at module level is decided by how the unit runs: an
            # imported sibling's main block never runs (running it would replay the program a
            # second time, after the import that already ran it); the entry's always does.
            holds = self.unit.runs_as_main
            if holds is not None:
                self._exec_block(node.body if holds == is_main else node.orelse)
                return None
        ran = self.statements
        test = self.eval(node.test)
        if ran != self.statements or SCORE in _kinds(test) or not self._transparent(node.test):
            self._check_selection(node, test)
        # else: the test ran no statement (no module was run to read an attribute) and is made of
        # names, constants and attributes joined by `and`/`or`/`not`/comparisons, all of whose
        # labels reach the test's value: evaluating its comparisons' operands again (what
        # _check_selection does) would give the same labels, with no score among them, and
        # nothing else: no selection to report
        exec_id, going_on = self._branches([node.body, node.orelse], going_on)
        return (exec_id, going_on[0]) if len(going_on) == 1 else None

    def _branches(self, bodies: list[list[ast.stmt]],
                  going_on: Sequence[int] | None = None) -> tuple[int, Sequence[int]]:
        """Runs each body from the same environment and merges what the bodies that fall through
        bound. Returns the execution id and the indexes of those bodies (`going_on`, when the
        caller knows them already)."""
        self.if_counter += 1
        exec_id = self.if_counter
        start = dict(self.frame.env)
        start_masks = set(self.frame.masks)
        results = []
        if going_on is None:
            going_on = [i for i, body in enumerate(bodies) if not _leaves(body)]
        if len(bodies) == 2 and bodies[0] and not bodies[1]:
            self._one_branch(exec_id, bodies[0], 0 in going_on, start, start_masks)
            return exec_id, going_on
        masks_out = None
        for i, body in enumerate(bodies):
            if not body:   # the `else` an `if` does not have: the names as they came in, no copies
                results.append(start)
                masks_out = set(start_masks) if masks_out is None else masks_out & start_masks
                continue
            self.frame.env.clear()
            self.frame.env.update(start)
            self.frame.masks = set(start_masks)
            self.path.append((exec_id, i))
            try:
                self._exec_block(body)
            finally:
                self.path.pop()
            if i not in going_on and (going_on or i < len(bodies) - 1):
                continue  # what a branch that returns or raises bound never flows on (unless all do)
            results.append(dict(self.frame.env))
            # a name is a mask after the branches only if every branch leaves it one
            masks_out = self.frame.masks if masks_out is None else masks_out & self.frame.masks
        self.frame.masks = masks_out if masks_out is not None else start_masks
        merged: dict[str, frozenset] = dict(results[0]) if results else {}
        for env in results[1:]:
            _merge_into(merged, env)
        self.frame.env.clear()
        self.frame.env.update(merged)
        return exec_id, going_on

    def _one_branch(self, exec_id: int, body: list[ast.stmt], goes_on: bool, start: dict, start_masks: set) -> None:
        """_branches for an `if` without `else`, with the same result: the body runs in the
        environment itself (it holds `start` already: no restoring copy), and what it bound is
        merged with `start` in place (no copy of the body's environment, no rebuilt dict)."""
        frame = self.frame
        frame.masks = set(start_masks)
        self.path.append((exec_id, 0))
        try:
            self._exec_block(body)
        finally:
            self.path.pop()
        env = frame.env
        if not goes_on:
            # what a branch that returns or raises bound never flows on: the names as they came in
            env.clear()
            env.update(start)
            frame.masks = set(start_masks)
            return
        # a name is a mask after the branches only if the body and the missing `else` leave it one
        frame.masks = frame.masks & start_masks
        _merge_into(env, start)

    def _s_Try(self, node: ast.Try) -> None:
        self._exec_block(node.body)
        if node.handlers:
            self._branches([[], *[h.body for h in node.handlers]])
        self._exec_block(node.orelse)
        self._exec_block(node.finalbody)

    _s_TryStar = _s_Try

    def _s_Match(self, node: ast.Match) -> None:
        self.eval(node.subject)
        self._branches([c.body for c in node.cases] + [[]])

    def _assigned_in(self, loop: ast.AST) -> set[str]:
        """Names any assignment or loop target under `loop` (itself included) binds."""
        names = self._assigned_cache.get(id(loop))
        if names is None:
            self._loop_names(loop)
            names = self._assigned_cache[id(loop)]
        return names

    def _carried(self, loop: ast.AST) -> set[str]:
        """Names a loop body updates from their own value (`pos += n`, `i = i + 1`)."""
        names = self._assigned_cache.get(("carried", id(loop)))
        if names is None:
            self._loop_names(loop)
            names = self._assigned_cache[("carried", id(loop))]
        return names

    def _loop_names(self, loop: ast.AST) -> None:
        """`_assigned_in` and `_carried` of every loop of the running unit at once, from its
        assignments and their parents (the unit's shared walk): no loop's subtree is walked (that
        walk was a sixth of a long script's interpretation). A loop the unit does not hold (never
        expected) is scanned on its own."""
        unit = self.unit
        if id(unit) in self._loops_done or unit.tree is None:
            self._scan_loops(loop)
            return
        self._loops_done.add(id(unit))
        cache = self._assigned_cache
        parents = unit.parents
        table: dict[int, tuple[set[str], set[str]]] = {}
        for node in unit.nodes(ast.For, ast.AsyncFor, ast.While):
            entry = (cache.setdefault(id(node), set()), cache.setdefault(("carried", id(node)), set()))
            table[id(node)] = entry

        def loops_around(node: ast.AST) -> list[tuple[set[str], set[str]]]:
            """The loops enclosing `node`, itself included when it is one."""
            out = []
            while node is not None:
                entry = table.get(id(node))
                if entry is not None:
                    out.append(entry)
                node = parents.get(id(node))
            return out

        for n in unit.nodes(ast.Assign):
            names = _names_under(n.targets)
            target = n.targets[0] if len(n.targets) == 1 else None
            self_updated = target.id if isinstance(target, ast.Name) \
                and self._self_referential(target.id, n.value) else None
            for assigned, carried in loops_around(n):
                assigned |= names
                if self_updated is not None:
                    carried.add(self_updated)
        for n in unit.nodes(ast.For, ast.AsyncFor, ast.comprehension):
            names = _names_under((n.target,))
            for assigned, _ in loops_around(n):
                assigned |= names
        for n in unit.nodes(ast.AugAssign):
            if isinstance(n.target, ast.Name):
                for _, carried in loops_around(n):
                    carried.add(n.target.id)
        if id(loop) not in cache:
            self._scan_loops(loop)

    def _scan_loops(self, root: ast.AST) -> None:
        """`_assigned_in` and `_carried` of `root` and of every loop under it, from one walk: a
        loop's names include those of the loops nested in it, and walking each nested loop's
        subtree again took a fifth of a long script's interpretation."""
        cache = self._assigned_cache
        open_loops: list[tuple[set[str], set[str]]] = []
        AST = ast.AST
        stack: list = [root]
        while stack:
            n = stack.pop()
            if n is _LOOP_END:
                open_loops.pop()
                continue
            if n is root or isinstance(n, _LOOP_KINDS):
                assigned: set[str] = set()
                carried: set[str] = set()
                open_loops.append((assigned, carried))
                cache.setdefault(id(n), assigned)
                cache.setdefault(("carried", id(n)), carried)
                stack.append(_LOOP_END)  # popped after everything under the loop
            if isinstance(n, ast.Assign):
                names = _names_under(n.targets)
                target = n.targets[0] if len(n.targets) == 1 else None
                self_updated = target.id if isinstance(target, ast.Name) \
                    and self._self_referential(target.id, n.value) else None
                for assigned, carried in open_loops:
                    assigned |= names
                    if self_updated is not None:
                        carried.add(self_updated)
            elif isinstance(n, (ast.For, ast.AsyncFor, ast.comprehension)):
                names = _names_under((n.target,))
                for assigned, _ in open_loops:
                    assigned |= names
            elif isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Name):
                for _, carried in open_loops:
                    carried.add(n.target.id)
            for name in n._fields:
                value = getattr(n, name, None)
                if isinstance(value, AST):
                    stack.append(value)
                elif isinstance(value, list):
                    stack.extend(item for item in value if isinstance(item, AST))

    def _loop(self, node, target: ast.AST | None, iter_labels: frozenset | None) -> None:
        loop_key = (self.unit.label, node.lineno, node.col_offset, self.frame.frame_id)
        envs = []
        carried = self._carried(node)
        # names bound before the loop that are no masks stay none if the loop does not run
        not_masks = self.frame.env.keys() - self.frame.masks   # a set difference in C, not a scan
        masks_out = None
        # the later iteration only while fewer than `nested_later_iterations` run around this loop
        # (rules.toml explains the bound), or where the first iteration trained on validation data
        # or wrote it into a table, or left it in a name the loop binds (`prev_x = x`, trained on
        # in the next iteration): what a later iteration then scores may be rescored
        bounded = self.later_running >= self.spec.nested_later_iterations
        if bounded:
            env = self.frame.env
            before = {name: env.get(name, EMPTY) for name in self._assigned_in(node)}
            events_before = len(self.events)
        k = 0
        while True:
            self.later_running += k
            self.frame.loops.append((loop_key, k, node))
            for name in carried:
                if self.bound(name):
                    self.bind(name, self.lookup(name) | {(ITER, loop_key)})
            try:
                if target is not None and iter_labels is not None:
                    labels = iter_labels | {(ITER, loop_key)}
                    regs = regions_of(labels)
                    if regs:
                        labels = (labels - regs) | {self.region(node.target, labels, regs)}
                    if _enumerated(node) and isinstance(target, ast.Tuple) and len(target.elts) == 2:
                        # `for i, tok in enumerate(xs)`: i is a position, only tok carries xs
                        self.assign(target.elts[0], _keep_iter(labels), node)
                        self.assign(target.elts[1], labels, node)
                    else:
                        self.assign(target, labels, node)
                elif isinstance(node, ast.While):
                    self.eval(node.test)
                self._exec_block(node.body)
            finally:
                self.frame.loops.pop()
                self.later_running -= k
            masks_out = set(self.frame.masks) if masks_out is None else masks_out & self.frame.masks
            if k == 1:
                break
            envs.append(dict(self.frame.env))   # the names after one iteration flow on after the loop
            if bounded and not (self._adapted_on_validation(events_before) or self._new_regions_bound(before)):
                break
            k = 1
        self.frame.masks = masks_out - not_masks
        _merge_into(self.frame.env, envs[0])
        self._exec_block(node.orelse)

    def _adapted_on_validation(self, since: int) -> bool:
        """Was validation data trained on or written into a table since event `since`?"""
        return any(e.regions and (e.kind == "update" or e.kind == "cache") for e in self.events[since:])

    def _new_regions_bound(self, before: dict[str, frozenset]) -> bool:
        """Does one of the names (bound by a loop, with their values before it) now hold validation
        regions it did not hold before?"""
        env = self.frame.env
        for name, old in before.items():
            now = env.get(name, EMPTY)
            if now is not old and regions_of(now) - regions_of(old):
                return True
        return False

    def _s_For(self, node: ast.For) -> None:
        self._loop(node, node.target, _strip(self.eval(node.iter)) | self._iter_objects(node.iter))

    _s_AsyncFor = _s_For

    def _iter_objects(self, node: ast.expr) -> frozenset:
        return EMPTY

    def _s_While(self, node: ast.While) -> None:
        self._loop(node, None, None)

    def _s_With(self, node: ast.With) -> None:
        saved = self.nograd
        for item in node.items:
            labels = self.eval(item.context_expr)
            ctx = item.context_expr
            q = self.imports.qualname(ctx.func if isinstance(ctx, ast.Call) else ctx) or ""
            if q in self.spec.nograd_contexts:
                self.nograd = True
            elif q in self.spec.grad_contexts:
                self.nograd = False
            elif q == "torch.set_grad_enabled" and isinstance(ctx, ast.Call) and ctx.args:
                arg = ctx.args[0]
                if isinstance(arg, ast.Constant):
                    self.nograd = not bool(arg.value)
            if item.optional_vars is not None:
                self.assign(item.optional_vars, labels, node)
        try:
            self._exec_block(node.body)
        finally:
            self.nograd = saved

    _s_AsyncWith = _s_With

    # ------------------------------------------------------------------ assignment
    def assign(self, target: ast.AST, labels: frozenset, node: ast.AST, value_node: ast.AST | None = None) -> None:
        if isinstance(target, ast.Name):
            if value_node is not None and self._self_referential(target.id, value_node):
                self.frame.masks.discard(target.id)
                self.accumulate(target, labels, node, replace=True)
                return
            if value_node is not None and target.id not in self.frame.globals_ and self._is_mask(value_node):
                self.frame.masks.add(target.id)
            else:
                self.frame.masks.discard(target.id)
            self.bind(target.id, labels)
        elif isinstance(target, (ast.Tuple, ast.List)):
            elts = value_node.elts if isinstance(value_node, (ast.Tuple, ast.List)) and len(
                value_node.elts) == len(target.elts) else None
            for i, elt in enumerate(target.elts):
                if isinstance(elt, ast.Starred):
                    elt = elt.value
                if elts is not None:
                    self.assign(elt, self.eval_cached(elts[i]), node)
                else:
                    self.assign(elt, labels, node)
        elif isinstance(target, ast.Attribute):
            recv = self.eval(target.value)
            if PARAM in recv and has_data(labels):
                self.event("update", node, labels, sink=f"assignment to `{ast.unparse(target)[:60]}`")
            self.store_attr(recv, target.attr, labels)
        elif isinstance(target, ast.Subscript):
            self.store_subscript(target, labels, node)
        elif isinstance(target, ast.Starred):
            self.assign(target.value, labels, node)

    def eval_cached(self, node: ast.expr) -> frozenset:
        return self.eval(node)

    @staticmethod
    def _self_referential(name: str, value: ast.AST) -> bool:
        if not isinstance(value, ast.BinOp):
            return False
        return any(isinstance(n, ast.Name) and n.id == name for n in (value.left, value.right))

    def store_subscript(self, target: ast.Subscript, labels: frozenset, node: ast.AST, aug: bool = False) -> None:
        container = self.eval(target.value)
        index = self.eval(target.slice)
        objs = self._objs(container)
        key = target.slice.value if isinstance(target.slice, ast.Constant) and isinstance(target.slice.value, str) else None
        # A write at a position (`x[b, :n] = toks`) fills a buffer; only a write at a key computed
        # from token contents (`table[tok] += 1`) is a cache write.
        keyed = has_data(index) and self._keyed(target.slice)
        if keyed:
            # A table written at a position computed from token contents: a cache write. Adding to
            # what the entry held (`t[k] += 1`, `t[k] = t.get(k, 0) + 1`) counts the tokens.
            cache_write = self._cache_event(node, _strip(index) | _strip(labels) if aug else _strip(index),
                                            f"write to `{ast.unparse(target)[:60]}`",
                                            counts=aug or _reads_itself(target.value, node),
                                            written=regions_of(index) | regions_of(labels))
        elif self._is_score(labels):
            self.score(node, labels, target)
        else:
            labels = self._prefix_reads(labels, index)
        if PARAM in container and has_data(labels):
            self.event("update", node, labels, sink=f"write to `{ast.unparse(target)[:60]}`")
        if objs and key is not None:
            for oid in objs:
                fields = self.heap.setdefault(oid, {})
                fields[key] = (fields.get(key, EMPTY) if aug else EMPTY) | labels
            return
        if keyed:
            self._taint_base(target.value, _cache_contents(labels | _strip(index), cache_write))
        else:
            self._taint_base(target.value, labels | _strip(index))

    def _cache_event(self, node: ast.AST, labels: frozenset, sink: str, counts: bool = False,
                     written: frozenset | None = None) -> Event:
        """A write into a table keyed by token contents. `counts`: the write adds to what the table
        held (counts, sums): the table is a statistic of every token written into it. `written`:
        the validation regions put into the table, key and value (the event's own regions are
        those it is judged on)."""
        cache_write = self.event("cache", node, labels, sink=sink, counts=counts)
        cache_write.detail["written"] = regions_of(labels) if written is None else written
        if cache_write.regions:
            self._val_cache_writes.add(cache_write.time)
        self._cache_writes[cache_write.time] = cache_write
        return cache_write

    def _prefix_reads(self, labels: frozenset, index: frozenset) -> frozenset:
        """A value stored at the position of the current loop iteration (`hint[i] = table[ctx]`,
        the index varies with the loop and holds no token) that was read from tables holding only
        tokens of earlier iterations of that loop (`model.earlier_iteration`, the notion that tells
        the legal score-then-count loop apart): a prefix-only feature. Those tables' marks become
        EARLIER marks; a table read back in the iteration that wrote the current token, or filled
        by an earlier pass, keeps its mark."""
        if has_data(index):
            return labels
        marks = [x for x in labels if isinstance(x, tuple) and x[0] == CACHE_WRITE]
        if not marks:
            return labels
        positions = {x[1] for x in index if isinstance(x, tuple) and x[0] == ITER}
        if not positions:
            return labels
        read_loops = tuple((key, k) for f in self.frames for key, k, _ in f.loops)
        # the value itself must hold no token of the current iteration either (a lookup keyed by
        # the token at position i reads the answer, whatever the table holds)
        current = {key for key, k in read_loops if k == 1 and any(
            key in r.all_gens and not earlier_tokens_only(r, key) for r in regions_of(labels))}
        out = set(labels)
        for mark in marks:
            write = self._cache_writes.get(mark[1])
            if write is None:
                continue
            loop = earlier_iteration(write.detail.get("loops", ()), write.detail["written"], read_loops)
            if loop is not None and loop in positions and loop not in current:
                out.discard(mark)
                out.add((EARLIER, mark[1]))
        return frozenset(out)

    def _val_derived(self, labels: frozenset, depth: int = 0) -> bool:
        """Validation tokens, or a table filled from them (a cache write keyed by their contents),
        also as a field of a dict or object (`{"model": ..., "cache": tokens}`)."""
        # a field holding a score (`{"val_bpb": val_bpb, "model": ...}` in a checkpoint) is a number
        # computed from the tokens, not the tokens
        if depth < 3 and any(self._val_derived(v, depth + 1)
                             for oid in self._objs(labels) for v in self.heap.get(oid, {}).values()
                             if not any(isinstance(x, tuple) and x[0] == SCORE for x in v)):
            return True
        return bool(regions_of(labels)) or any(
            isinstance(x, tuple) and x[0] in (CACHE_WRITE, EARLIER) and x[1] in self._val_cache_writes
            for x in labels)

    def _ship(self, node: ast.AST, labels: frozenset, how: str) -> None:
        if self._val_derived(labels):
            inner = labels
            for oid in self._objs(labels):
                for v in self.heap.get(oid, {}).values():
                    inner |= v
            self.event("ship", node, _strip(inner), how=how)

    def _keyed(self, index: ast.AST) -> bool:
        """Is a written index a key computed from token contents (`t[tok]`, `t[prev, :]`) rather
        than a stretch of positions (`x[b, :n]`, `x[i:j]`) or positions selected by a boolean mask
        (`x[p >= tau]`), which fill or copy into a buffer?"""
        parts = index.elts if isinstance(index, ast.Tuple) else [index]
        positional = [isinstance(p, ast.Slice) or self._is_mask(p) for p in parts]
        if not any(positional):
            return True
        return any(not pos and has_data(self.eval(p)) for p, pos in zip(parts, positional))

    def _is_mask(self, node: ast.AST, depth: int = 0) -> bool:
        """Is this expression a boolean mask by construction (`[analysis]` mask settings)? Decided
        on the expression and on the local names bound to masks, never on names' spelling. An
        equality comparison is no mask here: compared with token values it picks entries by content."""
        if depth > 8:
            return False
        kind = type(node)
        if kind is not _CALL:   # most values assigned are calls: asked first
            if kind is _NAME:
                return node.id in self.frame.masks and node.id in self.frame.env
            if kind is ast.Compare:
                return all(isinstance(op, (ast.Lt, ast.LtE, ast.Gt, ast.GtE)) for op in node.ops)
            if kind is ast.UnaryOp:
                return isinstance(node.op, (ast.Invert, ast.Not)) and self._is_mask(node.operand, depth + 1)
            if kind is ast.BinOp:
                if isinstance(node.op, ast.BitAnd):   # zero wherever the mask is: at most the mask's positions
                    return self._is_mask(node.left, depth + 1) or self._is_mask(node.right, depth + 1)
                if isinstance(node.op, (ast.BitOr, ast.BitXor)):
                    return self._is_mask(node.left, depth + 1) and self._is_mask(node.right, depth + 1)
                return False
            if kind is _SUBSCRIPT:
                return self._is_mask(node.value, depth + 1)
            return False
        spec = self.spec
        func = node.func
        tail = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
        tails = self._mask_tails
        if tails is None:
            tails = self._mask_tails = frozenset(q.rsplit(".", 1)[-1] for q in (*spec.mask_calls, *spec.mask_combine_calls))
        if tail not in tails and not (isinstance(func, ast.Attribute)
                                      and (tail in spec.cast_methods or tail in spec.mask_methods)):
            return False  # most calls: no qualified name to resolve
        qual = self.imports.qualname(node.func) or ""
        if qual in spec.mask_calls:
            return True
        if qual in spec.mask_combine_calls:
            first = node.args[0] if node.args else None
            return isinstance(first, (ast.List, ast.Tuple)) and bool(first.elts) and all(
                self._is_mask(e, depth + 1) for e in first.elts)
        if not isinstance(node.func, ast.Attribute):
            return False
        name = node.func.attr
        if name in spec.cast_methods:
            if name in spec.bool_dtypes and not node.args:
                return True   # `.bool()`
            dtype = node.args[0] if node.args else next(
                (k.value for k in node.keywords if k.arg == "dtype"), None)
            if dtype is not None and self._bool_dtype(dtype):
                return True
        return name in spec.mask_methods and self._is_mask(node.func.value, depth + 1)

    def _bool_dtype(self, node: ast.AST) -> bool:
        if isinstance(node, ast.Constant):
            return isinstance(node.value, str) and node.value in self.spec.bool_dtypes
        if isinstance(node, ast.Name) and self.bound(node.id):
            return False
        return (self.imports.qualname(node) or "") in self.spec.bool_dtypes

    def _taint_base(self, expr: ast.AST, labels: frozenset) -> None:
        """By side effect: a container written into carries what was written."""
        while isinstance(expr, ast.Subscript):
            expr = expr.value
        if isinstance(expr, ast.Name):
            self.bind(expr.id, self.lookup(expr.id) | _strip(labels))
        elif isinstance(expr, ast.Attribute):
            recv = self.eval(expr.value)
            self.store_attr(recv, expr.attr, _strip(labels))

    def _is_score(self, labels: frozenset) -> bool:
        """A model output on validation data, computed under no-grad or accumulated under it,
        outside the model's own methods (a forward that collects activations does not score)."""
        func = self.frame.func
        if func is not None and func.cls is not None and self._is_module_class(func.cls):
            return False
        return bool(regions_of(labels)) and any(
            isinstance(x, tuple) and x[0] == OUT and (x[2] or self.nograd) for x in labels)

    def score(self, node: ast.AST, labels: frozenset, target: ast.AST | None) -> frozenset:
        self.event("score", node, labels, target=ast.unparse(target)[:60] if target is not None else "")
        return frozenset({(SCORE, len(self.events) - 1)})

    def accumulate(self, target: ast.AST, value: frozenset, node: ast.AST, replace: bool = False) -> None:
        """`target += value` (or `target = target + value`)."""
        extra = EMPTY
        if self._is_score(value):
            extra = self.score(node, value, target)
        if any(isinstance(x, tuple) and x[0] == MATCH for x in value):
            # `loss[:n] *= (stored != target)`: a model's loss on validation tokens changed where
            # stored tokens match the targets (also inside a helper the scoring loop calls)
            current = _strip(self.eval(target))
            if regions_of(current) and any(isinstance(x, tuple) and x[0] == OUT for x in current):
                self.event("answer", node, current | value)
        if isinstance(target, ast.Name):
            old = self.lookup(target.id)
            if PARAM in old and has_data(value) and not replace:
                self.event("update", node, value, sink=f"in-place update of `{target.id}`")
            new = (value if replace else old | value) | extra
            if replace:
                new |= old
            self.bind(target.id, new | self._loop_variance(target.id))
        elif isinstance(target, ast.Attribute):
            recv = self.eval(target.value)
            if PARAM in recv and has_data(value):
                self.event("update", node, value, sink=f"in-place update of `{ast.unparse(target)[:60]}`")
            self.store_attr(recv, target.attr, self.load_attr(recv, target.attr) | value | extra | {STATEFUL})
        elif isinstance(target, ast.Subscript):
            self.store_subscript(target, value | extra, node, aug=True)

    def _loop_variance(self, name: str) -> frozenset:
        """A name updated in place inside loops varies with the innermost loop, and with each
        enclosing loop that does not reset it."""
        loops = self.frame.loops
        if not loops:
            return EMPTY
        out = {(ITER, loops[-1][0])}
        for loop_key, _, loop_node in reversed(loops[:-1]):
            if name in self._assigned_in(loop_node):
                break
            out.add((ITER, loop_key))
        return frozenset(out)

    # ------------------------------------------------------------------ selection (GL103/GL106)
    def _transparent(self, test: ast.expr) -> bool:
        """Is `test` built of comparisons, `and`/`or`/`not` over names, constants and attributes of
        those only (no call, subscript or anything else), so that evaluating it has no side
        effect but running a module and every comparison operand's labels are in its value?"""
        key = ("transparent", id(test))
        known = self._assigned_cache.get(key)
        if known is None:
            known = self._assigned_cache[key] = _transparent_test(test)
        return known

    def _check_selection(self, node: ast.If, test: frozenset) -> None:
        key = ("compares", id(node))
        compares = self._assigned_cache.get(key)
        if compares is None:   # an `if` runs once per call of its function: walk its test once
            compares = self._assigned_cache[key] = [n for n in nodes_under(node.test) if isinstance(n, ast.Compare)]
        scores = set()
        for cmp in compares:
            for operand in (cmp.left, *cmp.comparators):
                scores |= {x for x in self.eval(operand) if isinstance(x, tuple) and x[0] == SCORE}
        if not scores:
            return
        for body in (node.body, node.orelse):
            for stmt in body:
                if self._selects(stmt):
                    self.event("select", node, frozenset(scores), what=ast.unparse(stmt)[:80].split("\n")[0])
                    return

    def _selects(self, stmt: ast.stmt) -> bool:
        """Does this statement act on a comparison (beyond logging or keeping the best score)?"""
        if isinstance(stmt, (ast.Break, ast.Return)):
            return True
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            values = stmt.value.elts if isinstance(stmt.value, ast.Tuple) else [stmt.value]
            return any(v is not None and not isinstance(v, ast.Constant)
                       and not any(isinstance(x, tuple) and x[0] == SCORE for x in self.eval(v))
                       for v in values)
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            call = stmt.value
            args = [*call.args, *(k.value for k in call.keywords)]
            if all(isinstance(a, (ast.Constant, ast.JoinedStr)) for a in args):
                return False   # logging
            name = self.imports.call_name(call) or ""
            return name not in ("print", "builtins.print") and not any(isinstance(a, ast.JoinedStr) for a in args)
        return False

    # ------------------------------------------------------------------ expressions
    def eval(self, node: ast.expr | None) -> frozenset:
        if node is None:
            return EMPTY
        kind = type(node)
        if kind is _NAME:
            # `_e_Name` and `lookup`, inline: four evaluations in ten are of a name
            name = node.id
            frame = self.frame
            if name not in frame.globals_:
                f: Frame | None = frame
                while f is not None:
                    env = f.env
                    if name in env:
                        return env[name]
                    f = f.closure
            return frame.module.env.get(name, EMPTY)
        if kind is _CONSTANT:
            value = node.value
            return self._path_labels(node, value) if isinstance(value, str) else EMPTY
        method = self._expr_table.get(kind, _UNSET)
        if method is _UNSET:
            method = _fill_handler(self._expr_table, type(self), "_e_", kind)
        if method is not None:
            return method(self, node)
        out = EMPTY
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                out |= _strip(self.eval(child))
        return out

    def _e_Constant(self, node: ast.Constant) -> frozenset:
        if isinstance(node.value, str):
            return self._path_labels(node, node.value)
        return EMPTY

    def _path_labels(self, node: ast.AST, text: str) -> frozenset:
        key = id(node)
        cached = self._str_cache.get(key)
        if cached is None:
            val, train, wide = self.spec.classify_path(text)
            out = set()
            if val:
                out.add(VALPATH)
            if train:
                out.add(TRAINPATH)
            if wide:
                out.add((WIDE, self.unit.label, getattr(node, "lineno", 0)))
            cached = self._str_cache[key] = frozenset(out)
        return cached

    def _e_JoinedStr(self, node: ast.JoinedStr) -> frozenset:
        out = EMPTY
        parts = []
        for part in node.values:
            if isinstance(part, ast.Constant) and isinstance(part.value, str):
                parts.append(part.value)
            else:
                parts.append(PLACEHOLDER)
                out |= _strip(self.eval(part))
        return out | self._path_labels(node, "".join(parts))

    def _e_FormattedValue(self, node: ast.FormattedValue) -> frozenset:
        return self.eval(node.value)

    def _e_Name(self, node: ast.Name) -> frozenset:
        return self.lookup(node.id)

    def _e_Attribute(self, node: ast.Attribute) -> frozenset:
        recv = self.eval(node.value)
        if node.attr in self.spec.shape_attrs:
            return _keep_iter(recv)
        return self.load_attr(recv, node.attr)

    def _e_Subscript(self, node: ast.Subscript) -> frozenset:
        container = self.eval(node.value)
        index = self.eval(node.slice)
        objs = self._objs(container)
        if objs and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
            out = EMPTY
            for oid in objs:
                out |= self.heap.get(oid, {}).get(node.slice.value, EMPTY)
            return out
        # An object indexed whole (`cache[key]` on a user container class) yields what its fields
        # hold. A module's identity rides on the outputs it computes (`model(x)[:, -1]`), and
        # indexing such an output reads none of the module's fields (its parameters among them).
        objs = [o for o in objs if not self._is_module_class(self.obj_class.get(o, -1))]
        if objs:
            out = EMPTY
            for oid in objs:
                for v in self.heap.get(oid, {}).values():
                    out |= v
            container = container | out
        base = _strip(container)
        if _empty_slice(node.slice):
            # `x[:0]`: no tokens at all (an empty accumulator to concatenate onto)
            return frozenset(x for x in base if not is_data(x))
        cut_here = EMPTY
        if isinstance(node.slice, ast.Slice) and (regions_of(base) or VALPATH in base):
            cut_here = self._partial_view(node, base, index)
        index_kinds = _kinds(index)
        cuts = [x for x in index if isinstance(x, tuple) and x[0] == CUT] if CUT in index_kinds else None
        if cuts and regions_of(base) and not isinstance(node.slice, ast.Slice):
            self.event("prefix", node, base, what="validation tokens gathered at positions",
                       bound=cuts[0][1], text=cuts[0][2])
            index = index - frozenset(cuts)   # reported once, where the stream is gathered
        if not isinstance(node.slice, ast.Constant) and not has_data(index) and STORED in _kinds(base):
            # cut by position, not looked up by token content: a stretch of the stored tokens
            base = base | {(STORED_SEQ, *x[1:]) for x in base if isinstance(x, tuple) and x[0] == STORED}
        split = _split_side(node.slice)
        if split is not None and regions_of(base) and not has_data(index):
            # `t[:k]` and `t[k:...]`: the head and the tail of one stretch, cut at the same bound,
            # hold different tokens (the context a bias is fitted on, the positions then scored)
            r = self.region(node, index, regions_of(base))
            r.split = split
            return (base - regions_of(base)) | {r} | _strip(index) | cut_here
        out = self._cut(node, base, index)
        index = _strip(index)
        if index:
            out = out | index if out else index
        return out | cut_here if cut_here else out

    def _e_Compare(self, node: ast.Compare) -> frozenset:
        """`stored == target`: validation tokens compared, position by position, with a stretch of
        tokens read from a file the submission carries (not a model output)."""
        evaluate = self.eval
        operands = [_strip(evaluate(node.left))]
        out = operands[0]
        for o in node.comparators:
            labels = _strip(evaluate(o))
            operands.append(labels)
            out = out | labels
        if not any(type(op) is ast.Eq or type(op) is ast.NotEq for op in node.ops):
            return out
        # (the kinds of each operand's labels are memoized per label set: most comparisons hold no
        # stored stretch of tokens, and that answer costs one look-up instead of a scan)
        kinds = [_kinds(labels) for labels in operands]
        if not any(STORED_SEQ in k for k in kinds):
            return out
        for i, labels in enumerate(operands):
            if OUT in kinds[i] or STORED_SEQ not in kinds[i] \
                    or not any(regions_of(o) for j, o in enumerate(operands) if j != i):
                continue
            for x in labels:
                if isinstance(x, tuple) and x[0] == STORED_SEQ:
                    out |= {(MATCH, self.unit.label, node.lineno, x[1], x[2])}
        return out

    def _partial_view(self, node: ast.Subscript, base: frozenset, index: frozenset) -> frozenset:
        """Validation data (or its shard list) cut to a fixed prefix, or windows that skip tokens.
        Returns the label that marks what went through a prefix cut (none for other views)."""
        sl = node.slice
        idx = index_of(self.unit)
        start_zero = sl.lower is None or (isinstance(sl.lower, ast.Constant) and sl.lower.value == 0)
        if start_zero and sl.upper is not None and sl.step is None and not has_data(index) \
                and not any(isinstance(x, tuple) and x[0] == ITER for x in index):
            if any(r.all_gens for r in regions_of(base)) and not self._gathered(base):
                return EMPTY  # a prefix of one window of a loop, not of the stream
            # a cap assigned in a branch no run takes (a smoke-test switch left unset) bounds nothing
            fixed, value = FixedBound(idx, runs=[dict(r) for r in self.spec.configured])(sl.upper)
            # 0 starts an empty accumulator; a negative stop drops the last tokens of the inputs;
            # a token cap of 1 is off by default (`[:min(n, cap + 1)]` with cap 0): no score has 1 token
            least = 1 if regions_of(base) else 0
            run = ""
            if fixed and value is not None and value <= least:
                # off by default, but a run command may set it (`VAL_SUBSET_TOKENS=1048576 python ...`)
                for overrides in self.spec.configured:
                    ok, run_value = FixedBound(idx, dict(overrides), runs=[])(sl.upper)
                    if ok and run_value is not None and least < run_value < self.spec.min_validation_tokens:
                        value, run = run_value, f"{int(run_value):,} tokens with the run command's settings"
                        break
            if fixed and (value is None or least < value < self.spec.min_validation_tokens):
                what = "validation tokens" if regions_of(base) else "validation shards"
                site = (self.unit.label, node.lineno, node.col_offset)
                self.event("prefix", node, base, what=what, bound=ast.unparse(sl.upper)[:40],
                           text=ast.unparse(node)[:60], site=site, run=run)
                return frozenset({(PREFIX, *site)})
            return EMPTY
        if isinstance(sl.lower, ast.Name) and isinstance(sl.upper, ast.BinOp) and isinstance(sl.upper.op, ast.Add) \
                and isinstance(sl.upper.left, ast.Name) and sl.upper.left.id == sl.lower.id \
                and isinstance(sl.upper.right, ast.Constant) and isinstance(sl.upper.right.value, int):
            width = sl.upper.right.value
            for _, _, loop in reversed(self.frame.loops):
                if isinstance(loop, ast.For) and isinstance(loop.target, ast.Name) and loop.target.id == sl.lower.id:
                    it = loop.iter
                    if isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and len(it.args) == 3 \
                            and isinstance(it.args[2], ast.Constant) and isinstance(it.args[2].value, int) \
                            and it.args[2].value > width:
                        step = it.args[2].value
                        self.event("skip", loop, base, step=step, width=width)
                    break
        return EMPTY

    def _cut_positions(self, arg: ast.AST | None) -> frozenset:
        """Positions of a mask cut to a fixed prefix shorter than the validation split."""
        while isinstance(arg, ast.Compare):
            arg = arg.left
        if not (isinstance(arg, ast.Subscript) and isinstance(arg.slice, ast.Slice)):
            return EMPTY
        sl = arg.slice
        if sl.upper is None or sl.step is not None or not (
                sl.lower is None or isinstance(sl.lower, ast.Constant) and sl.lower.value == 0):
            return EMPTY
        fixed, value = FixedBound(index_of(self.unit))(sl.upper)
        if fixed and value is not None and 0 < value < self.spec.min_validation_tokens:
            return frozenset({(CUT, ast.unparse(sl.upper)[:40], ast.unparse(arg)[:60])})
        return EMPTY

    def _gathered(self, labels: frozenset) -> bool:
        """Windows of a loop that has finished, gathered into one value (`torch.cat(chunks)`, a
        buffer filled window by window): the value holds the stream, not one window. Seen as the
        regions of both abstract iterations of a loop that is no longer running."""
        running = {key for f in self.frames for key, _, _ in f.loops}
        merged: dict = {}
        for r in regions_of(labels):
            for loop, ks in r.all_gens.items():
                merged.setdefault(loop, set()).update(ks)
        return any(len(ks) > 1 and loop not in running for loop, ks in merged.items())

    def _e_Slice(self, node: ast.Slice) -> frozenset:
        out = self.eval(node.lower)
        for part in (node.upper, node.step):
            if part is not None:
                labels = self.eval(part)
                if labels:
                    out = out | labels if out else labels
        return out

    def _e_Tuple(self, node) -> frozenset:
        # a union only where two parts have labels: otherwise the very set of the one that has
        # some (no copy, and the label memos find it by identity)
        out = EMPTY
        for e in node.elts:
            labels = self.eval(e)
            if labels:
                out = out | labels if out else labels
        return out

    _e_List = _e_Set = _e_Tuple

    def _e_Dict(self, node: ast.Dict) -> frozenset:
        if node.keys and all(isinstance(k, ast.Constant) and isinstance(k.value, str) for k in node.keys):
            labels = self._alloc((self.unit.label, node.lineno, node.col_offset), None)
            oid = self._objs(labels)[0]
            fields = self.heap[oid]
            for k, v in zip(node.keys, node.values):
                fields[k.value] = self.eval(v)
            return labels
        out = EMPTY
        for k, v in zip(node.keys, node.values):
            out |= self.eval(k) | self.eval(v)
        return _strip(out)

    def _e_BinOp(self, node: ast.BinOp) -> frozenset:
        left, right = self.eval(node.left), self.eval(node.right)
        # one side empty (a constant) or both the same set: that very set, whose hash is known
        out = _strip(left if not right or left is right else right if not left else left | right)
        if isinstance(node.op, ast.MatMult) and regions_of(out) and self._gram(node.left, node.right):
            self.event("calib", node, out, how="activation Gram matrix (X^T X)")
        elif isinstance(node.op, ast.MatMult) and TRAIN in out and self._gram(node.left, node.right):
            self.event("calib_train", node, out, how="activation Gram matrix (X^T X)")
        return out

    @staticmethod
    def _gram(a: ast.AST, b: ast.AST) -> bool:
        def base(x: ast.AST) -> tuple[str | None, bool]:
            if isinstance(x, ast.Attribute) and x.attr in ("T", "mT"):
                return ast.unparse(x.value), True
            if isinstance(x, ast.Call) and isinstance(x.func, ast.Attribute) and x.func.attr in ("t", "transpose"):
                return ast.unparse(x.func.value), True
            return ast.unparse(x), False

        (ba, ta), (bb, tb) = base(a), base(b)
        return ba == bb and ta != tb

    def _e_IfExp(self, node: ast.IfExp) -> frozenset:
        self.eval(node.test)
        return self.eval(node.body) | self.eval(node.orelse)

    def _e_Lambda(self, node: ast.Lambda) -> frozenset:
        fid = self._register_func(node, None)
        closure = self.frame if self.frame.func is not None else None
        if closure is not None:
            self.closures[closure.frame_id] = closure
        return frozenset({(FUNC, fid, closure.frame_id if closure else 0)})

    def _e_NamedExpr(self, node: ast.NamedExpr) -> frozenset:
        labels = self.eval(node.value)
        self.assign(node.target, labels, node)
        return labels

    def _comprehension(self, node, elts: list[ast.expr]) -> frozenset:
        saved = dict(self.frame.env)
        saved_masks = set(self.frame.masks)
        try:
            for gen in node.generators:
                it = _strip(self.eval(gen.iter))
                self.assign(gen.target, it, node)
                for cond in gen.ifs:
                    self.eval(cond)
            out = EMPTY
            for e in elts:
                out |= self.eval(e)
            return _strip(out)
        finally:
            self.frame.env.clear()
            self.frame.env.update(saved)
            self.frame.masks = saved_masks

    def _e_ListComp(self, node) -> frozenset:
        return self._comprehension(node, [node.elt])

    _e_SetComp = _e_GeneratorExp = _e_ListComp

    def _e_DictComp(self, node) -> frozenset:
        return self._comprehension(node, [node.key, node.value])

    def _e_Await(self, node) -> frozenset:
        return self.eval(node.value)

    def _e_Yield(self, node) -> frozenset:
        labels = self.eval(node.value)
        self.frame.ret |= labels
        return EMPTY

    _e_YieldFrom = _e_Yield

    def _e_Starred(self, node) -> frozenset:
        return self.eval(node.value)

    # `not x`, `-x`, `a and b`: what the generic walk of `eval` gives (the children's labels,
    # stripped), without iterating over the node's fields
    def _e_UnaryOp(self, node: ast.UnaryOp) -> frozenset:
        return EMPTY | _strip(self.eval(node.operand))

    def _e_BoolOp(self, node: ast.BoolOp) -> frozenset:
        out = EMPTY
        for value in node.values:
            out |= _strip(self.eval(value))
        return out

    # ------------------------------------------------------------------ calls
    def _e_Call(self, node: ast.Call) -> frozenset:
        func = node.func
        evaluate = self.eval
        # map, not a comprehension: a comprehension is a function call of its own (Python 3.11)
        args = list(map(evaluate, node.args))
        if node.keywords:
            kwargs = {}
            for k in node.keywords:
                kwargs[k.arg] = evaluate(k.value)
        else:
            kwargs = {}
        if args and id(node) in self._starred_calls:
            args = self._expand_starred(node.args, args)
        if len(args) == 1 and not kwargs:
            all_args = args[0]   # the very set: its hash is known, and _strip's memo hits by identity
        else:
            # empty parts add nothing: the first nonempty set is kept as it is (the very set, as above)
            all_args = EMPTY
            for a in args:
                if a:
                    all_args = all_args | a if all_args else a
            for v in kwargs.values():
                if v:
                    all_args = all_args | v if all_args else v
        all_args = _strip(all_args)

        if isinstance(func, ast.Attribute):
            if func.attr == "from_bytes" and isinstance(func.value, ast.Name) and func.value.id == "int" \
                    and not self.bound("int"):
                # one integer from raw bytes (a shared batch counter, a header field): a number,
                # not a stretch of stored tokens that could be compared with the scored targets
                return frozenset(x for x in all_args if not (isinstance(x, tuple) and x[0] == STORED))
            recv = self.eval(func.value)
            return self._lossy(func.attr, self._method_call(node, func.attr, recv, args, kwargs, all_args))

        callee = self.eval(func) if not isinstance(func, ast.Name) or self.bound(func.id) else EMPTY
        kinds = _kinds(callee)
        targets = _in_order([x for x in callee if isinstance(x, tuple) and x[0] in (FUNC, CLASS)]) \
            if FUNC in kinds or CLASS in kinds else None
        if targets:
            out = EMPTY
            for t in targets:
                if t[0] == FUNC:
                    out |= self._invoke(t[1], node, args, kwargs, EMPTY, node.lineno, t[2])
                else:
                    out |= self._instantiate(t[1], node, args, kwargs, all_args)
            return out
        if OBJ in kinds:
            return self._call_object(node, callee, args, kwargs, all_args)
        if type(func) is _NAME:
            # ImportMap.qualname of a name, without its memo: the import it aliases, or itself
            qual = self.imports.aliases.get(func.id, func.id)
            if "." not in qual and (self.bound(func.id) or not hasattr(builtins, func.id)):
                # A variable holding something callable we cannot see into (a model).
                return self._opaque(node, _strip(callee) | all_args)
        else:
            qual = self.imports.qualname(func) or ""
        return self._lossy(qual.rsplit(".", 1)[-1], self._library_call(node, qual, args, kwargs, all_args))

    def _lossy(self, name: str, out: frozenset) -> frozenset:
        """Mark what a loss or a log computes from data (a score in bits or nats)."""
        if (name in self.spec.loss_calls or name in LOG_CALLS) and has_data(out):
            return out | {LOSS}
        return out

    def _expand_starred(self, nodes: list, args: list) -> list:
        """`fn(*args)`: a pack of positional arguments received by `*args` goes back position by
        position; anything else may land anywhere, so every later position may get any of it."""
        out: list = []
        for node, labels in zip(nodes, args):
            if not isinstance(node, ast.Starred):
                out.append(labels)
                continue
            packs = [self.packs[x[1]] for x in labels if isinstance(x, tuple) and x[0] == OBJ and x[1] in self.packs]
            if len(packs) == 1:
                out.extend(packs[0])
            else:
                spread = _strip(labels)
                return out + [spread] * _SPREAD
        return out

    def _library_call(self, node: ast.Call, qual: str, args, kwargs, all_args: frozenset) -> frozenset:
        if node.keywords and any(k.arg == "requires_grad" and isinstance(k.value, ast.Constant)
                                 and k.value.value is True for k in node.keywords):
            # a tensor fitted by gradient (a steering vector, a logit bias): marked by where it is made
            all_args = all_args | {(LEAF, self.unit.label, node.lineno, node.col_offset)}
        return self._library_call_inner(node, qual, args, kwargs, all_args)

    def _library_call_inner(self, node: ast.Call, qual: str, args, kwargs, all_args: frozenset) -> frozenset:
        spec = self.spec
        short = qual.removeprefix("builtins.")
        if short not in self._call_roles:
            return all_args   # none of the cases below applies (most library calls)
        if short in spec.position_calls or (short in spec.position_calls_one_arg and len(node.args) == 1
                                            and not node.keywords):
            return _keep_iter(all_args) | self._cut_positions(node.args[0] if node.args else None)
        if short in spec.shape_calls:
            return _keep_iter(all_args)
        if short in spec.read_calls:
            return self._read(node, all_args)
        if short in spec.module_copy_calls and args:
            copied = self._copy_modules(node, args[0])
            if copied is not None:
                return copied
        if short in spec.update_calls:
            if has_data(all_args):
                ev = self.event("update", node, all_args, sink=f"`{short}`")
                # the gradients it returns carry the fit: a score computed from them comes after it
                return all_args | {(FIT, ev.time)}
            return all_args
        if short in spec.ship_calls:
            self._ship(node, all_args, f"`{short}`")
            self._save_weights(all_args)
        if short in spec.count_calls and has_data(all_args):
            # `np.bincount(keys)`, `Counter(ngrams)`: a table of counts of the argument's values
            return _cache_contents(all_args, self._cache_event(node, all_args, f"`{short}`", counts=True))
        if short in spec.count_into_calls and len(args) >= 2 and has_data(frozenset().union(*args[1:])):
            # `np.add.at(table, keys, 1)`: counts added into the first argument
            added = _strip(frozenset().union(*args[1:]))
            cache_write = self._cache_event(node, added, f"`{short}`", counts=True)
            self._taint_base(node.args[0], _cache_contents(added, cache_write))
            return EMPTY
        if short in spec.best_of_calls:
            self._best_of(node, args, kwargs)
        if short == "next":
            return self._cut(node, all_args, EMPTY, all_loops=True)
        if short == "getattr" and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant) \
                and isinstance(node.args[1].value, str):
            return self.load_attr(self.eval(node.args[0]), node.args[1].value) | (args[2] if len(args) > 2 else EMPTY)
        if short in ("functools.partial",) and args:
            return args[0] | all_args
        return all_args

    def _read(self, node: ast.AST, labels: frozenset) -> frozenset:
        out = labels - {VALPATH, TRAINPATH}
        if VALPATH not in labels and TRAINPATH not in labels:
            # a stored file: it may hold the weights saved before (a model written and read back)
            return out | {(STORED, self.unit.label, getattr(node, "lineno", 0))} | self.saved_weights
        if VALPATH in labels:
            out |= {self.region(node, labels, EMPTY)}
        if TRAINPATH in labels:
            ev = self.event("read", node, labels)
            out |= {TRAIN, (TREAD, len(self.events) - 1)}
            ev.detail["wide"] = any(isinstance(x, tuple) and x[0] == WIDE for x in labels)
        return out

    def _best_of(self, node: ast.Call, args, kwargs) -> None:
        positional = [a for a in args if any(isinstance(x, tuple) and x[0] == SCORE for x in a)]
        key = kwargs.get("key")
        if key is not None and node.keywords:
            key_labels = EMPTY
            elements = EMPTY
            for a in args:
                elements |= a
            for x in _in_order([x for x in key if isinstance(x, tuple) and x[0] == FUNC]):
                key_labels |= self._invoke(x[1], node, [elements], {}, EMPTY, node.lineno, x[2])
            scores = {x for x in key_labels if isinstance(x, tuple) and x[0] == SCORE}
            if scores:
                self.event("select", node, frozenset(scores), what=ast.unparse(node)[:80])
                return
        scores = set()
        for a in positional:
            scores |= {x for x in a if isinstance(x, tuple) and x[0] == SCORE}
        # min(a, b) over two scores, or min(scores) over a collection; not max(score, 1e-9)
        if len(positional) >= 2 or (len(args) == 1 and positional):
            self.event("best_of", node, frozenset(scores), what=ast.unparse(node)[:80])

    def _opaque(self, node: ast.AST, labels: frozenset) -> frozenset:
        """A call into something we cannot see (a model's forward): its output depends on the data."""
        labels = _strip(labels)
        if not has_data(labels):
            return labels
        if self.calib_hooks and regions_of(labels):
            self.event("calib", node, labels, how="forward pass with calibration hooks registered")
        elif self.calib_hooks and TRAIN in labels:
            self.event("calib_train", node, labels, how="forward pass with calibration hooks registered")
        return labels | {(OUT, self._tick(), self.nograd)}

    def _call_object(self, node, callee: frozenset, args, kwargs, all_args) -> frozenset:
        out = EMPTY
        opaque = False
        for oid in self._objs(callee):
            cid = self.obj_class.get(oid)
            if cid is not None and not self._is_module_class(cid):
                fid = self._method(cid, "__call__")
                if fid is not None:
                    out |= self._invoke(fid, node, args, kwargs, frozenset({(OBJ, oid)}), node.lineno, 0)
                    continue
            opaque = True
        if opaque:
            # an output computed through a module carries which module (what a step on it trains)
            via = {(VIA, o) for o in self._objs(callee) if self._is_module_class(self.obj_class.get(o, -1))}
            out |= self._opaque(node, (callee - {x for x in callee if isinstance(x, tuple) and x[0] == OBJ}) | all_args)
            if has_data(out):
                out |= via
                if not self.nograd:
                    out |= {(GRAD, x[1]) for x in via}
        return out

    def _method_call(self, node: ast.Call, name: str, recv: frozenset, args, kwargs, all_args) -> frozenset:
        spec = self.spec
        # Module functions and class methods we can see into.
        kinds = _kinds(recv)
        mods = [x for x in recv if isinstance(x, tuple) and x[0] in (MOD, CLASS)] \
            if MOD in kinds or CLASS in kinds else None
        if mods:
            callee = self.load_attr(recv, name)
            # methods called through their class (`Config.from_env()`, a static helper)
            callee |= {(FUNC, fid, 0) for x in mods if x[0] == CLASS
                       for fid in [self._method(x[1], name)] if fid is not None}
            targets = _in_order([x for x in callee if isinstance(x, tuple) and x[0] in (FUNC, CLASS)])
            out = EMPTY
            for t in targets:
                if t[0] == FUNC:
                    out |= self._invoke(t[1], node, args, kwargs, None, node.lineno, t[2])
                else:
                    out |= self._instantiate(t[1], node, args, kwargs, all_args)
            if targets:
                return out
        objs = self._objs(recv)
        inlined = False
        out = EMPTY
        module_method = False
        for oid in objs:
            cid = self.obj_class.get(oid)
            if cid is None:
                continue
            fid = self._method(cid, name)
            if fid is not None:
                inlined = True
                out |= self._invoke(fid, node, args, kwargs, frozenset({(OBJ, oid)}), node.lineno, 0)
                module_method = module_method or self._is_module_class(cid)
        if inlined:
            if module_method and has_data(all_args):
                out = self._opaque(node, out | all_args)
                if not self.nograd:
                    out |= {(GRAD, o) for o in objs if self._is_module_class(self.obj_class.get(o, -1))}
            return out

        data_recv = _strip(recv) - {x for x in recv if isinstance(x, tuple) and x[0] == OBJ} \
            if OBJ in kinds else _strip(recv)
        if name in self._method_roles:   # else none of the cases below applies: straight to the generic call
            if name in spec.step_methods:
                # `opt.step(closure)`: the optimizer evaluates the closure (loss and backward) itself,
                # as L-BFGS must; run the function we were handed so its step is seen
                self._run_callbacks(node, args, kwargs)
            if name in spec.position_methods:
                # `mask.nonzero()` or `torch.nonzero(mask)`
                where = node.args[0] if node.args else node.func.value if isinstance(node.func, ast.Attribute) else None
                return _keep_iter(recv) | self._cut_positions(where)
            if name in spec.shape_methods:
                return _keep_iter(recv)
            if name in spec.scalar_methods:
                # a Python number or list: the data it holds, never a parameter to update in place
                return _strip(recv) - {PARAM}
            if name in spec.param_methods:
                weights = {(WEIGHTS, o) for o in objs if self._is_module_class(self.obj_class.get(o, -1))}
                return _strip(recv) | {PARAM} | weights
            if name in spec.update_methods:
                if has_data(recv):
                    # The modules whose outputs the loss carries (an adapter passed to the model):
                    # what this step trains, when they are known.
                    modules = {o for o in objs if self._is_module_class(self.obj_class.get(o, -1))}
                    modules |= {x[1] for x in recv if isinstance(x, tuple) and x[0] == VIA}
                    trains = frozenset(modules - self.frozen)
                    fits = frozenset(x for x in recv if isinstance(x, tuple) and x[0] == LEAF)
                    # The loss reaches the user's modules only through outputs computed under no-grad
                    # (hidden states collected for a probe, detached logits a bias is fitted on): no
                    # gradient flows back into them; the step trains only what it fits, if anything.
                    graded = {x[1] for x in recv if isinstance(x, tuple) and x[0] == GRAD}
                    outs = [x[2] for x in recv if isinstance(x, tuple) and x[0] == OUT]
                    detached = any(outs) and (not (modules & graded) if modules else all(outs))
                    self.event("update", node, data_recv, sink=f"`.{name}()`", trains=trains, fits=fits,
                               detached=detached)
                return EMPTY
            if name in spec.read_methods:
                return self._read(node, data_recv | all_args)
            if name == "requires_grad_" and (not node.args or isinstance(node.args[0], ast.Constant)
                                             and node.args[0].value is True) \
                    and not any(self._is_module_class(self.obj_class.get(o, -1)) for o in objs):
                # `bias.clone().detach().requires_grad_()`: a tensor fitted by gradient, as with
                # `requires_grad=True` at creation
                return _strip(recv) | {(LEAF, self.unit.label, node.lineno, node.col_offset)}
            if name == "requires_grad_" and node.args and isinstance(node.args[0], ast.Constant) \
                    and node.args[0].value is False:
                # frozen: a training step no longer changes this module
                self.frozen |= {o for o in objs if self._is_module_class(self.obj_class.get(o, -1))}
            if name in spec.ship_methods:
                # a buffer registered with persistent=False stays out of the saved state
                transient = any(k.arg == "persistent" and isinstance(k.value, ast.Constant) and k.value.value is False
                                for k in node.keywords)
                if not transient:
                    self._ship(node, all_args, f"`.{name}()`")
                self._save_weights(all_args)
            if name in spec.hook_methods:
                if node.args and self._calibration_hook(node.args[0]):
                    self.calib_hooks += 1
                    return frozenset({HOOK})
                return EMPTY
            if name == "remove" and HOOK in recv:
                self.calib_hooks = 0
                return EMPTY
            if name in spec.cache_write_methods and has_data(all_args):
                cache_write = self._cache_event(node, all_args, f"`.{name}()`", counts=name in spec.count_methods)
                self._taint_base(func_value(node), _cache_contents(all_args, cache_write))
                return recv
            if name in spec.count_methods and has_data(data_recv):
                # `tokens.bincount()`: a table of counts of the receiver's values
                return _cache_contents(data_recv | all_args, self._cache_event(node, data_recv | all_args,
                                                                               f"`.{name}()`", counts=True))
            if name in spec.inplace_methods and PARAM in recv and has_data(all_args):
                self.event("update", node, all_args, sink=f"in-place `.{name}()` on parameters")
                return recv
            if name in spec.accumulate_methods and self._is_score(all_args):
                extra = self.score(node, all_args, func_value(node))
                self._taint_base(func_value(node), all_args | extra)
                return recv | extra
            if name in spec.accumulate_methods or name in spec.inplace_methods or name in ("update", "insert", "setdefault"):
                self._taint_base(func_value(node), all_args)
                return _strip(recv) | all_args
            if name == "get" and objs and node.args and isinstance(node.args[0], ast.Constant):
                out = EMPTY
                for oid in objs:
                    out |= self.heap.get(oid, {}).get(node.args[0].value, EMPTY)
                return out | (args[1] if len(args) > 1 else EMPTY)
        qual = self.imports.qualname(node.func) or ""
        head_node = node.func
        while isinstance(head_node, ast.Attribute):
            head_node = head_node.value
        head = head_node.id if isinstance(head_node, ast.Name) else ""
        if name in spec.weight_load_methods:
            self._load_weights(node, objs, all_args)
        if objs and any(self._is_module_class(self.obj_class.get(o, -1)) for o in objs):
            # nn.Module API we do not define (train(), eval(), to(), zero_grad(), ...)
            return _strip(recv) | all_args
        if data_recv and has_data(data_recv):
            return data_recv | all_args        # a tensor/array method
        if head in self.imports.aliases and not _strip(recv):
            return self._library_call(node, qual, args, kwargs, all_args)
        if objs or recv:
            return self._opaque(node, data_recv | all_args) if has_data(all_args) else _strip(recv) | all_args
        return self._opaque(node, all_args)

    def _load_weights(self, node: ast.Call, objs: list, loaded: frozenset) -> None:
        """`fresh.load_state_dict(sd)`: the modules receiving the weights of others (a "load" event the
        verdicts follow: what trained the source before now changes what the receiver scores)."""
        into = frozenset(o for o in objs if self._is_module_class(self.obj_class.get(o, -1)))
        sources = frozenset(x[1] for x in loaded if isinstance(x, tuple) and x[0] == WEIGHTS) - into
        if into and sources:
            self.event("load", node, EMPTY, into=into, sources=sources)

    def _copy_modules(self, node: ast.Call, labels: frozenset) -> frozenset | None:
        """`copy.deepcopy(model)`: a new module object holding the original's weights as of now (a
        "load" event), so a step on the copy leaves the original's later scores alone."""
        originals = [o for o in self._objs(labels) if self._is_module_class(self.obj_class.get(o, -1))]
        if not originals:
            return None
        out = labels - {(OBJ, o) for o in originals}
        copies = set()
        for oid in originals:
            new = self._alloc((self.unit.label, node.lineno, node.col_offset, "copy", oid), self.obj_class[oid])
            cid = self._objs(new)[0]
            self.heap[cid] = dict(self.heap.get(oid, {}))
            if oid in self.frozen:
                self.frozen.add(cid)
            copies.add(cid)
            out |= new
        self.event("load", node, EMPTY, into=frozenset(copies), sources=frozenset(originals))
        return out

    def _save_weights(self, labels: frozenset) -> None:
        weights = frozenset(x for x in labels if isinstance(x, tuple) and x[0] == WEIGHTS)
        if weights - self.saved_weights:
            self.saved_weights |= weights

    def _run_callbacks(self, node: ast.Call, args: list, kwargs: dict) -> None:
        """Invoke the functions passed to a call that calls them back (an optimizer's closure)."""
        seen: set = set()
        for labels in [*args, *kwargs.values()]:
            for x in labels:
                if isinstance(x, tuple) and x[0] == FUNC and x not in seen:
                    seen.add(x)
                    self._invoke(x[1], node, [], {}, EMPTY, node.lineno, x[2])

    def _calibration_hook(self, arg: ast.expr) -> bool:
        """Does the hook passed here accumulate activation statistics (matmul family)?"""
        target = arg
        if isinstance(arg, ast.Call):
            q = self.imports.call_name(arg) or ""
            target = arg.args[0] if q == "functools.partial" and arg.args else arg.func
        nodes: list[ast.AST] = []
        if isinstance(target, ast.Lambda):
            nodes.append(target)
        else:
            for x in self.eval(target):
                if isinstance(x, tuple) and x[0] == FUNC:
                    nodes.append(self.funcs[x[1]].node)
        for fn in nodes:
            key = id(fn)
            if key not in self._calib_cache:
                hit = False
                for n in ast.walk(fn):
                    if isinstance(n, ast.BinOp) and isinstance(n.op, ast.MatMult):
                        hit = True
                    elif isinstance(n, ast.Call):
                        callee = n.func.attr if isinstance(n.func, ast.Attribute) else getattr(n.func, "id", "")
                        hit = hit or callee in self.spec.calibration_ops
                    if hit:
                        break
                self._calib_cache[key] = hit
            if self._calib_cache[key]:
                return True
        return False

    def _instantiate(self, cid: int, node: ast.Call, args, kwargs, all_args) -> frozenset:
        info = self.classes[cid]
        labels = self._alloc((self.unit.label, node.lineno, node.col_offset, cid), cid)
        if self._is_module_class(cid):
            data = frozenset(x for x in all_args if is_data(x))
            return labels | data
        init = self._method(cid, "__init__")
        if init is not None:
            self._invoke(init, node, args, kwargs, labels, node.lineno, 0)
        else:
            # dataclass / NamedTuple: fields in declaration order
            oid = self._objs(labels)[0]
            fields = self.heap[oid]
            names = [s.target.id for s in info.node.body if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)]
            for name, value in zip(names, args):
                fields[name] = value
            for k, v in kwargs.items():
                if k:
                    fields[k] = v
            self._dataclass_defaults(info, fields, labels)
        return labels

    def _dataclass_defaults(self, info: ClassInfo, fields: dict, labels: frozenset) -> None:
        """A dataclass's fields made by `field(default_factory=...)` (a nested config object), then
        its `__post_init__` (which often derives paths from other fields)."""
        for stmt in info.node.body:
            if not (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)
                    and stmt.target.id not in fields and isinstance(stmt.value, ast.Call)):
                continue
            factory = next((k.value for k in stmt.value.keywords if k.arg == "default_factory"), None)
            if factory is None:
                continue
            made = EMPTY
            for x in self.eval(factory):
                if isinstance(x, tuple) and x[0] == CLASS and x[1] != info.cid:
                    made |= self._instantiate(x[1], stmt.value, [], {}, EMPTY)
                elif isinstance(x, tuple) and x[0] == FUNC:
                    made |= self._invoke(x[1], None, [], {}, EMPTY, stmt.lineno, x[2])
            if made:
                fields[stmt.target.id] = made
        post = self._method(info.cid, "__post_init__")
        if post is not None:
            self._invoke(post, None, [], {}, labels, info.node.lineno, 0)

    def _invoke(self, fid: int, node: ast.AST | None, args: list[frozenset], kwargs: dict, self_labels: frozenset,
                line: int, closure: int | None) -> frozenset:
        info = self.funcs[fid]
        if fid in self.call_stack or len(self.call_stack) >= self.spec.max_call_depth:
            all_args = EMPTY
            for x in args:
                all_args |= x
            for v in kwargs.values():
                all_args |= v
            return _strip(all_args)
        self.executed_funcs.add(fid)
        fnode = info.node
        closure_frame = self.closures.get(closure) if closure else None
        frame = Frame(0, info.module, closure_frame, info)
        self.frame_counter += 1
        frame.frame_id = self.frame_counter
        if self.frames:   # a standalone run of an unreached function has no caller
            frame.site = (self.unit.label, getattr(node, "lineno", line), getattr(node, "col_offset", -1))
        # Bind parameters. self_labels None: called through the class (self is the first argument).
        a = fnode.args
        params = [*a.posonlyargs, *a.args]
        first_default = len(params) - len(a.defaults)
        pending_defaults = []
        if info.cls is not None and not info.is_static and params and _is_classmethod(fnode):
            # `cls` is the class, however the method was reached (`Config.from_env()`, `obj.make()`)
            frame.env[params[0].arg] = frozenset({(CLASS, info.cls)})
            params = params[1:]
            first_default -= 1
        elif info.cls is not None and not info.is_static and params and self_labels is not None:
            frame.env[params[0].arg] = self_labels
            params = params[1:]
            first_default -= 1
        for i, p in enumerate(params):
            if i < len(args):
                frame.env[p.arg] = args[i]
            elif p.arg in kwargs:
                frame.env[p.arg] = kwargs[p.arg]
            elif None in kwargs:      # `fn(**kwargs)`: any keyword may be this one
                frame.env[p.arg] = kwargs[None]
            elif i >= first_default:
                pending_defaults.append((p.arg, a.defaults[i - first_default]))
            else:
                frame.env[p.arg] = EMPTY
        extra = EMPTY
        for x in args[len(params):]:
            extra |= x
        if a.vararg:
            # remember the positions, so `fn(*args)` passes each one where it came from
            pack = ("pack", fid, self.frame_counter)
            self.packs[pack] = list(args[len(params):])
            frame.env[a.vararg.arg] = extra | {(OBJ, pack)}
        for p, d in zip(a.kwonlyargs, a.kw_defaults):
            if p.arg in kwargs:
                frame.env[p.arg] = kwargs[p.arg]
            elif d is not None:
                pending_defaults.append((p.arg, d))
            else:
                frame.env[p.arg] = EMPTY
        if a.kwarg:
            rest = EMPTY
            for k, v in kwargs.items():
                if k not in frame.env:
                    rest |= v
            frame.env[a.kwarg.arg] = rest
        self._push(frame)
        self.call_stack.append(fid)
        saved_nograd = self.nograd
        if info.nograd:
            self.nograd = True
        try:
            for name, default in pending_defaults:
                frame.env[name] = self.eval(default)
            if isinstance(fnode, ast.Lambda):
                frame.ret = self.eval(fnode.body)
            else:
                self._exec_block(fnode.body)
        finally:
            self.nograd = saved_nograd
            self.call_stack.pop()
            self._pop()
        if isinstance(node, ast.Call):
            self._write_back_counts(fnode, node, params, args, kwargs, frame)
        return frame.ret

    def _write_back_counts(self, fnode: ast.AST, call: ast.Call, params: list, args: list, kwargs: dict,
                           frame: Frame) -> None:
        """A helper that adds counts into an array it was passed (`def add(table, keys): table +=
        np.bincount(keys)`) changes the caller's array: the marks of those writes go back to the
        argument. Only for parameters the helper never rebinds (then the name is that array)."""
        if not self._val_cache_writes or id(call) in self._starred_calls:
            return   # no mark can qualify yet (most calls), or positions are unknown
        rebound = None
        env = frame.env
        for i, p in enumerate(params):
            if CACHE_WRITE not in _kinds(env.get(p.arg, EMPTY)):
                continue   # no mark in the parameter: nothing to carry back (memoized question)
            if i < len(call.args):
                expr, passed = call.args[i], args[i]
            else:
                kw = next((k for k in call.keywords if k.arg == p.arg), None)
                if kw is None:
                    continue
                expr, passed = kw.value, kwargs.get(p.arg, EMPTY)  # evaluated once, before the call
            marks = {x for x in frame.env.get(p.arg, EMPTY) if isinstance(x, tuple) and x[0] == CACHE_WRITE
                     and x[1] in self._val_cache_writes} - passed
            if not marks:
                continue
            if rebound is None:
                rebound = _rebound_names(fnode)
            if p.arg not in rebound:
                self._taint_base(expr, frozenset(marks))


_SPREAD = 8   # positions a starred argument is spread over
_NAME, _CONSTANT = ast.Name, ast.Constant
_ATTRIBUTE, _STARRED = ast.Attribute, ast.Starred
_CALL, _SUBSCRIPT = ast.Call, ast.Subscript
_UNSET = object()
_LOOP_KINDS = (ast.For, ast.AsyncFor, ast.While)


def _method_role_names(spec: Spec) -> frozenset[str]:
    """Every method name `_method_call` gives a role before the generic case (the vocabulary's
    method lists and the names it tests literally): a name outside skips those twenty tests."""
    return frozenset().union(
        spec.step_methods, spec.position_methods, spec.shape_methods, spec.scalar_methods,
        spec.param_methods, spec.update_methods, spec.read_methods, spec.ship_methods,
        spec.hook_methods, spec.cache_write_methods, spec.count_methods, spec.inplace_methods,
        spec.accumulate_methods, ("requires_grad_", "remove", "update", "insert", "setdefault", "get"))


def _call_role_names(spec: Spec) -> frozenset[str]:
    """Every function name `_library_call_inner` gives a role before its generic answer (the
    vocabulary's call lists and the names it tests literally)."""
    return frozenset().union(
        spec.position_calls, spec.position_calls_one_arg, spec.shape_calls, spec.read_calls,
        spec.module_copy_calls, spec.update_calls, spec.ship_calls, spec.count_calls,
        spec.count_into_calls, spec.best_of_calls, ("next", "getattr", "functools.partial"))


def _names_under(targets) -> set[str]:
    """Every name anywhere under the assignment targets (`x`, `a, b`, `self.w` -> self, `t[i]`
    -> t, i): what `ast.walk` over each target finds, without its queue and generators (this
    runs for every assignment of every unit)."""
    out: set[str] = set()
    stack = list(targets)
    while stack:
        node = stack.pop()
        kind = type(node)
        if kind is _NAME:
            out.add(node.id)
        elif kind is _ATTRIBUTE or kind is _STARRED:
            stack.append(node.value)
        elif kind is ast.Tuple or kind is ast.List:
            stack.extend(node.elts)
        else:
            stack.extend(ast.iter_child_nodes(node))
    return out


_WORD = re.compile(r"\w+")
_LOOP_END = object()   # marks, on _scan_loops' stack, the end of a loop's subtree


def _merge_into(env: dict[str, frozenset], other: dict[str, frozenset]) -> None:
    """Unite `other`'s names into `env`, in place. Most names come out of every branch or pass as
    the very set they went in with: those need no union."""
    for k, v in other.items():
        old = env.get(k)
        if old is None:
            env[k] = v
        elif old is not v:
            env[k] = old | v


def _enumerated(loop: ast.AST) -> bool:
    it = getattr(loop, "iter", None)
    return isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "enumerate" \
        and len(it.args) == 1


def _empty_slice(index: ast.AST) -> bool:
    return isinstance(index, ast.Slice) and index.step is None \
        and isinstance(index.upper, ast.Constant) and index.upper.value == 0 \
        and (index.lower is None or (isinstance(index.lower, ast.Constant) and index.lower.value == 0))


def func_value(call: ast.Call) -> ast.AST:
    return call.func.value if isinstance(call.func, ast.Attribute) else call.func


def _main_guard(test: ast.expr) -> bool | None:
    """For `__name__ == "__main__"` (either side): True; for `!=`: False; otherwise None."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], (ast.Eq, ast.NotEq))):
        return None
    sides = (test.left, test.comparators[0])
    names = [x for x in sides if isinstance(x, ast.Name) and x.id == "__name__"]
    consts = [x for x in sides if isinstance(x, ast.Constant) and x.value == "__main__"]
    if len(names) != 1 or len(consts) != 1:
        return None
    return isinstance(test.ops[0], ast.Eq)


_EXIT_CALLS = frozenset({"sys.exit", "exit", "quit", "os._exit"})


def _transparent_test(node: ast.AST) -> bool:
    if isinstance(node, ast.BoolOp):
        return all(_transparent_test(v) for v in node.values)
    if isinstance(node, ast.UnaryOp):
        return _transparent_test(node.operand)
    if isinstance(node, ast.Compare):
        return _transparent_test(node.left) and all(_transparent_test(c) for c in node.comparators)
    return _atom(node)


def _atom(node: ast.AST) -> bool:
    """A name, a constant, or an attribute chain over one."""
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, (ast.Name, ast.Constant))


def _leaves(body: list[ast.stmt]) -> bool:
    """Whether running `body` always leaves the enclosing block: it ends in return, raise,
    continue, break or a process exit, or in an `if` both of whose branches leave."""
    if not body:
        return False
    last = body[-1]
    if isinstance(last, (ast.Return, ast.Raise, ast.Continue, ast.Break)):
        return True
    if isinstance(last, ast.Expr) and isinstance(last.value, ast.Call):
        return _dotted(last.value.func) in _EXIT_CALLS
    if isinstance(last, ast.If):
        return _leaves(last.body) and _leaves(last.orelse)
    return False


def _dotted(node: ast.AST) -> str:
    """`sys.exit` for the expression `sys.exit`; "" for anything but names and attributes."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return ""
    parts.append(node.id)
    return ".".join(reversed(parts))
