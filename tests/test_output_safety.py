"""Escape sequences from a submission never reach a terminal or a CI log raw (issue 10, item 4)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from golflint.cli import main
from golflint.report.safe import is_visible, visible
from golflint_testing import make_submission

CLEAR = "\x1b[2J"


def hostile(tmp_path: Path) -> Path:
    return make_submission(tmp_path / "records" / "track_10min_16mb" / f"run{CLEAR}", {
        "README.md": "# run\n",
        "train_gpt.py": "print('x')\n",
        f"train{CLEAR}.log": f"step:1 {CLEAR}\n",
        f"extra{CLEAR}.py": "import os\n",
        "submission.json": json.dumps({"author": f"a{CLEAR}", "name": f"n{CLEAR}", "date": f"soon{CLEAR}",
                                       "val_bpb": 1.2, "val_loss": 2.0, "bytes_code": 11,
                                       "bytes_total": 11}, indent=1),
    })


def check(*args: str) -> str:
    result = CliRunner().invoke(main, ["check", *args])
    assert result.exit_code in (0, 1), result.output
    return result.output


def test_visible_escapes_controls_and_bidi_but_keeps_text():
    assert visible(f"a{CLEAR}b") == "a\\x1b[2Jb"
    assert visible("x\ry\u202ez\x9b") == "x\\x0dy\\u202ez\\x9b"
    assert visible("tab\tstays, ünïcode stays") == "tab\tstays, ünïcode stays"
    assert visible("two\nlines", keep_newlines=True) == "two\nlines"
    assert visible(None) == "" and visible(3) == "3"


@pytest.mark.parametrize("fmt", ["text", "github", "sarif", "json"])
def test_no_raw_escape_in_any_format(tmp_path, fmt):
    root = hostile(tmp_path)
    out = check("--format", fmt, str(root))
    assert "\x1b" not in out
    assert is_visible(out.replace("\n", ""))
    if fmt == "text":
        assert "\\x1b[2J" in out  # shown escaped, not dropped
    if fmt == "github":
        assert all(line.startswith("::") for line in out.splitlines())  # no forged lines
    if fmt in ("json", "sarif"):
        doc = json.loads(out)
        texts = ([f["message"] for s in doc["submissions"] for f in s["findings"]] if fmt == "json" else
                 [r["message"]["text"] for r in doc["runs"][0]["results"]])
        assert texts and not any("\x1b" in t for t in texts)
        assert any("\\x1b[2J" in t for t in texts)  # the value is named, escaped


def test_a_value_from_submission_json_is_escaped_in_its_message(tmp_path):
    out = check("--select", "GL007", "--format", "github", str(hostile(tmp_path)))
    assert "soon\\x1b[2J" in out and "\x1b" not in out


def test_error_messages_naming_paths_are_escaped(tmp_path):
    result = CliRunner().invoke(main, ["check", str(tmp_path / f"missing{CLEAR}")])
    assert result.exit_code == 2 and "\x1b" not in result.output and "missing\\x1b[2J" in result.output
