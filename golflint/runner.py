"""Check many submission folders: the result cache first, then a process pool for the rest.

`check_folders` returns one SubmissionResult per folder, in the order given, whatever the number
of jobs: a parallel run prints and exits exactly like a serial one. Folders found in the cache are
never handed to a worker; when one folder or fewer is left to check, or `jobs` is 1, everything
runs in this process (a pre-commit hook on one folder pays no pool start-up; with more than one
core, that folder's groups of work are shared by this process and a forked child, see engine.py
and forked.py). The pool uses fork where the platform has it, so workers start with the rules
already imported.
"""

from __future__ import annotations

import contextlib
import gc
import os
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .bounded import deep_call
from .config import Settings
from .engine import SubmissionResult, check_submission, instantiate_rules
from .submission import Submission

if TYPE_CHECKING:
    from .cache import ResultCache


@dataclass(frozen=True)
class Job:
    root: Path
    track: str


@dataclass(frozen=True)
class RunOptions:
    settings: Settings
    env_overrides: Mapping[str, str]
    suppress: bool = True
    debug: bool = False


def default_jobs() -> int:
    return os.cpu_count() or 1


# The garbage collector's thresholds while folders are checked. A check allocates millions of
# short-lived objects (syntax trees, label sets, frames of the abstract interpreter), almost all
# freed by reference counting; Python's default examines the youngest objects every 700
# allocations, which took about a seventh of a cold check's CPU time over the accepted records
# (docs/performance.md). The cycles a folder leaves are collected after it (`_folder_done`), so
# within one folder the youngest objects are examined only every 500,000 allocations: the largest
# records then need no collection before their end (at 50,000, 17 collections examined their live
# syntax trees, about 1% of the CPU), and a folder that makes cycles all along still has them
# collected in bounded batches.
CHECK_GC_THRESHOLDS = (500_000, 20, 100)


@contextlib.contextmanager
def collector_tuned() -> Iterator[None]:
    """CHECK_GC_THRESHOLDS while the block runs; the caller's thresholds after it."""
    before = gc.get_threshold()
    gc.set_threshold(*CHECK_GC_THRESHOLDS)
    # What exists now (modules, rules, settings) lives through the run: left out of collections,
    # the collection after each folder (`_folder_done`) examines only what the checks made.
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def _folder_done() -> None:
    """After each folder: collect the cycles its check left (syntax trees and analysis records
    that refer to each other). With CHECK_GC_THRESHOLDS the oldest objects are rarely examined, so
    without this they would pile up over a run and memory would grow with the number of folders.
    What survives the collection is what lives through the run (modules imported on first use,
    such as libcst or python-minifier, and the caches kept across folders): frozen, so the next
    folder's collection examines only what that check made (the collections after each folder
    over the accepted records: 0.54 s against 1.09 s of CPU)."""
    gc.collect()
    gc.freeze()


def check_folders(folders: Sequence[Job], options: RunOptions, *, jobs: int | None = None,
                  cache: ResultCache | None = None,
                  on_done: Callable[[str], None] | None = None) -> list[SubmissionResult]:
    """Every folder's result, in input order; `on_done(name)` after each (progress)."""
    with collector_tuned():
        return _check_folders(folders, options, jobs=jobs, cache=cache, on_done=on_done)


