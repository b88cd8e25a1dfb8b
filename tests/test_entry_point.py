"""The console entry point (`golflint`, `python -m golflint`) as a process: after `check` it ends
without freeing its heap (golflint/exiting.py), so its output and exit code must be whole anyway."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from golflint.cli import main

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

REPO = Path(__file__).resolve().parent.parent
PASSING = REPO / "examples" / "passing"
FAILING = REPO / "examples" / "failing"


def _golflint(*args: str, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-m", "golflint", *args], capture_output=True, env=env,
                          cwd=REPO, timeout=120, **kw)


@pytest.mark.parametrize("folder, code", [(PASSING, 0), (FAILING, 1)])
def test_check_process_writes_the_whole_report_and_its_exit_code(folder, code, tmp_path):
    in_process = CliRunner().invoke(main, ["check", str(folder), "--format", "json", "--no-cache"])
    done = _golflint("check", str(folder), "--format", "json", "--no-cache")
    assert done.returncode == in_process.exit_code == code
    report, expected = json.loads(done.stdout), json.loads(in_process.output)
    for r in (report, expected):
        for s in r["submissions"]:
            s.pop("elapsed_ms", None)
    assert report == expected
    to_file = tmp_path / "report.sarif"
    done = _golflint("check", str(folder), "--format", "sarif", "--no-cache", "-o", str(to_file))
    assert done.returncode == code and json.loads(to_file.read_text())["runs"]


def test_errors_still_exit_the_normal_way():
    done = _golflint("check", str(REPO / "no-such-folder"))
    assert done.returncode == 2 and b"no such file or folder" in done.stderr
    done = _golflint("check", "--format", "nonsense", str(PASSING))
    assert done.returncode == 2 and b"Usage" in done.stderr


def test_a_reader_that_stops_early_gets_no_traceback():
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen([sys.executable, "-m", "golflint", "check", str(FAILING), "--no-cache"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=REPO)
    proc.stdout.close()  # the reader is gone before the report is written
    err = proc.stderr.read()
    assert proc.wait(timeout=120) in (1, 120)
    assert b"Traceback" not in err


def test_console_script_tunes_the_collector_before_importing_the_command_line():
    code = ("import gc, sys\n"
            "import golflint.console as console\n"
            "assert 'click' not in sys.modules and 'golflint.cli' not in sys.modules\n"
            "sys.argv = ['golflint', '--version']\n"
            "try:\n    console.run()\nexcept SystemExit:\n    pass\n"
            "print(tuple(gc.get_threshold()) == console.STARTUP_GC_THRESHOLDS)\n")
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("True")
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["golflint"] == "golflint.console:run"


def test_a_python_only_folder_does_not_load_the_native_parsers():
    """tree-sitter and the native checks are loaded only for folders that ship C, C++ or CUDA."""
    code = ("import sys\n"
            "from golflint.cli import main\n"
            "try:\n    main(['check', sys.argv[1], '--no-cache', '--jobs', '1', '--format', 'json'])\n"
            "except SystemExit:\n    pass\n"
            "print('LOADED', 'tree_sitter' in sys.modules, 'golflint.native.checks' in sys.modules)\n")
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run([sys.executable, "-c", code, str(PASSING)], capture_output=True, text=True, env=env,
                          cwd=REPO, timeout=120)
    assert done.stdout.splitlines()[-1] == "LOADED False False", done.stderr
