"""Read a git repository's objects through the git command line: refs, merge bases, trees, blobs.

Nothing is checked out and nothing from the repository is executed: git is run with hooks, pagers
and replace objects off, and blobs stream through one long-lived `git cat-file --batch` process.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..errors import GolflintError

# git options that keep a hostile repository's configuration out of the way.
_SAFE_CONFIG = ("-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false",
                "-c", "diff.external=", "-c", "core.pager=cat")


@dataclass(frozen=True)
class TreeEntry:
    mode: str       # "100644", "100755", "120000" (symlink), "160000" (submodule)
    kind: str       # "blob", "tree", "commit"
    oid: str
    size: int | None
    path: str       # relative to the listed tree


class GitRepo:
    def __init__(self, path: Path):
        path = Path(path)
        git_dir = self._git_dir(path)
        if git_dir is None:
            raise GolflintError(f"{path}: not a git repository (a clone or a bare mirror)")
        self.git_dir = git_dir
        self._batch: subprocess.Popen | None = None

    @staticmethod
    def _git_dir(path: Path) -> Path | None:
        if (path / ".git").is_dir():
            return path / ".git"
        if (path / ".git").is_file():  # a worktree or submodule: let git resolve it
            out = subprocess.run(["git", "-C", str(path), "rev-parse", "--absolute-git-dir"],
                                 check=False, capture_output=True, text=True)
            return Path(out.stdout.strip()) if out.returncode == 0 else None
        if (path / "objects").is_dir() and (path / "HEAD").is_file():
            return path
        return None

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update({"GIT_NO_REPLACE_OBJECTS": "1", "GIT_TERMINAL_PROMPT": "0", "GIT_PAGER": "cat",
                    "GIT_CONFIG_NOSYSTEM": "1", "LC_ALL": "C"})
        return env

    def git(self, *args: str, check: bool = True) -> str:
        proc = subprocess.run(["git", *_SAFE_CONFIG, f"--git-dir={self.git_dir}", *args],
                              check=False, capture_output=True, env=self._env())
        if check and proc.returncode != 0:
            msg = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            raise GolflintError(f"git {' '.join(args[:3])}: {msg[-1] if msg else 'failed'}")
        return proc.stdout.decode("utf-8", "replace") if proc.returncode == 0 else ""

    # -- refs and history -------------------------------------------------------------------------
    def refs(self, patterns: list[str]) -> list[tuple[str, str]]:
        """(refname, commit oid) of every ref matching one of the patterns (for-each-ref syntax)."""
        out = self.git("for-each-ref", "--format=%(refname)%00%(objectname)%00%(objecttype)", *patterns)
        refs = []
        for line in out.splitlines():
            name, oid, kind = (line.split("\0") + ["", ""])[:3]
            if kind == "commit":
                refs.append((name, oid))
        return refs

    def resolve(self, rev: str) -> str | None:
        out = self.git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", check=False).strip()
        return out or None

    def merge_base(self, a: str, b: str) -> str | None:
        return self.git("merge-base", a, b, check=False).strip() or None

    def changed_paths(self, base: str | None, head: str, under: str) -> list[str]:
        """Paths under `under` that differ between base and head (every path of head if no base)."""
        if base is None:
            return [e.path for e in self.ls_tree(head, under, recursive=True)]
        out = self.git("diff-tree", "-r", "--no-renames", "--name-only", "-z", base, head, "--", under)
        return [p for p in out.split("\0") if p]

    def commits(self, base: str | None, head: str) -> list[tuple[str, int, str]]:
        """(oid, author time, author name) of the commits in base..head, newest first."""
        rng = f"{base}..{head}" if base else head
        out = self.git("log", "--format=%H%x00%at%x00%an", "--no-show-signature", rng, check=False)
        rows = []
        for line in out.splitlines():
            parts = line.split("\0")
            if len(parts) == 3 and parts[1].isdigit():
                rows.append((parts[0], int(parts[1]), parts[2]))
        return rows

    def added_dates(self, rev: str, under: str) -> dict[str, tuple[int, str]]:
        """For each path under `under` in rev's history: (author time, commit) of its first addition."""
        out = self.git("log", "--format=%x01%H%x00%at", "--diff-filter=A", "--name-only", "-z",
                       "--no-renames", rev, "--", under, check=False)
        dates: dict[str, tuple[int, str]] = {}
        for chunk in out.split("\x01"):
            if not chunk.strip("\0\n"):
                continue
            header, _, rest = chunk.partition("\n")
            oid, _, at = header.partition("\0")
            if not at.strip().isdigit():
                continue
            for path in rest.split("\0"):
                path = path.strip("\n")
                if path:
                    when = (int(at.strip()), oid)
                    if path not in dates or when[0] < dates[path][0]:
                        dates[path] = when
        return dates

    # -- trees and blobs --------------------------------------------------------------------------
    def ls_tree(self, rev: str, path: str = "", recursive: bool = False) -> list[TreeEntry]:
        args = ["ls-tree", "-l", "-z", "--full-tree"]
        if recursive:
            args.append("-r")
        args.append(rev)
        if path:
            args += ["--", path]
        out = self.git(*args, check=False)
        entries = []
        for record in out.split("\0"):
            if not record:
                continue
            meta, _, name = record.partition("\t")
            parts = meta.split()
            if len(parts) != 4:
                continue
            mode, kind, oid, size = parts
            entries.append(TreeEntry(mode, kind, oid, int(size) if size.isdigit() else None, name))
        return entries

    def tree_oid(self, rev: str, path: str) -> str | None:
        out = self.git("rev-parse", "--verify", "--quiet", f"{rev}:{path}", check=False).strip()
        return out or None

    def read_blob(self, oid: str, limit: int) -> bytes | None:
        """A blob's bytes, or None if it is missing, not a blob or larger than `limit`."""
        proc = self._batch_process()
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(f"{oid}\n".encode())
        proc.stdin.flush()
        header = proc.stdout.readline().decode("utf-8", "replace").split()
        if len(header) != 3:  # "<oid> missing"
            return None
        _, kind, size_text = header
        size = int(size_text)
        if kind != "blob" or size > limit:
            left = size + 1  # drain the content and its newline without keeping it
            while left > 0:
                chunk = proc.stdout.read(min(left, 1 << 20))
                if not chunk:
                    break
                left -= len(chunk)
            return None
        return proc.stdout.read(size + 1)[:size]  # content, then a newline

    def _batch_process(self) -> subprocess.Popen:
        if self._batch is None or self._batch.poll() is not None:
            self._batch = subprocess.Popen(
                ["git", *_SAFE_CONFIG, f"--git-dir={self.git_dir}", "cat-file", "--batch"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                env=self._env())
        return self._batch

    def close(self) -> None:
        if self._batch is not None:
            if self._batch.stdin:
                self._batch.stdin.close()
            self._batch.wait(timeout=10)
            if self._batch.stdout:
                self._batch.stdout.close()
            self._batch = None

    def __enter__(self) -> GitRepo:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
