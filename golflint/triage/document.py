"""Triage documents: a shard document per run (analyses + fingerprints, no lineage) and the final
document (shards merged, lineage computed, fingerprints dropped). `triage REPO` without --shard is
one shard of one, finalized at once; `triage merge` finalizes several shards: the same code path,
so a sharded run and an unsharded one give the same report.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from ..config import Settings
from ..errors import GolflintError
from . import collect, lineage
from .analyze import (
    ContentCache,
    Limits,
    analyze_from_git,
    content_key,
    engine_fingerprint,
)
from .repo import GitRepo

FORMAT = "golflint-triage"
VERSION = 1
DEFAULT_URL = "https://github.com/openai/parameter-golf"


@dataclass
class Options:
    refs: tuple[str, ...] = collect.DEFAULT_REFS
    main: str = "main"
    shard: tuple[int, int] = (1, 1)
    cache_dir: Path | None = None
    jobs: int = 1
    limit: int | None = None               # at most this many refs (newest PR numbers first)
    repo_url: str = DEFAULT_URL
    limits: Limits = field(default_factory=Limits)
    threshold: float = 0.8


def _resolve_main(repo: GitRepo, main: str) -> str:
    for candidate in (main, f"refs/heads/{main}", f"refs/remotes/origin/{main}"):
        oid = repo.resolve(candidate)
        if oid:
            return oid
    raise GolflintError(f"no branch {main!r} in the repository (give the main branch with --main)")


# A worker process keeps its own git reader; the parent sends only (commit, folder, track).
_worker: dict[str, Any] = {}


def _init_worker(git_dir: str, settings: Settings, limits: Limits) -> None:
    _worker.update(repo=GitRepo(Path(git_dir)), settings=settings, limits=limits)


def _work(commit: str, folder: str, track: str) -> dict:
    return analyze_from_git(_worker["repo"], commit, folder, track, _worker["settings"], _worker["limits"])


def build_shard(path: Path, settings: Settings, options: Options,
                progress: Callable[[str, int, int], None] | None = None) -> dict[str, Any]:
    """Collect and analyze this shard's submissions; the document carries everything merge needs."""
    started = time.perf_counter()
    index, count = options.shard
    engine = engine_fingerprint(settings)
    cache = ContentCache(options.cache_dir)
    with GitRepo(path) as repo:
        main = _resolve_main(repo, options.main)
        refs = repo.refs(list(options.refs))
        refs.sort(key=lambda r: (-(collect.pr_number(r[0]) or 0), r[0]))
        if options.limit is not None:
            refs = refs[: options.limit]
        mine = [(name, oid) for name, oid in refs if collect.shard_of(name, count) == index]
        items: list[collect.Item] = []
        skipped: list[dict[str, str]] = []
        records = [it for it in collect.record_items(repo, main, settings)
                   if collect.shard_of("main:" + it.folder, count) == index]
        for n, (name, oid) in enumerate(mine):
            if progress:
                progress("refs", n, len(mine))
            found = collect.pr_items(repo, name, oid, main, settings)
            if not found:
                skipped.append({"ref": name, "reason": "touches no submission folder under records/"})
            items.extend(found)
        if progress:
            progress("refs", len(mine), len(mine))
        todo = [*records, *items]
        analyses: dict[str, dict] = {}
        pending: dict[str, collect.Item] = {}
        keys = []
        for it in todo:
            if it.tree is None:
                keys.append(None)
                continue
            key = content_key(it.tree, it.folder.split("/")[1], it.folder.split("/")[-1], engine)
            keys.append(key)
            if key in analyses or key in pending:
                cache.hits += 1
                continue
            cached = cache.get(key)
            if cached is not None:
                analyses[key] = cached
            else:
                pending[key] = it
        done = 0
        total = len(pending)

        def finish(key: str, result: dict) -> None:
            nonlocal done
            cache.put(key, result)
            analyses[key] = result
            done += 1
            if progress:
                progress("folders", done, total)

        if progress:
            progress("folders", 0, total)
        if options.jobs > 1 and len(pending) > 1:
            with ProcessPoolExecutor(options.jobs, initializer=_init_worker,
                                     initargs=(str(repo.git_dir), settings, options.limits)) as pool:
                futures = {key: pool.submit(_work, it.commit, it.folder, it.track)
                           for key, it in pending.items()}
                for key, fut in futures.items():
                    try:
                        finish(key, fut.result())
                    except Exception as exc:  # a worker died (memory, signal): report, go on
                        finish(key, _failed(f"{type(exc).__name__}: {exc}"))
        else:
            for key, it in pending.items():
                finish(key, analyze_from_git(repo, it.commit, it.folder, it.track, settings,
                                             options.limits))

    signatures: dict[str, str] = {}
    subs = []
    for it, key in zip(todo, keys):
        analysis = analyses.get(key) if key else None
        entry = {"id": f"{it.ref}:{it.folder}" if it.kind == "pr" else f"main:{it.folder}",
                 **it.to_json(), "content_key": key}
        if analysis is None:
            entry["analysis"] = ({**_failed("the ref deletes this folder"), "verdict": "deleted"}
                                 if key is None else None)
        else:
            functions = []
            for f in analysis.get("functions") or []:
                if f.get("signature"):
                    signatures[f["digest"]] = f["signature"]
                functions.append({k: v for k, v in f.items() if k != "signature"})
            entry["analysis"] = {**analysis, "functions": functions}
        subs.append(entry)
    return {
        "format": FORMAT, "version": VERSION, "kind": "shard",
        "tool": {"name": "golflint", "version": __version__},
        "engine": engine,
        "repository": {"url": options.repo_url, "main": main, "refs": list(options.refs)},
        "shard": {"index": index, "count": count},
        "stats": {"refs": len(mine), "refs_with_submissions": len({i.ref for i in items}),
                  "submissions": len(items), "records": len(records),
                  "analyzed": len(pending), "reused": cache.hits,
                  "seconds": round(time.perf_counter() - started, 2)},
        "skipped_refs": skipped,
        "submissions": subs,
        "signatures": signatures,
    }


