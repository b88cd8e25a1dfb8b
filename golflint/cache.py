"""The result cache: a submission folder whose inputs did not change is not checked again.

One entry per folder holds its whole SubmissionResult (every rule's findings, the summaries). It
is found by a key over everything the result can depend on:

- the run context: golflint's version and a fingerprint of its own source files (so an edited
  checkout never serves stale verdicts), the Python version, every setting of the rulebook, the
  selected rules, `--no-suppress`, `--env`;
- the folder: its path as given and resolved, its track, and the name, type, size (and symlink
  target) of every file in it.

The entry also records the content hash of every file the check read; a lookup re-reads those
files (through the same bounded reader, so the reads are reused if the check has to run after all)
and serves the entry only when every hash matches. Files that were only sized are covered by the
listing. Editing a file therefore invalidates the entry, and changing a setting changes the key.

An entry is a header line (magic, format, key, sha256 of the body) and a JSON body. Anything that
does not parse, carries another key or format, or fails its checksum is ignored and overwritten:
the cache is never trusted. Writes go to a temporary file in the same folder and are moved into
place with os.replace, so concurrent runs see either the old entry or the new one, never half.
A cache that cannot be read or written only costs time.

Location: `--cache-dir`, else $GOLFLINT_CACHE_DIR, else $XDG_CACHE_HOME/golflint, else
~/.cache/golflint (%LOCALAPPDATA%\\golflint on Windows).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import stat
import sys
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any

from . import __version__
from .config import Settings
from .engine import SubmissionResult
from .findings import Finding, Severity
from .folder import Folder

FORMAT = 1
MAGIC = "golflint-result-cache"
ENTRY_SUFFIX = ".entry"


def default_cache_dir() -> Path:
    configured = os.environ.get("GOLFLINT_CACHE_DIR")
    if configured:
        return Path(configured).expanduser()
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "golflint"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "golflint"


def _source_fingerprint() -> str:
    """Sizes and modification times of golflint's own files: a development checkout that changed
    its rules gets a fresh cache even though the version string did not change."""
    h = hashlib.sha256()
    package = Path(__file__).resolve().parent
    for path in sorted(package.rglob("*")):
        if path.suffix in (".py", ".toml") and "__pycache__" not in path.parts:
            try:
                st = path.stat()
            except OSError:
                continue
            h.update(f"{path.relative_to(package)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    rulebook = package.parent / "rules.toml"
    if rulebook.exists():
        h.update(hashlib.sha256(rulebook.read_bytes()).digest())
    return h.hexdigest()


def _stable_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=repr, separators=(",", ":"))


# -- (de)serialising results -------------------------------------------------------------------
def _finding_to_json(f: Finding) -> dict[str, Any]:
    out = {k.name: getattr(f, k.name) for k in fields(Finding)}
    out["severity"] = f.severity.value
    return out


def _finding_from_json(d: Mapping[str, Any]) -> Finding:
    kw = dict(d)
    kw["severity"] = Severity(kw["severity"])
    return Finding(**kw)


def result_to_json(result: SubmissionResult) -> dict[str, Any]:
    return {"findings": [_finding_to_json(f) for f in result.findings], "bytes": result.bytes,
            "scores": result.scores, "details": result.details, "elapsed_ms": result.elapsed_ms}


def result_from_json(d: Mapping[str, Any], path: str, track: str) -> SubmissionResult:
    return SubmissionResult(path=path, track=track,
                            findings=[_finding_from_json(f) for f in d["findings"]],
                            bytes=dict(d["bytes"]), scores=dict(d["scores"]),
                            details=dict(d["details"]), elapsed_ms=float(d["elapsed_ms"]))


def _round_trips(result: SubmissionResult) -> bool:
    """A result is cached only when JSON gives it back unchanged (no tuples, no odd keys), so a
    hit renders byte for byte like the run that stored it."""
    try:
        back = result_from_json(json.loads(json.dumps(result_to_json(result))), result.path, result.track)
    except (TypeError, ValueError, KeyError):
        return False
    return (back.findings == result.findings
            and [f.data for f in back.findings] == [f.data for f in result.findings]
            and _types_match([f.data for f in result.findings], [f.data for f in back.findings])
            and _types_match([result.bytes, result.scores, result.details],
                             [back.bytes, back.scores, back.details]))


def _types_match(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_types_match(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_types_match(x, y) for x, y in zip(a, b))
    return a == b or (isinstance(a, float) and math.isnan(a) and math.isnan(b))


# -- the cache -----------------------------------------------------------------------------------
class ResultCache:
    def __init__(self, directory: Path, settings: Settings, rule_ids: Iterable[str], *,
                 suppress: bool = True, env_overrides: Mapping[str, str] | None = None):
        self.directory = Path(directory)
        context = {
            "format": FORMAT, "golflint": __version__, "source": _source_fingerprint(),
            "python": sys.version, "settings": settings.data, "rules": sorted(rule_ids),
            "suppress": suppress, "env": dict(env_overrides or {}),
        }
        self.context = hashlib.sha256(_stable_json(context).encode()).hexdigest()
        self.hits = 0
        self.misses = 0

    # The key names the folder and its listing; the entry's recorded hashes cover the contents.
    def key(self, folder: Folder) -> str:
        h = hashlib.sha256(self.context.encode())
        h.update(_stable_json([folder.display, str(folder.root.resolve()), folder.track]).encode())
        for rel in folder.files:
            h.update(_listing_line(folder.root, rel))
        return h.hexdigest()

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}{ENTRY_SUFFIX}"

    def lookup(self, folder: Folder) -> SubmissionResult | None:
        try:
            key = self.key(folder)
            raw = self._path(key).read_bytes()
        except OSError:
            self.misses += 1
            return None
        body = _verified_body(raw, key)
        if body is None or not _reads_match(folder, body.get("reads")):
            self.misses += 1
            return None
        try:
            result = result_from_json(body["result"], folder.display, folder.track)
        except (TypeError, ValueError, KeyError, AttributeError):
            self.misses += 1
            return None
        self.hits += 1
        return result

    def store(self, folder: Folder, result: SubmissionResult) -> None:
        if not _round_trips(result) or any(f.rule == "GL999" for f in result.findings):
            return  # a crash is not a verdict worth keeping
        try:
            key = self.key(folder)
            reads = {rel: _read_digest(fr) for rel, fr in sorted(folder.reads.items())}
            # Key order kept as is: the report prints dictionaries in the order they were built.
            body = json.dumps({"reads": reads, "result": result_to_json(result)}).encode()
            header = _stable_json({"magic": MAGIC, "format": FORMAT, "key": key,
                                   "sha256": hashlib.sha256(body).hexdigest()}).encode()
            path = self._path(key)
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=ENTRY_SUFFIX)
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(header + b"\n" + body)
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except (OSError, TypeError, ValueError):
            pass


def _listing_line(root: Path, rel: str) -> bytes:
    path = root / rel
    try:
        st = path.lstat()
    except OSError:
        return f"{rel}\0missing\n".encode()
    target = ""
    if stat.S_ISLNK(st.st_mode):
        try:
            target = os.readlink(path)
        except OSError:
            target = "?"
    return f"{rel}\0{stat.S_IFMT(st.st_mode)}\0{st.st_size}\0{target}\n".encode()


def _read_digest(fr: Any) -> str:
    if fr.data is None:
        return f"problem:{fr.problem}"
    return hashlib.sha256(fr.data).hexdigest()


def _reads_match(folder: Folder, reads: Any) -> bool:
    if not isinstance(reads, dict):
        return False
    return all(isinstance(rel, str) and _read_digest(folder.read(rel)) == digest
               for rel, digest in reads.items())


def _verified_body(raw: bytes, key: str) -> dict[str, Any] | None:
    header_line, sep, body = raw.partition(b"\n")
    if not sep:
        return None
    try:
        header = json.loads(header_line)
        if (not isinstance(header, dict) or header.get("magic") != MAGIC
                or header.get("format") != FORMAT or header.get("key") != key
                or header.get("sha256") != hashlib.sha256(body).hexdigest()):
            return None
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def clean(directory: Path) -> int:
    """Remove every cache entry under `directory`; returns how many were removed. Only our own
    entry files and the two-character folders holding them are touched."""
    removed = 0
    if not directory.is_dir():
        return 0
    for sub in directory.iterdir():
        if not (sub.is_dir() and not sub.is_symlink() and len(sub.name) == 2):
            continue
        for entry in sub.iterdir():
            if entry.name.endswith(ENTRY_SUFFIX) and entry.is_file():
                try:
                    entry.unlink()
                    removed += 1
                except OSError:
                    pass
        try:
            sub.rmdir()
        except OSError:
            pass
    return removed

