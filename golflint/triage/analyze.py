"""Analyze one submission folder read from git: materialize it, run check's engine, fingerprint its code.

A folder is identified by its content (the git tree id), its track and its name, plus a fingerprint
of the analyzer itself (golflint's sources and the settings): equal keys give equal analyses, so a
folder seen before (in this run, or in an earlier run through the cache directory) is not analyzed
again. Materialization writes only regular files and directories, validated path by path, under a
fresh temporary directory, within per-file and per-folder byte limits; nothing is executed.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import os
import shutil
import signal
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from .. import __version__
from ..config import Settings
from ..findings import Severity
from . import fingerprint
from .repo import GitRepo

ANALYSIS_FORMAT = 1
MAX_FINDINGS = 50          # findings kept per folder in the documents (counts are always complete)


@dataclass(frozen=True)
class Limits:
    file_bytes: int = 64_000_000
    folder_bytes: int = 256_000_000
    folder_files: int = 2_000
    min_function_tokens: int = 40
    folder_seconds: int = 600  # one folder's analysis; past it the row says so and the run goes on


def engine_fingerprint(settings: Settings) -> str:
    """Changes whenever golflint's code or the settings change, so cached analyses never go stale."""
    h = hashlib.sha256(f"{__version__}/{ANALYSIS_FORMAT}".encode())
    package = Path(__file__).resolve().parents[1]
    for path in sorted(package.rglob("*")):
        rel = path.relative_to(package)
        # What decides an analysis: the engine, rules and their inputs, and the fingerprints;
        # not the faces (commands, reports) nor triage's own collection and rendering.
        if rel.parts[0] in ("commands", "report", "verify") or (
                rel.parts[0] == "triage" and path.name not in ("analyze.py", "fingerprint.py")):
            continue
        if path.suffix in (".py", ".toml", ".json") and "__pycache__" not in path.parts:
            h.update(str(path.relative_to(package)).encode())
            h.update(path.read_bytes())
    h.update(json.dumps(settings.data, sort_keys=True, default=str).encode())
    return h.hexdigest()[:20]


def content_key(tree: str, track_dir: str, name: str, engine: str) -> str:
    return hashlib.sha256(f"{engine}\0{tree}\0{track_dir}\0{name}".encode()).hexdigest()[:32]


def _safe_rel(path: str) -> PurePosixPath | None:
    parts = path.split("/")  # raw components: PurePosixPath would fold "a//b" and hide "/x"
    if any(p in ("", ".", "..", ".git") or "\0" in p or "\\" in p for p in parts):
        return None
    return PurePosixPath(*parts)


def materialize(repo: GitRepo, commit: str, folder: str, dest: Path, limits: Limits) -> list[str]:
    """Write the folder's files at `commit` under dest; returns notes on what was left out."""
    notes: list[str] = []
    total = 0
    entries = repo.ls_tree(commit, folder.rstrip("/") + "/", recursive=True)
    prefix = folder.rstrip("/") + "/"
    written = 0
    for entry in entries:
        rel_text = entry.path[len(prefix):] if entry.path.startswith(prefix) else None
        rel = _safe_rel(rel_text) if rel_text else None
        if rel is None:
            notes.append(f"{entry.path}: unusual path, not materialized")
            continue
        if entry.kind != "blob":
            notes.append(f"{rel}: a {entry.kind} (submodule), not materialized")
            continue
        if entry.mode == "120000":
            notes.append(f"{rel}: a symlink, not materialized")
            continue
        size = entry.size or 0
        if written >= limits.folder_files:
            notes.append(f"{rel}: more than {limits.folder_files} files, not materialized")
            continue
        if size > limits.file_bytes or total + size > limits.folder_bytes:
            notes.append(f"{rel}: {size:,} bytes, over the triage read limit, not materialized")
            continue
        data = repo.read_blob(entry.oid, limits.file_bytes)
        if data is None:
            notes.append(f"{rel}: unreadable blob, not materialized")
            continue
        target = dest.joinpath(*rel.parts)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            # O_EXCL | O_NOFOLLOW: never write through anything that is already there.
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
        except OSError as exc:  # a name too long, a file where a folder should be: say so, go on
            notes.append(f"{rel}: could not be written ({exc.strerror or exc}), not materialized")
            continue
        total += size
        written += 1
    return notes


def _verdict(result, fail_on: Severity) -> str:
    if result.internal_errors:
        return "error"
    if not result.ok(fail_on):
        return "fail"
    if result.count(Severity.WARNING):
        return "warn"
    return "pass"


def _function_findings(prints: list[fingerprint.FunctionPrint], findings: list[dict]) -> dict[int, list]:
    out: dict[int, list] = {}
    for i, fp in enumerate(prints):
        for f in findings:
            where = f.get("where") or f.get("file")
            line = f.get("line")
            if where == fp.unit and line is not None and fp.start <= line <= fp.end:
                out.setdefault(i, []).append({"rule": f["rule"], "line": line, "severity": f["severity"]})
    return out


def analyze_folder(root: Path, track: str, settings: Settings, limits: Limits) -> dict[str, Any]:
    """check's engine on a materialized folder, plus its code fingerprints. Never raises."""
    from ..runner import collector_tuned

    with collector_tuned():
        try:
            return _analyzed(root, track, settings, limits)
        finally:
            # The cycles this folder's check left, while what existed before it is still frozen
            # out of the collection: `collector_tuned` freezes everything at the next folder's
            # start, so garbage not collected here was never collected at all (a triage of 60
            # pull requests peaked at 0.8 GB, of all of them at 8 GB).
            gc.collect()


