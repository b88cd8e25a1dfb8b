"""Every rule's embedded VALID and INVALID examples, run as tests (one test per example)."""

from __future__ import annotations

import pytest

from golflint.rules import all_rules
from golflint_testing import make_submission, run_example

CASES = []
for rule_id, rule in all_rules().items():
    for i, ex in enumerate(rule.valid):
        CASES.append(pytest.param(rule_id, "valid", ex, id=f"{rule_id}-valid-{i}"))
    for i, ex in enumerate(rule.invalid):
        CASES.append(pytest.param(rule_id, "invalid", ex, id=f"{rule_id}-invalid-{i}"))


def _packed_code_is_decoded(tmp_path) -> bool:
    from golflint.config import default_settings
    from golflint.rules.artifact import _packed
    from golflint.submission import Submission

    root = make_submission(tmp_path / "probe", {"train_gpt.py": _packed("x = 1\n")})
    return any(u.layer > 0 for u in Submission(root, "record", default_settings()).code_units)


@pytest.mark.parametrize("rule_id,kind,example", CASES)
def test_example(tmp_path, rule_id, kind, example):
    if kind == "invalid" and getattr(all_rules()[rule_id], "needs_packed_decoding", False) \
            and not _packed_code_is_decoded(tmp_path):
        pytest.skip("needs code/packed.py to decode self-extracting code (packed-code work not merged yet)")
    findings = run_example(tmp_path, rule_id, example)
    if kind == "valid":
        assert findings == [], f"{rule_id} fired on a valid example: {[f.message for f in findings]}"
        return
    assert findings, f"{rule_id} did not fire on an invalid example ({example.note or 'no note'})"
    if example.lines:
        target = example.file or "train_gpt.py"
        got = sorted({f.line for f in findings if f.file == target})
        assert set(example.lines) <= set(got), f"{rule_id} reported lines {got}, expected {example.lines}"
