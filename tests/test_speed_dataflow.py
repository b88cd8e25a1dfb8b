"""The interpreter's shortcuts (issue 13) keep what it concludes: an `if` without `else` merges
like any branch, a branch that leaves flows nothing on, and a score compared in a plain test is
still seen as a selection although the test's comparisons are not evaluated a second time."""

from __future__ import annotations

from pathlib import Path

from golflint_testing import interpret

from golflint.dataflow.interp import Interpreter
from golflint.dataflow.model import Region, has_data, regions_of

HEAD = """
import numpy as np
import torch
import torch.nn.functional as F

def stream():
    return np.fromfile("./data/fineweb_val_000000.bin", dtype=np.uint16).astype(np.int64)
"""


def _run(tmp_path: Path, body: str) -> Interpreter:
    return interpret(tmp_path, HEAD + body)


def _env(interp: Interpreter) -> dict:
    return next(m for m in interp.modules.values() if m.unit.path == "train_gpt.py").env


def test_if_without_else_merges_the_body_with_what_came_in(tmp_path: Path) -> None:
    env = _env(_run(tmp_path, """
tokens = stream()
flag = len(tokens) > 10
if flag:
    tokens = np.zeros(3)
    fresh = stream()
"""))
    assert regions_of(env["tokens"])       # the path that skips the body keeps the stream
    assert regions_of(env["fresh"])        # bound only in the body, still known after it


def test_a_branch_that_leaves_flows_nothing_on(tmp_path: Path) -> None:
    env = _env(_run(tmp_path, """
flag = 1 > 0
if flag:
    gone = stream()
    raise SystemExit(0)
after = 1
"""))
    assert "gone" not in env and "after" in env


def test_a_score_compared_in_a_plain_test_is_a_selection(tmp_path: Path) -> None:
    interp = _run(tmp_path, """
model = build_model()
val = stream()
best = 1e9
for seed in range(3):
    total = 0.0
    with torch.no_grad():
        logits = model(val[:-1])
        total += F.cross_entropy(logits, val[1:])
    if total < best:
        best = total
        keep = seed + model.state()
""")
    assert any(e.kind == "score" for e in interp.events)
    assert any(e.kind == "select" for e in interp.events)


def test_memoized_label_questions_answer_as_a_scan() -> None:
    region = Region(("u", 1, 0), frozenset(), frozenset(), None, 1)
    for labels in (frozenset(), frozenset({"TRAIN"}), frozenset({region, ("OBJ", 1)}), frozenset({("OUT", 1, False)})):
        expected = any(isinstance(x, Region) or x == "TRAIN" for x in labels)
        assert has_data(labels) is expected and has_data(labels) is expected   # a miss, then a hit
        assert has_data(set(labels)) is expected


def test_released_regions_hold_no_reference_to_themselves(tmp_path: Path) -> None:
    # A region's cached lineage holds the region, and the region holds its unit: a cycle that left
    # every checked unit's syntax tree to the garbage collector (most of its work after each folder)
    import gc

    interp = _run(tmp_path, """
vt = stream()
for i in range(0, len(vt) - 1025, 1024):
    window = vt[i:i + 1024][:512]
""")
    regions = list(interp.regions.values())
    assert len(regions) >= 3
    for r in regions:
        r.lineage, r.all_gens, r.source   # what the verdicts ask
    assert any(r in gc.get_referents(*gc.get_referents(r)) for r in regions)   # the cycles
    interp.release()
    for r in regions:
        assert not any(r in gc.get_referents(x) for x in gc.get_referents(r)), r
        assert r.lineage >= {r} and r.source.parents == frozenset()   # asked again: rebuilt
