"""The pre-commit hook manifest: valid for pre-commit, and its hooks check the right folders."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from golflint_testing import make_submission

REPO = Path(__file__).resolve().parent.parent
MANIFEST = REPO / ".pre-commit-hooks.yaml"
PRE_COMMIT = shutil.which("pre-commit", path=os.pathsep.join([str(Path(sys.executable).parent),
                                                                os.environ.get("PATH", "")]))
needs_pre_commit = pytest.mark.skipif(PRE_COMMIT is None, reason="pre-commit is not installed")
needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def hooks() -> dict[str, dict]:
    return {h["id"]: h for h in yaml.safe_load(MANIFEST.read_text())}


@needs_pre_commit
@pytest.mark.parametrize("what,path", [("validate-manifest", MANIFEST),
                                       ("validate-config", REPO / ".pre-commit-config.yaml")])
def test_pre_commit_accepts_our_files(what, path):
    result = subprocess.run([PRE_COMMIT, what, str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hooks_run_golflint_check_on_submission_files():
    found = hooks()
    changed = found["golflint-check"]
    assert changed["entry"] == "golflint check" and changed["language"] == "python"
    assert changed["pass_filenames"] is True and changed["require_serial"] is True
    files = re.compile(changed["files"])
    assert files.search("records/track_10min_16mb/2026-01-01_Run/train_gpt.py")
    assert files.search("records/track_non_record_16mb/x/logs/train.log")
    assert not files.search("records/README.md")
    assert not files.search("records/track_10min_16mb")
    assert not files.search("src/records/track_10min_16mb/x/train_gpt.py")
    every = found["golflint-check-all"]
    assert every["entry"] == "golflint check records/" and every["pass_filenames"] is False


@needs_pre_commit
@needs_git
def test_hook_checks_only_the_changed_submission(tmp_path):
    """Run the golflint-check hook through pre-commit in a fork-shaped git repository.

    The hook is declared as a local hook with the manifest's files/pass_filenames/require_serial,
    run by this interpreter (the manifest's `language: python` would install golflint from the
    network into a fresh environment).
    """
    fork = tmp_path / "fork"
    claims = json.dumps({"author": "a", "name": "b", "val_bpb": 1.22})
    good = {"README.md": "# ok\n", "train_gpt.py": "print(1)\n", "submission.json": claims,
            "train.log": "final_int8_zlib_roundtrip_exact val_loss:2.07 val_bpb:1.22000000\n"}
    make_submission(fork / "records" / "track_10min_16mb" / "good", good)
    make_submission(fork / "records" / "track_10min_16mb" / "broken", {**good, "submission.json": "{oops"})
    make_submission(fork, {"README.md": "# the challenge\n"})
    hook = hooks()["golflint-check"]
    local = {"id": hook["id"], "name": hook["name"], "language": "system",
             "entry": f"{sys.executable} -m golflint check --format json --select GL0",
             "files": hook["files"], "pass_filenames": hook["pass_filenames"],
             "require_serial": hook["require_serial"]}
    (fork / ".pre-commit-config.yaml").write_text(yaml.safe_dump({"repos": [{"repo": "local", "hooks": [local]}]}))
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache"), "PYTHONPATH": str(REPO),
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}
    subprocess.run(["git", "init", "-q", str(fork)], check=True, env=env)
    subprocess.run(["git", "add", "-A"], cwd=fork, check=True, env=env)

    def run_on(*files: str) -> subprocess.CompletedProcess:
        return subprocess.run([PRE_COMMIT, "run", "--verbose", "--files", *files], cwd=fork, env=env,
                              capture_output=True, text=True)

    ok = run_on("records/track_10min_16mb/good/train_gpt.py", "records/track_10min_16mb/good/README.md", "README.md")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert '"submissions": 1' in ok.stdout and "broken" not in ok.stdout
    bad = run_on("records/track_10min_16mb/broken/train.log")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "GL005" in bad.stdout and "/good" not in bad.stdout
    untouched = run_on("README.md")
    assert untouched.returncode == 0 and "(no files to check)" in untouched.stdout
