"""GL109-GL111 on whole-script fixtures (hard negatives included) and through packed layers."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from golflint.findings import Severity
from golflint_testing import run_rules
from packing import pack

FIXTURES = Path(__file__).parent / "fixtures" / "packed"
RULES = ["GL109", "GL110", "GL111"]
README = "# Run\n\n```\ntorchrun --nproc_per_node=8 train_gpt.py\n```\n"


def folder(tmp_path: Path, fixture: str, packed: bool = False, readme: str = README) -> Path:
    root = tmp_path / "records" / "track_10min_16mb" / fixture
    shutil.copytree(FIXTURES / fixture, root)
    code = (root / "train_gpt.py").read_text()
    if packed:
        (root / "train_gpt.py").write_text(pack(code))
    (root / "README.md").write_text(readme)
    return root


def scoring(root: Path, **kw):
    return sorted(((f.rule, f.line, f.severity, f.where) for f in run_rules(root, RULES, **kw).findings
                   if f.rule in RULES and not f.suppressed), key=lambda f: (f[0], f[1] or 0))


@pytest.mark.parametrize("fixture", ["eval_full_chunked", "ttt_score_first", "ttt_pre_eval", "gated_ttt",
                                     "native_cache_legal", "native_cache_illegal"])
@pytest.mark.parametrize("packed", [False, True])
def test_hard_negatives_have_no_scoring_findings(tmp_path, fixture, packed):
    assert scoring(folder(tmp_path, fixture, packed)) == []


def test_partial_prefix_and_constant_denominator(tmp_path):
    got = scoring(folder(tmp_path, "eval_partial"))
    assert [(rule, line, sev) for rule, line, sev, _ in got] == [
        ("GL109", 33, Severity.ERROR), ("GL111", 44, Severity.ERROR)]


def test_findings_point_into_the_decoded_layer(tmp_path):
    got = scoring(folder(tmp_path, "eval_partial", packed=True))
    assert {(rule, line, where) for rule, line, _, where in got} == {
        ("GL109", 33, "train_gpt.py (decoded, layer 1)"), ("GL111", 44, "train_gpt.py (decoded, layer 1)")}


def test_partial_slice_names_its_setting(tmp_path):
    root = folder(tmp_path, "eval_partial", readme=README.replace("torchrun", "VAL_TOKENS=1000000 torchrun"))
    [f] = [f for f in run_rules(root, ["GL109"]).findings if f.rule == "GL109"]
    assert "`VAL_TOKENS + 1`" in f.message
