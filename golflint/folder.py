"""Folder: the raw submission folder: where it is, its files through bounded reads, the settings.

Builders of decoded views (code units, run configuration, byte measurement) take a Folder, never a
Submission, so they sit below submission.py in the import graph: submission.py imports them, they
import nothing that imports submission.py (tests/test_import_graph.py keeps it that way).
Every read is memoized, so a file is read from disk once per check, and `reads` says which files a
check looked at (the result cache keys on their contents).
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from .bounded import run_budget
from .config import Settings
from .files import FileRead, file_size, list_files, read_file
from .jsonpos import JsonRefused, load_bounded

ENTRY = "train_gpt.py"


@dataclass(frozen=True)
class JsonLoad:
    data: Any = None
    problem: str | None = None      # missing / unreadable / not JSON: a sentence
    line: int | None = None


class Folder:
    def __init__(self, root: Path, track: str, settings: Settings,
                 env_overrides: Mapping[str, str] | None = None):
        self.root = Path(root)
        self.track = track
        self.settings = settings
        # --env VAR=VALUE from a reviewer: wins over everything the submission itself sets.
        self.env_overrides: dict[str, str] = dict(env_overrides or {})
        self._reads: dict[str, FileRead] = {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.root)!r}, track={self.track!r})"

    @property
    def display(self) -> str:
        return str(self.root)

    @property
    def track_settings(self) -> dict[str, Any]:
        return self.settings.track(self.track)

    @cached_property
    def files(self) -> list[str]:
        skip = tuple(self.settings.get("discovery.skip_dirs", [".git", "__pycache__"]))
        return list_files(self.root, skip, int(self.settings.get("discovery.max_files", 10_000)))

    def exists(self, rel: str) -> bool:
        return rel in self._file_set

    @cached_property
    def _file_set(self) -> frozenset[str]:
        return frozenset(self.files)

    def read(self, rel: str) -> FileRead:
        if rel not in self._reads:
            limit = int(self.settings.get("general.max_text_file_bytes", 50_000_000))
            budget = run_budget(self)  # a bound on all reads together, not only on each file
            fr = self._reads[rel] = read_file(self.root, rel, limit, run_left=budget.read_left)
            budget.read_left -= len(fr.data or b"")
        return self._reads[rel]

    @property
    def reads(self) -> dict[str, FileRead]:
        """Every file read so far, by folder-relative path."""
        return self._reads

    def adopt_reads(self, reads: dict[str, FileRead]) -> None:
        """Files another process read for this folder (a split check, engine.py): they count as
        read here, for the result cache's record of what the result depends on and for the budget."""
        budget = run_budget(self)
        for rel, fr in reads.items():
            if rel not in self._reads:
                self._reads[rel] = fr
                budget.read_left -= len(fr.data or b"")

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

    def is_counted_code(self, rel: str) -> bool:
        """Do this file's stored bytes count as code bytes (`bytes.code_files`)?"""
        patterns = self.settings.get("bytes.code_files", [ENTRY])
        return rel == self.entry_script or any(fnmatch.fnmatch(rel, p) for p in patterns)

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

    # -- submission.json ------------------------------------------------------------------------
    @cached_property
    def submission_json(self) -> JsonLoad:
        fr = self.read(self.metadata_file)
        problem = fr.text_problem()
        if problem:
            return JsonLoad(problem=f"submission.json {problem}")
        try:
            return JsonLoad(data=load_bounded(
                fr.text() or "", "submission.json",
                max_items=int(self.settings.get("submission.max_json_items", 1_000)),
                max_number_chars=int(self.settings.get("submission.max_number_chars", 100))))
        except JsonRefused as exc:
            return JsonLoad(problem=exc.message, line=exc.line)
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

    @cached_property
    def log_files(self) -> list[str]:
        from .layout import log_files

        return log_files(self)
