"""Find submission folders under the paths a user gives, and tell their track.

A path may be a submission folder, a `records/` tree, a whole fork of the challenge repo, or a file
inside a submission folder (what pre-commit passes): files map to the submission folder holding them.
The root of a fork is never a submission (the challenge keeps its baseline `train_gpt.py` there),
and a folder that is not checked is reported with the reason (`Discovery.skipped`), never dropped.
"""

from __future__ import annotations

import fnmatch
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .config import Settings
from .errors import GolflintError


@dataclass(frozen=True)
class Target:
    root: Path
    track: str
    track_source: str        # "folder records/track_10min_16mb", "--track", "default"


@dataclass(frozen=True)
class Skipped:
    """A folder under the given paths that golflint did not check, and why (never silent)."""
    path: Path
    reason: str
    # "checkout-root": the fork's root, whose records/ were checked instead (the user asked for
    # it, so it needs no note); "not-a-submission": a candidate folder that holds none;
    # "ignored": a skip_dirs/hidden folder or a file outside any submission (--show-files lists them).
    kind: str = "not-a-submission"


@dataclass
class Discovery:
    targets: list[Target] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def _is_submission(folder: Path, markers: Iterable[str]) -> bool:
    try:
        names = os.listdir(folder)
    except OSError:
        return False
    return any(_file_or_link(folder / name) for name in names
               if any(fnmatch.fnmatch(name, m) for m in markers))


def _file_or_link(path: Path) -> bool:
    """A regular file or a symlink, by lstat; a path that cannot be looked at (/proc) is neither."""
    try:
        mode = path.lstat().st_mode
    except OSError:
        return False
    return stat.S_ISREG(mode) or stat.S_ISLNK(mode)


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:
        return False


def _track_folders(settings: Settings) -> set[str]:
    return {name for table in settings.section("tracks").values() for name in table.get("folders", [])}


def _records_dir(folder: Path, settings: Settings) -> Path | None:
    """`folder/records` when folder is the root of a checkout of the challenge repository (a
    `records/` holding a track folder): that root is the challenge's own, never a submission,
    although the challenge keeps a `train_gpt.py` there."""
    records = folder / "records"
    if _is_dir(records) and any(_is_dir(records / name) for name in _track_folders(settings)):
        return records
    return None


def _why_not_a_submission(folder: Path) -> str:
    try:
        names = sorted(os.listdir(folder))
    except OSError as exc:
        return f"cannot be listed ({exc.strerror or exc})"
    if not names:
        return "empty folder"
    shown = ", ".join(names[:4]) + (", ..." if len(names) > 4 else "")
    return f"holds no code, README or submission metadata ({shown})"


def _is_track_entry(folder: Path, settings: Settings) -> bool:
    """Every folder directly under records/<track>/ is a submission of that track, whatever its
    files are named (layout.py finds its entry script, metadata and logs by role)."""
    return folder.parent.name in _track_folders(settings) and folder.parent.parent.name == "records"


def _has_submission_content(folder: Path, settings: Settings) -> bool:
    wanted = list(settings.get("discovery.track_entry_markers", ["*.py", "*.sh", "*.json", "README*"]))
    return _is_submission(folder, wanted)


def track_for(folder: Path, settings: Settings) -> tuple[str, str]:
    tracks = settings.section("tracks")
    for parent in folder.resolve().parents:
        for name, table in tracks.items():
            if parent.name in table.get("folders", []):
                return name, f"parent folder {parent.name}"
    return settings.get("discovery.default_track", "record"), "default (no track folder above it)"


def _owning_submission(path: Path, markers: list[str], settings: Settings) -> Path | None:
    for folder in (path.parent, *path.parent.parents):
        if _records_dir(folder, settings) is not None:
            return None  # reached the challenge checkout's root: the file is in no submission
        if _is_track_entry(folder, settings) or _is_submission(folder, markers):
            return folder
        if (folder / ".git").exists():
            break
    return None


