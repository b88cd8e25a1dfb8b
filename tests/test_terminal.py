"""Terminal and CI conventions of `golflint check` (and `rules`): colour, width, concise, statistics,
quiet, show-files, progress, JSON without timings and its published schema."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from golflint.cli import main
from golflint.report import console as console_mod
from golflint.report.progress import RunProgress
from golflint_testing import make_submission

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = ("examples/passing", "examples/failing")
SGR_COLOUR = re.compile(r"\x1b\[[0-9;]*(3[0-7]|9[0-7]|38;)")


def run(*args: str, env: dict | None = None):
    return CliRunner().invoke(main, list(args), env=env)


@pytest.fixture
def at_repo(monkeypatch):
    monkeypatch.chdir(REPO)


@pytest.fixture
def fake_tty(monkeypatch):
    """Make golflint believe stdout is a terminal of COLUMNS columns."""
    monkeypatch.setattr(console_mod, "stream_is_tty", lambda stream: True)


def check_schema() -> dict:
    return json.loads(resources.files("golflint").joinpath("schemas/check.schema.json").read_text("utf-8"))


# -- width ---------------------------------------------------------------------------------------------
def test_a_terminal_wraps_to_its_width_and_keeps_indentation(at_repo, fake_tty):
    result = run("check", "--select", "GL0,GL3", *EXAMPLES, env={"COLUMNS": "80"})
    lines = result.output.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert any(line.startswith("FAILS record  ") and "NgramGoldMix" in line for line in lines)
    assert any(line.startswith("ok    record  ") and "TinyBaseline" in line for line in lines)
    assert any(line.strip().startswith("code 8,") for line in lines)
    assert "2 submission(s), 1 failing" in result.output
    # A wrapped message continues at the message's indentation, never at column 0.
    body = result.output.split("golflint summary")[0]
    assert all(line == "" or line.startswith(("  ", "ok ", "FAILS ")) for line in body.splitlines())


def test_piped_output_does_not_depend_on_the_width(at_repo):
    narrow = run("check", "--select", "GL0,GL3", *EXAMPLES, env={"COLUMNS": "40"}).output
    wide = run("check", "--select", "GL0,GL3", *EXAMPLES, env={"COLUMNS": "300"}).output
    assert narrow == wide
    # Each message is one line (no wrapping), indented by four spaces.
    assert any(line.startswith("    total 16,003,152 bytes") and line.endswith("by 3,152 bytes")
               for line in narrow.splitlines())


def test_the_summary_never_breaks_names_at_60_columns(tmp_path, fake_tty):
    names = ["2026-03-21_A_Rather_Long_Submission_Name_For_Tables", "2026-03-22_Another_Long_Name_Here"]
    roots = [make_submission(tmp_path / "records" / "track_10min_16mb" / n,
                             {"README.md": "# r\n", "train_gpt.py": "x = 1\n"}) for n in names]
    out = run("check", "--select", "GL0,GL3", *map(str, roots), env={"COLUMNS": "60"}).output
    summary = out.split("golflint summary")[1]
    assert max(len(line) for line in out.splitlines()) <= 60
    for name in names:
        assert any(line.strip() == name for line in summary.splitlines()), summary
    wide = run("check", "--select", "GL0,GL3", *map(str, roots), env={"COLUMNS": "200"}).output
    table = wide.split("golflint summary")[1]
    assert all(any(line.strip().startswith(n) for line in table.splitlines()) for n in names)


def test_rules_piped_are_not_truncated():
    out = run("rules", env={"COLUMNS": "40"}).output
    listing = json.loads(run("rules", "--format", "json").output)
    for rule in listing:
        assert any(rule["id"] in line and rule["name"] in line and rule["message"] in line
                   for line in out.splitlines()), rule["id"]
    explained = run("rules", "explain", "GL001", env={"COLUMNS": "40"}).output
    assert explained.startswith("# GL001 missing-required-file")
    assert max(len(line) for line in explained.splitlines()) < 300  # markdown source, not padded


# -- colour --------------------------------------------------------------------------------------------
def _in_a_pty(args: list[str], extra_env: dict[str, str]) -> str:
    pty = pytest.importorskip("pty")
    controller, terminal = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    env.update({"PYTHONPATH": str(REPO), "TERM": "xterm-256color", "COLUMNS": "100", **extra_env})
    proc = subprocess.Popen([sys.executable, "-m", "golflint", *args], stdout=terminal, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL, cwd=REPO, env=env)
    os.close(terminal)
    chunks = []
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # EIO once the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    proc.wait(timeout=120)
    os.close(controller)
    return b"".join(chunks).decode("utf-8", "replace")


def test_colour_on_a_terminal_and_no_color_turns_it_off():
    args = ["check", "--select", "GL0,GL3", "examples/failing"]
    assert SGR_COLOUR.search(_in_a_pty(args, {}))
    assert not SGR_COLOUR.search(_in_a_pty(args, {"NO_COLOR": "1"}))


def test_force_color_colours_piped_output_without_wrapping(at_repo):
    forced = run("check", "--select", "GL0,GL3", "examples/failing", env={"FORCE_COLOR": "1", "COLUMNS": "40"})
    assert SGR_COLOUR.search(forced.output)
    plain = run("check", "--select", "GL0,GL3", "examples/failing", env={"COLUMNS": "40"}).output
    assert "\x1b" not in plain
    assert re.sub(r"\x1b\[[0-9;]*m", "", forced.output).splitlines() == plain.splitlines()


# -- concise, statistics, quiet, show-files ------------------------------------------------------------
def test_concise_is_one_line_per_finding(at_repo):
    result = run("check", "--format", "concise", *EXAMPLES)
    report = json.loads(run("check", "--format", "json", *EXAMPLES).output)
    lines = result.output.splitlines()
    assert result.exit_code == 1
    assert len(lines) == sum(len(s["findings"]) for s in report["submissions"])
    pattern = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<rule>GL\d{3}) \S.*$")
    assert all(pattern.match(line) for line in lines), lines
    assert "examples/failing/records/track_10min_16mb/2026-01-02_NgramGoldMix/submission.json:6:1: GL007 " \
        "date '02/01/2026' is not an ISO 8601 date (YYYY-MM-DD)" in lines


def test_statistics_count_findings_per_rule(at_repo):
    report = json.loads(run("check", "--format", "json", *EXAMPLES).output)
    counts: dict[str, int] = {}
    for sub in report["submissions"]:
        for f in sub["findings"]:
            counts[f["rule"]] = counts.get(f["rule"], 0) + 1
    result = run("check", "--statistics", *EXAMPLES)
    assert result.exit_code == 1
    shown = {m.group(2): int(m.group(1)) for m in re.finditer(r"^\s*(\d+)  (GL\d{3})  ", result.output, re.M)}
    assert shown == counts
    stats = json.loads(run("check", "--format", "json", "--statistics", *EXAMPLES).output)["summary"]["statistics"]
    assert {s["rule"]: s["count"] for s in stats} == counts
    assert [s["count"] for s in stats] == sorted((s["count"] for s in stats), reverse=True)
    assert run("check", "--format", "sarif", "--statistics", *EXAMPLES).exit_code == 2


def test_quiet_shows_only_findings(at_repo):
    result = run("check", "--quiet", *EXAMPLES)
    assert result.exit_code == 1
    assert "NgramGoldMix" in result.output and "GL301" in result.output
    assert "TinyBaseline" not in result.output          # clean: not shown
    assert "golflint summary" not in result.output and "submission(s)" not in result.output
    assert run("check", "-q", "examples/passing").output == ""


def test_show_files_lists_checked_and_skipped_folders_without_checking(tmp_path):
    fork = tmp_path / "fork"
    make_submission(fork / "records" / "track_10min_16mb" / "run", {"train_gpt.py": "x = 1\n"})
    make_submission(fork / "records" / "track_non_record_16mb" / "other", {"submission.json": "{}"})
    make_submission(fork / ".github", {"ci.yml": "x"})     # outside records/: a fork's root is not walked
    make_submission(fork / "records" / ".cache", {"x.txt": "x"})
    stray = make_submission(fork / "notes", {"todo.txt": "x"}) / "todo.txt"
    result = run("check", "--show-files", str(fork), str(stray))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(line.startswith("check  ") and line.split("  ")[1].endswith("track_10min_16mb/run")
               and "(record: " in line for line in lines)
    assert any(line.startswith("check  ") and "other" in line and "(non-record: " in line for line in lines)
    assert any(line.startswith("skip   ") and ".cache" in line and "hidden folder" in line for line in lines)
    assert any(line.startswith("skip   ") and "root of a checkout" in line for line in lines)
    assert not any(".github" in line for line in lines)
    assert any(line.startswith("skip   ") and "todo.txt" in line and "not inside a submission" in line
               for line in lines)
    assert lines[-1].startswith("2 folder(s) to check")
    assert "GL0" not in result.output  # nothing was checked


# -- progress --------------------------------------------------------------------------------------------
def test_no_progress_when_piped(at_repo, monkeypatch):
    import golflint.report.progress as progress_mod

    monkeypatch.setattr(progress_mod, "DELAY_S", 0.0)
    result = CliRunner().invoke(main, ["check", "--format", "json", *EXAMPLES])
    assert result.stderr == "" and result.stdout.startswith("{")


def test_progress_shows_on_a_terminal_only_after_the_delay(monkeypatch):
    import golflint.report.progress as progress_mod

    monkeypatch.setattr(progress_mod, "stream_is_tty", lambda stream: True)
    with RunProgress(3, delay_s=3600) as quick:
        quick.advance("a")
    assert quick._progress is None  # never started: the run ended before the delay
    with RunProgress(3, delay_s=0) as slow:
        slow._timer.join()
        assert slow._progress is not None
        slow.advance("a")
    assert slow._progress is None  # stopped (transient) at the end
    assert not RunProgress(3, enabled=False).enabled


# -- JSON ------------------------------------------------------------------------------------------------
def test_json_is_byte_stable_without_timings(at_repo):
    first = run("check", "--format", "json", *EXAMPLES).output
    assert "elapsed_ms" not in first
    assert run("check", "--format", "json", *EXAMPLES).output == first
    timed = json.loads(run("check", "--format", "json", "--timings", *EXAMPLES).output)
    assert all(s["elapsed_ms"] >= 0 for s in timed["submissions"])


def test_json_follows_its_published_schema(at_repo, tmp_path):
    schema = check_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    hostile = make_submission(tmp_path / "sub", {"submission.json": '{"seeds": "1,2", "val_bpb": "x"}',
                                                  "train_gpt.py": "import socket\nsocket.socket()\n"})
    for args in ([*EXAMPLES], ["--timings", "--statistics", *EXAMPLES], [str(hostile)],
                 ["--show-suppressed", "tests/fixtures/packed"]):
        validator.validate(json.loads(run("check", "--format", "json", *args).output))
    with pytest.raises(jsonschema.ValidationError):
        doc = json.loads(run("check", "--format", "json", *EXAMPLES).output)
        doc["submissions"][0]["undocumented"] = 1
        validator.validate(doc)
