"""What a lookup key depends on, for stream-indexed tokens: the newest position or only its past.

Evaluation loops that index the token stream by position (`tok = stream[j]`, context
`stream[j - k]`) predict the newest position they read: a loop that scores position j reads the
context `stream[j - 1]`, `stream[j - 2]`, ... and the target `stream[j]`; a loop that predicts j + 1
from j also reads `stream[j + 1]`. So, per array and index variable, the largest offset the
function reads is the position being predicted. A table read whose key mixes that token with its
context (a hash, XOR/multiply mixing, a tuple or dict key, a gather) looks the answer up with the
answer in the key. Writes (updating the table with the target after scoring) are not reads.

Vectorised code does the same with whole shifted runs: `tokens[k:k + n]` for the context and
`tokens[width:]`, the run that ends at the newest position, for the token each position predicts.
A key that mixes the latter with an earlier run of the same array, in one mixing operation, is
target-keyed too (a run of a model input, `x = t[:-1]`, holds only context).

Structure decides: an index variable and an array are identified by their bindings in one
function, never by what they are called.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Iterator

from ..code.units import CHILD_FIELDS, child_fields
from .declared import Fact, need
from .index import FUNCTIONS, Scope, UnitIndex, strip_views, walk

MIXING = (ast.BitXor, ast.Mult, ast.Add, ast.BitOr, ast.LShift, ast.Mod, ast.BitAnd)
# Reading a table through a call: np.take(t, k), t.get(k), t.take(k), torch.gather-like
READ_CALLS = frozenset({"take", "get", "gather", "index_select"})


@dataclass(frozen=True)
class StreamRead:
    """`array[index + offset]`: offset 0, -1 (some positive amount back) or +1 (ahead); for a
    run `array[k:]` the index is empty and the offset 0."""

    array: str
    index: str
    offset: int
    node: ast.Subscript


def _terms(expr: ast.AST) -> list[tuple[int, ast.AST]] | None:
    """`a - b + c` -> [(+1, a), (-1, b), (+1, c)]; None for anything but a chain of + and -."""
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, (ast.Sub, ast.Add)):
        left = _terms(expr.left)
        if left is None:
            return None
        return [*left, (-1 if isinstance(expr.op, ast.Sub) else 1, expr.right)]
    return [(1, expr)]


def _stream_read(node: ast.AST, index_of_name=None) -> StreamRead | None:
    if not (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name)):
        return None
    terms = _terms(node.slice)
    if not terms or not isinstance(terms[0][1], ast.Name) or terms[0][0] != 1:
        return None
    index = terms[0][1].id if index_of_name is None else index_of_name(terms[0][1])
    constant, computed = 0, 0
    for sign, term in terms[1:]:
        if isinstance(term, ast.Constant) and isinstance(term.value, int) and not isinstance(term.value, bool):
            constant += sign * term.value
        elif not computed:
            # `j - k` / `j - width + k` with k computed: a context position (k counts back from 1);
            # `j + k`: a position ahead
            computed = sign
    if computed:
        return StreamRead(node.value.id, index, computed, node)
    return StreamRead(node.value.id, index, (constant > 0) - (constant < 0), node)


def _unpack_positions(scope: Scope) -> dict[tuple[str, int], int]:
    """(name, id(value)) -> its position in a tuple target (`a, b = value`)."""
    out: dict[tuple[str, int], int] = {}
    for node in (*scope.of(ast.Assign), *scope.of(ast.For)):  # keys are per statement: order is no matter
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        value = node.value if isinstance(node, ast.Assign) else node.iter
        for t in targets:
            if isinstance(t, ast.Tuple):
                for i, elt in enumerate(t.elts):
                    if isinstance(elt, ast.Name):
                        out[(elt.id, id(value))] = i
    return out


def _index_name(scope: Scope, name: ast.Name) -> str:
    """The index array a position index selects from: `pos = positions[keep]` -> `positions` (a
    subset of the same positions, so `stream[pos - 1]` is context of `stream[positions]`)."""
    node = name
    for _ in range(4):
        defs = scope.reaching(node.id, (node.lineno, node.col_offset))
        value = strip_views(defs[0]) if len(defs) == 1 else None
        if not (isinstance(value, ast.Subscript) and isinstance(value.value, ast.Name)):
            break
        parts = value.slice.elts if isinstance(value.slice, ast.Tuple) else [value.slice]
        if any(isinstance(p, ast.Slice) for p in parts) or value.value.id == node.id:
            break
        node = value.value
    return node.id


def _calls_by_name(idx: UnitIndex, cache: dict) -> dict[tuple[str, bool], list[tuple[Scope, ast.Call]]]:
    """(called name, through an attribute) -> the calls of this unit, in scope and source order:
    built once, not once per function whose callers are looked for."""
    found = cache.get("calls")
    if found is None:
        found = cache["calls"] = {}
        for scope in idx.scopes:
            for call in scope.of(ast.Call):
                func = call.func
                if isinstance(func, ast.Name):
                    found.setdefault((func.id, False), []).append((scope, call))
                elif isinstance(func, ast.Attribute):
                    found.setdefault((func.attr, True), []).append((scope, call))
    return found


def _call_bindings(idx: UnitIndex, fn: ast.AST, cache: dict) -> dict[str, list[ast.AST]]:
    """Parameters that every caller in this unit binds to a stream read of two other arguments:
    `lookup(stream, pos, stream[pos])` -> the third parameter stands for `stream_param[pos_param]`."""
    params = [a.arg for a in (*fn.args.posonlyargs, *fn.args.args)]
    method = isinstance(idx.parents.get(id(fn)), ast.ClassDef)
    out: dict[str, list[ast.AST]] = {}
    for scope, call in _calls_by_name(idx, cache).get((fn.name, method), ()):
        names = params[1:] if method else params
        bound = dict(zip(names, call.args)) | {k.arg: k.value for k in call.keywords if k.arg}
        by_arg = {v.id: p for p, v in bound.items() if isinstance(v, ast.Name)}
        for param, arg in bound.items():
            value = arg
            if isinstance(arg, ast.Name):
                defs = scope.reaching(arg.id, (arg.lineno, arg.col_offset))
                value = defs[0] if len(defs) == 1 else arg
            value = strip_views(value)
            if not (isinstance(value, ast.Subscript) and isinstance(value.value, ast.Name)
                    and isinstance(value.slice, ast.Name)):
                continue
            array, index = by_arg.get(value.value.id), by_arg.get(value.slice.id)
            if array is None or index is None or param in (array, index):
                continue
            where = {"lineno": fn.lineno, "col_offset": fn.col_offset}
            read = ast.Subscript(value=ast.Name(array, ast.Load(), **where),
                                 slice=ast.Name(index, ast.Load(), **where), ctx=ast.Load(), **where)
            out.setdefault(param, []).append(read)
    return out


def _appended(scope: Scope) -> dict[str, list[ast.AST]]:
    """list name -> what `name.append(x)` adds to it in this scope."""
    appended: dict[str, list[ast.AST]] = {}
    for node in scope.of(ast.Call):
        if isinstance(node.func, ast.Attribute) and node.func.attr == "append" \
                and isinstance(node.func.value, ast.Name) and node.args:
            appended.setdefault(node.func.value.id, []).append(node.args[0])
    return appended


def _closure(scope: Scope, expr: ast.AST, limit: int = 4000,
             bindings: dict[str, list[ast.AST]] | None = None) -> list[ast.AST]:
    """Every node `expr` depends on through reaching definitions, also through lists filled with
    `.append((a, b, c))` and unpacked back by position (`a, b, c = items[i]`), and through what
    the callers bind a parameter to (`bindings`): each expression walked as `walk` does, inline
    (a list, not nested generators), until `limit` nodes were met."""
    appended = scope.derived("appended", _appended)
    unpacked = scope.derived("unpacked", _unpack_positions)
    out: list[ast.AST] = []
    seen: set[int] = set()
    stack: list[ast.AST] = [expr]
    count = 0
    fields, AST, Name, Load = CHILD_FIELDS, ast.AST, ast.Name, ast.Load
    while stack and count < limit:
        below = [stack.pop()]
        while below:
            node = below.pop()
            count += 1
            if id(node) not in seen:
                seen.add(id(node))
                out.append(node)
                if type(node) is Name and isinstance(node.ctx, Load):
                    _follow(scope, node, stack, appended, unpacked, bindings)
            names = fields.get(type(node))
            if names is None:
                names = child_fields(type(node))
            for name in names:   # what `walk` pushes, in its order (also below a node seen before)
                value = getattr(node, name)
                if type(value) is list:
                    for item in value:
                        if isinstance(item, AST):
                            below.append(item)
                elif isinstance(value, AST):
                    below.append(value)
    return out


def _follow(scope: Scope, node: ast.Name, stack: list[ast.AST], appended: dict, unpacked: dict,
            bindings: dict[str, list[ast.AST]] | None) -> None:
    """Push what the name `node` reads: its reaching definitions (by position where unpacked from
    a list or a tuple), else what the callers bind it to."""
    values = scope.reaching(node.id, (node.lineno, node.col_offset))
    if not values and bindings and node.id in bindings:
        stack.extend(bindings[node.id])
    for value in values:
        position = unpacked.get((node.id, id(value)))
        container = value.value if isinstance(value, ast.Subscript) else value
        if position is not None and isinstance(container, ast.Name) and container.id in appended:
            for item in appended[container.id]:
                if isinstance(item, ast.Tuple) and position < len(item.elts):
                    stack.append(item.elts[position])
                else:
                    stack.append(item)
        elif position is not None and isinstance(value, ast.Tuple) and position < len(value.elts):
            stack.append(value.elts[position])
        else:
            stack.append(value)


def _subscripts_and_calls(scope: Scope) -> list[ast.AST]:
    return [n for n in scope.nodes if type(n) is ast.Subscript or type(n) is ast.Call]


def _table_reads(idx: UnitIndex, fn: ast.AST) -> Iterator[tuple[ast.AST, ast.AST]]:
    """(read node, key expression) of table reads in `fn`'s own body."""
    scope = idx.scope_for(fn)
    for node in scope.derived("reads", _subscripts_and_calls):
        if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) \
                and not isinstance(node.slice, (ast.Slice, ast.Constant)):
            parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            if not any(isinstance(p, ast.Slice) for p in parts):
                yield node, node.slice
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in READ_CALLS and node.args:
            yield node, node.args[-1] if node.func.attr != "get" else node.args[0]


