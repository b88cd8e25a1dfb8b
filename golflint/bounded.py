"""Bounded decompression of untrusted bytes: never produce more than a limit, never trust a header.

Shared by packed-code decoding (code/packed.py) and model-file reading (budget/codecs.py), which
map the problems to their own findings and messages.
"""

from __future__ import annotations

import lzma
import sys
import weakref
import zlib
from typing import Any, Callable

CORRUPT, TOO_BIG, TRUNCATED = "corrupt", "too-big", "truncated"


class DecodeProblem(Exception):
    def __init__(self, kind: str, detail: str = ""):
        super().__init__(detail or kind)
        self.kind = kind
        self.detail = detail


def drain(make: Callable[[], Any], data: bytes, limit: int, *, multi_stream: bool = False,
          zlib_style: bool = False) -> bytes:
    """Run an incremental decompressor from `make()` over `data`, producing at most `limit` bytes.

    Like the stdlib's one-shot functions, with `multi_stream` data after the first complete stream is
    decoded as further streams, and ignored when it is not a valid stream. zlib's decompressobj
    takes the bound positionally (`zlib_style`); lzma and bz2 take `max_length=`.
    """
    chunks: list[bytes] = []
    produced = 0
    rest = data
    first = True
    while True:
        dec = make()
        try:
            if zlib_style:
                chunk = dec.decompress(rest, limit - produced + 1)
            else:
                chunk = dec.decompress(rest, max_length=limit - produced + 1)
        except (zlib.error, lzma.LZMAError, OSError, EOFError, ValueError) as exc:
            if not first:
                return b"".join(chunks)
            raise DecodeProblem(CORRUPT, str(exc)) from None
        chunks.append(chunk)
        produced += len(chunk)
        if produced > limit:
            raise DecodeProblem(TOO_BIG)
        if not dec.eof:
            if not first:
                return b"".join(chunks)
            raise DecodeProblem(TRUNCATED)
        rest = dec.unused_data
        first = False
        if not (multi_stream and rest):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


# -- deep recursion -------------------------------------------------------------------------------
# The analyzers walk syntax trees recursively; valid code can nest hundreds of levels (600 nested
# lambdas parse fine) and exceed Python's default limit of 1,000 frames. `deep_call` runs work on a
# thread whose C stack is large enough for a higher limit, so such code is analyzed instead of
# crashing. The stack is reserved address space, touched only as deep as the recursion goes.
DEEP_STACK_BYTES = 256 * 1024 * 1024
DEEP_RECURSION_LIMIT = 40_000


def deep_call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """`fn(*args, **kwargs)` on a thread with a large stack and a raised recursion limit.

    Returns its result or re-raises its exception in the caller. Where threads cannot get such a
    stack, the call runs here, under the current limit.
    """
    import threading

    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = roomy_call(fn, *args, **kwargs)
        except BaseException as exc:  # re-raised in the caller's thread
            outcome["error"] = exc

    old_limit = sys.getrecursionlimit()
    try:
        old_size = threading.stack_size(DEEP_STACK_BYTES)
    except (ValueError, RuntimeError):  # platform without settable thread stacks
        return roomy_call(fn, *args, **kwargs)
    worker = threading.Thread(target=run, name="golflint-deep", daemon=True)
    # The limit is process-wide; it is raised only while the worker (with its large stack) runs.
    sys.setrecursionlimit(max(old_limit, DEEP_RECURSION_LIMIT))
    try:
        worker.start()
    except RuntimeError:  # no room for the stack (a small `ulimit -v`): run here, default limit
        sys.setrecursionlimit(old_limit)
        threading.stack_size(old_size)
        return roomy_call(fn, *args, **kwargs)
    try:
        threading.stack_size(old_size)
        worker.join()
    finally:
        sys.setrecursionlimit(old_limit)
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


