"""Read-only, bounded access to the files of an untrusted submission folder.

Never follows a symlink out of the folder, never reads more than a limit into memory, and turns
every OS or decoding error into a `problem` string that a rule can report.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class FileRead:
    rel: str
    data: bytes | None = None
    problem: str | None = None
    size: int | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None and self.data is not None

    def text(self) -> str | None:
        """UTF-8 text, or None when the bytes are not UTF-8 (see `text_problem`)."""
        if self.data is None:
            return None
        try:
            return self.data.decode("utf-8")
        except UnicodeDecodeError:
            return None

    def text_problem(self) -> str | None:
        if self.problem:
            return self.problem
        if self.data is None:
            return "could not be read"
        if b"\x00" in self.data[:8192]:
            return "is binary (holds NUL bytes), not text"
        try:
            self.data.decode("utf-8")
        except UnicodeDecodeError as exc:
            return f"is not UTF-8 text (invalid byte at offset {exc.start})"
        return None


def is_inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
        return True
    except ValueError:
        return False


def escapes(root: Path, rel: str) -> bool:
    """True when `rel` (possibly a symlink, or under one) resolves outside `root`."""
    real_root = root.resolve()
    try:
        target = (root / rel).resolve()
    except (OSError, RuntimeError):  # symlink loop
        return True
    return not is_inside(target, real_root)


def read_file(root: Path, rel: str, max_bytes: int) -> FileRead:
    path = root / rel
    try:
        st = path.lstat()
    except FileNotFoundError:
        return FileRead(rel, problem="is missing")
    except OSError as exc:
        return FileRead(rel, problem=f"cannot be read: {exc.strerror or exc}")
    if stat.S_ISLNK(st.st_mode) or escapes(root, rel):
        if escapes(root, rel):
            return FileRead(rel, problem="is a symlink that points outside the submission folder")
        try:
            st = path.stat()
        except OSError:
            return FileRead(rel, problem="is a broken symlink")
    if stat.S_ISDIR(st.st_mode):
        return FileRead(rel, problem="is a folder, not a file")
    if not stat.S_ISREG(st.st_mode):
        return FileRead(rel, problem="is not a regular file")
    if st.st_size > max_bytes:
        return FileRead(rel, problem=f"is too large to read ({st.st_size:,} bytes; limit {max_bytes:,})",
                        size=st.st_size)
    try:
        with open(path, "rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        return FileRead(rel, problem=f"cannot be read: {exc.strerror or exc}")
    return FileRead(rel, data=data, size=len(data))


def file_size(root: Path, rel: str) -> int | None:
    """Bytes on disk of a regular file inside root (symlinks inside the folder are followed)."""
    if escapes(root, rel):
        return None
    try:
        st = (root / rel).stat()
    except OSError:
        return None
    return st.st_size if stat.S_ISREG(st.st_mode) else None


def list_files(root: Path, skip_dirs: tuple[str, ...] = (".git", "__pycache__")) -> list[str]:
    """Relative paths of every entry that is a file or a symlink, recursively, sorted.

    Symlinked folders are listed as entries, never descended into.
    """
    out: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        keep = []
        for d in dirnames:
            full = Path(dirpath) / d
            if d in skip_dirs:
                continue
            if full.is_symlink():
                out.append(str(full.relative_to(root)))
                continue
            keep.append(d)
        dirnames[:] = sorted(keep)
        for name in filenames:
            out.append(str((Path(dirpath) / name).relative_to(root)))
    return sorted(out)
