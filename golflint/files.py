"""Read-only, bounded access to the files of an untrusted submission folder.

Never follows a symlink out of the folder, never reads more than a limit into memory, and turns
every OS or decoding error into a `problem` string that a rule can report.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from collections.abc import Iterator
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
    if _no_link_on_the_way(root, rel):
        return False  # it resolves to the resolved root joined with `rel`: inside
    real_root = root.resolve()
    try:
        target = (root / rel).resolve()
    except (OSError, RuntimeError):  # symlink loop
        return True
    return not is_inside(target, real_root)


def _no_link_on_the_way(root: Path, rel: str) -> bool:
    """Is every step of `rel` below `root` a plain name that exists and is no symlink? (One
    `lstat` per step, where resolving the root and the path took a system call per step of
    each: GL003 asks this of every file of every folder.) False also when it cannot tell."""
    parts = rel.split("/")
    if "\\" in rel or any(part in ("", ".", "..") for part in parts):
        return False
    path = str(root)
    for part in parts:
        path = os.path.join(path, part)
        try:
            if stat.S_ISLNK(os.lstat(path).st_mode):
                return False
        except (OSError, ValueError):
            return False
    return True


def read_file(root: Path, rel: str, max_bytes: int, *, follow_out: bool = False,
              run_left: int | None = None) -> FileRead:
    """Read `root/rel` whole, up to `max_bytes`; regular files only (stat first, never opening a
    FIFO or a device). `follow_out` allows a symlink out of `root` (a path a user named).
    `run_left`: what is left of the bytes read for the whole submission (general.max_total_read_bytes)."""
    path = root / rel
    try:
        st = path.lstat()
    except FileNotFoundError:
        return FileRead(rel, problem="is missing")
    except OSError as exc:
        return FileRead(rel, problem=f"cannot be read: {exc.strerror or exc}")
    if stat.S_ISLNK(st.st_mode) or escapes(root, rel):
        if not follow_out and escapes(root, rel):
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
    if run_left is not None and st.st_size > run_left:
        return FileRead(rel, problem=f"is not read: its {st.st_size:,} bytes would pass what is left "
                                     f"({max(0, run_left):,}) of the bytes golflint reads per submission "
                                     "(general.max_total_read_bytes)", size=st.st_size)
    if run_left is not None:
        max_bytes = min(max_bytes, run_left)
    # Non-blocking, and checked again on the open descriptor: a file swapped for a FIFO or a
    # device after the stat above is refused instead of hanging or streaming without end.
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        return FileRead(rel, problem=f"cannot be read: {exc.strerror or exc}")
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return FileRead(rel, problem="is not a regular file")
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        return FileRead(rel, problem=f"cannot be read: {exc.strerror or exc}")
    finally:
        os.close(fd)
    if len(data) > max_bytes:  # grew since the stat
        return FileRead(rel, problem=f"is too large to read (over {max_bytes:,} bytes)", size=len(data))
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


def _entries(it: Iterator[os.DirEntry]) -> Iterator[os.DirEntry]:
    """A folder's entries, ending quietly where reading the folder fails part-way (EACCES, EIO)."""
    while True:
        try:
            entry = next(it)
        except StopIteration:
            return
        except OSError:
            return
        yield entry


class FileList(list):
    """A folder's entries; `truncated` is a sentence when the walk stopped at its bound, `special`
    the entries that are FIFOs, sockets or devices (git cannot even store them)."""

    truncated: str | None = None
    special: tuple[str, ...] = ()


DEFAULT_MAX_ENTRIES = 10_000


def list_files(root: Path, skip_dirs: tuple[str, ...] = (".git", "__pycache__"),
               max_entries: int | None = DEFAULT_MAX_ENTRIES) -> FileList:
    """Relative paths of every entry that is a file or a symlink, recursively, sorted.

    Symlinked folders are listed as entries, never descended into. FIFOs, sockets and devices are
    listed (so rules can refuse them by name) but never opened. The walk stops after `max_entries`
    entries (files and folders seen, skipped ones included), so a submission folder holding a
    whole disk costs bounded time and memory; `truncated` then says so.
    """
    out = FileList()
    special: list[str] = []
    root = Path(root)
    seen = 0
    stack: list[tuple[str, str]] = [(str(root), "")]
    while stack:
        folder, prefix = stack.pop()
        try:
            entries = os.scandir(folder)
        except OSError:
            continue
        subdirs: list[tuple[str, str]] = []
        with entries:
            for entry in _entries(entries):
                seen += 1
                if max_entries is not None and seen > max_entries:
                    out.truncated = (f"the folder holds more than {max_entries:,} files and folders; "
                                     f"golflint looked at the first {max_entries:,} only "
                                     "(discovery.max_files)")
                    stack.clear()
                    break
                rel = f"{prefix}{entry.name}"
                try:
                    is_dir = entry.is_dir(follow_symlinks=False)
                except OSError:
                    is_dir = False
                if is_dir:
                    if entry.name not in skip_dirs:
                        subdirs.append((entry.path, f"{rel}/"))
                    continue
                out.append(rel)
                try:
                    if not entry.is_file(follow_symlinks=False) and not entry.is_symlink():
                        special.append(rel)
                except OSError:
                    pass
        stack.extend(sorted(subdirs, reverse=True))
    out.sort()
    out.special = tuple(sorted(special))
    return out
