"""GL1xx rules (prediction): what the prediction for position t may depend on, and how it is normalized.

All three read structure, not names: the target is whatever is passed as the target of a loss
(`cross_entropy(logits, y)`, `nll_loss`) or used as the index of a gold read (`probs.gather(-1, y)`,
`probs[arange, y]`); the prediction is the expression scored against it. Dependencies are followed
through local assignments with facts/index.py's reaching definitions, so a cache updated with the
target AFTER it was scored (a later statement, or the previous loop iteration) is not a dependency.
"""

from __future__ import annotations

import ast
import weakref
from dataclasses import dataclass
from typing import Iterable, Iterator

from ...code.units import picked, placed_by_key
from ...facts.declared import Fact
from ...facts.targets import newest_token_keys
from ...facts.index import Scope, UnitIndex, child_fields, index_of, slice_start, slice_stop, strip_views, walk
from ...findings import Finding, Severity
from ..base import Invalid, Rule, Valid, examples

LOSSES = ("cross_entropy", "nll_loss")
LOGS = ("log", "log2", "log10", "log1p")
GATHERS = ("gather", "take_along_dim", "take_along_axis")
GATHER_FUNCTIONS = ("torch.gather", "torch.take_along_dim", "numpy.take_along_axis")
DISTRIBUTIONS = ("softmax", "log_softmax")
EXPS = ("exp", "exp2", "expm1")
# Reading only the shape or size of the target is not reading its value.
METADATA_ATTRS = frozenset({"shape", "dtype", "device", "ndim", "is_cuda"})
METADATA_CALLS = frozenset({"size", "numel", "dim", "len", "nelement", "zeros_like", "ones_like",
                            "empty_like", "full_like"})


def _last(name: str | None) -> str:
    return (name or "").rsplit(".", 1)[-1]


def _call_last(idx: UnitIndex, call: ast.Call) -> str:
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return _last(idx.imports.call_name(call))


def _arg(call: ast.Call, position: int, keyword: str) -> ast.AST | None:
    for k in call.keywords:
        if k.arg == keyword:
            return k.value
    return call.args[position] if len(call.args) > position else None


def _gather_parts(idx: UnitIndex, call: ast.Call) -> tuple[ast.AST, ast.AST] | None:
    """(source, index) of `src.gather(dim, i)`, `torch.gather(src, dim, i)`, `take_along_dim(src, i)`."""
    last = _call_last(idx, call)
    if last not in GATHERS:
        return None
    method = isinstance(call.func, ast.Attribute) and idx.imports.qualname(call.func) not in GATHER_FUNCTIONS
    if last == "gather":
        if method:
            index = _arg(call, 1, "index")
            return (call.func.value, index) if index is not None else None
        src, index = _arg(call, 0, "input"), _arg(call, 2, "index")
    else:
        if method:
            index = _arg(call, 0, "indices")
            return (call.func.value, index) if index is not None else None
        src, index = _arg(call, 0, "input"), _arg(call, 1, "indices")
    return (src, index) if src is not None and index is not None else None


def _arange_index(node: ast.Subscript, idx: UnitIndex) -> list[ast.AST]:
    """The token indices of a gold read `probs[torch.arange(n), y]` (empty when it is not one)."""
    if not isinstance(node.slice, ast.Tuple):
        return []
    elts = node.slice.elts
    if not any(isinstance(e, ast.Call) and _call_last(idx, e) == "arange" for e in elts):
        return []
    return [e for e in elts if not (isinstance(e, ast.Call) and _call_last(idx, e) == "arange")
            and not isinstance(e, ast.Slice)]


def _stmt_line(idx: UnitIndex, node: ast.AST) -> int:
    return getattr(idx.statement_of(node), "lineno", getattr(node, "lineno", 0))


def _snippet(idx: UnitIndex, line: int) -> str:
    text = idx.unit.line_text(line).strip()
    return text if len(text) <= 70 else text[:67] + "..."


@dataclass
class Target:
    """The token tensor a prediction is scored against, as it is identified in the code."""

    expr: ast.AST
    keys: set[tuple[str, int]]     # (name, id of its reaching definition; 0 for a parameter)
    forms: set[str]                # ast.dump of the target expression and of its definition

    @classmethod
    def of(cls, scope: Scope, expr: ast.AST) -> "Target":
        keys: set[tuple[str, int]] = set()
        forms: set[str] = set()
        stripped = strip_views(expr)
        # follow `y = batch[:, 1:].long()`-style aliases down to the slice that defines the target
        for _ in range(4):
            if isinstance(stripped, ast.Name):
                defs = scope.reaching(stripped.id, (stripped.lineno, stripped.col_offset))
                keys.add((stripped.id, id(defs[0]) if defs else 0))
                if not defs:
                    break
                stripped = strip_views(defs[0])
            else:
                if isinstance(stripped, ast.Subscript):
                    forms.add(ast.dump(stripped))
                break
        return cls(expr, keys, forms)

    def matches(self, scope: Scope, node: ast.AST) -> bool:
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            if not any(k[0] == node.id for k in self.keys):
                return False
            defs = scope.reaching(node.id, (node.lineno, node.col_offset))
            return (node.id, id(defs[0]) if defs else 0) in self.keys
        return isinstance(node, ast.Subscript) and bool(self.forms) and ast.dump(node) in self.forms


class _Scan:
    """Walk a prediction's dependencies looking for the target where it does more than index a read."""

    def __init__(self, idx: UnitIndex, scope: Scope, target: Target):
        self.idx, self.scope, self.target = idx, scope, target
        self.seen: set[tuple[int, bool]] = set()
        self._stores: dict[str, list[tuple[tuple[int, int], list[ast.AST]]]] | None = None
        self.keyed_read: ast.Subscript | None = None

    def stores(self, name: str) -> list[tuple[tuple[int, int], list[ast.AST]]]:
        """(end of the statement, written parts) of in-place writes into `name`: `name[i] = v`,
        `name[i] += v`. The values and the positions written are what the array then holds."""
        if self._stores is None:
            self._stores = {}
            for node in self.scope.of(ast.Assign, ast.AugAssign):
                if isinstance(node, ast.Assign):
                    targets, value = node.targets, node.value
                elif isinstance(node, ast.AugAssign):
                    targets, value = [node.target], node.value
                else:
                    continue
                end = (node.end_lineno or node.lineno, node.end_col_offset or 0)
                for t in targets:
                    if isinstance(t, ast.Subscript) and isinstance(strip_views(t.value), ast.Name):
                        parts = t.slice.elts if isinstance(t.slice, ast.Tuple) else [t.slice]
                        self._stores.setdefault(strip_views(t.value).id, []).append((end, [value, *parts]))
        return self._stores.get(name, [])

    def plain_target(self, expr: ast.AST) -> bool:
        """Is `expr` the target itself, in some shape (the index of a gold read)?"""
        for _ in range(6):
            expr = strip_views(expr)
            if self.target.matches(self.scope, expr):
                return True
            if isinstance(expr, ast.Subscript) and not isinstance(expr.slice, ast.Slice) \
                    and self.target.matches(self.scope, strip_views(expr.value)):
                return True  # y[hit]: the targets of the selected positions
            if not isinstance(expr, ast.Name):
                return False
            defs = self.scope.reaching(expr.id, (expr.lineno, expr.col_offset))
            if len(defs) != 1:
                return False
            expr = defs[0]
        return False

    def local_callee(self, call: ast.Call) -> ast.AST | None:
        """The one function of this unit that `call` runs, when there is exactly one by that name."""
        func = call.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
        found = self.idx.functions.get(name or "", [])
        return found[0] if len(found) == 1 else None

    def leak_through_call(self, call: ast.Call, callee: ast.AST) -> ast.AST | None:
        """A helper that only reads a table AT the target (`pair[(prev, tok)]`) does not leak it."""
        params = [a.arg for a in (*callee.args.posonlyargs, *callee.args.args)]
        if isinstance(call.func, ast.Attribute) and params and params[0] in ("self", "cls"):
            params = params[1:]
        bound = list(zip(params, call.args)) + [(k.arg, k.value) for k in call.keywords if k.arg]
        for param, arg in bound:
            found = self.leak(arg)
            if found is not None and not _index_only(self.idx, callee, param):
                return found
        return None

    def leak(self, node: ast.AST) -> ast.AST | None:
        """The first place where the target feeds `node` as a value (key, gate, input), or None."""
        key = (id(node), False)
        if key in self.seen:
            return None
        self.seen.add(key)
        if self.target.matches(self.scope, node):
            return node
        if isinstance(node, ast.Attribute) and node.attr in METADATA_ATTRS:
            return None
        if isinstance(node, ast.Subscript):
            if slice_stop(node.slice) is not None and self.plain_target(node.value):
                return None  # y[:, :-1]: the previous targets, already scored
            parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            for part in parts:
                if self.plain_target(part):
                    continue  # counts[ctx, y] / probs[arange, y]: reading an entry at the target
                found = self.leak(part)
                if found is not None:
                    if self.keyed_read is None:
                        self.keyed_read = node  # the innermost lookup whose key carries the target
                    return found
            return self.leak(node.value)
        if isinstance(node, ast.Call):
            if _call_last(self.idx, node) in METADATA_CALLS:
                return None
            parts = _gather_parts(self.idx, node)
            if parts is not None and self.plain_target(parts[1]):
                return self.leak(parts[0])
            callee = self.local_callee(node)
            if callee is not None:
                return self.leak_through_call(node, callee)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            at = (node.lineno, node.col_offset)
            for value in self.scope.reaching(node.id, at):
                found = self.leak(value)
                if found is not None:
                    return found
            # An array filled in place before this use (`p_all[hit] = p_hit[hit]`) holds what was
            # written into it; writes later in the code are updates after scoring.
            for end, parts in self.stores(node.id):
                if end > at:
                    continue
                for part in parts:
                    if part is not parts[0] and self.plain_target(part):
                        continue
                    found = self.leak(part)
                    if found is not None:
                        return found
            return None
        if isinstance(node, (ast.Lambda, *(ast.FunctionDef, ast.AsyncFunctionDef))):
            return None
        for name in child_fields(type(node)):
            value = getattr(node, name)
            for child in (value if type(value) is list else (value,)):
                if isinstance(child, ast.AST):
                    found = self.leak(child)
                    if found is not None:
                        return found
        return None


