"""One folder on a machine with cores to spare: this process and a forked child claim its groups of
work (the dataflow rules; the byte rules and summary; the log rules and details; the rest and the
native checks) until none is left (engine.py, forked.py). The split changes how long a check takes,
never what it reports."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from golflint import engine
from golflint.cli import main
from golflint.config import default_settings
from golflint.engine import check_submission, instantiate_rules
from golflint.forked import ForkedCall, ForkFailed, can_fork
from golflint.submission import Submission

REPO = Path(__file__).resolve().parents[1]
PATTERNS = REPO / "tests" / "fixtures" / "patterns"
CORPUS = REPO.parent / "shared" / "corpus" / "parameter-golf" / "records"

pytestmark = pytest.mark.skipif(not can_fork(), reason="the split needs os.fork (Linux, BSD)")


def _folders() -> list[Path]:
    failing = REPO / "examples" / "failing" / "records" / "track_10min_16mb"
    out = sorted(failing.iterdir())
    out += [PATTERNS / n for n in ("gl104_target_keyed_cache", "gl105_gold_mixture", "baseline_legal")
            if (PATTERNS / n).is_dir()]
    return out


def _as_json(result) -> str:
    data = {"path": result.path, "track": result.track, "bytes": result.bytes, "scores": result.scores,
            "details": result.details, "findings": [dataclasses.asdict(f) for f in result.findings]}
    return json.dumps(data, sort_keys=True, default=str)


@pytest.mark.parametrize("folder", _folders(), ids=lambda p: p.name)
def test_split_result_equals_the_unsplit_one(folder):
    settings = default_settings()
    rules = instantiate_rules(settings)
    alone = check_submission(Submission(folder, "record", settings), rules)
    split = check_submission(Submission(folder, "record", settings), rules, split=True)
    assert _as_json(split) == _as_json(alone)
    assert alone.findings  # the fixtures are chosen to have something to compare


def test_a_record_splits_to_the_same_result():
    folders = sorted(CORPUS.glob("track_10min_16mb/2026-04-2*")) if CORPUS.is_dir() else []
    if not folders:
        pytest.skip(f"the accepted records are not at {CORPUS} (the challenge snapshot in ../shared/corpus)")
    settings = default_settings()
    rules = instantiate_rules(settings)
    alone = check_submission(Submission(folders[0], "record", settings), rules)
    split = check_submission(Submission(folders[0], "record", settings), rules, split=True)
    assert _as_json(split) == _as_json(alone)


def test_each_group_of_work_runs_once_in_one_process(monkeypatch, tmp_path):
    """Every rule runs exactly once over the two processes, and a group's rules in one process."""
    folder = _folders()[0]
    settings = default_settings()
    rules = instantiate_rules(settings)
    ran = tmp_path / "ran.txt"
    real = engine._run_rule

    def spy(rule, sub, debug):
        with open(ran, "a", encoding="utf-8") as out:  # both processes append; one line each
            out.write(f"{os.getpid()} {rule.id}\n")
        return real(rule, sub, debug)

    monkeypatch.setattr(engine, "_run_rule", spy)
    check_submission(Submission(folder, "record", settings), rules, split=True)
    where = [line.split() for line in ran.read_text().splitlines()]
    assert sorted(rule for _, rule in where) == sorted(r.id for r in rules)
    process_of = dict((rule, pid) for pid, rule in where)
    for group in engine._GROUPS:
        assert len({process_of[r.id] for r in rules if engine._group_of(r) == group}) <= 1


def test_claims_are_shared_out_between_processes_without_overlap():
    claims = engine._Claims(engine._GROUPS)
    first = ForkedCall(lambda: next(iter(claims)))   # the child takes one group and answers
    theirs = first.result()
    mine = list(claims)
    claims.close()
    assert sorted([theirs, *mine]) == list(engine._GROUPS)


