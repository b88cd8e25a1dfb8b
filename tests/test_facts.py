"""The shared facts (golflint/facts/) and the GL1xx/GL2xx rules that read them.

1. Whole-submission fixtures under tests/fixtures/families/: one folder per pattern, written by us
   in the shape of what real submissions do. `*_ok` folders are hard negatives (legal patterns of
   accepted records: queued/phased score-first TTT, LoRA TTT, empty-slice accumulators, buffer
   fills, one function that trains then evaluates, calibration on training data, ...): no GL1xx/GL2xx
   error at all. The others are invalid families: every finding must be annotated `# expect:`.
2. Names never decide: every fixture (ours, of all analyzer suites) and every embedded example of a
   GL1xx/GL2xx rule gets the same findings after all user-chosen identifiers are renamed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from golflint_testing import check_annotations, make_submission, run_rules
from renaming import mapping_for, rename

from golflint.findings import Severity
from golflint.rules import all_rules

HERE = Path(__file__).parent
FAMILIES = HERE / "fixtures" / "families"
FACT_RULES = sorted(r for r in all_rules() if r[:3] in ("GL1", "GL2"))
FOLDERS = sorted(p for p in FAMILIES.iterdir() if p.is_dir())


def _sources(folder: Path) -> dict[str, str | bytes]:
    out: dict[str, str | bytes] = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            data = p.read_bytes()
            try:
                out[str(p.relative_to(folder))] = data.decode("utf-8")
            except UnicodeDecodeError:
                out[str(p.relative_to(folder))] = data
    return out


def _run(files: dict[str, str], tmp_path: Path, name: str = "sub", **kw):
    root = make_submission(tmp_path / "records" / "track_10min_16mb" / name, files)
    return run_rules(root, FACT_RULES, **kw)


@pytest.mark.parametrize("folder", FOLDERS, ids=[f.name for f in FOLDERS])
def test_family_fixture(folder, tmp_path):
    files = _sources(folder)
    result = _run(files, tmp_path, folder.name)
    py = {k: v for k, v in files.items() if isinstance(v, str) and k.endswith((".py", ".md", ".sh"))}
    check = check_annotations(py, result.findings, FACT_RULES)
    assert check.problems == []
    assert check.todo_found == [], "known misses now found: turn them into `expect`"
    if folder.name.endswith("_ok"):
        errors = [f"{f.rule} {f.file}:{f.line} {f.message}" for f in result.findings
                  if f.severity == Severity.ERROR and not f.suppressed]
        assert errors == []
    if check.todo_missed:
        pytest.xfail(f"known misses: {[(a.file, a.line, a.rule) for a in check.todo_missed]}")


def test_every_family_rule_has_a_fixture_both_ways():
    caught, negatives = set(), set()
    for folder in FOLDERS:
        text = "\n".join(v for v in _sources(folder).values() if isinstance(v, str))
        for rule in FACT_RULES:
            if f"expect: {rule}" in text:
                caught.add(rule)
        if folder.name.endswith("_ok"):
            negatives.add(folder.name)
    assert {"GL101", "GL102", "GL103", "GL104", "GL109", "GL110", "GL111", "GL202"} <= caught
    assert len(negatives) >= 8


# -- names never decide ------------------------------------------------------------------------------
def _fixture_cases():
    for suite in ("analyzer", "patterns", "families"):
        base = HERE / "fixtures" / suite
        for case in sorted(base.iterdir()):
            if case.is_dir():
                files = _sources(case)
            elif case.suffix == ".py" and not case.name.startswith("_"):
                files = {"train_gpt.py": case.read_text(encoding="utf-8")}
            else:
                continue
            yield pytest.param(files, {}, id=f"{suite}/{case.stem}")
    for rule_id in FACT_RULES:
        rule = all_rules()[rule_id]
        for kind, examples in (("valid", rule.valid), ("invalid", rule.invalid)):
            for i, ex in enumerate(examples):
                if ex.symlinks:
                    continue
                files = {k: v for k, v in ex.materialize().items() if isinstance(v, str)}
                yield pytest.param(files, {"env": ex.env, "settings_overrides": ex.settings},
                                   id=f"{rule_id}-{kind}-{i}")


def _key(findings) -> list[tuple]:
    return sorted((f.rule, f.file or "", f.line or 0, f.severity.value) for f in findings
                  if f.rule in FACT_RULES and not f.suppressed)


@pytest.mark.parametrize("files,options", list(_fixture_cases()))
def test_renaming_every_identifier_changes_no_finding(files, options, tmp_path):
    py = {k: v for k, v in files.items() if k.endswith(".py") and isinstance(v, str)}
    mapping = mapping_for(py)
    renamed = {k: (rename(v, mapping) if k in py else v) for k, v in files.items()}
    assert renamed != files or not mapping
    before = _key(_run(files, tmp_path / "a", **options).findings)
    after = _key(_run(renamed, tmp_path / "b", **options).findings)
    assert after == before


def test_renaming_keeps_lines_and_changes_names():
    source = "import numpy as np\nval_tokens = np.zeros(3)\ndef eval_val(x):\n    return x.sum()\n"
    mapping = mapping_for({"train_gpt.py": source})
    out = rename(source, mapping)
    assert "val_tokens" not in out and "eval_val" not in out and "np.zeros" not in out
    assert out.count("\n") == source.count("\n") and ".sum()" in out



# -- the facts themselves ----------------------------------------------------------------------------
def _unit(tmp_path, code):
    from golflint.config import default_settings
    from golflint.submission import Submission

    root = make_submission(tmp_path / "records" / "track_10min_16mb" / "u", {"train_gpt.py": code})
    return Submission(root, "record", default_settings()).python_units[0]


def _expr(unit, line):
    import ast

    return next(n for n in unit.nodes(ast.Assign) if n.lineno == line).value


def test_fixed_bound_follows_settings_parameters_and_min(tmp_path):
    from golflint.facts.index import index_of
    from golflint.facts.values import FixedBound

    unit = _unit(tmp_path, "import os\n"
                           "CAP = int(os.environ.get('CAP', '5000'))\n"
                           "def f(t, n=64):\n"
                           "    a = min(CAP * 2, t.numel())\n"
                           "    b = n + 1\n"
                           "    c = t.numel() - 1\n")
    fixed = FixedBound(index_of(unit))
    assert fixed(_expr(unit, 4)) == (True, 10000.0)
    assert fixed(_expr(unit, 5)) == (True, 65)
    assert fixed(_expr(unit, 6)) == (False, None)


def test_training_timer_sees_reserves(tmp_path):
    from golflint.facts.index import index_of
    from golflint.facts.values import TrainingTimer

    no_reserve = _unit(tmp_path / "a", "import os, time\nCAP = float(os.environ.get('MAX_WALLCLOCK_SECONDS', '600'))\n"
                                       "t0 = time.time()\nwhile time.time() - t0 < CAP:\n    pass\n")
    reserve = _unit(tmp_path / "b", "import os, time\nCAP = float(os.environ.get('MAX_WALLCLOCK_SECONDS', '600'))\n"
                                    "KEEP = float(os.environ.get('CALIB_SECONDS', '12'))\n"
                                    "t0 = time.time()\nwhile time.time() - t0 < CAP - KEEP:\n    pass\n")
    assert TrainingTimer(index_of(no_reserve), 600).timers == [(4, False)]
    assert TrainingTimer(index_of(reserve), 600).timers == [(5, True)]


def test_vocabulary_comes_from_the_rulebook():
    from golflint.config import default_settings
    from golflint.facts.semantics import Semantics

    settings = default_settings().with_overrides({"analysis": {"step_methods": ["advance"]}})
    vocab = Semantics.from_settings(settings)
    assert vocab.is_training_step("", "advance") and not vocab.is_training_step("", "step")
    assert vocab.is_training_step("torch.autograd.grad", None)
    assert "torch.no_grad" in vocab.nograd_contexts
