"""The three readings that made pr2135-accepted's online n-gram hints look like a cache filled before
scoring (docs/corpus.md, "Label decisions"), each checked on the interpreter's trace:

(a) a value read from a table that holds only tokens of earlier iterations of the loop, stored at
    the iteration's own position, is a prefix-only feature (`model.earlier_iteration`, the notion
    the count-table check uses too);
(b) an object made inside a function is one per calling site of that function;
(c) a write at a boolean mask is a positional copy, unless the "mask" compares with token values.
"""

from __future__ import annotations

from pathlib import Path

from golflint_testing import interpret

from golflint.dataflow.interp import Interpreter
from golflint.dataflow.model import (
    CACHE_WRITE,
    EARLIER,
    OBJ,
    Region,
    earlier_iteration,
    earlier_tokens_only,
)
from golflint.dataflow.verdicts import judge

HEAD = """
import numpy as np
import torch

def stream():
    return np.fromfile("./data/fineweb_val_000000.bin", dtype=np.uint16).astype(np.int64)
"""


def _run(tmp_path: Path, body: str) -> Interpreter:
    return interpret(tmp_path, HEAD + body)


def _cache_sinks(interp: Interpreter) -> list[str]:
    return [e.detail["sink"] for e in interp.events if e.kind == "cache"]


def _marks(labels, kind: str) -> set:
    return {x[1] for x in labels if isinstance(x, tuple) and x[0] == kind}


# ---------------------------------------------------------------- (c) masks

def test_masked_writes_are_copies_not_keys(tmp_path):
    interp = _run(tmp_path, """
def gate():
    val = stream()
    conf = val / 1024.0
    hint = val * 3
    gate = (conf >= 0.5) & np.isfinite(conf)
    out = np.zeros(len(val), dtype=np.int64)
    out[gate] = hint[gate]
    both = np.stack([gate, conf < 0.1], axis=1)
    boost = np.ones((len(val), 2))
    boost[~both] = 0.0
    picked = hint.astype(bool)
    out[picked.copy()] = 1
    return out, boost

gate()
""")
    assert _cache_sinks(interp) == []


def test_equality_masks_and_unknown_indexes_stay_keys(tmp_path):
    interp = _run(tmp_path, """
def keyed():
    val = stream()
    ids = np.arange(1024)
    succ = np.zeros(1024, dtype=np.int64)
    succ[ids == val[0]] = val[1]
    pos = val > 3
    if len(val) > 10:
        pos = val * 2          # no mask on this branch: the name is no mask after the `if`
    succ[pos] = 1
    mixed = val | (val > 3)    # `|` with a non-mask keeps the values
    succ[mixed] = 2
    grown = val > 3
    grown |= val               # no mask any more
    succ[grown] = 3
    return succ

keyed()
""")
    assert _cache_sinks(interp) == ["write to `succ[ids == val[0]]`", "write to `succ[pos]`",
                                    "write to `succ[mixed]`", "write to `succ[grown]`"]


# ---------------------------------------------------------------- (b) calling context

def test_objects_made_in_a_function_are_one_per_calling_site(tmp_path):
    interp = _run(tmp_path, """
class Table:
    def __init__(self):
        self.best = {}

def build():
    return Table()

first = build()
second = build()
for _ in range(3):
    looped = build()
""")
    env = next(m for m in interp.modules.values() if m.unit.path == "train_gpt.py").env
    first, second, looped = (_marks(env[name], OBJ) for name in ("first", "second", "looped"))
    assert first and second and looped
    assert first != second and looped not in (first, second)


# ---------------------------------------------------------------- (a) earlier iterations

PREFIX_LOOP = """
def hints(val):
    best = {}
    hint = np.zeros(len(val), dtype=np.int64)
    prev = int(val[0])
    for i, tok in enumerate(val):
        tok = int(tok)
        %s
        prev = tok
    return hint

h = hints(stream())
"""


def test_prefix_only_read_is_no_cache_mark(tmp_path):
    interp = _run(tmp_path, PREFIX_LOOP % """if prev in best:
            hint[i] = best[prev]
        best[prev] = tok""")
    env = next(m for m in interp.modules.values() if m.unit.path == "train_gpt.py").env
    assert _marks(env["h"], CACHE_WRITE) == set()
    assert _marks(env["h"], EARLIER), "still derived from validation tokens"


