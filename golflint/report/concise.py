"""One line per finding, as ruff prints them: `path:line:col: CODE message`, and per-rule statistics.

Made to be grepped and read by editors: the path is the submission folder joined with the finding's
file (or the folder itself for folder-level findings), line and column default to 1 where a finding
has none, and a finding inside decoded (packed) code names its decoded place in brackets.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Sequence

from ..engine import SubmissionResult
from ..findings import Finding
from .safe import visible


def finding_line(result: SubmissionResult, f: Finding) -> str:
    path = (Path(result.path) / f.file if f.file else Path(result.path)).as_posix()
    on_file_line = f.line is not None and f.where is None
    line = f.line if on_file_line else 1
    col = f.col if on_file_line and f.col is not None else 1
    message = visible(f.message)
    if f.where is not None:
        message = f"{message} [{visible(f.location)}]"
    return f"{visible(path)}:{line}:{col}: {f.rule} {message}"


def to_concise(results: Sequence[SubmissionResult]) -> str:
    lines = [finding_line(r, f) for r in results for f in sorted(r.active, key=Finding.sort_key)]
    return "\n".join(lines) + ("\n" if lines else "")


def statistics(results: Sequence[SubmissionResult]) -> list[dict]:
    """Active findings counted per rule, most frequent first (then by id)."""
    counts: Counter[str] = Counter()
    first: dict[str, Finding] = {}
    for r in results:
        for f in r.active:
            counts[f.rule] += 1
            first.setdefault(f.rule, f)
    return [{"rule": rule, "name": first[rule].name, "severity": first[rule].severity.value, "count": n}
            for rule, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def statistics_text(results: Sequence[SubmissionResult]) -> str:
    rows = statistics(results)
    if not rows:
        return ""
    width = max(len(str(r["count"])) for r in rows)
    sev = max(len(r["severity"]) for r in rows)
    return "".join(f"{r['count']:>{width}}  {r['rule']}  {r['severity']:<{sev}}  {r['name']}\n" for r in rows)

