"""Rules declare the facts they read (golflint/facts/declared.py), and the declarations hold.

The suite runs with GOLFLINT_STRICT_FACTS=1 (conftest.py), so every embedded example, fixture and
record a test checks fails on an undeclared read; these tests pin the mechanism itself."""

from __future__ import annotations

import pytest
from golflint_testing import make_submission

from golflint.config import default_settings
from golflint.engine import check_submission
from golflint.facts.declared import Fact, UndeclaredFact, need, reading, recording
from golflint.rules import all_rules
from golflint.rules.base import Rule
from golflint.submission import Submission

SCRIPT = "import torch\n\ndef main():\n    return torch.zeros(1)\n"


class _ReadsCodeUndeclared(Rule):
    id = "GL999"
    name = "reads-code-undeclared"
    message = "test rule"

    def check(self, sub):
        if sub.code_units:
            yield self.report("read the code")


class _ReadsCodeDeclared(_ReadsCodeUndeclared):
    facts = frozenset({Fact.CODE})


def _sub(tmp_path) -> Submission:
    root = make_submission(tmp_path / "records" / "track_10min_16mb" / "x", {"train_gpt.py": SCRIPT})
    return Submission(root, "record", default_settings())


def test_every_rule_declares_facts_of_the_vocabulary():
    for rule_id, cls in all_rules().items():
        assert isinstance(cls.facts, frozenset), rule_id
        assert all(isinstance(f, Fact) for f in cls.facts), rule_id


def test_a_rule_reading_an_undeclared_fact_stops_with_a_crash_finding(tmp_path):
    result = check_submission(_sub(tmp_path), [_ReadsCodeUndeclared()])
    [finding] = result.findings
    assert finding.rule == "GL002" or "crashed" in finding.message
    assert "without declaring" in finding.message and "'code'" in finding.message


def test_the_same_rule_declaring_it_runs(tmp_path):
    result = check_submission(_sub(tmp_path), [_ReadsCodeDeclared()])
    assert [f.rule for f in result.findings] == ["GL999"]


def test_a_fact_another_rule_built_first_is_still_checked(tmp_path):
    sub = _sub(tmp_path)
    assert sub.code_units  # built outside any rule
    with reading("GL999", frozenset()), pytest.raises(UndeclaredFact):
        sub.code_units  # noqa: B018 - the read itself is the test


def test_providers_build_from_what_they_need(tmp_path):
    sub = _sub(tmp_path)
    with reading("GL999", frozenset({Fact.BYTES})):
        assert sub.measurement.code_bytes == len(SCRIPT)  # built from code and logs, not declared


def test_outside_rules_every_fact_is_open_and_recording_collects(tmp_path, monkeypatch):
    need(Fact.DATAFLOW)
    monkeypatch.delenv("GOLFLINT_STRICT_FACTS")
    with reading("GL999", frozenset()):
        need(Fact.LOGS)  # users' runs: let through, not raised
    with recording() as seen, reading("GL999", frozenset()):
        need(Fact.PHASES)
    assert seen == {("GL999", Fact.PHASES)}