def _bindings(idx: UnitIndex, scope: Scope, cache: dict) -> dict[str, list[ast.AST]]:
    key = ("bindings", id(scope.node))
    if key not in cache:
        cache[key] = _call_bindings(idx, scope.node, cache) if isinstance(scope.node, FUNCTIONS) else {}
    return cache[key]


def _newest_offsets(idx: UnitIndex, scope: Scope, cache: dict) -> dict[tuple[str, str], int]:
    """(array, index variable) -> the largest offset this function reads (a parameter its callers
    bind to `stream[pos]` is a read at offset 0)."""
    found = cache.get(id(scope.node))
    if found is None:
        found = cache[id(scope.node)] = {}
        bound = [n for reads in _bindings(idx, scope, cache).values() for n in reads]
        for r in (_stream_read(n, lambda name: _index_name(scope, name)) for n in [*scope.of(ast.Subscript), *bound]):
            if r is not None:
                pair = (r.array, r.index)
                found[pair] = max(found.get(pair, r.offset), r.offset)
    return found


def _newest_in(idx: UnitIndex, scope: Scope, expr: ast.AST, cache: dict) -> StreamRead | None:
    """The newest-position read that `expr` mixes with its own context, if any."""
    newest = _newest_offsets(idx, scope, cache)
    if not newest:
        return None
    nodes = _closure(scope, expr, bindings=_bindings(idx, scope, cache))
    if not any(isinstance(n, ast.BinOp) and isinstance(n.op, MIXING) or isinstance(n, ast.Tuple) for n in nodes):
        return None
    found = [r for r in (_stream_read(n, lambda name: _index_name(scope, name)) for n in nodes) if r is not None]
    for r in found:
        pair = (r.array, r.index)
        if r.offset == 0 and newest.get(pair) == 0 \
                and any(o.offset < 0 and (o.array, o.index) == pair for o in found):
            return r
    return None


