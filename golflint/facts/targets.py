"""What a lookup key depends on, for stream-indexed tokens: the newest position or only its past.

Evaluation loops that index the token stream by position (`tok = stream[j]`, context
`stream[j - k]`) predict the newest position they read: a loop that scores position j reads the
context `stream[j - 1]`, `stream[j - 2]`, ... and the target `stream[j]`; a loop that predicts j + 1
from j also reads `stream[j + 1]`. So, per array and index variable, the largest offset the
function reads is the position being predicted. A table read whose key mixes that token with its
context (a hash, XOR/multiply mixing, a tuple or dict key, a gather) looks the answer up with the
answer in the key. Writes (updating the table with the target after scoring) are not reads.

Structure decides: an index variable and an array are identified by their bindings in one
function, never by what they are called.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Iterator

from .index import FUNCTIONS, Scope, UnitIndex, walk

MIXING = (ast.BitXor, ast.Mult, ast.Add, ast.BitOr, ast.LShift, ast.Mod, ast.BitAnd)
# Reading a table through a call: np.take(t, k), t.get(k), t.take(k), torch.gather-like
READ_CALLS = frozenset({"take", "get", "gather", "index_select"})


@dataclass(frozen=True)
class StreamRead:
    """`array[index + offset]`: offset 0, -1 (some positive amount back) or +1 (ahead)."""

    array: str
    index: str
    offset: int
    node: ast.Subscript


def _stream_read(node: ast.AST) -> StreamRead | None:
    if not (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name)):
        return None
    sl = node.slice
    if isinstance(sl, ast.Name):
        return StreamRead(node.value.id, sl.id, 0, node)
    if isinstance(sl, ast.BinOp) and isinstance(sl.left, ast.Name) and isinstance(sl.op, (ast.Sub, ast.Add)):
        if isinstance(sl.right, ast.Constant) and isinstance(sl.right.value, int):
            if sl.right.value == 0:
                return StreamRead(node.value.id, sl.left.id, 0, node)
            sign = 1 if isinstance(sl.op, ast.Add) else -1
            return StreamRead(node.value.id, sl.left.id, sign if sl.right.value > 0 else -sign, node)
        # `j - k` with k computed: a context position (k counts back from 1)
        return StreamRead(node.value.id, sl.left.id, -1 if isinstance(sl.op, ast.Sub) else 1, node)
    return None


def _unpack_positions(scope: Scope) -> dict[tuple[str, int], int]:
    """(name, id(value)) -> its position in a tuple target (`a, b = value`)."""
    out: dict[tuple[str, int], int] = {}
    for node in scope.nodes:
        if isinstance(node, (ast.Assign, ast.For)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            value = node.value if isinstance(node, ast.Assign) else node.iter
            for t in targets:
                if isinstance(t, ast.Tuple):
                    for i, elt in enumerate(t.elts):
                        if isinstance(elt, ast.Name):
                            out[(elt.id, id(value))] = i
    return out


def _closure(scope: Scope, expr: ast.AST, limit: int = 4000) -> Iterator[ast.AST]:
    """Every node `expr` depends on through reaching definitions, also through lists filled with
    `.append((a, b, c))` and unpacked back by position (`a, b, c = items[i]`)."""
    appended: dict[str, list[ast.AST]] = {}
    for node in scope.nodes:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "append" \
                and isinstance(node.func.value, ast.Name) and node.args:
            appended.setdefault(node.func.value.id, []).append(node.args[0])
    unpacked = _unpack_positions(scope)
    seen: set[int] = set()
    stack: list[ast.AST] = [expr]
    count = 0
    while stack and count < limit:
        for node in walk(stack.pop()):
            count += 1
            if id(node) in seen:
                continue
            seen.add(id(node))
            yield node
            if not (isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)):
                continue
            for value in scope.reaching(node.id, (node.lineno, node.col_offset)):
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


def _table_reads(idx: UnitIndex, fn: ast.AST) -> Iterator[tuple[ast.AST, ast.AST]]:
    """(read node, key expression) of table reads in `fn`'s own body."""
    scope = idx.scope_for(fn)
    for node in scope.nodes:
        if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) \
                and not isinstance(node.slice, (ast.Slice, ast.Constant)):
            parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            if not any(isinstance(p, ast.Slice) for p in parts):
                yield node, node.slice
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in READ_CALLS and node.args:
            yield node, node.args[-1] if node.func.attr != "get" else node.args[0]


def _newest_offsets(scope: Scope, cache: dict) -> dict[tuple[str, str], int]:
    """(array, index variable) -> the largest offset this function reads."""
    found = cache.get(id(scope.node))
    if found is None:
        found = cache[id(scope.node)] = {}
        for r in (_stream_read(n) for n in scope.nodes):
            if r is not None:
                pair = (r.array, r.index)
                found[pair] = max(found.get(pair, r.offset), r.offset)
    return found


def _newest_in(scope: Scope, expr: ast.AST, cache: dict) -> StreamRead | None:
    """The newest-position read that `expr` mixes with its own context, if any."""
    newest = _newest_offsets(scope, cache)
    if not newest:
        return None
    nodes = list(_closure(scope, expr))
    if not any(isinstance(n, ast.BinOp) and isinstance(n.op, MIXING) or isinstance(n, ast.Tuple) for n in nodes):
        return None
    found = [r for r in (_stream_read(n) for n in nodes) if r is not None]
    for r in found:
        pair = (r.array, r.index)
        if r.offset == 0 and newest.get(pair) == 0 \
                and any(o.offset < 0 and (o.array, o.index) == pair for o in found):
            return r
    return None


def _returned_keys(idx: UnitIndex, scope: Scope, key: ast.AST) -> Iterator[tuple[Scope, ast.AST]]:
    """Keys made by a helper of this unit: `ctx, full = make_keys(...)` -> the helper's returned
    expression at that position, in the helper's scope."""
    unpacked = _unpack_positions(scope)
    for node in walk(key):
        if not (isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)):
            continue
        for value in scope.reaching(node.id, (node.lineno, node.col_offset)):
            if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Name)):
                continue
            position = unpacked.get((node.id, id(value)))
            for fn in idx.functions.get(value.func.id, []):
                inner = idx.scope_for(fn)
                for ret in (n for n in inner.nodes if isinstance(n, ast.Return) and n.value is not None):
                    if isinstance(ret.value, ast.Tuple) and position is not None:
                        if position < len(ret.value.elts):
                            yield inner, ret.value.elts[position]
                    else:
                        yield inner, ret.value


def newest_token_keys(idx: UnitIndex) -> Iterator[tuple[ast.AST, StreamRead, ast.AST]]:
    """(table read, the newest-position read in its key, the key) for each key that mixes the
    token at the position being predicted with its own context (made here or by a helper)."""
    cache: dict = {}
    for fn in [s.node for s in idx.scopes if isinstance(s.node, FUNCTIONS)]:
        scope = idx.scope_for(fn)
        for read, key in _table_reads(idx, fn):
            found = _newest_in(scope, key, cache)
            if found is None:
                found = next((r for inner, expr in _returned_keys(idx, scope, key)
                              if (r := _newest_in(inner, expr, cache)) is not None), None)
            if found is not None:
                yield read, found, key


__all__ = ["StreamRead", "newest_token_keys", "walk"]