def test_a_child_that_dies_is_replaced_by_running_its_share_here(monkeypatch):
    """The child claims a group and dies: the parent does that group too, and the result is the
    unsplit one."""
    folder = _folders()[0]
    settings = default_settings()
    rules = instantiate_rules(settings)
    alone = check_submission(Submission(folder, "record", settings), rules)
    real = engine._compute
    claimed_read, claimed_write = os.pipe()
    parent = os.getpid()

    def dies_in_child(sub, some, debug, groups):
        if os.getpid() != parent:
            next(iter(groups))              # a group taken ...
            os.write(claimed_write, b"!")
            os._exit(3)                     # ... and never answered (killed, out of memory, ...)
        if not isinstance(groups, list):    # the parent's claims: start once the child has one
            assert os.read(claimed_read, 1) == b"!"
        return real(sub, some, debug, groups)

    monkeypatch.setattr(engine, "_compute", dies_in_child)
    try:
        split = check_submission(Submission(folder, "record", settings), rules, split=True)
    finally:
        os.close(claimed_read)
        os.close(claimed_write)
    assert _as_json(split) == _as_json(alone)


def test_forked_call_returns_the_value_or_fails_cleanly():
    assert ForkedCall(lambda: {"answer": [42]}).result() == {"answer": [42]}
    with pytest.raises(ForkFailed, match="ZeroDivisionError"):
        ForkedCall(lambda: 1 / 0).result()
    with pytest.raises(ForkFailed, match="status"):
        ForkedCall(lambda: os._exit(5)).result()
    with pytest.raises(ForkFailed, match="unreadable|pickle|status"):
        ForkedCall(lambda: (lambda: None)).result()   # a value that cannot be pickled
    big = "x" * (3 << 20)   # more than a pipe holds: the parent reads while the child writes
    assert ForkedCall(lambda: big).result() == big


def test_a_child_whose_reply_was_read_is_reaped_later(monkeypatch):
    import golflint.forked as forked

    monkeypatch.setattr(forked, "_UNREAPED", [])
    pids = []
    for _ in range(3):
        call = ForkedCall(lambda: "done")
        pids.append(call._pid)
        assert call.result() == "done"
    forked.reap_children()
    assert forked._UNREAPED == []
    for pid in pids:  # reaped, either by `result` (it had ended) or by `reap_children`: no zombie
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


def test_cancel_reaps_the_child():
    call = ForkedCall(lambda: __import__("time").sleep(60))
    pid = call._pid
    call.cancel()
    with pytest.raises(ChildProcessError):  # killed and waited for: no such child any more
        os.waitpid(pid, os.WNOHANG)


def test_one_folder_on_the_command_line_reports_the_same_with_one_job_or_two(tmp_path, monkeypatch):
    folder = tmp_path / "records" / "track_10min_16mb" / "one"
    shutil.copytree(_folders()[0], folder)
    answered = []
    real = ForkedCall.result

    def result(self):
        value = real(self)  # ForkFailed would fall back silently: count only real answers
        answered.append(True)
        return value

    monkeypatch.setattr(ForkedCall, "result", result)

    def run(jobs: str) -> tuple[int, str]:
        out = CliRunner().invoke(main, ["check", "--no-cache", "--jobs", jobs, "--format", "json", str(folder)])
        data = json.loads(out.output)
        for sub in data["submissions"]:
            sub.pop("elapsed_ms", None)
        return out.exit_code, json.dumps(data)

    assert run("1") == run("2")
    # the two-job run split, on the command's deep-recursion thread, and its child answered
    assert answered == [True]


def test_a_shared_fact_that_fails_before_the_fork_is_reported_as_without_the_split(monkeypatch):
    """The phase model is built before the fork for both halves; when it cannot be built, the rules
    that read it report their crash (GL999) exactly as an unsplit check does."""
    import golflint.facts.phases as phases

    def broken(cls, *args, **kwargs):
        raise RuntimeError("no phase model today")

    monkeypatch.setattr(phases.ProgramPhases, "__init__", broken)
    folder = _folders()[0]
    settings = default_settings()
    rules = instantiate_rules(settings)
    alone = check_submission(Submission(folder, "record", settings), rules)
    split = check_submission(Submission(folder, "record", settings), rules, split=True)
    assert any(f.rule == "GL999" and "no phase model today" in f.message for f in alone.findings)
    assert _as_json(split) == _as_json(alone)


def test_no_process_to_spare_means_an_unsplit_check(monkeypatch):
    folder = _folders()[0]
    settings = default_settings()
    rules = instantiate_rules(settings)
    alone = check_submission(Submission(folder, "record", settings), rules)

    def no_fork():
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    split = check_submission(Submission(folder, "record", settings), rules, split=True)
    assert _as_json(split) == _as_json(alone)
