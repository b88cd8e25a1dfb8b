"""`golflint check --jobs N`: a parallel run reports exactly what a serial run reports."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from golflint.cli import main
from golflint.config import default_settings
from golflint.runner import Job, RunOptions, check_folders

REPO = Path(__file__).resolve().parents[1]
PATTERNS = REPO / "tests" / "fixtures" / "patterns"


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    """Several folders with different verdicts: the two examples and some pattern fixtures."""
    root = tmp_path_factory.mktemp("jobs")
    records = root / "records" / "track_10min_16mb"
    for example in ("passing", "failing"):
        for folder in (REPO / "examples" / example / "records" / "track_10min_16mb").iterdir():
            shutil.copytree(folder, records / folder.name)
    for name in ("gl104_target_keyed_cache", "gl105_gold_mixture", "baseline_legal",
                 "gl201_network_in_eval"):
        shutil.copytree(PATTERNS / name, records / name)
    (records / "broken").mkdir()
    (records / "broken" / "train_gpt.py").write_text("def f(:\n")
    (records / "broken" / "submission.json").write_text("{not json")
    return root


def run(tree: Path, *args: str):
    result = CliRunner().invoke(main, ["check", "--no-cache", *args, str(tree)])
    return result.exit_code, result.output


def without_timing(output: str) -> str:
    data = json.loads(output)
    for sub in data["submissions"]:
        sub.pop("elapsed_ms", None)  # present only with --timings
    return json.dumps(data, indent=1)


@pytest.mark.parametrize("fmt", ["json", "sarif", "github"])
def test_parallel_output_is_byte_identical(tree, fmt):
    serial = run(tree, "--jobs", "1", "--format", fmt)
    parallel = run(tree, "--jobs", "2", "--format", fmt)
    assert serial[0] == parallel[0] == 1
    if fmt == "json":
        assert without_timing(serial[1]) == without_timing(parallel[1])
        assert len(json.loads(serial[1])["submissions"]) == 7
    else:
        assert serial[1] == parallel[1]


def test_parallel_text_report_and_exit_code_match(tree):
    assert run(tree, "--jobs", "1") == run(tree, "--jobs", "3")


def test_parallel_run_with_the_cache_matches(tree, tmp_path):
    cache = str(tmp_path / "cache")
    serial = run(tree, "--jobs", "1", "--format", "json")
    args = ("--format", "json", "--cache-dir", cache)
    first = CliRunner().invoke(main, ["check", "--jobs", "2", *args, str(tree)])
    second = CliRunner().invoke(main, ["check", "--jobs", "2", *args, str(tree)])
    assert without_timing(first.output) == without_timing(second.output) == without_timing(serial[1])
    assert len(list((tmp_path / "cache").rglob("*.entry"))) == 7


def test_results_come_back_in_the_order_given(tree):
    folders = sorted((tree / "records" / "track_10min_16mb").iterdir())
    jobs = [Job(f, "record") for f in reversed(folders)]
    results = check_folders(jobs, RunOptions(default_settings(), {}), jobs=2)
    assert [r.path for r in results] == [str(f) for f in reversed(folders)]


def test_jobs_must_be_positive(tree):
    code, output = run(tree, "--jobs", "0")
    assert code == 2 and "--jobs" in output


def test_checks_run_with_the_tuned_collector_and_leave_the_callers_thresholds(monkeypatch):
    import gc

    from golflint import runner

    seen = []
    real = runner.check_submission

    def spy(*args, **kwargs):
        seen.append(gc.get_threshold())
        return real(*args, **kwargs)

    monkeypatch.setattr(runner, "check_submission", spy)
    before = gc.get_threshold()
    folder = next(iter(sorted((Path(__file__).resolve().parents[1] / "examples" / "passing" / "records"
                               / "track_10min_16mb").iterdir())))
    check_folders([Job(folder, "record")], RunOptions(default_settings(), {}), jobs=1)
    assert seen == [runner.CHECK_GC_THRESHOLDS]
    assert gc.get_threshold() == before


def test_a_packed_script_is_weighed_by_the_source_it_decodes_to(tmp_path):
    # The pool starts the costliest folders first; a 20 KB self-extracting script takes as long as
    # a 100 KB plain one, so it must not be left for the end of the run.
    import base64
    import lzma
    import os

    from golflint.runner import _expected_cost

    source = "".join(f"def f{i}(x):\n    return x * {i} + {i * i} % 7\n" for i in range(3000))
    payload = base64.b85encode(lzma.compress(source.encode())).decode()
    packed = tmp_path / "packed"
    packed.mkdir()
    (packed / "train_gpt.py").write_text(
        f"import lzma as L, base64 as B\nexec(L.decompress(B.b85decode({payload!r})))\n")
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "train_gpt.py").write_text(source[: 2 * len(payload)])   # twice the packed script's size
    printed = tmp_path / "printed"
    printed.mkdir()
    (printed / "train_gpt.py").write_text(f"print({payload!r})\n")     # a long line, but nothing execs it
    assert _expected_cost(packed) > _expected_cost(plain) > _expected_cost(printed)
    assert _expected_cost(printed) == (printed / "train_gpt.py").stat().st_size
    # never an error: a FIFO named like a script, a dangling link, a folder that is gone
    if hasattr(os, "mkfifo"):
        os.mkfifo(plain / "pipe.py")
    (plain / "gone.py").symlink_to(tmp_path / "nowhere.py")
    assert _expected_cost(plain) == 2 * len(payload)
    assert _expected_cost(tmp_path / "missing") == 0
