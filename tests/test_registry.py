from __future__ import annotations

from golflint.rules import all_rules
from golflint.rules.base import FAMILIES


def test_every_rule_is_well_defined():
    problems = [p for rule in all_rules().values() for p in rule.validate_definition()]
    assert problems == []


def test_ids_unique_and_family_matches_hundreds_digit():
    rules = all_rules()
    assert len(rules) == len({r.id for r in rules.values()})
    names = [r.name for r in rules.values()]
    assert len(names) == len(set(names)), "rule names must be unique"
    for rule in rules.values():
        assert rule.id[2] in FAMILIES


def test_rules_that_check_code_have_at_least_three_examples_each_way():
    for rule in all_rules().values():
        if rule.id == "GL999":
            continue
        assert len(rule.valid) >= 3, f"{rule.id} has {len(rule.valid)} valid examples"
        assert len(rule.invalid) >= 3, f"{rule.id} has {len(rule.invalid)} invalid examples"