def _index_only(idx: UnitIndex, fn: ast.AST, param: str) -> bool:
    """Is `param` used in `fn` only as (part of) a subscript index, or for its shape?"""
    uses = 0
    for node in idx.scope_for(fn).of(ast.Name):
        if not (node.id == param and isinstance(node.ctx, ast.Load)):
            continue
        uses += 1
        parent = idx.parents.get(id(node))
        if isinstance(parent, ast.Call) and isinstance(parent.func, ast.Name) and parent.func.id in ("int", "len"):
            node, parent = parent, idx.parents.get(id(parent))
        if isinstance(parent, ast.Tuple):
            node, parent = parent, idx.parents.get(id(parent))
        if not (isinstance(parent, ast.Subscript) and parent.slice is node):
            return False
    return uses > 0


def _scoring_sites(idx: UnitIndex, scope: Scope) -> Iterator[tuple[ast.Call, ast.AST, list[ast.AST]]]:
    """(site, prediction, targets): losses against a target, and logs of gold-read probabilities."""
    for node in _calls_written(scope, (*LOSSES, *LOGS)):
        last = _call_last(idx, node)
        if last in LOSSES and (isinstance(node.func, ast.Name)
                               or (idx.imports.call_name(node) or "").startswith("torch.")):
            prediction, target = _arg(node, 0, "input"), _arg(node, 1, "target")
            if prediction is not None and target is not None:
                yield node, prediction, [target]
        elif last in LOGS:
            name = idx.imports.call_name(node) or ""
            arg = node.func.value if isinstance(node.func, ast.Attribute) and not name.startswith(
                ("torch.", "numpy.", "math.")) else (node.args[0] if node.args else None)
            if arg is None:
                continue
            targets = [t for read in _gold_reads(idx, scope, arg) for t in read[1]]
            if targets:
                yield node, arg, targets


def _gold_reads(idx: UnitIndex, scope: Scope, expr: ast.AST,
                deps=None) -> list[tuple[ast.AST, list[ast.AST], ast.AST]]:
    """(read node, token indices, source) of every gold read in `expr`'s dependencies."""
    out = []
    for node in (deps or scope.closure)(expr):
        if isinstance(node, ast.Call):
            parts = _gather_parts(idx, node)
            if parts is not None:
                out.append((node, [parts[1]], parts[0]))
        elif isinstance(node, ast.Subscript):
            indices = _arange_index(node, idx)
            if indices:
                out.append((node, indices, node.value))
    return out