def _failed(message: str) -> dict:
    return {"verdict": "error", "counts": {"error": 0, "warning": 0, "info": 0}, "findings": [],
            "bytes": None, "claimed_bpb": None, "functions": [], "signature": None,
            "error": message, "elapsed_ms": 0.0, "notes": []}


def merge(shards: Iterable[dict[str, Any]], threshold: float = 0.8) -> dict[str, Any]:
    """Combine shard documents (any order, duplicates tolerated) and compute the lineage."""
    shards = list(shards)
    if not shards:
        raise GolflintError("nothing to merge")
    for doc in shards:
        if doc.get("format") != FORMAT or doc.get("kind") != "shard":
            raise GolflintError("not a triage shard document (run `golflint triage --shard I/N -o DIR` "
                                "and merge the shard JSON files it writes)")
    first = shards[0]
    for doc in shards[1:]:
        if doc.get("repository", {}).get("main") != first.get("repository", {}).get("main"):
            raise GolflintError("the shards were made against different main commits")
    counts = {d["shard"]["count"] for d in shards}
    if len(counts) != 1:
        raise GolflintError(f"the shards split the work differently (N = {sorted(counts)})")
    count = counts.pop()
    have = sorted({d["shard"]["index"] for d in shards})
    engines = sorted({d.get("engine") for d in shards})
    subs: dict[str, dict] = {}
    signatures: dict[str, str] = {}
    skipped: dict[str, dict] = {}
    for doc in shards:
        signatures.update(doc.get("signatures") or {})
        for s in doc["submissions"]:
            subs.setdefault(s["id"], s)
        for s in doc.get("skipped_refs") or []:
            skipped.setdefault(s["ref"], s)
    ordered = sorted(subs.values(), key=lambda s: (s["kind"] != "pr", -(s.get("pr") or 0), s["folder"]))
    links = lineage.lineage(ordered, signatures, threshold)
    report_subs = []
    for s, link in zip(ordered, links):
        # The report keeps verdicts and lineage; per-function prints stay in the shard documents.
        analysis = s.get("analysis")
        if s.get("tree") is None and analysis is not None:
            analysis = {**analysis, "verdict": "deleted"}  # the ref removes the folder
        if analysis is not None:
            analysis = {k: v for k, v in analysis.items() if k not in ("functions", "signature")}
            analysis["function_count"] = len((s.get("analysis") or {}).get("functions") or [])
        report_subs.append({**s, "analysis": analysis, "lineage": link})
    ordered = report_subs
    stats = {
        "refs": sum(d["stats"]["refs"] for d in shards),
        "refs_with_submissions": sum(d["stats"]["refs_with_submissions"] for d in shards),
        "submissions": sum(1 for s in ordered if s["kind"] == "pr"),
        "records": sum(1 for s in ordered if s["kind"] == "record"),
        "distinct_folders": len({s["content_key"] for s in ordered if s.get("content_key")}),
        "analyzed": sum(d["stats"]["analyzed"] for d in shards),
        "reused": sum(d["stats"]["reused"] for d in shards),
        "seconds": round(sum(d["stats"]["seconds"] for d in shards), 2),
        "verdicts": _verdict_counts(ordered),
    }
    return {
        "format": FORMAT, "version": VERSION, "kind": "report",
        "tool": {"name": "golflint", "version": __version__},
        "engines": engines,
        "repository": first["repository"],
        "shards": {"count": count, "present": have,
                   "missing": [i for i in range(1, count + 1) if i not in have]},
        "stats": stats,
        "skipped_refs": sorted(skipped.values(), key=lambda s: s["ref"]),
        "submissions": ordered,
    }


def _verdict_counts(subs: list[dict]) -> dict[str, int]:
    out: dict[str, int] = {}
    for s in subs:
        if s["kind"] == "pr":
            v = (s.get("analysis") or {}).get("verdict") or "error"
            out[v] = out.get(v, 0) + 1
    return dict(sorted(out.items()))