def test_table_read_back_in_the_writing_iteration_keeps_its_mark(tmp_path):
    interp = _run(tmp_path, PREFIX_LOOP % """best[prev] = tok
        if prev in best:
            hint[i] = best[prev]""")
    env = next(m for m in interp.modules.values() if m.unit.path == "train_gpt.py").env
    assert _marks(env["h"], CACHE_WRITE)


def test_lookup_keyed_by_the_current_token_keeps_its_mark(tmp_path):
    # the table holds earlier tokens only, but the key is the token at position i
    interp = _run(tmp_path, PREFIX_LOOP % """if tok in best:
            hint[i] = best[tok]
        best[prev] = tok""")
    env = next(m for m in interp.modules.values() if m.unit.path == "train_gpt.py").env
    assert _marks(env["h"], CACHE_WRITE)


def test_value_escaping_the_loop_keeps_its_mark(tmp_path):
    # read at the last iteration, then used for every position: not stored at its own position
    interp = _run(tmp_path, PREFIX_LOOP % """last = best.get(prev, 0)
        best[prev] = tok
        hint[:] = last""")
    env = next(m for m in interp.modules.values() if m.unit.path == "train_gpt.py").env
    assert _marks(env["h"], CACHE_WRITE)


def test_prefix_hints_scored_later_give_no_finding(tmp_path):
    interp = _run(tmp_path, PREFIX_LOOP % """if prev in best:
            hint[i] = best[prev]
        best[prev] = tok""" + """
def score(model, val, h):
    nats = 0.0
    with torch.no_grad():
        for s in range(len(val) // 64):
            x = val[s * 64:(s + 1) * 64]
            logits = model(torch.from_numpy(x)) + torch.from_numpy(h[s * 64:(s + 1) * 64])
            nats += logits.log_softmax(-1).sum().item()
    return nats

score(torch.nn.Linear(4, 4), stream(), h)
""")
    assert [v.rule for v in judge(interp.events)] == []


L = ("train_gpt.py", 10, 4, 1)
OUTER = ("train_gpt.py", 8, 0, 1)


def _region(line: int, gens, parents=frozenset()) -> Region:
    return Region(("train_gpt.py", line, 0), frozenset(gens), frozenset(parents), None, line)


def test_earlier_iteration_is_one_notion_for_both_iterations():
    stream = _region(1, ())
    tok0, tok1 = _region(10, {(L, 0)}, {stream}), _region(10, {(L, 1)}, {stream})
    # written at an earlier iteration, read at a later one of the same run
    assert earlier_iteration(((L, 0),), frozenset({tok0}), ((L, 1),)) == L
    # read in the iteration that wrote it, or written by a later one
    assert earlier_iteration(((L, 0),), frozenset({tok0}), ((L, 0),)) is None
    assert earlier_iteration(((L, 1),), frozenset({tok1}), ((L, 0),)) is None
    # written in the reading iteration from the previous iteration's tokens (a flushed word)
    assert earlier_iteration(((L, 1),), frozenset({tok0}), ((L, 1),)) == L
    assert earlier_iteration(((L, 1),), frozenset({tok0, tok1}), ((L, 1),)) is None
    # tokens that do not change with the loop (the whole stream, a loop over epochs)
    assert earlier_iteration(((L, 0),), frozenset({stream}), ((L, 1),)) is None
    # another run of the loop (another iteration of the loop around it)
    assert earlier_iteration(((OUTER, 0), (L, 0)), frozenset({tok0}), ((OUTER, 1), (L, 1))) is None


def test_entry_looked_up_later_still_holds_earlier_tokens():
    stream = _region(1, ())
    tok0 = _region(10, {(L, 0)}, {stream})
    looked_up = _region(12, {(L, 1)}, {tok0})     # `table[ctx]` at iteration 1 of what iteration 0 put
    current = _region(13, {(L, 1)}, {stream})      # `val[i]` at iteration 1
    assert earlier_tokens_only(tok0, L) and earlier_tokens_only(looked_up, L)
    assert not earlier_tokens_only(current, L) and not earlier_tokens_only(stream, L)