class TargetAwarePrediction(Rule):
    """The token being predicted feeds the key, index or gate that produces its own prediction.

    The target at position t (what `cross_entropy`/`nll_loss` scores against, or the index of the
    gold-probability read) reaches the prediction for t as a value: hashed into an n-gram cache's
    lookup key, compared or embedded into a "hint" gate, added to the model input. Reading a row or
    column AT the target (`probs.gather(-1, y)`, `counts[ctx, y]`), the previous targets (`y[:, :-1]`),
    and a cache updated with the target after it was scored are all fine.

    **Why.** Condition 1 (strict causal dependence): the distribution that scores x_t may depend only
    on the artifact and x_1..x_{t-1}. A cache keyed on (context, x_t) knows the answer it is graded on.

    **Example.** `key = (ctx_hash * 1_000_003 + y) % size` then `logits += bias_table[key]`.

    **Instead.** Key the cache on the preceding tokens only, look up a full row over the vocabulary,
    and update it with the target after the position has been scored.
    """

    id = "GL104"
    name = "target-aware-prediction"
    facts = frozenset({Fact.CODE, Fact.INDEX, Fact.NATIVE, Fact.TARGETS})
    severity = Severity.ERROR
    message = "the target token feeds its own prediction"
    hint = ("key caches and gates on the preceding tokens only (x[:, :-1], the context window); "
            "update them with the target only after the position is scored")
    valid = examples(lambda: (
        Valid("""
            import torch.nn.functional as F
            def score(model, tokens):
                x, y = tokens[:, :-1], tokens[:, 1:]
                logits = model(x)
                return F.cross_entropy(logits.flatten(0, 1), y.flatten())
            """),
        Valid("""
            import torch
            import torch.nn.functional as F
            def score(model, x, y, counts, table_size):
                key = (x[:, -1] * 31 + x[:, -2]) % table_size      # preceding tokens only
                row = counts[key].float()
                probs = 0.9 * F.softmax(model(x)[:, -1], -1) + 0.1 * row / row.sum(-1, keepdim=True)
                nll = -torch.log(probs.gather(-1, y[:, -1:]))
                counts[key, y[:, -1]] += 1                          # updated after scoring
                return nll
            """),
        Valid("""
            import torch
            import torch.nn.functional as F
            def decode_loss(model, tgt):
                B, T = tgt.shape
                inp = torch.cat([torch.zeros_like(tgt[:, :1]), tgt[:, :-1]], dim=1)  # teacher forcing
                logits = model(inp)
                return F.cross_entropy(logits.view(B * T, -1), tgt.view(-1))
            """),
        Valid("""
            import torch.nn.functional as F
            def step_scores(model, seq):
                total, prev = 0.0, seq[0]
                for t in range(1, len(seq)):
                    logits = model(prev)
                    total += F.cross_entropy(logits, seq[t])
                    prev = seq[t]            # becomes context only for the next position
                return total
            """),
        Valid("""
            import numpy as np
            import torch
            def nll(logp, ctx_hash, y, rows, size):
                p_model = logp.gather(-1, y[..., None]).squeeze(-1).exp()
                p_ng = np.full(tuple(y.shape), 1.0 / size)
                hit = ctx_hash > 0
                row = rows[ctx_hash % size]                     # a full row per context
                p_ng[hit] = (row / row.sum(-1, keepdims=True))[hit, y.numpy()[hit]]
                return -torch.log(0.5 * p_model + 0.5 * torch.from_numpy(p_ng))
            """, note="an array filled in place from a context-keyed row, read at the target"),
        Valid("""
            import numpy as np
            class Cache:
                def probs(self, stream, where, gold, order):
                    keep = np.nonzero(where >= order)[0]
                    at = where[keep]
                    h = np.zeros(len(keep), dtype=np.uint64)
                    for k in range(order):
                        h ^= stream[at - order + k].astype(np.uint64) * 1000003
                    rows = self.rows[(h % 4096).astype(np.int64)]     # full rows: context only
                    return (rows / rows.sum(-1, keepdims=True))[np.arange(len(keep)), gold[keep]]
            def run(cache, stream, where):
                return cache.probs(stream, where, stream[where], 3)
            """, note="the caller passes the target, but the key hashes only the context"),
        Valid("""
            import math
            import numpy as np
            def mixed_bits(seq, p_model, thresh):
                n = len(seq)
                p_cache = np.empty(n)
                conf = np.empty(n)
                table = {}
                for i in range(n):
                    x = seq[i]
                    ctx = seq[i - 1] if i else -1
                    row = table.setdefault(ctx, {})
                    total = sum(row.values()) + 1
                    p = (row.get(x, 0) + 1 / 256) / total
                    p_cache[i] = p
                    conf[i] = max(row.values(), default=0) / total   # the context's confidence only
                    row[x] = row.get(x, 0) + 1
                lam = np.where(conf > thresh, 0.1, 0.9)
                return -np.log2(lam * p_model + (1 - lam) * p_cache).sum() / math.log(2)
            """, note="the weight depends on the context's statistics, not on the outcome's"),
        Valid("""
            import numpy as np
            class Rows:
                def context(self, toks, width):
                    n = len(toks) - width
                    h = np.zeros(n, dtype=np.int64)
                    for k in range(width):
                        h = h * 1000003 + toks[k:k + n]
                    return h % 4096
                def prob(self, toks, width):
                    rows = self.rows[self.context(toks, width)]       # earlier runs only
                    return (rows / rows.sum(-1, keepdims=True))[np.arange(len(rows)), toks[width:]]
            """, note="whole runs of the stream: a full row keyed on the earlier runs, read at the target"),
        Valid("""
            def bigram_rows(tokens, table):
                x = tokens[:, :-1]                       # the model input: context only
                key = (x[:, 1:] * 1000003 + x[:, :-1]) % 4096
                return table[key]
            """, note="`x[:, 1:]` is the newest context token, not the target"),
        Valid("""
            import torch
            def refine(codebook, grid, pdf):
                mids = (codebook[:-1] + codebook[1:]) / 2          # midpoints between levels
                bounds = torch.cat((grid[:1], mids, grid[-1:]))
                mask = (grid >= bounds[0]) & (grid < bounds[1])
                return (grid[mask] * pdf[mask]).sum() / pdf[mask].sum()
            """, note="a quantizer's codebook: neighbouring values averaged, no tokens hashed"),
    ))
    invalid = examples(lambda: (
        Invalid("""
            import torch.nn.functional as F
            def score(model, x, y, bias_table, size):
                logits = model(x)
                key = (x * 1_000_003 + y) % size
                logits = logits + bias_table[key]
                return F.cross_entropy(logits.flatten(0, 1), y.flatten())
            """, lines=4, note="n-gram key hashes the target"),
        Invalid("""
            import torch
            import torch.nn.functional as F
            class Model(torch.nn.Module):
                def forward(self, idx, targets):
                    h = self.embed(idx)
                    gate = torch.sigmoid(self.hint(self.embed(targets)))
                    logits = self.head(h * gate)
                    return F.cross_entropy(logits.flatten(0, 1), targets.flatten())
            """, lines=6, note="hint gate computed from the target"),
        Invalid("""
            import torch
            def nll(probs, seq, cache, size):
                ctx, tgt = seq[:, :-1], seq[:, 1:]
                p_model = probs.gather(-1, tgt.unsqueeze(-1)).squeeze(-1)
                p_cache = cache[(ctx * 7919 + tgt) % size]
                return -torch.log(0.8 * p_model + 0.2 * p_cache)
            """, lines=5, note="gold-probability scoring with a target-keyed cache"),
        Invalid("""
            import torch.nn.functional as F
            def score(model, tokens):
                x = tokens[:, :-1]
                y = tokens[:, 1:]
                hint = (y == x).float()
                return F.cross_entropy(model(x, hint).flatten(0, 1), y.flatten())
            """, lines=5),
        Invalid("""
            import numpy as np
            import torch
            def nll(logp, ctx_hash, y, counts, size):
                p_model = logp.gather(-1, y[..., None]).squeeze(-1).exp()
                yk = y.numpy().astype(np.uint64)
                p_ng = np.full(yk.shape, 1.0 / size)
                hit = ctx_hash > 0
                full = (ctx_hash ^ (yk * 2654435761)) % size
                p_ng[hit] = counts[full][hit]
                return -torch.log(0.5 * p_model + 0.5 * torch.from_numpy(p_ng))
            """, lines=5, note="an array filled in place from a bucket keyed on the target"),
        Invalid("""
            import numpy as np
            def bucket_probs(stream, where, ctx_tab, full_tab, order):
                gold = stream[where].astype(np.uint64)
                keep = np.nonzero(where >= order)[0]
                at = where[keep]
                h = np.zeros(len(keep), dtype=np.uint64)
                for k in range(order):
                    h ^= stream[at - order + k].astype(np.uint64) * 1000003
                full = (h ^ (gold[keep] * 998244353)) % 4096
                return full_tab[full] / np.maximum(ctx_tab[h % 4096], 1)
            """, lines=10, note="positions selected from the scored ones; context at `at - order + k`"),
        Invalid("""
            import numpy as np
            class Cache:
                def probs(self, stream, where, gold, order):
                    keep = np.nonzero(where >= order)[0]
                    at = where[keep]
                    h = np.zeros(len(keep), dtype=np.uint64)
                    for k in range(order):
                        h ^= stream[at - order + k].astype(np.uint64) * 1000003
                    full = (h ^ (gold[keep].astype(np.uint64) * 998244353)) % 4096
                    return self.full[full] / np.maximum(self.ctx[h % 4096], 1)
            def run(cache, stream, where):
                gold = stream[where]
                return cache.probs(stream, where, gold, 3)
            """, lines=10, note="the caller binds a parameter to the tokens at the scored positions"),
        Invalid("""
            import numpy as np
            def mixed_bits(seq, p_model, thresh):
                n = len(seq)
                p_cache = np.empty(n)
                conf = np.empty(n)
                table = {}
                for i in range(n):
                    x = seq[i]
                    ctx = seq[i - 1] if i else -1
                    row = table.setdefault(ctx, {})
                    p = 1 / 256
                    if x in row:
                        p = row.get(x) / (sum(row.values()) + 1)
                    p_cache[i] = p
                    conf[i] = p                       # how likely the actual outcome was
                    row[x] = row.get(x, 0) + 1
                lam = np.where(conf > thresh, 0.1, 0.9)
                return -np.log2(lam * p_model + (1 - lam) * p_cache).sum()
            """, lines=18, note="the mixing weight is chosen from the probability of the actual next symbol"),
        Invalid("""
            import numpy as np
            class Counts:
                def context(self, toks, width):
                    n = len(toks) - width
                    h = np.zeros(n, dtype=np.int64)
                    for k in range(width):
                        h = h * 1000003 + toks[k:k + n]
                    return h % 4096
                def prob(self, toks, width):
                    full = (self.context(toks, width) * 31 + toks[width:]) % 4096
                    return self.full[full] / np.maximum(self.ctx[self.context(toks, width)], 1)
            """, lines=11, note="`toks[width:]` holds, at each position, the token that position predicts"),
    ))

    def check(self, sub) -> Iterable[Finding]:
        for unit in sub.python_units:
            idx = index_of(unit)
            reported: set[int] = set()
            for scope in idx.scopes:
                for site, prediction, targets in _scoring_sites(idx, scope):
                    for target_expr in targets:
                        target = Target.of(scope, target_expr)
                        scan = _Scan(idx, scope, target)
                        found = scan.leak(prediction)
                        if found is None:
                            continue
                        line = _stmt_line(idx, found)
                        shown = ast.unparse(strip_views(target_expr))
                        read_line = _stmt_line(idx, scan.keyed_read) if scan.keyed_read is not None else line
                        reported.update((line, read_line))
                        through = (f", the key of the lookup `{_snippet(idx, read_line)}` (line {read_line})"
                                   if read_line != line else "")
                        yield self.report_at(
                            unit, line,
                            f"the target `{shown}` scored at line {site.lineno} feeds "
                            f"`{_snippet(idx, line)}` (line {line}){through}, which produces the prediction it "
                            "is scored against", target_line=site.lineno)
                        break
            # A mixing weight chosen from the probability of the actual outcome.
            for scope in idx.scopes:
                for mix, read in _outcome_weighted_mixtures(idx, scope):
                    line = _stmt_line(idx, mix)
                    yield self.report_at(
                        unit, line,
                        f"the mixing weight of `{_snippet(idx, line)}` (line {line}) depends on "
                        f"`{ast.unparse(read)[:40]}` (line {_stmt_line(idx, read)}), a lookup keyed on the "
                        "token being scored: the weight knows the answer")
            # Stream-indexed caches: the key mixes the newest position's token with its context.
            for read, newest, key in newest_token_keys(idx):
                line = _stmt_line(idx, read)
                # the same lookup already reported from the scored target's side
                if reported & {line, *(_stmt_line(idx, n) for n in idx.scope_containing(read).closure(key))}:
                    continue
                yield self.report_at(
                    unit, line,
                    f"the table read `{_snippet(idx, line)}` (line {line}) is keyed on `{ast.unparse(key)[:40]}`, "
                    f"which mixes `{ast.unparse(newest.node)}`, the newest position this loop reads (the "
                    "token being predicted), with its context: the lookup knows the answer")


