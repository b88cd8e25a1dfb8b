"""Whole-file fixtures for the dataflow rules, checked against their annotations.

A comment `# expect: GL101` says the next code line must carry that finding, `# ok: GL101` that it
must not, `# todo-expect: GL101` records a known miss (xfail while missed; a hit means the
annotation should be promoted). Any other finding of these rules in the file is a failure.
A fixture is a single .py file (run as train_gpt.py) or a folder (a whole submission).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from golflint_testing import make_submission, run_rules

FIXTURES = Path(__file__).parent / "fixtures" / "analyzer"
RULES = ["GL101", "GL102", "GL103", "GL106", "GL107", "GL202"]
ANNOTATION = re.compile(r"#\s*(expect|ok|todo-expect):\s*((?:GL\d{3}\s*)+)")


def fixture_files(case: Path) -> dict[str, str]:
    if case.is_dir():
        return {p.name: p.read_text(encoding="utf-8") for p in case.iterdir() if p.suffix == ".py"}
    return {"train_gpt.py": case.read_text(encoding="utf-8")}


def annotations(files: dict[str, str]) -> dict[str, set[tuple[str, int, str]]]:
    out: dict[str, set[tuple[str, int, str]]] = {"expect": set(), "ok": set(), "todo-expect": set()}
    for name, text in files.items():
        lines = text.splitlines()
        for i, line in enumerate(lines):
            m = ANNOTATION.search(line)
            if not m or not line.strip().startswith("#"):
                continue
            target = next((j + 1 for j in range(i + 1, len(lines))
                           if lines[j].strip() and not lines[j].strip().startswith("#")), None)
            for rule in m.group(2).split():
                out[m.group(1)].add((name, target, rule))
    return out


CASES = sorted(p for p in FIXTURES.iterdir() if p.suffix == ".py" or p.is_dir())


@pytest.mark.parametrize("case", CASES, ids=[p.stem for p in CASES])
def test_fixture(tmp_path, case):
    files = fixture_files(case)
    root = make_submission(tmp_path / "records" / "track_10min_16mb" / case.stem, files)
    result = run_rules(root, RULES)
    found = {(f.file, f.line, f.rule) for f in result.findings if f.rule in RULES and not f.suppressed}
    notes = annotations(files)
    missed = notes["expect"] - found
    assert not missed, f"missed findings: {sorted(missed)}; all: {sorted(found)}"
    wrong = found & notes["ok"]
    assert not wrong, f"findings on lines marked ok: {sorted(wrong)}"
    unexpected = found - notes["expect"] - notes["todo-expect"]
    assert not unexpected, f"unexpected findings: {sorted(unexpected)}"
    promoted = notes["todo-expect"] & found
    assert not promoted, f"known misses now found, turn them into `expect`: {sorted(promoted)}"
    if notes["todo-expect"]:
        pytest.xfail(f"known blind spot: {sorted(notes['todo-expect'])}")


def test_fixtures_cover_every_rule_both_ways():
    expected, ok = set(), set()
    for case in CASES:
        notes = annotations(fixture_files(case))
        expected |= {r for _, _, r in notes["expect"]}
        ok |= {r for _, _, r in notes["ok"]}
    assert set(RULES) <= expected, f"rules without a violating fixture: {set(RULES) - expected}"
    assert set(RULES) <= ok, f"rules without a hard negative: {set(RULES) - ok}"
