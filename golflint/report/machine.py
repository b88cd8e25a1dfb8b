"""Machine formats: json (stable, version 1; schema in golflint/schemas/check.schema.json), SARIF 2.1.0,
GitHub workflow annotations."""

from __future__ import annotations

import hashlib
import json
import os
import urllib.parse
from pathlib import Path
from typing import Any, Sequence

from .. import __version__
from ..engine import SubmissionResult
from ..findings import Finding, Severity
from ..rules import all_rules
from .safe import visible

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
        # Display text is escaped (golflint/report/safe.py); paths stay exact (json.dumps escapes them).
        "message": visible(f.message),
        # Additions beyond the documented minimum shape; consumers may ignore them.
        "col": f.col,
        "where": visible(f.where) if f.where is not None else None,
        "hint": visible(f.hint) if f.hint is not None else None,
        "suppressed": f.suppressed,
    }


def _bytes_json(b: dict[str, Any]) -> dict[str, Any]:
    out = {k: b.get(k) for k in ("code", "model", "total", "limit")}
    if b.get("code_at_most"):
        out["code_at_most"] = True
    return out


def to_json(results: Sequence[SubmissionResult], fail_on: Severity = Severity.ERROR, *,
            timings: bool = False, statistics: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The documented JSON report (golflint/schemas/check.schema.json). Byte-stable for the same input
    unless `timings` adds each submission's `elapsed_ms`."""
    subs = []
    for r in results:
        shown = [f for f in r.findings if not f.suppressed]
        subs.append({
            "path": r.path,
            "track": r.track,
            "ok": r.ok(fail_on),
            "bytes": _bytes_json(r.bytes),
            "scores": {k: r.scores.get(k) for k in ("val_bpb", "val_loss", "seeds")},
            "findings": [_finding_json(f) for f in shown],
            "suppressed": [_finding_json(f) for f in r.findings if f.suppressed],
            "details": r.details,
        })
        if timings:
            subs[-1]["elapsed_ms"] = round(r.elapsed_ms, 2)
    doc: dict[str, Any] = {
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
    if statistics is not None:
        doc["summary"]["statistics"] = statistics
    return doc


def _artifact_uri(result: SubmissionResult, file: str | None) -> str:
    base = Path(result.path)
    path = base / file if file else base
    return path.as_posix()


# -- SARIF -------------------------------------------------------------------------------------------
# What GitHub code scanning needs beyond the schema: results it can track across commits
# (partialFingerprints that do not move with line numbers), a region wherever a line is known, and
# locations that name files existing in the checkout, relative to %SRCROOT% and percent-encoded.
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "golflint/v1"
# Where a folder-level finding (or one about a missing file) is shown: the first of these that exists.
ANCHOR_FILES = ("submission.json", "README.md", "train_gpt.py")
RULES_HELP_URI = "https://github.com/golflint/golflint/blob/v{version}/README.md#rules"


def _srcroot(results: Sequence[SubmissionResult]) -> Path:
    """The folder SARIF URIs are relative to: the working directory (a CI checkout's root) when every
    submission lies under it, else the deepest folder holding them all."""
    cwd = Path.cwd().resolve()
    roots = [Path(r.path).resolve() for r in results]
    if all(root == cwd or cwd in root.parents for root in roots):
        return cwd
    return Path(os.path.commonpath([str(r) for r in roots])) if roots else cwd


def _existing_file(path: Path) -> bool:
    try:
        return path.is_file() and not path.is_symlink()
    except OSError:
        return False


def _anchor(result: SubmissionResult, f: Finding) -> tuple[Path | None, bool]:
    """The file a result is shown on, and whether the finding's own line applies to it."""
    root = Path(result.path)
    if f.file:
        own = root / f.file
        if _existing_file(own):
            return own, f.where is None
    for name in ANCHOR_FILES:
        if _existing_file(root / name):
            return root / name, False
    return None, False


def _relative_uri(path: Path, srcroot: Path) -> str:
    rel = Path(os.path.relpath(path.resolve(), srcroot)).as_posix()
    return urllib.parse.quote(rel, safe="/")


def _fingerprint(rule: str, uri: str, f: Finding) -> str:
    """Stable across commits that move code: rule, file and the flagged text (or the message), never
    the line number."""
    text = f.data.get("snippet") or f.message
    normalized = " ".join(str(text).split())
    where = f"{f.file or ''}|{f.where or ''}"
    return hashlib.sha256(f"{rule}\0{uri}\0{where}\0{normalized}".encode("utf-8", "replace")).hexdigest()


def to_sarif(results: Sequence[SubmissionResult]) -> dict[str, Any]:
    rules = all_rules()
    rule_ids = sorted({f.rule for r in results for f in r.findings} | set())
    index = {rid: i for i, rid in enumerate(rule_ids)}
    help_uri = RULES_HELP_URI.format(version=__version__)
    driver_rules = []
    for rid in rule_ids:
        cls = rules.get(rid)
        entry: dict[str, Any] = {"id": rid, "helpUri": help_uri}
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
    srcroot = _srcroot(results)
    seen: dict[str, int] = {}
    sarif_results = []
    for r in results:
        for f in r.findings:
            anchor, line_applies = _anchor(r, f)
            message = visible(f.message)
            if f.file and not line_applies:
                message = f"{message} [{visible(f.location)}]"
            if f.hint:
                message = f"{message} Fix: {visible(f.hint)}"
            item: dict[str, Any] = {
                "ruleId": f.rule,
                "ruleIndex": index[f.rule],
                "level": SARIF_LEVEL[f.severity],
                "message": {"text": message},
            }
            uri = _relative_uri(anchor, srcroot) if anchor is not None else _relative_uri(Path(r.path), srcroot)
            if anchor is not None:
                region: dict[str, Any] = {"startLine": 1}
                if line_applies and f.line is not None:
                    region["startLine"] = max(1, f.line)
                    if f.col is not None:
                        region["startColumn"] = max(1, f.col)
                item["locations"] = [{"physicalLocation": {
                    "artifactLocation": {"uri": uri, "uriBaseId": SRCROOT}, "region": region}}]
            # Two identical findings in one file still get distinct fingerprints, in a stable order.
            base = _fingerprint(f.rule, uri, f)
            seen[base] = seen.get(base, 0) + 1
            item["partialFingerprints"] = {FINGERPRINT_KEY: f"{base[:32]}:{seen[base]}"}
            item["properties"] = {"submission": visible(r.path), "track": r.track}
            if f.suppressed:
                item["suppressions"] = [{"kind": "inSource", "justification": visible(f.suppress_reason)}]
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
            "originalUriBaseIds": {SRCROOT: {"uri": srcroot.as_uri().rstrip("/") + "/"}},
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
            props = [f"file={_escape_prop(visible(_artifact_uri(r, f.file)))}"]
            if f.line is not None and f.where is None:
                props.append(f"line={f.line}")
                if f.col is not None:
                    props.append(f"col={f.col}")
            props.append(f"title={_escape_prop(f'golflint {f.rule} ({f.name})')}")
            msg = visible(f.message) if f.where is None else f"{visible(f.message)} [{visible(f.location)}]"
            if f.hint:
                msg += f"\nFix: {visible(f.hint)}"
            lines.append(f"::{kind[f.severity]} {','.join(props)}::{_escape_data(msg)}")
    return "\n".join(lines) + ("\n" if lines else "")


def dumps(obj: Any) -> str:
    return json.dumps(obj, indent=2, sort_keys=False) + "\n"