def _complement_of(expr: ast.AST) -> ast.AST | None:
    """w for `1 - w` / `1.0 - w`."""
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Sub) and isinstance(expr.left, ast.Constant) \
            and expr.left.value == 1:
        return expr.right
    return None


def _two_way_weight(node: ast.AST) -> ast.AST | None:
    """w of `w * a + (1 - w) * b` (either order, either side of each product)."""
    if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add)):
        return None
    sides = [node.left, node.right]
    if not all(isinstance(x, ast.BinOp) and isinstance(x.op, ast.Mult) for x in sides):
        return None
    factors = [[sides[0].left, sides[0].right], [sides[1].left, sides[1].right]]
    for mine, other in (factors, factors[::-1]):
        for f in mine:
            w = _complement_of(f)
            if w is not None and any(ast.dump(g) == ast.dump(w) for g in other):
                return w
    return None


def _newest_stream_token(scope: Scope, name: ast.Name) -> bool:
    """Is `name` the token a position loop is at: `x = seq[i]` with `for i in range(...)`, and no
    read of `seq` ahead of `i` in this function (which would make `seq[i]` context)?"""
    defs = scope.reaching(name.id, (name.lineno, name.col_offset))
    if len(defs) != 1:
        return False
    value = strip_views(defs[0])
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and len(value.args) == 1:
        value = strip_views(value.args[0])  # int(seq[i])
    if not (isinstance(value, ast.Subscript) and isinstance(value.value, ast.Name)
            and isinstance(value.slice, ast.Name)):
        return False
    seq, var = value.value.id, value.slice.id
    loops = [n for n in scope.of(ast.For) if isinstance(n.target, ast.Name)
             and n.target.id == var and isinstance(n.iter, ast.Call) and _call_last_plain(n.iter) == "range"]
    if not loops:
        return False
    for n in scope.of(ast.Subscript):
        if isinstance(n.value, ast.Name) and n.value.id == seq \
                and isinstance(n.slice, ast.BinOp) and isinstance(n.slice.op, ast.Add) \
                and isinstance(n.slice.left, ast.Name) and n.slice.left.id == var:
            return False
    return True


def _outcome_weighted_mixtures(idx: UnitIndex, scope: Scope) -> Iterator[tuple[ast.AST, ast.AST]]:
    """(mixture, lookup) for `w * a + (1 - w) * b` scored with a log whose weight w is computed from
    a table read keyed on the token being scored (`counts.get(x)` with `x = seq[i]`)."""
    seen: set[int] = set()
    for node in _calls_written(scope, LOGS):
        args = [*node.args, *([node.func.value] if isinstance(node.func, ast.Attribute) else [])]
        for arg in args:
            for inner in _deps(scope, arg):
                w = _two_way_weight(inner)
                if w is None or id(inner) in seen:
                    continue
                seen.add(id(inner))
                for n in _deps(scope, w, branches=True):
                    key = None
                    if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "get" \
                            and n.args:
                        key = n.args[0]
                    elif isinstance(n, ast.Subscript) and isinstance(n.ctx, ast.Load):
                        key = n.slice
                    if isinstance(key, ast.Name) and _newest_stream_token(scope, key):
                        yield inner, n
                        break


def _mixed_in_log_space(idx: UnitIndex, scope: Scope, stack: ast.AST) -> bool:
    """Does `stack` reach a `logsumexp` here, or through this function's return value in a caller?"""
    def reaches(in_scope: Scope, wanted) -> bool:
        for node in in_scope.of(ast.Call):
            if _func_name(node) == "logsumexp":
                args = [*node.args, *([node.func.value] if isinstance(node.func, ast.Attribute) else [])]
                if any(wanted(n) for a in args for n in _deps(in_scope, a)):
                    return True
        return False

    if reaches(scope, lambda n: n is stack):
        return True
    fn = scope.node
    if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    returned = any(r.value is not None and any(n is stack for n in _deps(scope, r.value))
                   for r in scope.of(ast.Return))
    if not returned or len(idx.functions.get(fn.name, [])) != 1:
        return False
    return any(reaches(other, lambda n: isinstance(n, ast.Call) and _func_name(n) == fn.name)
               for other in idx.scopes if other is not scope)


def _non_probability_experts(idx: UnitIndex, scope: Scope) -> Iterator[tuple[ast.AST, ast.AST]]:
    """(stack, element) for `stack([gold_nll_a, gold_nll_b, summary])` mixed with a logsumexp, where
    `summary` reads no token at all: it reduces the whole distribution over the vocabulary axis
    (an entropy), so it is the same number whichever token comes next."""
    for node in scope.of(ast.Call):
        if not (_func_name(node) in ("stack", "cat") and node.args
                and isinstance(node.args[0], (ast.List, ast.Tuple)) and len(node.args[0].elts) >= 2):
            continue
        elements = node.args[0].elts
        gold = [bool(_gold_reads(idx, scope, e, lambda x: _deps(scope, x))) for e in elements]
        if not any(gold):
            continue
        for element, is_gold in zip(elements, gold):
            if is_gold:
                continue
            deps = _deps(scope, element)
            if any(isinstance(n, ast.Subscript) for n in deps):
                continue  # reads something at some position or token: not a pure summary
            if any(isinstance(n, ast.Call) and _func_name(n) == "sum" for n in deps) and any(
                    isinstance(n, ast.Call) and _call_last(idx, n) in DISTRIBUTIONS for n in deps) \
                    and _mixed_in_log_space(idx, scope, node):
                yield node, element
                break


def _is_log_call(scope: Scope, node: ast.AST) -> bool:
    """`log(...)`, `np.log2(...)`, or a local alias of one (`ln = math.log` then `ln(...)`)."""
    if not isinstance(node, ast.Call):
        return False
    if _func_name(node) in LOGS:
        return True
    if isinstance(node.func, ast.Name):
        defs = scope.reaching(node.func.id, (node.lineno, node.col_offset))
        return len(defs) == 1 and isinstance(defs[0], (ast.Attribute, ast.Name)) and \
            (defs[0].attr if isinstance(defs[0], ast.Attribute) else defs[0].id) in LOGS
    return False


def _realized_parts_mixtures(idx: UnitIndex, scope: Scope) -> Iterator[tuple[ast.AST, ast.For]]:
    """(mixture, loop) for `w * f(a) + (1 - w) * g(b)` scored with a log where one side accumulates
    over `for part in parts(token)`: the bytes (or pieces) of the token being scored, looked up in a
    per-token table (`pieces[x]` with `x = seq[i]`). A probability of the realized token's parts
    exists only for that token."""
    loops = {id(n.iter): n for n in scope.of(ast.For)}
    seen: set[int] = set()
    for node in scope.of(ast.Call):
        if not _is_log_call(scope, node):
            continue
        for arg in [*node.args, *([node.func.value] if isinstance(node.func, ast.Attribute) else [])]:
            for inner in _deps(scope, arg):
                if id(inner) in seen or _two_way_weight(inner) is None:
                    continue
                seen.add(id(inner))
                for side in (inner.left, inner.right):
                    found = next((loops[id(n)] for n in _deps(scope, side, branches=True) if id(n) in loops
                                  and any(isinstance(k, ast.Subscript) and isinstance(k.slice, ast.Name)
                                          and _newest_stream_token(scope, k.slice)
                                          for k in _deps(scope, n))), None)
                    if found is not None:
                        yield inner, found
                        break


