"""A release pre-commit can pin: one version, shown by `--version`, matched by the documented `rev:`."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from click.testing import CliRunner

import golflint
from golflint.cli import main

REPO = Path(__file__).resolve().parent.parent

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def _revs(path: Path) -> list[str]:
    return re.findall(r"^\s*#?\s*rev:\s*(\S+)", path.read_text(encoding="utf-8"), flags=re.M)


def test_version_is_written_once():
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["hatch"]["version"]["path"] == "golflint/__init__.py"
    assert re.fullmatch(r"\d+\.\d+\.\d+", golflint.__version__)


def test_version_option():
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert golflint.__version__ in result.output and "golflint" in result.output


def test_documented_pre_commit_rev_is_this_version():
    tag = f"v{golflint.__version__}"
    for doc in ("README.md", "docs/pre-commit.md", ".pre-commit-hooks.yaml"):
        revs = _revs(REPO / doc)
        assert revs and set(revs) == {tag}, (doc, revs)


def test_changelog_has_this_release():
    changelog = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## (\S+)", changelog, flags=re.M)
    assert headings[0] == golflint.__version__
    assert "0.1.0" in headings