def _returned_keys(idx: UnitIndex, scope: Scope, key: ast.AST) -> Iterator[tuple[Scope, ast.AST]]:
    """Keys made by a helper of this unit: `ctx, full = make_keys(...)` -> the helper's returned
    expression at that position, in the helper's scope."""
    unpacked = scope.derived("unpacked", _unpack_positions)
    for node in walk(key):
        if not (isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)):
            continue
        for value in scope.reaching(node.id, (node.lineno, node.col_offset)):
            if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Name)):
                continue
            position = unpacked.get((node.id, id(value)))
            for fn in idx.functions.get(value.func.id, []):
                inner = idx.scope_for(fn)
                for ret in (n for n in inner.of(ast.Return) if n.value is not None):
                    if isinstance(ret.value, ast.Tuple) and position is not None:
                        if position < len(ret.value.elts):
                            yield inner, ret.value.elts[position]
                    else:
                        yield inner, ret.value


def _shifted_slice(node: ast.AST) -> tuple[str, ast.Slice] | None:
    """(array, slice) of `a[s:e]` / `a[..., s:e]` / `a[:, s:e]`: a whole run of positions of `a`."""
    if not (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name)):
        return None
    part = node.slice
    if isinstance(part, ast.Tuple):
        if not part.elts or any(not (isinstance(e, ast.Constant) and e.value is Ellipsis)
                                and not (isinstance(e, ast.Slice) and e.lower is None and e.upper is None)
                                for e in part.elts[:-1]):
            return None
        part = part.elts[-1]
    if not isinstance(part, ast.Slice) or part.step is not None:
        return None
    return node.value.id, part