def discover(paths: Iterable[Path], settings: Settings, track: str | None = None,
             skipped: list[Skipped] | None = None) -> list[Target]:
    """Submission folders under `paths`; what was passed over is appended to `skipped` if given."""
    found = find_submissions(paths, settings, track)
    if skipped is not None:
        skipped.extend(found.skipped)
    return found.targets


def find_submissions(paths: Iterable[Path], settings: Settings, track: str | None = None) -> Discovery:
    """The submission folders under `paths`, and every candidate folder that was not one, with why.

    A fork's root is not a submission: its `records/<track>/<folder>` are. A folder directly under
    a track folder is a submission if it holds code, a README or metadata; otherwise it is listed
    in `skipped`. Files (what pre-commit passes) map to the submission folder holding them.
    """
    markers = list(settings.get("discovery.markers"))
    skip = set(settings.get("discovery.skip_dirs"))
    tracks = _track_folders(settings)
    if track is not None:
        settings.track(track)  # raises a clear error for an unknown track
    found: dict[Path, Target] = {}
    skipped: dict[Path, Skipped] = {}

    def add(folder: Path) -> None:
        key = folder.resolve()
        if key in found:
            return
        if track is not None:
            found[key] = Target(folder, track, "--track")
        else:
            name, source = track_for(folder, settings)
            found[key] = Target(folder, name, source)

    def add_track_entry(folder: Path) -> None:
        if _has_submission_content(folder, settings):
            add(folder)
        else:
            skipped.setdefault(folder.resolve(), Skipped(folder, _why_not_a_submission(folder)))

    def considered() -> int:
        return len(found) + sum(1 for s in skipped.values() if s.kind != "ignored")

    def walk(path: Path) -> None:
        for dirpath, dirnames, _ in os.walk(path, followlinks=False):
            for d in dirnames:
                if d in skip or d.startswith("."):
                    passed = Path(dirpath) / d
                    skipped.setdefault(passed.resolve(), Skipped(
                        passed, "listed in discovery.skip_dirs" if d in skip else "hidden folder",
                        kind="ignored"))
            dirnames[:] = sorted(d for d in dirnames if d not in skip and not d.startswith("."))
            folder = Path(dirpath)
            if folder.name in tracks:
                for name in dirnames:
                    add_track_entry(folder / name)
                dirnames[:] = []
            elif folder != path and _records_dir(folder, settings) is not None:
                skipped.setdefault(folder.resolve(), Skipped(
                    folder, "the root of a checkout of the challenge repository, not a submission",
                    kind="checkout-root"))
                dirnames[:] = [d for d in dirnames if d == "records"]
            elif folder != path and _is_submission(folder, markers):
                add(folder)
                dirnames[:] = []  # a submission's own subfolders are part of it

    for path in paths:
        if not path.exists() and not path.is_symlink():
            raise GolflintError(f"{path}: no such file or folder")
        if path.is_file():
            owner = _owning_submission(path, markers, settings)
            if owner is not None:
                add(owner)
            else:
                skipped.setdefault(path.resolve(), Skipped(path, "not inside a submission folder",
                                                           kind="ignored"))
            continue
        records = _records_dir(path, settings)
        if records is not None:
            skipped.setdefault(path.resolve(), Skipped(
                path, "the root of a checkout of the challenge repository: its submissions are "
                      "under records/, checked one by one", kind="checkout-root"))
            walk(records)
            continue
        if _is_track_entry(path, settings) or _is_submission(path, markers):
            add(path)
            continue
        before = considered()
        walk(path)
        if considered() == before:
            # Nothing below looks like a submission: check the folder itself, so an empty or
            # half-made folder gets "README.md is missing"-style findings instead of silence.
            add(path)
    return Discovery(sorted(found.values(), key=lambda t: str(t.root)),
                     sorted(skipped.values(), key=lambda s: str(s.path)))