SPREADS = frozenset({"repeat", "repeat_interleave"})


def _spread(idx: UnitIndex, scope: Scope, expr: ast.AST) -> ast.AST | None:
    """A division `repeat(v, n) / repeat(n, n)` in `expr`'s dependencies: one value per token,
    repeated over each token's length and divided by that length (its share per byte)."""
    def repeats(node: ast.AST) -> set[str]:
        out = set()
        for n in scope.closure(node):
            if isinstance(n, ast.Call) and _call_last(idx, n) in SPREADS and len(n.args) >= 2:
                out.add(ast.dump(strip_views(n.args[1])))
        return out

    for node in _deps(scope, expr):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            shared = repeats(node.left) & repeats(node.right)
            if shared:
                return node
    return None


def _spread_mixtures(idx: UnitIndex, scope: Scope) -> Iterator[tuple[ast.AST, ast.AST]]:
    """(mixture, spread) for `w * f(a) + (1 - w) * g(b)` scored with a log, one side a per-byte spread."""
    seen: set[int] = set()
    for node in scope.of(ast.Call):
        if _func_name(node) not in LOGS:
            continue
        for arg in [*node.args, *([node.func.value] if isinstance(node.func, ast.Attribute) else [])]:
            for inner in _deps(scope, arg):
                if id(inner) in seen or _two_way_weight(inner) is None:
                    continue
                seen.add(id(inner))
                for side in (inner.left, inner.right):
                    found = _spread(idx, scope, side)
                    if found is not None:
                        yield inner, found
                        break


def _is_distribution(idx: UnitIndex, scope: Scope, expr: ast.AST) -> bool:
    """Does `expr` come from a softmax or a normalization over the last axis?"""
    for node in scope.closure(expr):
        if isinstance(node, ast.Call) and _call_last(idx, node) in DISTRIBUTIONS:
            return True
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div) and any(
                isinstance(n, ast.Call) and _call_last(idx, n) == "sum" for n in walk(node.right)):
            return True
    return False


def _outside_exp(idx: UnitIndex, scope: Scope, expr: ast.AST) -> Iterator[ast.AST]:
    """`scope.closure(expr)` without what only reaches `expr` through an `exp(...)`.

    A sum inside `exp` is a product or a ratio of probabilities (`exp(logit_h - lse)` is the
    model's probability of token h), not a mixture of two probabilities: only sums of
    probabilities can mix a gold-only value into the score."""
    stack = [expr]
    seen: set[int] = {id(expr)}
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.Call) and _call_last(idx, node) in EXPS:
            continue
        children = list(ast.iter_child_nodes(node))
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            children = [v for v in scope.reaching(node.id, (node.lineno, node.col_offset)) if v is not None]
        for child in children:
            if id(child) not in seen:
                seen.add(id(child))
                stack.append(child)


def _trivial(scope: Scope, expr: ast.AST) -> bool:
    """Constants, and names of constants: an epsilon, a uniform floor."""
    return not any(isinstance(n, (ast.Subscript, ast.Call)) for n in scope.closure(expr))