def _unit_callees(idx: UnitIndex, scope: Scope, call: ast.Call) -> list[tuple[ast.AST, bool]]:
    """(helper, is a method) that `call` runs: a function of this unit, or a method of the calling
    method's own class through its first parameter (`self.helper(...)`)."""
    func = call.func
    if isinstance(func, ast.Name):
        return [(fn, False) for fn in idx.functions.get(func.id, [])
                if not isinstance(idx.parents.get(id(fn)), ast.ClassDef)]
    caller = scope.node
    if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
            and isinstance(caller, FUNCTIONS) and not isinstance(caller, ast.Lambda)):
        return []
    params = [a.arg for a in (*caller.args.posonlyargs, *caller.args.args)]
    owner = idx.parents.get(id(caller))
    if not params or func.value.id != params[0] or not isinstance(owner, ast.ClassDef):
        return []
    return [(fn, True) for fn in idx.functions.get(func.attr, []) if idx.parents.get(id(fn)) is owner]


# Values that depend on a run's length or layout only, never on its tokens.
SHAPE_ATTRS = frozenset({"shape", "size", "numel", "ndim", "dtype", "device"})
# Calls that mix their first two arguments like `^` / `|`.
MIXING_CALLS = frozenset({"bitwise_xor", "bitwise_or", "logical_xor"})


@dataclass
class _Frame:
    """One function on the way from a key to the runs it hashes: `env` maps a parameter to the
    caller's array it stands for, `args` to the caller's argument expression."""

    scope: Scope
    env: dict[str, tuple[int, str]]
    args: dict[str, tuple[_Frame, ast.AST]]
    depth: int


