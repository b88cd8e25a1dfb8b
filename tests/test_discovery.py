"""Discovery that knows a fork of the challenge repository, and finds every submission's parts by role."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from golflint_testing import make_submission, run_rules

from golflint.cli import main
from golflint.config import default_settings
from golflint.discovery import find_submissions
from golflint.submission import Submission

LOG = ("step:200/20000 train_loss:3.1021 train_time:8712ms step_avg:43.56ms\n"
       "final_int8_zlib_roundtrip_exact val_loss:2.07269931 val_bpb:1.22436570\n")
CLAIMS = json.dumps({"author": "A", "github_id": "a", "name": "n", "val_bpb": 1.2243657,
                     "val_loss": 2.07269931, "date": "2026-01-01"})


def fork(tmp_path: Path) -> Path:
    """A checkout of the challenge repo: the baseline train_gpt.py at its root, two submissions,
    and a folder under a track that holds only a log."""
    root = tmp_path / "fork"
    make_submission(root, {"train_gpt.py": "print('baseline')\n", "README.md": "# challenge\n",
                           "data/cached_challenge_fineweb.py": "print(1)\n"})
    make_submission(root / "records" / "track_10min_16mb" / "2026-01-01_a",
                    {"README.md": "# a\n", "submission.json": CLAIMS, "train_gpt.py": "print(1)\n",
                     "train_seed1.log": LOG})
    make_submission(root / "records" / "track_non_record_16mb" / "2026-01-02_ternary",
                    {"README.md": "# t\n\n```\ntorchrun --nproc_per_node=8 train_gpt_cuda_ternary.py\n```\n",
                     "submission_ternary.json": CLAIMS, "train_gpt_cuda_ternary.py": "print(1)\n",
                     "setup.py": "print(0)\n", "ternary_log_7.txt": LOG})
    make_submission(root / "records" / "track_10min_16mb" / "2026-01-03_stray", {"train.log": LOG})
    return root


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_a_fork_root_is_not_a_submission(tmp_path):
    root = fork(tmp_path)
    found = find_submissions([root], default_settings())
    assert sorted(t.root.name for t in found.targets) == ["2026-01-01_a", "2026-01-02_ternary"]
    reasons = {s.path.name: (s.kind, s.reason) for s in found.skipped}
    assert reasons["fork"][0] == "checkout-root"
    assert reasons["2026-01-03_stray"] == ("not-a-submission",
                                          "holds no code, README or submission metadata (train.log)")


def test_check_dot_at_the_fork_root_checks_the_records(tmp_path, monkeypatch):
    root = fork(tmp_path)
    monkeypatch.chdir(root)
    result = run("check", ".", "--select", "GL0", "--format", "json")
    # stderr (the note about the stray folder) comes first in CliRunner's output
    note, _, body = result.output.partition("\n")
    assert "2026-01-03_stray: not checked: holds no code" in note
    names = sorted(Path(s["path"]).name for s in json.loads(body)["submissions"])
    assert names == ["2026-01-01_a", "2026-01-02_ternary"]


def test_precommit_files_outside_any_submission_say_so(tmp_path, monkeypatch):
    root = fork(tmp_path)
    monkeypatch.chdir(root)
    result = run("check", "train_gpt.py", "README.md")
    assert result.exit_code == 2
    assert "error: no submission folder found" in result.output


def test_precommit_file_maps_to_its_track_folder_even_without_markers(tmp_path, monkeypatch):
    root = fork(tmp_path)
    monkeypatch.chdir(root)
    found = find_submissions([Path("records/track_non_record_16mb/2026-01-02_ternary/README.md")],
                             default_settings())
    assert [t.root.name for t in found.targets] == ["2026-01-02_ternary"]


def test_parts_found_by_role(tmp_path):
    root = fork(tmp_path) / "records" / "track_non_record_16mb" / "2026-01-02_ternary"
    sub = Submission(root, "non-record", default_settings())
    assert sub.entry_script == "train_gpt_cuda_ternary.py"
    assert sub.metadata_file == "submission_ternary.json"
    assert sub.claims["author"] == "A"
    assert sub.log_files == ["ternary_log_7.txt"]
    assert sub.measurement.code_files == {"train_gpt_cuda_ternary.py": len("print(1)\n")}
    assert [u.path for u in sub.code_units if u.reason == "entry"] == ["train_gpt_cuda_ternary.py"]
    findings = run_rules(root, ["GL001", "GL002"], track="non-record").findings
    assert findings == []


def test_two_scripts_and_no_run_command_is_still_missing_an_entry(tmp_path):
    root = make_submission(tmp_path / "records" / "track_10min_16mb" / "x",
                           {"README.md": "# x\n", "submission.json": CLAIMS, "train_seed1.log": LOG,
                            "train_a.py": "print(1)\n", "train_b.py": "print(2)\n"})
    assert [f.file for f in run_rules(root, ["GL001"]).findings] == ["train_gpt.py"]


def test_missing_metadata_is_an_error_on_the_record_track_and_a_warning_on_non_record(tmp_path):
    files = {"README.md": "# x\n", "train_gpt.py": "print(1)\n", "train_seed1.log": LOG}
    record = make_submission(tmp_path / "records" / "track_10min_16mb" / "x", files)
    other = make_submission(tmp_path / "records" / "track_non_record_16mb" / "x", files)
    [f] = run_rules(record, ["GL001"]).findings
    assert f.severity.name == "ERROR"
    [g] = run_rules(other, ["GL001"], track="non-record").findings
    assert g.severity.name == "WARNING"


def test_a_record_without_logs_fails_and_a_non_record_one_does_not(tmp_path):
    files = {"README.md": "# x\n", "train_gpt.py": "print(1)\n", "submission.json": CLAIMS}
    record = make_submission(tmp_path / "records" / "track_10min_16mb" / "x", files)
    other = make_submission(tmp_path / "records" / "track_non_record_16mb" / "x", files)
    assert [f.rule for f in run_rules(record, ["GL002"]).findings] == ["GL002"]
    assert run_rules(other, ["GL002"], track="non-record").findings == []
