"""Bad input: each case gives a finding or a clear message, the documented exit code, no traceback,
and leaves every file exactly as it was."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from golflint.cli import main
from golflint_testing import make_submission, snapshot

GOOD = {
    "README.md": "# Run\n",
    "train_gpt.py": "print('train')\n",
    "train_seed1.log": "final_int8_zlib_roundtrip_exact val_loss:2.07269931 val_bpb:1.22436570\n",
    "final_model.int8.ptz": b"\x01" * 1000,
    "submission.json": json.dumps({"author": "a", "name": "b", "val_bpb": 1.2244}),
}
HUNDRED_MB = 100 * 1000 * 1000


def check(tmp_path: Path, root: Path, *extra: str):
    """Run `golflint check --format json` and prove nothing under tmp_path changed."""
    before = snapshot(tmp_path)
    result = CliRunner().invoke(main, ["check", "--format", "json", *extra, str(root)])
    assert snapshot(tmp_path) == before, "golflint changed files on disk"
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def findings(result) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for sub in json.loads(result.output)["submissions"]:
        for f in sub["findings"]:
            out.setdefault(f["rule"], []).append(f)
    return out


def folder(tmp_path: Path, **changes) -> Path:
    files = dict(GOOD)
    for rel, content in changes.items():
        rel = rel.replace("__", ".")
        if content is None:
            files.pop(rel)
        else:
            files[rel] = content
    return make_submission(tmp_path / "records" / "track_10min_16mb" / "sub", files)


def sparse(path: Path, size: int = HUNDRED_MB) -> None:
    with open(path, "wb") as fh:
        fh.truncate(size)


def test_good_folder_is_clean(tmp_path):
    result = check(tmp_path, folder(tmp_path), "--select", "GL0,GL3")
    assert result.exit_code == 0 and findings(result) == {}


def test_broken_json(tmp_path):
    root = folder(tmp_path, submission__json='{"author": "a",, "val_bpb": 1.2')
    result = check(tmp_path, root)
    assert result.exit_code == 1
    [f] = findings(result)["GL005"]
    assert f["file"] == "submission.json" and f["line"] == 1
    assert f["message"].startswith("submission.json is not valid JSON: Expecting property name")


def test_binary_junk_in_place_of_a_log(tmp_path):
    root = folder(tmp_path, train_seed1__log=os.urandom(4096) + b"\x00" * 16)
    result = check(tmp_path, root)
    assert result.exit_code == 1
    [f] = findings(result)["GL402"]
    assert f["file"] == "train_seed1.log" and "binary" in f["message"]
    assert "GL004" not in findings(result), "a bad log is reported once, by the log rules"


def test_non_utf8_code(tmp_path):
    root = folder(tmp_path, train_gpt__py="# Schätzung\nprint(1)\n".encode("latin-1"))
    result = check(tmp_path, root)
    assert result.exit_code == 1
    [f] = findings(result)["GL000"]
    assert f["file"] == "train_gpt.py" and "not UTF-8" in f["message"]


def test_symlink_pointing_outside(tmp_path):
    secret = tmp_path / "outside" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("not part of the submission")
    root = folder(tmp_path, README__md=None)
    os.symlink(secret, root / "README.md")
    result = check(tmp_path, root)
    assert result.exit_code == 1
    found = findings(result)
    [f] = found["GL003"]
    assert f["file"] == "README.md"
    assert "not part of the submission" not in result.output   # the link was never followed
    assert "GL004" not in found


def test_symlinked_code_outside_is_not_read_or_counted(tmp_path):
    outside = tmp_path / "elsewhere.py"
    outside.write_text("print('elsewhere')\n")
    root = folder(tmp_path, train_gpt__py=None)
    os.symlink(outside, root / "train_gpt.py")
    result = check(tmp_path, root)
    assert result.exit_code == 1
    found = findings(result)
    assert [f["file"] for f in found["GL003"]] == ["train_gpt.py"]
    assert json.loads(result.output)["submissions"][0]["bytes"]["code"] is None


def test_hundred_megabyte_log(tmp_path):
    root = folder(tmp_path)
    sparse(root / "train_seed2.log")
    result = check(tmp_path, root)
    assert result.exit_code == 1
    [f] = findings(result)["GL402"]
    assert f["message"].startswith("train_seed2.log is too large to read (100,000,000 bytes; limit 50,000,000)")


def test_hundred_megabyte_model_is_measured_not_read(tmp_path):
    root = folder(tmp_path, final_model__int8__ptz=None)
    sparse(root / "final_model.int8.ptz")
    result = check(tmp_path, root)
    assert result.exit_code == 1
    [f] = findings(result)["GL301"]
    assert "model 100,000,000 from final_model.int8.ptz" in f["message"]
    assert json.loads(result.output)["submissions"][0]["bytes"]["total"] == HUNDRED_MB + len(GOOD["train_gpt.py"])


def test_hundred_megabyte_code(tmp_path):
    root = folder(tmp_path, train_gpt__py=None)
    sparse(root / "train_gpt.py")
    result = check(tmp_path, root)
    assert result.exit_code == 1
    found = findings(result)
    assert "too large to read" in found["GL000"][0]["message"]
    assert "GL301" in found


def test_empty_folder(tmp_path):
    root = tmp_path / "records" / "track_10min_16mb" / "empty"
    root.mkdir(parents=True)
    result = check(tmp_path, root)
    assert result.exit_code == 1
    found = findings(result)
    assert sorted(f["file"] for f in found["GL001"]) == ["README.md", "submission.json", "train_gpt.py"]
    assert "GL002" in found


def test_folder_without_submissions_is_checked_as_one(tmp_path):
    tree = tmp_path / "records"
    (tree / "track_10min_16mb").mkdir(parents=True)
    result = check(tmp_path, tree)
    assert result.exit_code == 1
    assert "GL001" in findings(result)


@pytest.mark.parametrize("junk", [b"", b"\xef\xbb\xbf", b"\x00" * 64, "{\"val_bpb\": 1e999}".encode()])
def test_junk_submission_json(tmp_path, junk):
    result = check(tmp_path, folder(tmp_path, submission__json=junk))
    assert result.exit_code == 1
    assert {"GL004", "GL005", "GL006", "GL009"} & set(findings(result))


def test_nonexistent_path_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(main, ["check", str(tmp_path / "missing")])
    assert result.exit_code == 2
    assert result.output.strip() == f"error: {tmp_path / 'missing'}: no such file or folder"


def test_unreadable_file_permissions(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root reads files whatever their permissions")
    root = folder(tmp_path)
    (root / "README.md").chmod(0)
    try:
        result = check(tmp_path, root)
        assert "GL004" in findings(result)
    finally:
        (root / "README.md").chmod(0o644)


def test_escapes_answers_what_resolving_the_paths_answers(tmp_path):
    """`files.escapes` skips resolving where no step of the path is a symlink: it must answer what
    resolving both paths answers, for plain files, linked files and files under linked folders."""
    from golflint.files import escapes

    outside = tmp_path / "outside"
    (outside / "deep").mkdir(parents=True)
    (outside / "deep" / "x.log").write_text("x")
    real = tmp_path / "real_root"
    (real / "logs" / "inner").mkdir(parents=True)
    (real / "logs" / "inner" / "a.log").write_text("a")
    (real / "top.txt").write_text("t")
    os.symlink(outside, real / "out_dir")                          # a folder linked out
    os.symlink(real / "logs", real / "in_dir")                     # a folder linked inside
    os.symlink(outside / "deep" / "x.log", real / "logs" / "out.log")
    os.symlink("loop_b", real / "loop_a")
    os.symlink("loop_a", real / "loop_b")
    root = tmp_path / "linked_root"
    os.symlink(real, root)                                         # the root itself through a link
    cases = {"top.txt": False, "logs/inner/a.log": False, "in_dir/inner/a.log": False, "missing.txt": False,
             "out_dir/deep/x.log": True, "logs/out.log": True, "loop_a": True, "logs/../top.txt": False,
             "logs/../../outside/deep/x.log": True}
    for rel, outside_root in cases.items():
        for base in (real, root):
            try:
                resolved = (base / rel).resolve()
                expected = not str(resolved).startswith(str(base.resolve()) + os.sep)
            except (OSError, RuntimeError):
                expected = True   # a symlink loop is never followed
            assert escapes(base, rel) is expected is outside_root, (base, rel)