def _cone(idx: UnitIndex, frame: _Frame, expr: ast.AST, runs: list, mixes: list, budget: int = 3000) -> None:
    """Shifted whole-run reads (`a[k:]`, `a[j:j + n]`) that `expr` depends on, as (array identity,
    slice, node), through reaching definitions, the helpers of this unit it calls (returns) and,
    inside a helper, what its callers passed; `mixes` gets (frame, operands) of each mixing
    operation on the way. Lengths and shapes (`len(a)`, `a.shape`) carry no tokens: not followed."""
    seen: set[tuple[int, int]] = set()
    stack: list[tuple[_Frame, ast.AST]] = [(frame, expr)]
    while stack and budget > 0:
        fr, node = stack.pop()
        budget -= 1
        if node is _INERT:
            continue
        if (id(fr), id(node)) in seen:
            continue
        seen.add((id(fr), id(node)))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "len" \
                or isinstance(node, ast.Attribute) and node.attr in SHAPE_ATTRS:
            continue
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            # a true quotient is a real number, never a table key: `(c[:-1] + c[1:]) / 2` averages
            # neighbouring values (midpoints of a codebook), it does not hash tokens together
            continue
        if isinstance(node, ast.BinOp) and isinstance(node.op, MIXING):
            mixes.append((fr, [node.left, node.right]))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in MIXING_CALLS and len(node.args) >= 2:
            mixes.append((fr, node.args[:2]))
        found = _shifted_slice(node)
        if found is not None:
            name, part = found
            runs.append((fr.env.get(name, (id(fr.scope.node), name)), part, node))
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            values = fr.scope.reaching(node.id, (node.lineno, node.col_offset))
            stack.extend((fr, v) for v in values)
            if not values and node.id in fr.args:
                stack.append(fr.args[node.id])
        if isinstance(node, ast.Call) and fr.depth < 3:
            for fn, method in _unit_callees(idx, fr.scope, node):
                params = [a.arg for a in (*fn.args.posonlyargs, *fn.args.args)][1 if method else 0:]
                bound = dict(zip(params, node.args)) | {k.arg: k.value for k in node.keywords if k.arg}
                inner = _Frame(idx.scope_for(fn),
                               {p: fr.env.get(a.id, (id(fr.scope.node), a.id))
                                for p, a in bound.items() if isinstance(a, ast.Name)},
                               {p: (fr, a) for p, a in bound.items()}, fr.depth + 1)
                stack.extend((inner, n.value) for n in inner.scope.of(ast.Return) if n.value is not None)
        _push_children(stack, fr, node)


# Expression contexts and operators: leaves no step of the cone acts on. Each still spends one
# unit of the budget where `ast.iter_child_nodes` would have put it (so the budget runs out at
# the same node as it always did), as a placeholder that skips the tests every other node gets.
_INERT_LEAVES = (ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.boolop)
_INERT = ast.AST()


def _push_children(stack: list, frame: "_Frame", node: ast.AST) -> None:
    """`stack.extend((frame, child) for child in ast.iter_child_nodes(node))`, in that order,
    with each inert leaf replaced by `_INERT`."""
    AST, inert = ast.AST, _INERT_LEAVES
    for name in node._fields:
        value = getattr(node, name, None)
        if isinstance(value, AST):
            stack.append((frame, _INERT if isinstance(value, inert) else value))
        elif type(value) is list:
            for item in value:
                if isinstance(item, AST):
                    stack.append((frame, _INERT if isinstance(item, inert) else item))


def _reaches_end(part: ast.Slice) -> bool:
    """`a[k:]` with k past the first position: the run that ends at the newest position."""
    lower = part.lower
    return part.upper is None and lower is not None \
        and not (isinstance(lower, ast.Constant) and lower.value == 0) \
        and not (isinstance(lower, ast.UnaryOp) and isinstance(lower.op, ast.USub))


def _slice_newest_in(idx: UnitIndex, scope: Scope, key: ast.AST, cache: dict) -> StreamRead | None:
    """The run `a[k:]` (each element the newest token of its window, i.e. the token at the
    position being predicted) that `key` mixes with earlier runs of the same array (`a[j:j + n]`,
    `a[:-1]`): the slice form of `a[pos]` hashed with `a[pos - k]`. A model's own module code
    only ever sees its input (context), so hashes of shifted input runs there are features."""
    owner = idx.parents.get(id(scope.node))
    if isinstance(owner, ast.ClassDef) and any((isinstance(b, ast.Attribute) and b.attr == "Module")
                                              or (isinstance(b, ast.Name) and b.id == "Module")
                                              for b in owner.bases):
        return None
    # `table[rows, col]` indexes separate axes: a column read at the target is fine, so each
    # axis's index must mix the runs by itself
    for axis in key.elts if isinstance(key, ast.Tuple) else [key]:
        runs: list = []
        mixes: list = []
        _cone(idx, _Frame(scope, {}, {}, 0), axis, runs, mixes)
        if not mixes or not _newest_run_with_context(runs, runs):
            continue
        # one mixing operation must take the newest run on one side and an earlier run on the other
        for frame, operands in mixes:
            sides = []
            for operand in operands:
                sides.append([])
                _cone(idx, frame, operand, sides[-1], [])
            for mine, other in ((sides[0], sides[1]), (sides[1], sides[0])):
                for array, node in _newest_run_with_context(mine, other):
                    if not _input_only(idx, array, cache):
                        return StreamRead(node.value.id, "", 0, node)
    return None


