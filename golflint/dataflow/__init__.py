"""Dataflow over a submission's Python code: sources (validation data), sinks (updates, scores).

`analyze(sub)` runs one abstract execution of all Python units (interp.py), turns its trace into
verdicts (verdicts.py) and memoizes them per Submission, so the six rules that use it (GL101,
GL102, GL103, GL106, GL107, GL202) share one run. Specs come from `[analysis]` in rules.toml.
"""

from __future__ import annotations

import dataclasses
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..facts.declared import Fact, provides
from ..findings import Severity
from ..memo import folder_memo
from ..rules.base import Rule
from .spec import Spec
from .verdicts import Verdict, judge

if TYPE_CHECKING:
    from ..submission import Submission

_RESULTS: weakref.WeakKeyDictionary[Any, Analysis] = folder_memo(weakref.WeakKeyDictionary())


@dataclass
class Analysis:
    verdicts: list[Verdict] = field(default_factory=list)
    exhausted: bool = False        # the statement budget ran out: findings may be incomplete
    statements: int = 0

    def for_rule(self, rule_id: str) -> list[Verdict]:
        return [v for v in self.verdicts if v.rule == rule_id]


def analyze_units(units: list, spec: Spec, phases: Any = None) -> Analysis:
    """`phases`: the ProgramPhases of these units under `spec`, when already built."""
    from ..facts.phases import ProgramPhases
    from .interp import Interpreter

    interp = Interpreter(units, spec)
    imported = [u for u in units if u.reason.startswith("imported by")]
    roots = [u for u in units if u not in imported]
    interp.run(roots + imported)
    scoring = frozenset((phases if phases is not None else ProgramPhases(units, spec)).scoring)
    analysis = Analysis(verdicts=judge(interp.events, scoring), exhausted=interp.exhausted,
                        statements=interp.statements)
    interp.release()
    return analysis


@provides(Fact.DATAFLOW)
def analyze(sub: Submission) -> Analysis:
    cached = _RESULTS.get(sub)
    if cached is not None:
        return cached
    from ..facts.phases import phases_of

    # the phase model the other rules share: the same units under the same vocabulary (the
    # configured values below are read by the interpreter only)
    spec = dataclasses.replace(Spec.from_settings(sub.settings), configured=configured_settings(sub))
    result = analyze_units(sub.python_units, spec, phases_of(sub))
    _RESULTS[sub] = result
    return result


def configured_settings(sub: Submission) -> tuple[tuple[tuple[str, float], ...], ...]:
    """The numeric settings each checked run command gives (defaults in the code excluded): a
    cut behind a setting that is off by default is judged at the value a run gives it."""
    try:
        variants = sub.run_config.checked_variants
    except AttributeError:
        return ()
    out = []
    for variant in variants:
        values = []
        for name, setting in variant.settings.items():
            if setting.value is None or setting.source.startswith("default"):
                continue
            try:
                values.append((name, float(setting.value)))
            except ValueError:
                continue
        if values:
            out.append(tuple(sorted(values)))
    return tuple(out)


class DataflowRule(Rule):
    """A rule whose verdicts come from the shared dataflow analysis."""

    facts = frozenset({Fact.DATAFLOW})

    def check(self, sub: Submission):
        analysis = analyze(sub)
        for verdict in analysis.for_rule(self.id):
            if verdict.warning and self.effective_severity == Severity.ERROR:
                yield self.report_at(verdict.unit, verdict.line, verdict.message, severity=Severity.WARNING)
            else:
                yield self.report_at(verdict.unit, verdict.line, verdict.message)
