"""What a triage run looks at: the submission folders each pull request ref touches, and the
accepted records on main, with their dates and authors, read from git history only.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass
from pathlib import PurePosixPath

from ..config import Settings
from .repo import GitRepo

RECORDS = "records"
DEFAULT_REFS = ("refs/pull/*/head",)
_PR_NUMBER = re.compile(r"refs/pull/(\d+)/")


@dataclass
class Item:
    kind: str            # "pr" (a pull request ref) or "record" (an accepted record on main)
    ref: str             # the ref name ("refs/pull/123/head", or the main ref for records)
    pr: int | None
    commit: str          # the commit the folder is read at
    base: str | None     # merge base with main (pull requests)
    folder: str          # "records/track_10min_16mb/2026-03-19_..."
    track: str
    tree: str | None     # git tree id of the folder at `commit` (None: the ref deletes it)
    author: str
    date: int            # unix time: first commit of the PR / addition of the record to main

    def to_json(self) -> dict:
        return asdict(self)


def shard_of(name: str, count: int) -> int:
    """1-based shard a ref (or record folder) belongs to: stable across machines and runs."""
    return int(hashlib.sha256(name.encode()).hexdigest()[:12], 16) % count + 1


def parse_shard(text: str | None) -> tuple[int, int]:
    if not text:
        return 1, 1
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not m or not (1 <= int(m.group(1)) <= int(m.group(2))):
        raise ValueError(f"--shard {text!r}: use I/N with 1 <= I <= N, e.g. 2/8")
    return int(m.group(1)), int(m.group(2))


def track_of(folder: str, settings: Settings) -> str:
    parts = PurePosixPath(folder).parts
    track_dir = parts[1] if len(parts) > 1 else ""
    for name, table in settings.section("tracks").items():
        if track_dir in table.get("folders", []):
            return name
    return settings.get("discovery.default_track", "record")


def submission_folder(path: str) -> str | None:
    """records/<track dir>/<folder>/... -> records/<track dir>/<folder>; None for anything else."""
    parts = PurePosixPath(path).parts
    if len(parts) >= 4 and parts[0] == RECORDS:
        return "/".join(parts[:3])
    return None


def pr_number(ref: str) -> int | None:
    m = _PR_NUMBER.match(ref)
    return int(m.group(1)) if m else None


def record_items(repo: GitRepo, main: str, settings: Settings) -> list[Item]:
    """Every submission folder on main, dated by the first commit that added a file in it."""
    added = repo.added_dates(main, RECORDS)
    first: dict[str, tuple[int, str]] = {}
    for path, when in added.items():
        folder = submission_folder(path)
        if folder and (folder not in first or when[0] < first[folder][0]):
            first[folder] = when
    folders = sorted({f for e in repo.ls_tree(main, RECORDS + "/", recursive=True)
                      if (f := submission_folder(e.path))})
    items = []
    for folder in folders:
        date, commit = first.get(folder, (0, ""))
        author = ""
        if commit:
            author = repo.git("log", "-1", "--format=%an", commit, check=False).strip()
        items.append(Item("record", main, None, main, None, folder, track_of(folder, settings),
                          repo.tree_oid(main, folder), author, date))
    return items


def pr_items(repo: GitRepo, ref: str, head: str, main: str, settings: Settings) -> list[Item]:
    """The submission folders one ref touches relative to its merge base with main."""
    base = repo.merge_base(main, head)
    folders = sorted({f for p in repo.changed_paths(base, head, RECORDS + "/")
                      if (f := submission_folder(p))})
    if not folders:
        return []
    commits = repo.commits(base, head)
    date = min((c[1] for c in commits), default=0)
    author = commits[-1][2] if commits else ""   # the oldest commit's author opened the work
    return [Item("pr", ref, pr_number(ref), head, base, folder, track_of(folder, settings),
                 repo.tree_oid(head, folder), author, date) for folder in folders]
