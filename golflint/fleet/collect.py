"""`golflint verify collect DIR`: every verify report under a results folder, as one table.

Reads what the SLURM jobs wrote (`<sub>-<hash>/meta.json`, `seed_S.json`), or any folder of verify
JSON reports (`golflint verify --format json > x.json`), merges the seeds of one submission, and
renders with the same table renderer as `golflint triage`. The exit code is the worst verdict:
1 when any submission is not verified, else 2 when any could not run or has a report missing,
else 0. A report that is not verify's JSON is listed as unreadable, never trusted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..report.table import Column, Link, Table
from .slurm import META, report_name

MAX_REPORT_BYTES = 8 * 1024 * 1024
MAX_REPORTS = 100_000

VERIFIED, NOT_VERIFIED, COULD_NOT_RUN, PENDING = "verified", "not verified", "could not run", "missing report"
_RANK = {NOT_VERIFIED: 3, COULD_NOT_RUN: 2, PENDING: 1, VERIFIED: 0}


@dataclass
class SeedReport:
    seed: str
    outcome: str
    path: Path | None = None
    val_bpb: float | None = None
    claimed_bpb: str = ""
    total_bytes: int | None = None
    train_time_ms: float | None = None
    failing: list[str] = field(default_factory=list)   # names of checks that did not pass
    problem: str | None = None


@dataclass
class SubmissionReport:
    submission: str
    content_hash: str = ""
    job_id: str = ""
    seeds: list[SeedReport] = field(default_factory=list)

    @property
    def outcome(self) -> str:
        if not self.seeds:
            return PENDING
        return max((s.outcome for s in self.seeds), key=lambda o: _RANK.get(o, 2))


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        if not path.is_file() or path.stat().st_size > MAX_REPORT_BYTES:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def seed_reports(report: dict[str, Any], path: Path) -> list[SeedReport]:
    """One verify JSON report (version 1) as a SeedReport per run it holds."""
    outcome = report.get("outcome")
    if report.get("version") != 1 or outcome not in (VERIFIED, NOT_VERIFIED, COULD_NOT_RUN):
        return [SeedReport("?", COULD_NOT_RUN, path, problem="not a golflint verify report")]
    runs = report.get("runs") if isinstance(report.get("runs"), list) else []
    preflight = report.get("preflight") if isinstance(report.get("preflight"), dict) else {}
    if not runs:
        why = report.get("problem") or (preflight.get("detail") if preflight.get("verdict") == "fail" else None)
        return [SeedReport("", str(outcome), path, problem=str(why) if why else None)]
    out = []
    for run in runs:
        if not isinstance(run, dict):
            continue
        checks = [c for c in run.get("checks", []) if isinstance(c, dict)]
        score = next((c for c in checks if c.get("name") == "score"), {})
        failing = [str(c.get("name")) for c in checks if c.get("verdict") in ("fail", "crashed", "timeout")]
        run_outcome = str(outcome)
        if len(runs) > 1:   # one report, several seeds: each seed's own verdict
            run_outcome = VERIFIED if run.get("verdict") == "pass" else NOT_VERIFIED
        total = run.get("total_bytes")
        out.append(SeedReport(str(run.get("seed") or ""), run_outcome, path, _number(run.get("val_bpb")),
                              str(score.get("claimed", "")), total if isinstance(total, int) else None,
                              _number(run.get("train_time_ms")), failing, report.get("problem")))
    return out


def collect(results: Path) -> list[SubmissionReport]:
    """Every submission under RESULTS, sorted by folder name."""
    submissions: dict[str, SubmissionReport] = {}
    seen: set[Path] = set()
    count = 0
    for meta_path in sorted(results.rglob(META)):
        meta = _read_json(meta_path) or {}
        folder = meta_path.parent
        seeds = meta.get("seeds") if isinstance(meta.get("seeds"), list) else []
        sub = SubmissionReport(str(meta.get("submission", folder.name)), str(meta.get("content_hash", "")),
                               str(meta.get("job_id", "")))
        for seed in seeds:
            path = folder / report_name(str(seed), "json")
            seen.add(path)
            data = _read_json(path)
            if data is None:
                sub.seeds.append(SeedReport(str(seed), PENDING, None, problem=f"{path.name} not written (yet)"))
            else:
                sub.seeds.extend(seed_reports(data, path))
        submissions[str(folder)] = sub
    for path in sorted(results.rglob("*.json")):
        count += 1
        if count > MAX_REPORTS:
            break
        if path in seen or path.name == META or path.parent.joinpath(META).exists():
            continue
        data = _read_json(path)
        if data is None or "outcome" not in data:
            continue
        sub = submissions.setdefault(str(path), SubmissionReport(str(data.get("submission", path.stem))))
        sub.seeds.extend(seed_reports(data, path))
    return sorted(submissions.values(), key=lambda s: (s.submission, s.content_hash))


COLUMNS = [
    Column("submission", "Submission"),
    Column("verdict", "Verdict"),
    Column("seeds", "Seeds"),
    Column("val_bpb", "val_bpb (reproduced)", kind="number", align="right", fmt="{:.5f}"),
    Column("claimed", "claimed", align="right"),
    Column("bytes", "Bytes", kind="number", align="right", fmt="{:,}"),
    Column("failing", "Failing checks"),
    Column("hash", "Content hash", terminal=False),
    Column("job", "Job", terminal=False),
    Column("reports", "Reports", kind="links", markdown=False, terminal=False),
]


def table(reports: list[SubmissionReport], title: str = "golflint verify collect") -> Table:
    rows = []
    for sub in reports:
        bpbs = [s.val_bpb for s in sub.seeds if s.val_bpb is not None]
        sizes = [s.total_bytes for s in sub.seeds if s.total_bytes is not None]
        failing = sorted({f"{name} (seed {s.seed})" for s in sub.seeds for name in s.failing})
        problems = sorted({f"seed {s.seed or 'default'}: {s.problem}" for s in sub.seeds if s.problem})
        rows.append({
            "submission": sub.submission,
            "verdict": sub.outcome,
            "seeds": ", ".join(f"{s.seed or 'default'}={s.outcome}" for s in sub.seeds),
            "val_bpb": sum(bpbs) / len(bpbs) if bpbs else None,
            "claimed": ", ".join(sorted({s.claimed_bpb for s in sub.seeds if s.claimed_bpb})),
            "bytes": max(sizes) if sizes else None,
            "failing": "; ".join(failing + problems),
            "hash": sub.content_hash[:12],
            "job": sub.job_id,
            "reports": [Link(s.path.name, None, str(s.path)) for s in sub.seeds if s.path is not None],
        })
    counts: dict[str, int] = {}
    for sub in reports:
        counts[sub.outcome] = counts.get(sub.outcome, 0) + 1
    notes = [", ".join(f"{n} {o}" for o, n in sorted(counts.items(), key=lambda kv: -_RANK.get(kv[0], 2)))] if counts else []
    return Table(COLUMNS, rows, title=title, notes=notes)


def exit_code(reports: list[SubmissionReport]) -> int:
    outcomes = {sub.outcome for sub in reports}
    if NOT_VERIFIED in outcomes:
        return 1
    if outcomes & {COULD_NOT_RUN, PENDING} or not reports:
        return 2
    return 0
