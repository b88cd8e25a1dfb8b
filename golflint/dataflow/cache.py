"""A content-hash cache of dataflow verdicts, so an unchanged submission is not re-analyzed.

Key: sha256 of the analyzer version, the `[analysis]` settings and the bytes of every `.py` file
in the submission folder (the units the analysis can reach are all among them). A hit skips
parsing too. Off unless `analysis.cache = true`; the directory is `analysis.cache_dir`, else
`$XDG_CACHE_HOME/golflint`, else `~/.cache/golflint`. A cache that cannot be read or written is
ignored: it only ever saves time.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from .spec import Spec
from .verdicts import Verdict

if TYPE_CHECKING:
    from ..submission import Submission
    from . import Analysis

# Bump when the analysis changes what it reports for the same input.
ANALYZER_VERSION = "1"


@dataclass(frozen=True)
class UnitRef:
    """Where a cached verdict points: enough for Rule.report_at."""

    path: str
    label: str


def cache_dir(sub: "Submission") -> Path | None:
    if not sub.settings.get("analysis.cache", False):
        return None
    configured = str(sub.settings.get("analysis.cache_dir", "") or "")
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "golflint"


def content_key(sub: "Submission") -> str | None:
    h = hashlib.sha256()
    h.update(ANALYZER_VERSION.encode())
    h.update(json.dumps(sub.settings.get("analysis", {}), sort_keys=True, default=str).encode())
    for rel in sorted(r for r in sub.files if r.endswith(".py")):
        fr = sub.read(rel)
        if fr.data is None:
            return None        # unreadable: let the analysis see (and report) it
        h.update(rel.encode() + b"\0" + hashlib.sha256(fr.data).digest())
    return h.hexdigest()


def cached_analysis(sub: "Submission", compute: Callable[[list, Spec], "Analysis"]) -> "Analysis":
    from . import Analysis

    directory = cache_dir(sub)
    key = content_key(sub) if directory is not None else None
    path = directory / f"dataflow-{key}.json" if directory is not None and key else None
    if path is not None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return Analysis(
                verdicts=[Verdict(v["rule"], UnitRef(v["path"], v["label"]), v["line"], v["message"])
                          for v in data["verdicts"]],
                exhausted=bool(data.get("exhausted")), statements=int(data.get("statements", 0)))
        except (OSError, ValueError, KeyError, TypeError):
            pass
    result = compute(sub.python_units, Spec.from_settings(sub.settings))
    if path is not None:
        _store(path, result)
    return result


def _store(path: Path, result: "Analysis") -> None:
    payload: dict[str, Any] = {
        "verdicts": [{"rule": v.rule, "path": v.unit.path, "label": v.unit.label, "line": v.line,
                      "message": v.message} for v in result.verdicts],
        "exhausted": result.exhausted, "statements": result.statements,
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".dataflow-", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(payload, fh)
        os.replace(tmp, path)
    except OSError:
        pass
