"""Whole-file fixtures for GL104/GL105/GL108/GL201/GL203, checked against their `# expect:` annotations.

Each folder under tests/fixtures/patterns/ is one submission. Every finding of these rules must be
annotated `# expect:`; `# ok:` lines must stay quiet; `# todo-expect:` lines are known misses,
reported here as strict xfails so that a fix shows up as an unexpected pass.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from golflint.findings import Severity
from golflint_testing import check_annotations, read_annotations, run_rules

FIXTURES = Path(__file__).parent / "fixtures" / "patterns"
RULES = ("GL104", "GL105", "GL108", "GL201", "GL203")
FOLDERS = sorted(p for p in FIXTURES.iterdir() if p.is_dir())


def _sources(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): p.read_text(encoding="utf-8")
            for p in sorted(folder.rglob("*.py"))}


def _run(folder: Path, tmp_path: Path):
    root = tmp_path / "records" / "track_10min_16mb" / folder.name
    shutil.copytree(folder, root)
    result = run_rules(root, RULES)
    return check_annotations(_sources(folder), result.findings, RULES), result


@pytest.mark.parametrize("folder", FOLDERS, ids=[f.name for f in FOLDERS])
def test_fixture_matches_annotations(folder, tmp_path):
    check, _ = _run(folder, tmp_path)
    assert check.problems == []


def test_baseline_style_script_is_clean(tmp_path):
    _, result = _run(FIXTURES / "baseline_legal", tmp_path)
    assert [f for f in result.findings if f.rule in RULES] == []


@pytest.mark.parametrize("folder", [f for f in FOLDERS if f.name.endswith("_ok")],
                         ids=lambda f: f.name)
def test_hard_negatives_raise_no_errors(folder, tmp_path):
    _, result = _run(folder, tmp_path)
    assert [f.message for f in result.findings if f.rule in RULES and f.severity == Severity.ERROR] == []


def _known_misses():
    for folder in FOLDERS:
        for path, source in _sources(folder).items():
            for a in read_annotations(path, source):
                if a.kind == "todo-expect" and a.rule in RULES:
                    yield pytest.param(folder, a, id=f"{folder.name}:{a.line}:{a.rule}",
                                       marks=pytest.mark.xfail(strict=True, reason=a.reason or "known miss"))


@pytest.mark.parametrize("folder,annotation", list(_known_misses()))
def test_known_miss(folder, annotation, tmp_path):
    check, _ = _run(folder, tmp_path)
    assert annotation in check.todo_found


def test_annotation_reader_places_comment_lines_on_the_next_code_line():
    source = "x = 1\n# expect: GL104, GL201[warning] why\n\ny = 2  # ok: GL105\n"
    got = [(a.kind, a.rule, a.severity, a.line) for a in read_annotations("f.py", source)]
    assert got == [("expect", "GL104", None, 4), ("expect", "GL201", "warning", 4), ("ok", "GL105", None, 4)]