class GoldOnlyMixture(Rule):
    """A probability blended or adjusted only at the gold token, with no full distribution behind it.

    The model's probability of the target is read first (`probs.gather(-1, y)`), then mixed with a
    cache probability for that same token, or boosted, and the result is scored with `log`. Mixing two
    gold reads of full, normalized distributions is the same as reading the mixture, so it is fine;
    mixing with a value that exists only for the target (`counts[ctx, y] / total[ctx]`, a hashed
    bucket, a bonus) is not.

    **Why.** Condition 2 (full normalized distribution): a complete distribution over the whole
    vocabulary must exist before a token is scored. Adjusting only the gold entry implies a
    "distribution" whose entries sum to more than 1, and scores far below any real model.

    **Example.** `p = lam * probs.gather(-1, y) + (1 - lam) * counts[ctx, y] / totals[ctx]`, then `-log(p)`.

    **Instead.** Build the cache's distribution over the whole vocabulary, mix the two distributions,
    then read the target: `(lam * probs + (1 - lam) * cache_dist).gather(-1, y)`.
    """

    id = "GL105"
    name = "gold-only-mixture"
    facts = frozenset({Fact.CODE, Fact.INDEX, Fact.NATIVE})
    severity = Severity.ERROR
    message = "a probability is mixed or adjusted only at the gold token"
    hint = ("mix full distributions over the vocabulary first, then read the target's probability "
            "from the mixture")
    valid = examples(lambda: (
        Valid("""
            import torch
            def nll(probs, cache_dist, y, lam):
                mixed = lam * probs + (1 - lam) * cache_dist
                return -torch.log(mixed.gather(-1, y.unsqueeze(-1)))
            """),
        Valid("""
            import torch
            def nll(logits, y):
                p = torch.softmax(logits, -1).gather(-1, y[..., None])
                return -torch.log(p + 1e-9)
            """),
        Valid("""
            import torch
            import torch.nn.functional as F
            def nll(logits_a, logits_b, counts, y):
                pa = F.softmax(logits_a, -1).gather(-1, y[..., None])
                cache = counts / counts.sum(-1, keepdim=True)
                pb = cache.gather(-1, y[..., None])
                return -torch.log(0.7 * pa + 0.3 * pb)   # both gold reads of full distributions
            """),
        Valid("""
            import torch
            import torch.nn.functional as F
            def nll(logits, y, rows, ctx_seen, beta):
                p_model = F.log_softmax(logits, -1).gather(-1, y[:, None]).squeeze(1).exp()
                p_ng = p_model.clone()
                hit = ctx_seen > 0
                counts = rows[hit].float()
                gold = counts.gather(1, y[hit, None]).squeeze(1)
                p_ng[hit] = (gold + beta * p_model[hit]) / (counts.sum(1) + beta)
                return -torch.log(0.5 * p_ng + 0.5 * p_model)
            """, note="count row smoothed by the model and divided by the row's own sum: a distribution"),
        Valid("""
            import numpy as np
            def bits(p_model_byte, p_ppm_byte, lam, lp_tok, lens):
                per_byte = np.repeat(lp_tok, lens) / np.repeat(lens, lens)   # reported, never mixed
                mixed = lam * p_model_byte + (1 - lam) * p_ppm_byte          # two byte distributions
                return -np.log2(mixed).sum(), -per_byte.mean()
            """),
        Valid("""
            import torch
            import torch.nn.functional as F
            def experts(logits, y, uni):
                lp = F.log_softmax(logits, -1)
                model_nll = -lp.gather(-1, y[..., None]).squeeze(-1)
                uni_nll = -torch.log(uni / uni.sum()).gather(-1, y.flatten()).view_as(y)
                return torch.stack([model_nll, uni_nll], dim=-1)
            def mixed_nll(logits, y, uni, log_w):
                return -(-experts(logits, y, uni) + log_w).logsumexp(-1)
            """, note="every expert is a normalized distribution read at the target"),
        Valid("""
            import math
            def total_bits(seq, tok_lp, p_cache, pieces, lam):
                ln = math.log
                bits, nbytes = 0.0, 0
                for i in range(len(seq)):
                    t = seq[i]
                    for b in pieces[t]:                 # bytes counted for the denominator only
                        nbytes += 1
                    bits -= ln(lam * math.exp(tok_lp[i]) + (1 - lam) * p_cache[i])
                return bits / nbytes
            """, note="looping over the scored token's bytes to count them is not mixing"),
        Valid("""
            import torch
            def tilted_nll(nll, logits, y, favourite, boost):
                # one token's logit raised by `boost`, renormalized over the whole vocabulary:
                # p'(v) = p(v) * exp(boost * [v == favourite]) / Z, Z = 1 + p(favourite) * (exp(boost) - 1)
                log_norm = nll + logits.gather(-1, y[:, None]).squeeze(-1)
                p_fav = (logits.gather(-1, favourite[:, None]).squeeze(-1) - log_norm).exp()
                z = 1.0 + p_fav * (boost.exp() - 1.0)
                return nll + z.log() - boost * (y == favourite).float()
            """, note="a one-token tilt with exact renormalization: the distribution still sums to one"),
    ))
    invalid = examples(lambda: (
        Invalid("""
            import torch
            def nll(probs, counts, totals, ctx, y, lam):
                p_model = probs.gather(-1, y.unsqueeze(-1)).squeeze(-1)
                p_cache = counts[ctx, y] / totals[ctx].clamp_min(1)
                p = lam * p_model + (1 - lam) * p_cache
                return -torch.log(p)
            """, lines=5),
        Invalid("""
            import torch
            def bits(probs, y, hits, n):
                gold = probs[torch.arange(n), y]
                return -torch.log2(gold + 0.5 * hits[torch.arange(n)])
            """, lines=4, note="a bonus added only at the gold entry"),
        Invalid("""
            import torch
            import torch.nn.functional as F
            def nll(logits, y, table, key):
                lp = F.log_softmax(logits, -1).gather(-1, y[..., None]).squeeze(-1)
                lc = torch.log(table[key])
                return -torch.logaddexp(lp + 0.1, lc - 2.3)
            """, lines=6, note="log-space mixing of gold-only values"),
        Invalid("""
            import torch
            def nll(probs, counts, ctx, y):
                p_model = probs.gather(1, y[:, None])[:, 0]
                seen = counts[ctx, y]
                p_cache = seen / counts[ctx].sum(1).clamp(min=1.0)
                p = torch.where(seen >= 2, torch.maximum(p_model, p_cache), p_model)
                return -p.log()
            """, lines=6, note="the larger of model and cache probability, taken only at the gold token"),
        Invalid("""
            import torch
            import torch.nn.functional as F
            def nll(logits, y, rows, ctx_seen, beta):
                kept = []
                kept.append(F.log_softmax(logits, -1).gather(-1, y[:, None]).squeeze(1).exp())
                p_model = torch.cat(kept)
                p_ng = p_model.clone()
                hit = ctx_seen > 0
                gold = rows[hit].float().gather(1, y[hit, None]).squeeze(1)
                p_ng[hit] = (gold + beta * p_model[hit]) / (ctx_seen[hit] + beta)
                return -torch.log(0.5 * p_ng + 0.5 * p_model)
            """, lines=11, note="a count row's gold entry over the context's count, filled in place"),
        Invalid("""
            import numpy as np
            def bits(tok_lp, lens, byte_lp, lam):
                per_byte = np.repeat(tok_lp, lens) / np.repeat(lens.astype(float), lens)
                p = lam * np.exp(per_byte) + (1 - lam) * np.exp(byte_lp)
                return -np.log2(p).sum()
            """, lines=4, note="the token's probability spread over its bytes, mixed with a byte model"),
        Invalid("""
            import torch
            import torch.nn.functional as F
            def experts(logits, y):
                lp = F.log_softmax(logits, -1)
                model_nll = -lp.gather(-1, y[..., None]).squeeze(-1)
                spread = -(lp.exp() * lp).sum(-1)
                return torch.stack([model_nll, spread], dim=-1)
            def mixed_nll(logits, y, log_w):
                return -(-experts(logits, y) + log_w).logsumexp(-1)
            """, lines=7, note="the distribution's entropy used as an expert's negative log-probability"),
        Invalid("""
            import math
            def total_bits(seq, tok_lp, pieces, byte_model, lam):
                ln = math.log
                bits = 0.0
                for i in range(len(seq)):
                    t = seq[i]
                    part_lp = 0.0
                    for b in pieces[t]:
                        part_lp += ln(byte_model.prob(b))
                        byte_model.update(b)
                    bits -= ln(lam * math.exp(tok_lp[i]) + (1 - lam) * math.exp(part_lp))
                return bits
            """, lines=11, note="a byte model's probability of the realized token's bytes, mixed per token"),
    ))

    def check(self, sub) -> Iterable[Finding]:
        for unit in sub.python_units:
            idx = index_of(unit)
            for scope in idx.scopes:
                calls = scope.of(ast.Call)
                called = _calls_by_written_name(scope).keys()
                if called & {"range"} and any(_is_log_call(scope, n) for n in calls):
                    for mix, loop in _realized_parts_mixtures(idx, scope):
                        line = _stmt_line(idx, mix)
                        yield self.report_at(
                            unit, line,
                            f"`{_snippet(idx, line)}` (line {line}) mixes a probability accumulated over "
                            f"the parts of the scored token only (`for {ast.unparse(loop.target)} in "
                            f"{ast.unparse(loop.iter)[:30]}`, line {loop.lineno}): no distribution over "
                            "the vocabulary is formed for the other model")
                if called & set(LOGS) and called & SPREADS:
                    for mix, spread in _spread_mixtures(idx, scope):
                        line = _stmt_line(idx, mix)
                        yield self.report_at(
                            unit, line,
                            f"`{_snippet(idx, line)}` (line {line}) mixes `{ast.unparse(spread)[:50]}` (line "
                            f"{_stmt_line(idx, spread)}), a per-token probability spread evenly over the "
                            "bytes of the scored token, with another model's byte probability: the model "
                            "gives no distribution over the next byte, so the mixture is not one")
                if called & {"stack", "cat"} and called & {*GATHERS, "arange"}:
                    for stack, element in _non_probability_experts(idx, scope):
                        line = _stmt_line(idx, stack)
                        yield self.report_at(
                            unit, line,
                            f"`{_snippet(idx, line)}` (line {line}) stacks gold-token log-probabilities "
                            f"as experts to mix, with `{ast.unparse(element)[:50]}`, a value computed from the "
                            "whole distribution that is no expert's probability of the target: the mixture "
                            "is not a distribution over the vocabulary")
                if not called & {*LOGS, "logaddexp"} or not called & {*GATHERS, "arange"}:
                    continue  # nothing scored with a log, or no gold read to mix
                reported: set[int] = set()
                for mix, operands in self._mixtures(idx, scope):
                    line = _stmt_line(idx, mix)
                    if line in reported:
                        continue
                    problem = self._problem(idx, scope, operands)
                    if problem is None:
                        continue
                    reported.add(line)
                    yield self.report_at(unit, line, problem)

    @staticmethod
    def _mixtures(idx: UnitIndex, scope: Scope) -> Iterator[tuple[ast.AST, list[ast.AST]]]:
        """Sums and log-space sums whose result is scored: inside a `log(...)` or a `logaddexp`."""
        for node in scope.of(ast.Call):
            last = _call_last(idx, node)
            if last == "logaddexp" and len(node.args) >= 2:
                yield node, list(node.args[:2])
            elif last in LOGS:
                arg = node.func.value if isinstance(node.func, ast.Attribute) and not (
                    idx.imports.call_name(node) or "").startswith(("torch.", "numpy.", "math.")) \
                    else (node.args[0] if node.args else None)
                if arg is None:
                    continue
                for inner in _outside_exp(idx, scope, arg):
                    if isinstance(inner, ast.BinOp) and isinstance(inner.op, (ast.Add, ast.Sub)):
                        yield inner, [inner.left, inner.right]
                    elif isinstance(inner, ast.Call):
                        # Non-linear combiners adjust the gold probability just the same:
                        # max(p_model, p_cache) at the target, or where(seen, p_cache, p_model).
                        combiner = _call_last(idx, inner)
                        if combiner in PAIR_COMBINERS and len(inner.args) >= 2:
                            yield inner, list(inner.args[:2])
                        elif combiner == "where" and len(inner.args) == 3:
                            yield inner, list(inner.args[1:])

    def _problem(self, idx: UnitIndex, scope: Scope, operands: list[ast.AST]) -> str | None:
        def deps(expr: ast.AST) -> list[ast.AST]:
            return _deps(scope, expr)

        reads = [_gold_reads(idx, scope, op, deps) for op in operands]
        if not any(reads):
            return None
        gold = next(r for r in reads if r)[0]
        where = f"the gold probability read at line {gold[0].lineno} (`{ast.unparse(gold[0])[:50]}`)"
        for op, found in zip(operands, reads):
            if not found and not _trivial(scope, op) and any(
                    isinstance(n, ast.Subscript) or (isinstance(n, ast.Call) and _gather_parts(idx, n))
                    for n in deps(op)):
                return (f"{where} is mixed with `{ast.unparse(op)[:50]}`, a value that exists only for "
                        "the target; no distribution over the vocabulary is formed")
        all_reads = [r for found in reads for r in found]
        # Reads at different token indices are compared only where the values flow directly (an
        # array filled in place may hold the same targets gathered another way).
        direct = [r for op in operands for r in _gold_reads(idx, scope, op)]
        indices = {ast.dump(strip_views(i)) for r in direct for i in r[1]}
        not_full = [r for op, found in zip(operands, reads) for r in found
                    if not _is_distribution(idx, scope, r[2]) and not _row_normalized(scope, op, r, deps)]
        if len(reads) > 1 and all(reads) and (not_full or len(indices) > 1):
            bad = not_full[0] if not_full else all_reads[-1]
            return (f"{where} is mixed with `{ast.unparse(bad[0])[:50]}`, which is not read from a "
                    "normalized distribution over the vocabulary")
        return None