# -- per-run budgets ------------------------------------------------------------------------------
class RunBudget:
    """What the check of one submission may still spend, across all its files: bytes read from
    files (`general.max_total_read_bytes`), bytes decoded from
    packed payloads (`packed.max_decoded_bytes_per_submission`) and bytes of source parsed and
    analyzed (`analysis.max_total_source_bytes`; one file over `analysis.max_source_bytes` is
    refused on its own). Limits per payload alone let many payloads add up to gigabytes."""

    # C/C++/CUDA parse trees take about twice the memory of Python's per byte of source (measured:
    # 2 MB of C, 540 MB peak), so native bytes count twice against the per-submission total.
    NATIVE_WEIGHT = 2

    def __init__(self, decoded: int, source_total: int, source_each: int, read: int = 200_000_000,
                 native_each: int = 1_000_000):
        self.read_left = read          # bytes of files read into memory (general.max_total_read_bytes)
        self.decoded_left = decoded
        self.source_left = source_total
        self.source_total = source_total
        self.source_each = source_each
        self.native_each = native_each

    def admit_source(self, size: int, what: str = "it decodes to", *, native: bool = False) -> str | None:
        """Charge `size` bytes of source to be analyzed; a sentence saying why not, when refused."""
        each, setting = (self.native_each, "analysis.max_native_source_bytes") if native else \
            (self.source_each, "analysis.max_source_bytes")
        if size > each:
            return (f"{what} {size:,} bytes of source; golflint analyzes at most {each:,} "
                    f"per {'native file' if native else 'file or layer'} ({setting})")
        cost = size * (self.NATIVE_WEIGHT if native else 1)
        if cost > self.source_left:
            return (f"{what} {size:,} bytes of source, past what is left of the {self.source_total:,} "
                    "bytes golflint analyzes per submission (analysis.max_total_source_bytes)")
        self.source_left -= cost
        return None


_RUN_BUDGETS: "weakref.WeakKeyDictionary[Any, RunBudget]" = weakref.WeakKeyDictionary()


def run_budget(sub: Any) -> RunBudget:
    """The budget of one Submission (made from its settings on first use)."""
    budget = _RUN_BUDGETS.get(sub)
    if budget is None:
        get = sub.settings.get
        budget = RunBudget(int(get("packed.max_decoded_bytes_per_submission", 128_000_000)),
                           int(get("analysis.max_total_source_bytes", 4_000_000)),
                           int(get("analysis.max_source_bytes", 2_000_000)),
                           int(get("general.max_total_read_bytes", 200_000_000)),
                           int(get("analysis.max_native_source_bytes", 1_000_000)))
        _RUN_BUDGETS[sub] = budget
    return budget


# -- room on the frame stack ----------------------------------------------------------------------
# CPython 3.11 and later keep a thread's frames on a stack of memory chunks (16 KB at first). A
# chunk is unmapped as soon as the frame at its start returns, and mapped again, its pages zeroed
# on first touch, when the next call crosses that boundary. The abstract interpreter's recursion
# goes up and down across such a boundary hundreds of thousands of times in a run: about 70,000
# of the 100,000 page faults of a serial check of the accepted records, and half a second of
# system time. `roomy_call` calls through a frame that declares a value stack of
# FRAME_ROOM_SLOTS slots it never uses: CPython reserves them, with room for the calls below, in
# one chunk of 2 MB that stays mapped until the call returns, and the reserve's own pages are
# never touched (a value stack is not initialized, unlike local variables). On 3.10, frames are
# separate objects and nothing changes.
FRAME_ROOM_SLOTS = 1 << 17


def _call_in_roomy_frame(fn: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
    return fn(*args, **kwargs)


if sys.version_info >= (3, 11):
    try:
        _call_in_roomy_frame.__code__ = _call_in_roomy_frame.__code__.replace(
            co_stacksize=_call_in_roomy_frame.__code__.co_stacksize + FRAME_ROOM_SLOTS)
    except (TypeError, ValueError):  # an interpreter that refuses the field: calls run as they are
        pass


def roomy_call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """`fn(*args, **kwargs)`, its deep recursion kept in one chunk of CPython's frame stack
    (FRAME_ROOM_SLOTS). Only the memory the calls use changes, never what they do."""
    return _call_in_roomy_frame(fn, args, kwargs)
