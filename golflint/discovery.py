"""Find submission folders under the paths a user gives, and tell their track.

A path may be a submission folder, a `records/` tree, a whole fork of the challenge repo, or a file
inside a submission folder (what pre-commit passes): files map to the submission folder holding them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from .config import Settings
from .errors import GolflintError


@dataclass(frozen=True)
class Target:
    root: Path
    track: str
    track_source: str        # "folder records/track_10min_16mb", "--track", "default"


@dataclass(frozen=True)
class Skipped:
    """A path discovery did not treat as (part of) a submission, and why; shown by `check --show-files`."""
    path: Path
    reason: str


def _is_submission(folder: Path, markers: Iterable[str]) -> bool:
    return any((folder / m).is_file() or (folder / m).is_symlink() for m in markers)


def track_for(folder: Path, settings: Settings) -> tuple[str, str]:
    tracks = settings.section("tracks")
    for parent in folder.resolve().parents:
        for name, table in tracks.items():
            if parent.name in table.get("folders", []):
                return name, f"parent folder {parent.name}"
    return settings.get("discovery.default_track", "record"), "default (no track folder above it)"


def _owning_submission(path: Path, markers: list[str]) -> Path | None:
    for folder in (path.parent, *path.parent.parents):
        if _is_submission(folder, markers):
            return folder
        if (folder / ".git").exists():
            break
    return None


def discover(paths: Iterable[Path], settings: Settings, track: str | None = None,
             skipped: list[Skipped] | None = None) -> list[Target]:
    """Submission folders under `paths`; what was passed over is appended to `skipped` if given."""
    note = skipped.append if skipped is not None else (lambda _: None)
    markers = list(settings.get("discovery.markers"))
    skip = set(settings.get("discovery.skip_dirs"))
    if track is not None:
        settings.track(track)  # raises a clear error for an unknown track
    found: dict[Path, Target] = {}

    def add(folder: Path) -> None:
        key = folder.resolve()
        if key in found:
            return
        if track is not None:
            found[key] = Target(folder, track, "--track")
        else:
            name, source = track_for(folder, settings)
            found[key] = Target(folder, name, source)

    for path in paths:
        if not path.exists() and not path.is_symlink():
            raise GolflintError(f"{path}: no such file or folder")
        if path.is_file():
            owner = _owning_submission(path, markers)
            if owner is not None:
                add(owner)
            else:
                note(Skipped(path, "not inside a submission folder"))
            continue
        if _is_submission(path, markers):
            add(path)
            continue
        before = len(found)
        for dirpath, dirnames, _ in os.walk(path, followlinks=False):
            for d in sorted(dirnames):
                if d in skip:
                    note(Skipped(Path(dirpath) / d, "listed in discovery.skip_dirs"))
                elif d.startswith("."):
                    note(Skipped(Path(dirpath) / d, "hidden folder"))
            dirnames[:] = sorted(d for d in dirnames if d not in skip and not d.startswith("."))
            folder = Path(dirpath)
            if folder != path and _is_submission(folder, markers):
                add(folder)
                dirnames[:] = []  # a submission's own subfolders are part of it
        if len(found) == before:
            # Nothing below looks like a submission: check the folder itself, so an empty or
            # half-made folder gets "README.md is missing"-style findings instead of silence.
            add(path)
    return sorted(found.values(), key=lambda t: str(t.root))
