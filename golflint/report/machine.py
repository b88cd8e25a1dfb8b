"""Machine formats: json (stable, version 1), SARIF 2.1.0, GitHub workflow annotations."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

from .. import __version__
from ..engine import SubmissionResult
from ..findings import Finding, Severity
from ..rules import all_rules

JSON_VERSION = 1
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def _finding_json(f: Finding) -> dict[str, Any]:
    return {
        "rule": f.rule,
        "name": f.name,
        "severity": f.severity.value,
        "file": f.file,
        "line": f.line,
        "message": f.message,
        # Additions beyond the documented minimum shape; consumers may ignore them.
        "col": f.col,
        "where": f.where,
        "hint": f.hint,
        "suppressed": f.suppressed,
    }


def to_json(results: Sequence[SubmissionResult], fail_on: Severity = Severity.ERROR) -> dict[str, Any]:
    subs = []
    for r in results:
        shown = [f for f in r.findings if not f.suppressed]
        subs.append({
            "path": r.path,
            "track": r.track,
            "ok": r.ok(fail_on),
            "bytes": {k: r.bytes.get(k) for k in ("code", "model", "total", "limit")},
            "scores": {k: r.scores.get(k) for k in ("val_bpb", "val_loss", "seeds")},
            "findings": [_finding_json(f) for f in shown],
            "suppressed": [_finding_json(f) for f in r.findings if f.suppressed],
            "details": r.details,
            "elapsed_ms": round(r.elapsed_ms, 2),
        })
    return {
        "version": JSON_VERSION,
        "tool": {"name": "golflint", "version": __version__},
        "submissions": subs,
        "summary": {
            "submissions": len(results),
            "errors": sum(r.count(Severity.ERROR) for r in results),
            "warnings": sum(r.count(Severity.WARNING) for r in results),
            "infos": sum(r.count(Severity.INFO) for r in results),
        },
    }


def _artifact_uri(result: SubmissionResult, file: str | None) -> str:
    base = Path(result.path)
    path = base / file if file else base
    return path.as_posix()


def _sarif_uri(result: SubmissionResult, file: str | None) -> str:
    """SARIF wants a URI: relative paths stay relative (to the checkout), absolute ones get file://."""
    path = Path(_artifact_uri(result, file))
    return path.as_uri() if path.is_absolute() else path.as_posix()


def to_sarif(results: Sequence[SubmissionResult]) -> dict[str, Any]:
    rules = all_rules()
    rule_ids = sorted({f.rule for r in results for f in r.findings} | set())
    index = {rid: i for i, rid in enumerate(rule_ids)}
    driver_rules = []
    for rid in rule_ids:
        cls = rules.get(rid)
        entry: dict[str, Any] = {"id": rid}
        if cls is not None:
            entry.update({
                "name": cls.name,
                "shortDescription": {"text": cls.message},
                "fullDescription": {"text": cls.doc().split("\n\n")[0]},
                "help": {"text": cls.hint, "markdown": cls.doc()},
                "defaultConfiguration": {"level": SARIF_LEVEL[cls.severity]},
                "properties": {"family": cls.family()},
            })
        driver_rules.append(entry)
    sarif_results = []
    for r in results:
        for f in r.findings:
            location: dict[str, Any] = {
                "physicalLocation": {"artifactLocation": {"uri": _sarif_uri(r, f.file)}}
            }
            if f.line is not None and f.where is None:
                region: dict[str, Any] = {"startLine": max(1, f.line)}
                if f.col is not None:
                    region["startColumn"] = max(1, f.col)
                location["physicalLocation"]["region"] = region
            message = f.message if f.where is None else f"{f.message} [{f.location}]"
            if f.hint:
                message = f"{message} Fix: {f.hint}"
            item: dict[str, Any] = {
                "ruleId": f.rule,
                "ruleIndex": index[f.rule],
                "level": SARIF_LEVEL[f.severity],
                "message": {"text": message},
                "locations": [location],
                "properties": {"submission": r.path, "track": r.track},
            }
            if f.suppressed:
                item["suppressions"] = [{"kind": "inSource", "justification": f.suppress_reason or ""}]
            sarif_results.append(item)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "golflint",
                "version": __version__,
                "informationUri": "https://github.com/golflint/golflint",
                "rules": driver_rules,
            }},
            "results": sarif_results,
            "columnKind": "unicodeCodePoints",
        }],
    }


def _escape_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_prop(s: str) -> str:
    return _escape_data(s).replace(":", "%3A").replace(",", "%2C")


def to_github(results: Sequence[SubmissionResult]) -> str:
    """GitHub Actions workflow commands: ::error file=…,line=…,title=…::message"""
    lines = []
    kind = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}
    for r in results:
        for f in r.active:
            props = [f"file={_escape_prop(_artifact_uri(r, f.file))}"]
            if f.line is not None and f.where is None:
                props.append(f"line={f.line}")
                if f.col is not None:
                    props.append(f"col={f.col}")
            props.append(f"title={_escape_prop(f'golflint {f.rule} ({f.name})')}")
            msg = f.message if f.where is None else f"{f.message} [{f.location}]"
            if f.hint:
                msg += f"\nFix: {f.hint}"
            lines.append(f"::{kind[f.severity]} {','.join(props)}::{_escape_data(msg)}")
    return "\n".join(lines) + ("\n" if lines else "")


def dumps(obj: Any) -> str:
    return json.dumps(obj, indent=2, sort_keys=False) + "\n"