def _check_folders(folders: Sequence[Job], options: RunOptions, *, jobs: int | None,
                   cache: ResultCache | None, on_done: Callable[[str], None] | None) -> list[SubmissionResult]:
    done = on_done or (lambda name: None)
    rules = instantiate_rules(options.settings)
    results: list[SubmissionResult | None] = [None] * len(folders)
    pending: list[int] = []
    for i, job in enumerate(folders):
        if cache is not None:
            hit = cache.lookup(_submission(job, options))
            if hit is not None:
                results[i] = hit
                done(job.root.name)
                continue
        pending.append(i)

    cores = jobs or default_jobs()
    workers = min(cores, len(pending))
    if workers <= 1 or options.debug:
        # One folder on a machine with cores to spare: its dataflow rules and the rest run side by
        # side in two processes (engine.py); --jobs 1 and --debug keep everything in this one.
        split = cores > 1 and not options.debug
        for i in pending:
            sub = _submission(folders[i], options)
            # On a thread with a large stack: deeply nested code is analyzed, not a RecursionError.
            results[i] = deep_call(check_submission, sub, rules, suppress=options.suppress, debug=options.debug,
                                   split=split)
            if cache is not None:
                cache.store(sub, results[i])
            done(folders[i].root.name)
            del sub  # one folder's parsed code at a time: memory stays flat over many folders
            if i != pending[-1]:
                _folder_done()  # (after the last one the run ends: nothing to collect for)
    else:
        # Costliest folders first, so a long one does not start last and hold up the end of the run.
        order = sorted(pending, key=lambda i: -_expected_cost(folders[i].root))
        # imported here: a one-folder run (the pre-commit hook's) starts no pool and skips ~20 ms
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=workers, mp_context=_context(),
                                 initializer=_init_worker, initargs=(options, cache)) as pool:
            for i, result in zip(order, pool.map(_check_in_worker, [folders[i] for i in order])):
                results[i] = result
                done(folders[i].root.name)
    return results  # type: ignore[return-value]


def _submission(job: Job, options: RunOptions) -> Submission:
    return Submission(job.root, job.track, options.settings, env_overrides=options.env_overrides)


# A self-extracting script's payload decodes to about three times its length of source (2.1-3.4x
# over the accepted records' seven packed scripts), and that source is analyzed too.
_PACKED_EXPANSION = 3
# A payload: runs of base64/base85 characters, on one line or split over many. Code seldom has
# 64 characters without a space, quote, dot, comma, colon or square bracket (a minified script
# that execs something may be overweighed: this only orders the work).
_PAYLOAD_RUN = re.compile(rb"[0-9A-Za-z!#$%&()*+\-;<=>?@^_`{|}~/]{64,}")
_INSPECTED_BYTES = 1 << 16    # a packed script is small (its point); larger ones are weighed by their size


def _expected_cost(root: Path) -> int:
    """A folder's expected check time, in bytes of Python: the scripts' sizes, plus for a script
    that execs something, the source its payload decodes to (a packed script, 16-28 KB on disk,
    took as long as a 60-190 KB plain one). Only orders the pool's work, largest first;
    it never changes a result."""
    total = 0
    try:
        for path in Path(root).glob("*.py"):
            if not path.is_file():
                continue
            size = path.stat().st_size
            total += size
            if size <= _INSPECTED_BYTES:
                with open(path, "rb") as f:
                    data = f.read(_INSPECTED_BYTES)
                if b"exec" in data:
                    total += _PACKED_EXPANSION * sum(map(len, _PAYLOAD_RUN.findall(data)))
    except OSError:
        pass
    return total


def _context():
    import multiprocessing

    if sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context()


# -- worker side -----------------------------------------------------------------------------------
_WORKER: dict = {}


def _init_worker(options: RunOptions, cache: ResultCache | None) -> None:
    gc.set_threshold(*CHECK_GC_THRESHOLDS)  # inherited where the pool forks; not where it spawns
    _WORKER["options"] = options
    _WORKER["rules"] = instantiate_rules(options.settings)
    _WORKER["cache"] = cache


def _check_in_worker(job: Job) -> SubmissionResult:
    options: RunOptions = _WORKER["options"]
    sub = _submission(job, options)
    result = deep_call(check_submission, sub, _WORKER["rules"], suppress=options.suppress, debug=False)
    cache = _WORKER["cache"]
    if cache is not None:
        # Stored by the worker, which holds the folder's reads; writes are atomic, so workers
        # storing side by side never corrupt each other's entries.
        cache.store(sub, result)
    del sub
    _folder_done()
    return result