def _row_normalized(scope: Scope, operand: ast.AST, read: tuple, deps) -> bool:
    """Is the gold read from a count row divided by that row's own sum in `operand`
    (`(row.gather(1, y) + b * p) / (row.sum(1) + b)` is a smoothed distribution)?"""
    source = strip_views(read[2])
    if not isinstance(source, ast.Name):
        return False
    for node in deps(operand):
        if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div)):
            continue
        if not any(n is read[0] for n in deps(node.left)):
            continue
        for n in deps(node.right):
            if isinstance(n, ast.Call) and _call_last_plain(n) == "sum":
                summed = strip_views(n.func.value if isinstance(n.func, ast.Attribute) and n.func.attr == "sum"
                                     else (n.args[0] if n.args else n))
                if isinstance(summed, ast.Name) and summed.id == source.id:
                    return True
    return False


def _call_last_plain(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


_FILLS: weakref.WeakKeyDictionary[Scope, dict[str, list[tuple[tuple[int, int], ast.AST]]]] = \
    weakref.WeakKeyDictionary()


def _fills(scope: Scope) -> dict[str, list[tuple[tuple[int, int], ast.AST]]]:
    """name -> (end of statement, value) of what is written into it in place: `name[i] = v`,
    `name[i] += v`, `name.append(v)`."""
    found: dict[str, list[tuple[tuple[int, int], ast.AST]]] = {}
    for node in scope.of(ast.Assign, ast.AugAssign, ast.Call):
        end = (getattr(node, "end_lineno", 0) or 0, getattr(node, "end_col_offset", 0) or 0)
        if isinstance(node, (ast.Assign, ast.AugAssign)):
            for t in (node.targets if isinstance(node, ast.Assign) else [node.target]):
                base = strip_views(t.value) if isinstance(t, ast.Subscript) else None
                if isinstance(base, ast.Name):
                    found.setdefault(base.id, []).append((end, node.value))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in ("append", "extend") and isinstance(node.func.value, ast.Name) \
                and len(node.args) == 1:
            stmt_end = end
            found.setdefault(node.func.value.id, []).append((stmt_end, node.args[0]))
    return found


def _deps(scope: Scope, expr: ast.AST, limit: int = 20000, branches: bool = False) -> list[ast.AST]:
    """`scope.closure(expr)`, also through arrays and lists filled in place before the use
    (`best[hit] = p_hit`, `parts.append(p)` then `torch.cat(parts)`). With `branches`, every
    earlier definition of a name counts, not only the latest (`p = 0.0` / `if hit: p = c / n` /
    `if p < eps: p = eps`)."""
    fills = _FILLS.get(scope)
    if fills is None:
        fills = _FILLS[scope] = _fills(scope)
    out: list[ast.AST] = []
    seen: set[int] = set()
    stack = [expr]
    while stack and len(out) < limit:
        for node in scope.closure(stack.pop()):
            if id(node) in seen:
                continue
            seen.add(id(node))
            out.append(node)
            if not (isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)):
                continue
            at = (node.lineno, node.col_offset)
            if node.id in fills:
                stack.extend(value for end, value in fills[node.id] if end <= at and id(value) not in seen)
            if branches:
                stack.extend(value for pos, value in scope.defs.get(node.id, [])
                             if value is not None and pos <= at and id(value) not in seen)
    return out


PAIR_COMBINERS = frozenset({"maximum", "minimum", "fmax", "fmin", "lerp", "max", "min"})
SHIFT_CALLS = ("pad", "cat", "concat", "concatenate")
MIX_CALLS = ("lerp", "addcmul", "where", "stack")
# Elementwise ops that combine `t[..., 1:]` with `t[..., :-1]` (a bigram hash written without a pad).
ELEMENTWISE = frozenset({"bitwise_xor", "bitwise_or", "bitwise_and", "logical_xor", "add", "sub", "mul",
                         "lerp", "maximum", "minimum"})
MASK_CALLS = ("masked_fill", "masked_fill_", "where", "mul", "mul_")


def _int_value(node: ast.AST | None) -> int | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _int_value(node.operand)
        return -inner if inner is not None else None
    return None


def _base_name(expr: ast.AST) -> str | None:
    while isinstance(expr, (ast.Subscript, ast.Attribute, ast.Call)):
        expr = expr.value if not isinstance(expr, ast.Call) else (
            expr.func.value if isinstance(expr.func, ast.Attribute) else None)
    return expr.id if isinstance(expr, ast.Name) else None


