"""The vocabulary of the analysis: taint labels, regions of validation data, and trace events.

A value's taint is a frozenset of labels. Validation *data* is tracked as `Region`s: a read of a
validation file creates a root region; slicing it with an index that changes from one loop
iteration to the next (`val[i * L:(i + 1) * L]`) creates a sub-region tagged with that loop's
iteration. Two regions may hold the same tokens unless they come from different iterations of one
loop: that is what lets chunk i+1 be scored after chunk i was trained on, while a second epoch over
the same chunks (same iteration numbers, outer loop not in the index) overlaps the first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from ..memo import folder_memo

# Plain string labels
TRAIN = "TRAIN"            # training data (after a read of a training path)
VALPATH = "VALPATH"        # a validation shard path or pattern
TRAINPATH = "TRAINPATH"    # a training shard path or pattern
PARAM = "PARAM"            # model parameters (from .parameters(), .state_dict(), ...)
STATEFUL = "STATEFUL"      # a field updated in place: differs at every call
HOOK = "HOOK"              # a calibration hook handle

# Tuple labels: ("OUT", time, nograd) model output; ("ITER", loop) varies per iteration of loop;
# ("OBJ", id) an abstract object; ("FUNC", id, closure) a function; ("CLASS", id); ("MOD", id);
# ("SCORE", event index) derived from a score; ("WIDE", unit label, line) a glob matching both
# splits; ("TREAD", event index) data from one training-data read.
OUT, ITER, OBJ, FUNC, CLASS, MOD, SCORE, WIDE, TREAD = (
    "OUT", "ITER", "OBJ", "FUNC", "CLASS", "MOD", "SCORE", "WIDE", "TREAD")
# ("VIA", object id): computed through that module object (an adapter called on hidden states).
VIA = "VIA"
# ("GRAD", object id): computed through that module object with gradients enabled; a loss that
# reaches a module only through outputs made under no-grad (features for a probe) cannot train it.
GRAD = "GRAD"
# ("FIT", time of an update): a value computed from the gradients that update returned.
FIT = "FIT"
# ("WEIGHTS", object id): the weights of that module object (its state dict or parameters, and what
# is computed from them: a quantized copy, the bytes saved to a file and read back).
WEIGHTS = "WEIGHTS"
# ("LEAF", unit label, line, col): a tensor made with requires_grad=True, fitted by the steps whose
# loss carries it; a score computed through it after such a step comes after that step.
LEAF = "LEAF"
# ("STORED", unit label, line): data read from a file that is neither a validation nor a training
# shard (a blob the submission carries); ("STORED_SEQ", ...) the same data cut by position
# (`blob[i:j]`, `blob[pos]`): a stretch of stored tokens. ("MATCH", unit label, line, read line): a
# comparison of validation tokens with such a stretch (what a score may not depend on).
STORED, STORED_SEQ, MATCH = "STORED", "STORED_SEQ", "MATCH"
# ("CUT", bound text, expression text): positions taken from a mask cut to a fixed prefix
# (`np.flatnonzero(written[:cap])`); validation data gathered at them is a prefix of the stream.
CUT = "CUT"
# ("PREFIX", unit label, line, col): data that went through the prefix cut at that site (a
# `val[:n]` reported as partial evaluation); a score without it was computed without that cut.
PREFIX = "PREFIX"
# A value computed by a loss or a log (`cross_entropy`, `log_softmax`, `.log2()`): a score in bits
# or nats, unlike hit counts and similarities.
LOSS = "LOSS"

Labels = frozenset
EMPTY: frozenset = frozenset()


class Region:
    """A stretch of validation tokens. Interned: identity is equality."""

    __slots__ = ("__dict__", "gens", "key", "line", "parents", "unit")

    def __init__(self, key: tuple, gens: frozenset, parents: frozenset, unit: Any, line: int):
        self.key = key            # (unit label, line, col) of the read / slice / loop
        self.gens = gens          # {(loop key, iteration 0|1)} the index depends on
        self.parents = parents    # regions it was cut from
        self.unit = unit
        self.line = line
        self.split: tuple[str, str] | None = None   # ("k", "head"|"tail") for t[:k] / t[k:...]

    def __repr__(self) -> str:
        return f"Region({self.key[1]}:{self.key[2]} {sorted(self.gens, key=str)})"

    @cached_property
    def lineage(self) -> frozenset:
        out = {self}
        for p in self.parents:
            out |= p.lineage
        return frozenset(out)

    @cached_property
    def all_gens(self) -> dict:
        out: dict = {}
        for r in self.lineage:
            for loop, k in r.gens:
                out.setdefault(loop, set()).add(k)
        return out

    @cached_property
    def source(self) -> Region:
        """The root (the read) this region was cut from (first one, when several)."""
        r = self
        while r.parents:
            r = min(r.parents, key=lambda p: p.key)
        return r

    def forget_derived(self) -> None:
        """Drop the cached properties above. `lineage` holds the region itself and `source` may
        be it: reference cycles that keep the region, its unit and the unit's syntax tree for the
        garbage collector instead of freeing them when the analysis is dropped."""
        for name in _REGION_DERIVED:
            self.__dict__.pop(name, None)


# Region's cached properties, read off the class: one added later is dropped too
_REGION_DERIVED = tuple(name for name, value in vars(Region).items() if isinstance(value, cached_property))


# Label on a table written by a cache write: (CACHE_WRITE, time of the write event).
CACHE_WRITE = "CACHE_WRITE"
# (EARLIER, time of a cache write): what a loop read from that table at a later iteration than the
# tokens the write put there, stored at the reading iteration's own position (`hint[i] = table[ctx]`
# before `table[ctx] = tok`): a prefix-only feature of the stream, derived from validation tokens
# but no longer the table (a score that reads it reads no cache filled before scoring).
EARLIER = "EARLIER"


def earlier_iteration(write_loops: tuple, written: frozenset, read_loops: tuple) -> tuple | None:
    """Did a table write hold only tokens of iterations before the one that reads the table, in one
    run of a loop that walks the stream? Returns that loop's key, or None.

    `write_loops`/`read_loops`: the loops running at the write and at the read, outermost first, as
    (loop key, abstract iteration 0 = an earlier one | 1 = a later one). `written`: the regions the
    write put into the table (key and value). The loops around that loop must be at the same
    iteration for both (one run of it), and the written tokens must be cut by its iteration (a loop
    that repeats the same tokens, epochs or passes, never qualifies). Then the write qualifies when
    it was made at an earlier iteration than the read, or at the reading iteration from tokens of
    earlier ones only (a word flushed into a table when the next one starts). The legal
    score-then-count loop and the prefix-only hint loop are both this; a table filled by a first
    pass, or read back in the iteration that wrote the current token, is not. Two abstract
    iterations cannot tell `tok[i]` from `tok[i + 1]` within one iteration: an offset inside the
    loop is not seen."""
    for (loop_w, k_w), (loop_r, k_r) in zip(write_loops, read_loops):
        if loop_w != loop_r:
            return None
        cut = [r for r in written if loop_w in r.all_gens]
        if k_w != k_r:
            return loop_w if k_w < k_r and cut else None
        if k_r == 1 and cut and all(earlier_tokens_only(r, loop_w) for r in cut):
            return loop_w
    return None


def earlier_tokens_only(region: Region, loop: tuple) -> bool:
    """Does the region hold only tokens of an earlier iteration of `loop` than the current one: was
    it, or a stretch it was cut from, cut at iteration 0 only? (A table entry looked up at iteration
    1 by a key that changes with the loop is cut at iteration 1 from what iteration 0 wrote: still
    earlier tokens.)"""
    return any((loop, 0) in r.gens and (loop, 1) not in r.gens for r in region.lineage)


def regions_overlap(a: Region, b: Region) -> bool:
    """May a and b hold some of the same tokens?"""
    # Memoized on the region: judging compares every update with every score, and the same
    # interned regions meet over and over (the memo dies with the analysis's regions).
    memo = a.__dict__.get("_overlaps")
    if memo is None:
        memo = a.__dict__["_overlaps"] = {}
    known = memo.get(b)
    if known is None:
        known = memo[b] = _regions_overlap(a, b)
    return known


def _regions_overlap(a: Region, b: Region) -> bool:
    if a is b or a in b.lineage or b in a.lineage:
        return True
    if _split_apart(a, b):
        return False
    ga, gb = a.all_gens, b.all_gens
    for loop, ks in ga.items():
        other = gb.get(loop)
        if other is not None and not (ks & other):
            return False   # different iterations of one loop: different chunks
    return True


def _split_apart(a: Region, b: Region) -> bool:
    """Are a and b (through their lineages) the head and the tail of one stretch cut at one bound?"""
    heads = {(r.parents, r.split[0]) for r in a.lineage if r.split and r.split[1] == "head"}
    tails = {(r.parents, r.split[0]) for r in a.lineage if r.split and r.split[1] == "tail"}
    if not heads and not tails:
        return False
    for r in b.lineage:
        if r.split and (r.parents, r.split[0]) in (tails if r.split[1] == "head" else heads):
            return True
    return False


def any_overlap(xs: frozenset, ys: frozenset) -> tuple[Region, Region] | None:
    for a in xs:
        for b in ys:
            if regions_overlap(a, b):
                return a, b
    return None


class LabelMemo(dict):
    """A per-folder memo of one question about label sets (their regions, whether they hold data,
    ...). The interpreter asks the same sets again and again and a frozenset keeps its hash, so a
    hit is one dict look-up; past LIMIT entries the memo starts over, so memory stays bounded."""

    LIMIT = 200_000

    def remember(self, labels: frozenset, answer: Any) -> Any:
        if len(self) > self.LIMIT:
            self.clear()
        self[labels] = answer
        return answer


def label_memo() -> LabelMemo:
    return folder_memo(LabelMemo())


_REGIONS = label_memo()


def regions_of(labels: frozenset) -> frozenset:
    # Memoized like interp._strip: the interpreter asks this of the same label sets again and
    # again (every event, every subscript, every loop target), and a frozenset keeps its hash.
    if type(labels) is not frozenset:
        return frozenset(x for x in labels if isinstance(x, Region))
    out = _REGIONS.get(labels)
    if out is None:
        out = _REGIONS.remember(labels, frozenset(x for x in labels if isinstance(x, Region)))
    return out


def is_data(label: Any) -> bool:
    return isinstance(label, Region) or label == TRAIN or (isinstance(label, tuple) and label[0] == TREAD)


_HAS_DATA = label_memo()


def has_data(labels: frozenset) -> bool:
    # Memoized like regions_of: asked of every label set the interpreter builds
    if type(labels) is not frozenset:
        return _has_data(labels)
    known = _HAS_DATA.get(labels)
    if known is None:
        known = _HAS_DATA.remember(labels, _has_data(labels))
    return known


def _has_data(labels: Any) -> bool:
    for x in labels:  # is_data, inline
        if isinstance(x, Region) or x == TRAIN or (isinstance(x, tuple) and x[0] == TREAD):
            return True
    return False


def out_labels(labels: frozenset) -> list[tuple]:
    return [x for x in labels if isinstance(x, tuple) and x[0] == OUT]


@dataclass
class Event:
    """Something the abstract execution did, in execution order (`time`)."""

    kind: str                 # "update" | "cache" | "score" | "read" | "calib" | "best_of" | "select"
    time: int
    unit: Any                 # CodeUnit
    line: int
    regions: frozenset        # validation regions involved
    labels: frozenset         # all labels of the value
    path: tuple               # ((if execution id, branch), ...) taken to get here
    stack: tuple              # ((frame id, unit, current line, id(function node) or 0), ...) outermost first
    segment: int              # events of different segments are never ordered
    nograd: bool = False
    detail: dict = field(default_factory=dict)

    @cached_property
    def forward_time(self) -> int:
        """When the model output in this value was computed (scores and updates)."""
        outs = out_labels(self.labels)
        return max((o[1] for o in outs), default=self.time)

    @property
    def train(self) -> bool:
        return TRAIN in self.labels


def compatible(p: tuple, q: tuple) -> bool:
    """Can both paths happen in one run? (No if-execution took different branches.)"""
    if not p or not q:
        return True
    d = dict(p)
    for k, b in q:
        if d.get(k, b) != b:
            return False
    return True
