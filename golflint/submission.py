"""Submission: everything the rules may ask about one submission folder, computed lazily once.

Rules read through this object instead of touching the disk, so every file is read once, through
the bounded and symlink-safe reader in files.py, and expensive views (parsed code, parsed logs,
the run configuration, byte measurements) are built only when a selected rule asks for them.
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from .config import Settings
from .files import FileRead, file_size, list_files, read_file

if TYPE_CHECKING:
    from .budget.measure import Measurement
    from .code.units import CodeUnit
    from .logs.model import TrainLog
    from .runconfig.model import RunConfig


@dataclass(frozen=True)
class JsonLoad:
    data: Any = None
    problem: str | None = None      # missing / unreadable / not JSON: a sentence
    line: int | None = None


class Submission:
    def __init__(self, root: Path, track: str, settings: Settings,
                 env_overrides: Mapping[str, str] | None = None):
        self.root = Path(root)
        self.track = track
        self.settings = settings
        # --env VAR=VALUE from a reviewer: wins over everything the submission itself sets.
        self.env_overrides: dict[str, str] = dict(env_overrides or {})
        self._reads: dict[str, FileRead] = {}

    def __repr__(self) -> str:
        return f"Submission({str(self.root)!r}, track={self.track!r})"

    # -- files ----------------------------------------------------------------------------------
    @property
    def display(self) -> str:
        return str(self.root)

    @property
    def track_settings(self) -> dict[str, Any]:
        return self.settings.track(self.track)

    @cached_property
    def files(self) -> list[str]:
        skip = tuple(self.settings.get("discovery.skip_dirs", [".git", "__pycache__"]))
        return list_files(self.root, skip)

    def exists(self, rel: str) -> bool:
        return rel in self.files

    def read(self, rel: str) -> FileRead:
        if rel not in self._reads:
            limit = int(self.settings.get("general.max_text_file_bytes", 50_000_000))
            self._reads[rel] = read_file(self.root, rel, limit)
        return self._reads[rel]

    def text(self, rel: str) -> str | None:
        """UTF-8 text of a file, or None if missing, unreadable, binary, too large or not UTF-8."""
        fr = self.read(rel)
        return fr.text() if fr.text_problem() is None else None

    def size(self, rel: str) -> int | None:
        return file_size(self.root, rel)

    def glob(self, patterns: list[str] | tuple[str, ...], top_level_only: bool = True) -> list[str]:
        out = []
        for rel in self.files:
            if top_level_only and "/" in rel:
                continue
            name = rel.rsplit("/", 1)[-1]
            if any(fnmatch.fnmatch(name, p) for p in patterns):
                out.append(rel)
        return out

    # -- submission.json ------------------------------------------------------------------------
    # -- the parts by role (golflint/layout.py): entry script, metadata file --------------------
    @cached_property
    def entry(self) -> tuple[str | None, str]:
        from .layout import entry_script

        return entry_script(self)

    @property
    def entry_script(self) -> str | None:
        return self.entry[0]

    @cached_property
    def metadata_file(self) -> str:
        from .layout import metadata_file

        return metadata_file(self)

    @cached_property
    def submission_json(self) -> JsonLoad:
        fr = self.read(self.metadata_file)
        problem = fr.text_problem()
        if problem:
            return JsonLoad(problem=f"submission.json {problem}")
        try:
            return JsonLoad(data=json.loads(fr.text() or ""))
        except json.JSONDecodeError as exc:
            return JsonLoad(problem=f"submission.json is not valid JSON: {exc.msg} "
                                    f"(line {exc.lineno}, column {exc.colno})", line=exc.lineno)
        except RecursionError:
            return JsonLoad(problem="submission.json is nested too deeply to read")

    @property
    def claims(self) -> dict[str, Any]:
        """The submission.json object, or {} when it is missing or not an object."""
        data = self.submission_json.data
        return data if isinstance(data, dict) else {}

    # -- logs -----------------------------------------------------------------------------------
    @cached_property
    def log_files(self) -> list[str]:
        from .layout import log_files

        return log_files(self)

    @cached_property
    def logs(self) -> list["TrainLog"]:
        from .logs.parse import parse_log

        # Raw bytes: the parser reads text that is not quite UTF-8 (a stray byte in a progress
        # bar) instead of discarding the whole log, and says so.
        decimals = int(self.settings.get("logs.exact_min_decimals", 6))
        parsed = []
        for rel in self.log_files:
            fr = self.read(rel)
            parsed.append(parse_log(rel, fr.data, problem=fr.problem, exact_min_decimals=decimals))
        return parsed

    # -- code -----------------------------------------------------------------------------------
    @cached_property
    def code_units(self) -> list["CodeUnit"]:
        from .code.loader import load_code_units

        return load_code_units(self)

    @property
    def python_units(self) -> list["CodeUnit"]:
        return [u for u in self.code_units if u.language == "python" and u.tree is not None]

    # -- run configuration ----------------------------------------------------------------------
    @cached_property
    def run_config(self) -> "RunConfig":
        from .runconfig.resolve import resolve_run_config

        return resolve_run_config(self)

    # -- bytes ----------------------------------------------------------------------------------
    @cached_property
    def measurement(self) -> "Measurement":
        from .budget.measure import measure_submission

        return measure_submission(self)