def _newest_run_with_context(runs: list, others: list) -> list[tuple[tuple[int, str], ast.Subscript]]:
    """Runs `a[k:]` of `runs` for which `others` holds an earlier run of the same array."""
    return [(array, node) for array, part, node in runs
            if _reaches_end(part) and any(o == array and op.upper is not None for o, op, _ in others)]


def _drops_last(value: ast.AST) -> bool:
    """`t[:-1]` / `t[:, :-k]`: a run that stops before the stream's last token (a model input)."""
    found = _shifted_slice(strip_views(value))
    upper = found[1].upper if found else None
    return isinstance(upper, ast.UnaryOp) and isinstance(upper.op, ast.USub)


def _input_only(idx: UnitIndex, array: tuple[int, str], cache: dict, depth: int = 0) -> bool:
    """Is the array a model input (a run that drops the stream's last token), directly or as
    every caller of this unit binds it? Then its newest run is the newest context token, and
    the target is not in it."""
    scope_id, name = array
    scope = next((s for s in idx.scopes if id(s.node) == scope_id), None)
    if scope is None or depth > 3:
        return False
    values = [v for _, v in scope.defs.get(name, []) if v is not None]
    if any(_drops_last(v) for v in values):
        return True
    fn = scope.node
    if values or not isinstance(fn, FUNCTIONS) or isinstance(fn, ast.Lambda):
        return False
    params = [a.arg for a in (*fn.args.posonlyargs, *fn.args.args)]
    method = isinstance(idx.parents.get(id(fn)), ast.ClassDef)
    if name not in params:
        return False
    position = params.index(name) - (1 if method else 0)
    args = []
    for caller, call in _calls_by_name(idx, cache).get((fn.name, method), ()):
        arg = next((k.value for k in call.keywords if k.arg == name), None)
        if arg is None and 0 <= position < len(call.args):
            arg = call.args[position]
        args.append((caller, arg))
    if not args:
        return False
    for caller, arg in args:
        if arg is None:
            return False
        if _drops_last(arg):
            continue
        if not (isinstance(arg, ast.Name) and _input_only(idx, (id(caller.node), arg.id), cache, depth + 1)):
            return False
    return True


def newest_token_keys(idx: UnitIndex) -> Iterator[tuple[ast.AST, StreamRead, ast.AST]]:
    need(Fact.TARGETS)  # checked at the call: the generator's body runs later
    return _newest_token_keys(idx)


def _newest_token_keys(idx: UnitIndex) -> Iterator[tuple[ast.AST, StreamRead, ast.AST]]:
    """(table read, the newest-position read in its key, the key) for each key that mixes the
    token at the position being predicted with its own context (made here or by a helper)."""
    cache: dict = {}
    for fn in [s.node for s in idx.scopes if isinstance(s.node, FUNCTIONS)]:
        scope = idx.scope_for(fn)
        flagged: list[tuple[ast.AST, StreamRead, ast.AST]] = []
        for read, key in _table_reads(idx, fn):
            found = _newest_in(idx, scope, key, cache)
            if found is None:
                found = next((r for inner, expr in _returned_keys(idx, scope, key)
                              if (r := _newest_in(idx, inner, expr, cache)) is not None), None)
            if found is None:
                found = _slice_newest_in(idx, scope, key, cache)
            if found is not None:
                flagged.append((read, found, key))
        # A read keyed on the result of a flagged read (`hit = full[key] > 0`, then `p[hit]`)
        # repeats the same finding: report the first lookup only.
        reads = {id(r[0]) for r in flagged}
        for read, found, key in flagged:
            if not any(id(n) in reads for n in _closure(scope, key) if n is not read):
                yield read, found, key


__all__ = ["StreamRead", "newest_token_keys", "walk"]