class CrossDocumentMix(Rule):
    """A previous-token mix (shift by one position) with no document-boundary mask.

    Smear gates, bigram hashes of (previous token, token) and similar layers shift the sequence by one
    position (`torch.roll`, `F.pad(x[:, :-1], ...)`, `torch.cat([zeros, x[:, :-1]], 1)`) and mix the
    shifted tensor into the current position. On packed evaluation sequences, where documents are
    concatenated, the first token of each document then sees the last token of the previous one
    (and `torch.roll` even wraps the sequence's LAST token into position 0). A warning unless a mask
    built from document boundaries (BOS positions, document ids) zeroes the mix there.

    **Why.** Condition 1: each document is scored on its own prefix. A leak across the boundary is
    small but systematic, and `roll` leaks a future token outright.

    **Example.** `x = x + g * torch.cat([torch.zeros_like(x[:, :1]), x[:, :-1]], dim=1)`.

    **Instead.** Zero the shifted value where a document starts:
    `prev = prev.masked_fill((ids == BOS_ID)[..., None], 0)`.
    """

    id = "GL108"
    name = "cross-document-mix"
    facts = frozenset({Fact.CODE, Fact.INDEX})
    severity = Severity.WARNING
    message = "a previous-token mix crosses document boundaries"
    hint = ("zero the shifted value where a document starts: `prev.masked_fill((ids == BOS_ID)[..., None], 0)`, "
            "or use document ids")
    valid = examples(lambda: (
        Valid("""
            import torch
            def smear(x, ids, g, bos_id):
                prev = torch.cat([torch.zeros_like(x[:, :1]), x[:, :-1]], dim=1)
                prev = prev.masked_fill((ids == bos_id).unsqueeze(-1), 0.0)
                return x + g * prev
            """),
        Valid("""
            import torch.nn.functional as F
            def loss(model, seq):
                logits = model(seq[:, :-1])
                return F.cross_entropy(logits.flatten(0, 1), seq[:, 1:].flatten())
            """, note="a shift that only aligns targets is not a mix"),
        Valid("""
            import torch
            import torch.nn.functional as F
            def bigram_ids(ids, doc_ids, size):
                prev = F.pad(ids[:, :-1], (1, 0))
                same_doc = F.pad(doc_ids[:, 1:] == doc_ids[:, :-1], (1, 0))
                prev = torch.where(same_doc, prev, torch.zeros_like(prev))
                return (prev * 92821 + ids) % size
            """),
    ))
    invalid = examples(lambda: (
        Invalid("""
            import torch
            class Smear(torch.nn.Module):
                def forward(self, x):
                    g = torch.sigmoid(self.gate(x))
                    prev = torch.cat([torch.zeros_like(x[:, :1]), x[:, :-1]], dim=1)
                    return (1 - g) * x + g * prev
            """, lines=5),
        Invalid("""
            import torch.nn.functional as F
            def bigram_ids(ids, size):
                prev = F.pad(ids[:, :-1], (1, 0))
                return (prev * 92821 + ids) % size
            """, lines=3),
        Invalid("""
            import torch
            def mix(h, lam):
                shifted = torch.roll(h, shifts=1, dims=1)
                return torch.lerp(h, shifted, lam)
            """, lines=3, note="roll also wraps the last position into the first"),
        Invalid("""
            def token_shift(x, mu):
                x[:, 1:] = x[:, 1:] + mu * x[:, :-1]
                return x
            """, lines=2),
        Invalid("""
            import torch
            def pair_ids(t, mod):
                out = torch.zeros_like(t)
                out[:, 1:] = torch.bitwise_xor(31 * t[:, 1:], 17 * t[:, :-1]) % mod
                return out
            """, lines=4, note="bigram hash written without a pad"),
    ))

    def check(self, sub) -> Iterable[Finding]:
        for unit in sub.python_units:
            idx = index_of(unit)
            for scope in idx.scopes:
                for shift, base, how, mix in self._shifts(idx, scope):
                    carriers = _carriers(scope, shift)
                    mix = mix or self._mix(idx, scope, shift, carriers, base)
                    if mix is None or self._masked(idx, scope, shift, carriers):
                        continue
                    extra = " (torch.roll also wraps the sequence's last token into position 0)" \
                        if how == "roll" else ""
                    yield self.report_at(
                        unit, _stmt_line(idx, shift),
                        f"`{ast.unparse(shift)[:60]}` shifts `{base}` by one position and line "
                        f"{_stmt_line(idx, mix)} mixes it into the current position with no "
                        f"document-boundary mask{extra}; on packed evaluation sequences each "
                        "document's first token sees the previous document's last token")

    @staticmethod
    def _shifts(idx: UnitIndex, scope: Scope) -> Iterator[tuple[ast.AST, str, str, ast.AST | None]]:
        """(node, shifted name, kind, the mix when the shift is itself one) for each one-position shift."""
        seen: set[int] = set()
        for node in scope.of(ast.Call, ast.Subscript):
            if isinstance(node, ast.Call) and _func_name(node) == "roll":
                found = _roll(idx, node)
            elif isinstance(node, ast.Subscript) and (slice_stop(node.slice) or 0) < 0:
                found = _sliced_shift(idx, node)
            else:
                continue
            if found is not None and id(found[0]) not in seen:
                seen.add(id(found[0]))
                yield found

    @staticmethod
    def _mix(idx: UnitIndex, scope: Scope, shift: ast.AST, carriers: set[str], base: str) -> ast.AST | None:
        """An arithmetic node combining the shifted tensor with the unshifted one, if any."""
        for node in scope.of(ast.BinOp, ast.Call):
            if isinstance(node, ast.BinOp):
                operands = [node.left, node.right]
            elif isinstance(node, ast.Call) and _func_name(node) in MIX_CALLS:
                operands = list(node.args)
                if isinstance(node.func, ast.Attribute) and node.func.attr == "lerp" and \
                        not (idx.imports.call_name(node) or "").startswith("torch."):
                    operands.append(node.func.value)
            else:
                continue
            if not any(_may_carry(op, shift, carriers) for op in operands):
                continue
            has_shift = [_carries(scope, op, shift) for op in operands]
            has_base = [any(isinstance(n, ast.Name) and n.id == base for n in walk(op))
                        or _base_name(op) == base for op in operands]
            for i, shifted in enumerate(has_shift):
                if shifted and any(has_base[j] and not has_shift[j] for j in range(len(operands)) if j != i):
                    return node
        return None

    @staticmethod
    def _masked(idx: UnitIndex, scope: Scope, shift: ast.AST, carriers: set[str]) -> bool:
        """Is the shifted value zeroed by a mask built from a comparison (BOS ids, document ids)?"""
        def boolean(expr: ast.AST) -> bool:
            return any(isinstance(n, ast.Compare) or (isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.Invert))
                       or (isinstance(n, ast.Call) and _func_name(n) in ("eq", "ne", "logical_not"))
                       for n in scope.closure(expr))

        for node in scope.of(ast.Call, ast.BinOp):
            if isinstance(node, ast.Call) and _func_name(node) in MASK_CALLS:
                args = list(node.args) + [k.value for k in node.keywords]
                if isinstance(node.func, ast.Attribute):
                    args.append(node.func.value)
            elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.BitAnd)):
                args = [node.left, node.right]
            else:
                continue
            if not any(_may_carry(a, shift, carriers) for a in args):
                continue
            carrying = [_carries(scope, a, shift) for a in args]
            if any(carrying) and any(boolean(a) for a, c in zip(args, carrying) if not c):
                return True
        return False


def _func_name(call: ast.Call) -> str:
    """The called name as written (`F.pad` -> "pad"): a cheap filter before resolving imports."""
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _calls_by_written_name(scope: Scope) -> dict[str, list[tuple[int, ast.AST]]]:
    """The scope's calls by the name as written ("" for none), with their place in `scope.of`:
    built once per scope, where three checks each put every call of the scope through
    `_func_name` for the few names they look for."""
    return scope.derived("calls_by_written_name", _written_name_table)


def _written_name_table(scope: Scope) -> dict[str, list[tuple[int, ast.AST]]]:
    return placed_by_key(scope.of(ast.Call), _func_name)  # type: ignore[arg-type]


def _calls_written(scope: Scope, names: Iterable[str]) -> list[ast.AST]:
    """The scope's calls whose name as written is one of `names`, in `scope.of(ast.Call)` order."""
    return picked(_calls_by_written_name(scope), names)


def _roll(idx: UnitIndex, node: ast.Call) -> tuple[ast.AST, str, str, None] | None:
    method = isinstance(node.func, ast.Attribute) and idx.imports.call_name(node) != "torch.roll"
    src = node.func.value if method else _arg(node, 0, "input")
    shifts = _int_value(_arg(node, 0 if method else 1, "shifts"))
    dims = _arg(node, 1 if method else 2, "dims")
    if shifts is None or not 1 <= shifts <= 4:
        return None
    if dims is not None and _int_value(dims) not in (1, -1, -2):
        return None
    name = _base_name(src) if src is not None else None
    return (node, name, "roll", None) if name else None


def _sliced_shift(idx: UnitIndex, sliced: ast.Subscript) -> tuple[ast.AST, str, str, ast.AST | None] | None:
    """`x[:, :-1]` inside a pad/cat (a shift), or beside `x[:, 1:]` in arithmetic (a shift and a mix)."""
    if isinstance(sliced.value, ast.Call) and _func_name(sliced.value) in SHIFT_CALLS:
        name = _base_name(sliced.value)
        return (sliced, name, "pad", None) if name else None  # F.pad(x, (1, 0))[:, :-1]
    name = _base_name(sliced.value)
    if not name:
        return None
    child, parent = sliced, idx.parents.get(id(sliced))
    for _ in range(5):
        if parent is None or isinstance(parent, ast.stmt):
            return None
        if isinstance(parent, ast.Call) and _func_name(parent) in SHIFT_CALLS:
            return parent, name, _func_name(parent), None
        others: list[ast.AST] = []
        if isinstance(parent, ast.BinOp):
            others = [parent.right if child is parent.left else parent.left]
        elif isinstance(parent, ast.Call) and _func_name(parent) in ELEMENTWISE:
            others = [a for a in parent.args if a is not child]
        for other in others:
            if any(isinstance(n, ast.Subscript) and (slice_start(n.slice) or 0) >= 1
                   and _base_name(n.value) == name for n in walk(other)):
                return sliced, name, "slice", parent
        child, parent = parent, idx.parents.get(id(parent))
    return None


def _carriers(scope: Scope, shift: ast.AST) -> set[str]:
    """Names some definition of which holds the shifted value (a superset, ignoring order)."""
    names: set[str] = set()
    for _ in range(3):
        before = len(names)
        for name, entries in scope.defs.items():
            if name not in names and any(value is not None and _may_carry(value, shift, names)
                                         for _, value in entries):
                names.add(name)
        if len(names) == before:
            break
    return names


def _may_carry(expr: ast.AST, shift: ast.AST, carriers: set[str]) -> bool:
    return any(n is shift or (isinstance(n, ast.Name) and n.id in carriers) for n in walk(expr))


def _carries(scope: Scope, expr: ast.AST, shift: ast.AST) -> bool:
    return any(n is shift for n in scope.closure(expr))


RULES: list[type[Rule]] = [TargetAwarePrediction, GoldOnlyMixture, CrossDocumentMix]
