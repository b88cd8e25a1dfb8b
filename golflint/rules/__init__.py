"""The rule registry: every rule class, by id. One module per rule family.

To add a rule: write the class in its family's module and add it to that module's RULES list;
the id must be unused (tests/test_registry.py checks), and the embedded examples run automatically.
"""

from __future__ import annotations

from functools import lru_cache

from ..errors import GolflintError
from .base import Rule


@lru_cache(maxsize=1)
def all_rules() -> dict[str, type[Rule]]:
    from . import artifact, data_access, logs_claims, meta, structure
    from .eval_integrity import RULES as EVAL_RULES

    registry: dict[str, type[Rule]] = {}
    for module_rules in (structure.RULES, EVAL_RULES, data_access.RULES, artifact.RULES,
                         logs_claims.RULES, meta.RULES):
        for rule in module_rules:
            if rule.id in registry:
                raise RuntimeError(f"duplicate rule id {rule.id}: {rule.__name__} and {registry[rule.id].__name__}")
            registry[rule.id] = rule
    return dict(sorted(registry.items()))


def get_rule(rule_id_or_name: str) -> type[Rule]:
    key = rule_id_or_name.strip()
    rules = all_rules()
    if key.upper() in rules:
        return rules[key.upper()]
    for rule in rules.values():
        if rule.name == key:
            return rule
    raise GolflintError(f"no rule {rule_id_or_name!r}; `golflint rules` lists them")