def _analyzed(root: Path, track: str, settings: Settings, limits: Limits) -> dict[str, Any]:
    from ..bounded import roomy_call
    from ..engine import check_submission, instantiate_rules
    from ..submission import Submission

    start = time.perf_counter()
    fail_on = Severity.parse(settings.get("general.fail_on", "error"))
    try:
        sub = Submission(root, track, settings)
        result = roomy_call(check_submission, sub, instantiate_rules(settings))
    except Exception as exc:  # the engine isolates rules; this catches anything around them
        return {"verdict": "error", "counts": {"error": 0, "warning": 0, "info": 0},
                "findings": [], "bytes": None, "claimed_bpb": None, "functions": [],
                "signature": None, "error": f"{type(exc).__name__}: {exc}",
                "elapsed_ms": round((time.perf_counter() - start) * 1000, 1)}
    active = [f for f in result.findings if not f.suppressed]
    findings = [{"rule": f.rule, "name": f.name, "severity": f.severity.value, "message": f.message,
                 "file": f.file, "line": f.line, "where": f.where} for f in active]
    prints: list[fingerprint.FunctionPrint] = []
    all_shingles = []
    try:
        for unit in sub.python_units:
            unit_fps, sh = fingerprint.unit_prints(unit.label, unit.source, unit.tree,
                                                   limits.min_function_tokens)
            prints.extend(unit_fps)
            all_shingles.append(sh)
    except Exception as exc:  # fingerprints are advisory: never lose the check result over them
        prints, all_shingles = [], []
        findings_note = f"fingerprinting failed: {type(exc).__name__}: {exc}"
    else:
        findings_note = None
    joined = np.unique(np.concatenate(all_shingles)) if all_shingles else np.zeros(0, dtype=np.uint64)
    per_function = _function_findings(prints, findings)
    functions = []
    for i, fp in enumerate(prints):
        item = fp.to_json()
        item["findings"] = per_function.get(i, [])
        functions.append(item)
    rank = {"error": 0, "warning": 1, "info": 2}
    findings.sort(key=lambda f: (rank.get(f["severity"], 3), f["file"] or "", f["line"] or 0))
    out = {
        "verdict": _verdict(result, fail_on),
        "counts": {s.value: result.count(s) for s in Severity},
        "findings": findings[:MAX_FINDINGS],
        "bytes": result.bytes.get("total"),
        "claimed_bpb": result.scores.get("val_bpb"),
        "functions": functions,
        "signature": fingerprint.encode(fingerprint.minhash(joined)) if joined.size else None,
        "error": None,
        "elapsed_ms": round((time.perf_counter() - start) * 1000, 1),
    }
    if findings_note:
        out["error"] = findings_note
    return out


class ContentCache:
    """Analyses by content key: in memory for this run, and on disk when a directory is given."""

    def __init__(self, directory: Path | None):
        self.directory = directory
        self.memory: dict[str, dict] = {}
        self.hits = 0
        self.misses = 0

    def _path(self, key: str) -> Path | None:
        return self.directory / key[:2] / f"{key}.json" if self.directory else None

    def get(self, key: str) -> dict | None:
        if key in self.memory:
            self.hits += 1
            return self.memory[key]
        path = self._path(key)
        if path is not None and path.is_file():
            try:
                value = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                value = None
            if isinstance(value, dict):
                self.memory[key] = value
                self.hits += 1
                return value
        self.misses += 1
        return None

    def put(self, key: str, value: dict) -> None:
        self.memory[key] = value
        path = self._path(key)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(value), encoding="utf-8")
        os.replace(tmp, path)  # atomic: a concurrent shard never reads half a file


class _Overtime(BaseException):
    """Raised by the alarm; a BaseException so no `except Exception` in a rule swallows it."""


@contextlib.contextmanager
def _deadline(seconds: int):
    """SIGALRM after `seconds` in the main thread (the CLI, or a pool worker); elsewhere, no limit."""
    usable = seconds > 0 and hasattr(signal, "SIGALRM") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def ring(signum, frame):
        raise _Overtime()

    previous = signal.signal(signal.SIGALRM, ring)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def analyze_from_git(repo: GitRepo, commit: str, folder: str, track: str, settings: Settings,
                     limits: Limits) -> dict[str, Any]:
    """Materialize `folder` at `commit` under a temporary records/<track dir>/<name> and analyze it."""
    parts = PurePosixPath(folder).parts
    tmp = Path(tempfile.mkdtemp(prefix="golflint-triage-"))
    try:
        # Keep the track folder's name above the submission: check tells the track from it.
        dest = tmp.joinpath("records", *(parts[1:] if len(parts) >= 3 else ("submission",)))
        dest.mkdir(parents=True)
        notes = materialize(repo, commit, folder, dest, limits)
        try:
            with _deadline(limits.folder_seconds):
                out = analyze_folder(dest, track, settings, limits)
        except _Overtime:
            out = {"verdict": "error", "counts": {"error": 0, "warning": 0, "info": 0},
                   "findings": [], "bytes": None, "claimed_bpb": None, "functions": [],
                   "signature": None, "elapsed_ms": limits.folder_seconds * 1000.0,
                   "error": f"the analysis took longer than {limits.folder_seconds} s and was stopped"}
        # Messages may quote the temporary path; readers want the folder's path in the repository.
        for f in out["findings"]:
            f["message"] = f["message"].replace(str(dest), folder).replace(str(tmp), "")
        out["notes"] = notes
        return out
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
