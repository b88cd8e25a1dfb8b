"""The indexes `_judge_segment` uses to pair updates with scores (verdicts._ScorePairs) find exactly
what a comparison of every update with every score finds: the same first score before, the same
nearest and first later score, the same "made in the update's pass" answer."""

from __future__ import annotations

from pathlib import Path

import pytest

from golflint.config import default_settings
from golflint.dataflow.interp import Interpreter
from golflint.dataflow.model import CACHE_WRITE, FIT, any_overlap, compatible
from golflint.dataflow.spec import Spec
from golflint.dataflow.verdicts import _affects, _in_scoring_pass, _ScorePairs
from golflint.discovery import find_submissions
from golflint.submission import Submission

REPO = Path(__file__).resolve().parents[1]
FAMILIES = REPO / "tests" / "fixtures" / "families"

# A score-first adaptation loop repeated in several functions: every update meets many scores.
REPEATED_STAGES = """
import numpy as np
import torch
import torch.nn.functional as F

def score(model, opt, val, seq):
    nats = 0.0
    for s in range((val.numel() - 1) // seq):
        piece = val[s * seq:(s + 1) * seq + 1]
        with torch.no_grad():
            nats += F.cross_entropy(model(piece[:-1]), piece[1:]).item()
        loss = F.cross_entropy(model(piece[:-1]), piece[1:])
        loss.backward()
        opt.step()
    return nats

def main():
    val = torch.from_numpy(np.fromfile("./data/fineweb_val_000000.bin", dtype=np.uint16).astype(np.int64))
    model = torch.nn.Linear(8, 8)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    total = 0.0
    for seq in (16, 32, 64):
        total += score(model, opt, val, seq)
    total += score(model, opt, val[:4096], 8)
    print(total)

main()
"""


def _events(root: Path) -> list:
    settings = default_settings()
    out = []
    for target in find_submissions([root], settings).targets:
        sub = Submission(target.root, target.track, settings, env_overrides={})
        units = sub.python_units
        interp = Interpreter(units, Spec.from_settings(settings))
        imported = [u for u in units if u.reason.startswith("imported by")]
        interp.run([u for u in units if u not in imported] + imported)
        out.append(interp.events)
    return out


def _compare(events: list) -> int:
    """Checks every update of every segment; returns how many (update, score) pairs it covered."""
    pairs_seen = 0
    for segment in sorted({e.segment for e in events}):
        seg = [e for e in events if e.segment == segment]
        scores = [e for e in seg if e.kind == "score"]
        pairs = _ScorePairs(scores)
        for u in (e for e in seg if e.kind in ("update", "cache") and e.regions):
            fits = u.detail.get("fits") or ()

            def is_before(e, u=u):
                return e.time < u.time and compatible(e.path, u.path) and any_overlap(e.regions, u.regions)

            def may_follow(e, forward, u=u, fits=fits):
                return (forward > u.time or (FIT, u.time) in e.labels
                        or (e.time > u.time and any(f in e.labels for f in fits)))

            def reaches(e, u=u):
                return (compatible(e.path, u.path) and any_overlap(e.regions, u.regions)
                        and (u.kind != "cache" or (CACHE_WRITE, u.time) in e.labels) and _affects(u, e))

            before = [e for e in scores if is_before(e)]
            later = [e for e in scores if may_follow(e, e.forward_time) and reaches(e)]
            nearest = min(later, key=lambda e, u=u: e.forward_time if e.forward_time > u.time else e.time,
                          default=None)
            assert pairs.first_before(u, is_before) == before[:1]
            assert pairs.first_later(u, may_follow, reaches) == later[:1]
            assert pairs.nearest_later(u, fits, may_follow, reaches) is nearest
            assert pairs.any_in_pass(u, is_before) == any(_in_scoring_pass(b, u) for b in before)
            pairs_seen += len(scores)
    return pairs_seen


@pytest.mark.parametrize("family", sorted(p.name for p in FAMILIES.iterdir() if p.is_dir()))
def test_indexes_match_all_pairs_on_fixtures(family):
    for events in _events(FAMILIES / family):
        _compare(events)


def test_indexes_match_all_pairs_on_repeated_passes(tmp_path):
    folder = tmp_path / "records" / "track_10min_16mb" / "stages"
    folder.mkdir(parents=True)
    (folder / "train_gpt.py").write_text(REPEATED_STAGES)
    covered = sum(_compare(events) for events in _events(tmp_path))
    assert covered > 0, "the script should pair updates with scores"
