"""From the trace of one abstract execution to findings, one list per rule id.

Events are compared only within one segment (one root's run) and only when their paths can both
happen (no `if` took two different branches to reach them).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from .model import (CACHE_WRITE, FIT, LOSS, MATCH, OBJ, PREFIX, SCORE, TREAD, VIA, Event, any_overlap, compatible,
                    earlier_iteration, out_labels)


# Not a rule: a candidate that GL202 confirms when the training timer reserves no time for it.
AFTER_TRAINING_CALIBRATION = "GL202:calibration-after-training"


@dataclass(frozen=True)
class Verdict:
    rule: str
    unit: Any            # CodeUnit
    line: int
    message: str
    warning: bool = False    # found, but another fact makes it doubtful: a warning, not an error


def _where(unit: Any, line: int, here: Any) -> str:
    return f"line {line}" if unit is here else f"{unit.label}:{line}"


def _source_of(regions, unit) -> str:
    srcs = sorted({(r.source.unit.label, r.source.line, id(r.source.unit)) for r in regions})
    if not srcs:
        return "validation data"
    label, line, _ = srcs[0]
    where = f"line {line}" if label == unit.label else f"{label}:{line}"
    return f"validation data read at {where}"


def judge(events: list[Event], scoring_functions: frozenset = frozenset()) -> list[Verdict]:
    """`scoring_functions`: ids of the function nodes the phase model calls scoring functions."""
    by_segment: dict[int, list[Event]] = defaultdict(list)
    for ev in events:
        by_segment[ev.segment].append(ev)
    out: dict[tuple, Verdict] = {}

    def add(rule: str, unit: Any, line: int, message: str, warning: bool = False) -> None:
        out.setdefault((rule, unit.label, line), Verdict(rule, unit, line, message, warning))

    for seg in by_segment.values():
        _judge_segment(seg, events, add, scoring_functions)
    return sorted(out.values(), key=lambda v: (v.rule, v.unit.label, v.line))


def _judge_segment(seg: list[Event], all_events: list[Event], add, scoring_functions: frozenset) -> None:
    scores = [e for e in seg if e.kind == "score"]
    # a step whose loss reaches the model only through no-grad outputs, and fits no leaf tensor,
    # trains nothing that is scored (a probe on collected features)
    updates = [e for e in seg if e.kind in ("update", "cache") and e.regions
               and not (e.detail.get("detached") and not e.detail.get("fits"))]
    train_updates = [e for e in seg if e.kind == "update" and e.train]
    # model probabilities of validation tokens (computed under no-grad) written at token-dependent
    # positions of a buffer, mixed with what a table holds: the per-token score before it is summed
    blends = [e for e in seg if e.kind == "cache" and not e.detail.get("counts") and e.regions
              and any(o[2] for o in out_labels(e.labels))]
    loads = [e for e in seg if e.kind == "load"]
    last_train_update = max((e.time for e in train_updates), default=None)
    pairs = _ScorePairs(scores)

    for u in updates:
        verb = "trained on" if u.kind == "update" else "written into a cache"
        sink = u.detail.get("sink", "")
        src = _source_of(u.regions, u.unit)
        if u.train and u.kind == "update":
            wide = sorted({(x[1], x[2]) for x in u.labels if isinstance(x, tuple) and x[0] == "WIDE"})
            if wide:
                label, line = wide[0]
                where = f"line {line}" if label == u.unit.label else f"{label}:{line}"
                msg = (f"the training data pattern at {where} also matches validation shards, and the batches it "
                       f"reads reach {sink} here")
            else:
                msg = f"{src} is mixed into a training batch that reaches {sink} here"
            add("GL102", u.unit, u.line, msg)
            continue
        fits = u.detail.get("fits") or ()

        def is_before(e: Event, u: Event = u) -> bool:
            return e.time < u.time and compatible(e.path, u.path) and any_overlap(e.regions, u.regions)

        def may_follow(e: Event, forward: int, u: Event = u, fits=fits) -> bool:
            return (forward > u.time or (FIT, u.time) in e.labels
                    or (e.time > u.time and any(f in e.labels for f in fits)))

        def reaches(e: Event, u: Event = u) -> bool:
            return (compatible(e.path, u.path)
                    and any_overlap(e.regions, u.regions)
                    # a cache matters only to the scores that read that very cache
                    and (u.kind != "cache" or (CACHE_WRITE, u.time) in e.labels)
                    and _affects(u, e, loads))

        # `before` (the scores before u that may hold its tokens) and `later` (the scores u can
        # change) are read only through their first elements, the nearest later score and
        # whether a score before was made in u's pass: found through indexes, not by comparing
        # u with every score (an update times a score is quadratic on long scripts).
        before = pairs.first_before(u, is_before)
        if u.kind == "cache" and u.detail.get("counts"):
            _judge_counts(u, scores + blends, before, add)
            continue
        nearest = pairs.nearest_later(u, fits, may_follow, reaches)
        later = [nearest] if nearest is not None else []
        if later and before:
            # Rescoring (GL103) is adaptation made while scoring (score-first TTT, a cache filled
            # by the scoring loop) followed by a second scoring of the same tokens. An update made
            # outside any scoring pass (a fine-tuning loop, a per-batch fit) after a separate
            # diagnostic score trains on tokens before the scoring that counts (GL101).
            if not pairs.any_in_pass(u, is_before):
                before = []
        elif later:
            later = pairs.first_later(u, may_follow, reaches)
        if later and not before:
            e = later[0]
            add("GL101", u.unit, u.line,
                f"{src} is {verb} here ({sink}) before it is scored at {_where(e.unit, e.line, u.unit)}; "
                "the score then counts tokens the model has already seen")
        elif later and before:
            e, first = later[0], before[0]
            first_at = ("here in an earlier pass" if (first.unit, first.line) == (e.unit, e.line)
                        else f"at {_where(first.unit, first.line, e.unit)}")
            add("GL103", e.unit, e.line,
                f"tokens first scored {first_at} are {verb} at {_where(u.unit, u.line, e.unit)} ({sink}) "
                "and scored again here")
        elif not later and not before and u.kind == "update" and not train_updates and not u.detail.get("detached"):
            add("GL102", u.unit, u.line,
                f"{src} reaches a training update here ({sink}) and no training data does: the model "
                "is trained on validation data")

    for ev in seg:
        if ev.kind in ("best_of", "select"):
            ids = sorted(x[1] for x in ev.labels if isinstance(x, tuple) and x[0] == SCORE)
            picked = [all_events[i] for i in ids if i < len(all_events)]
            if ev.kind == "select":
                add("GL106", ev.unit, ev.line,
                    f"a choice is made from validation scores here (`{ev.detail.get('what', '')}`); "
                    "the reported result is then selected on the validation set")
                continue
            passes = _rescoring_passes(picked, last_train_update_between=train_updates)
            if passes:
                a, b = passes
                add("GL103", ev.unit, ev.line,
                    f"the best of several scorings of the same tokens is taken here (passes at "
                    f"{_where(a.unit, a.line, ev.unit)} and {_where(b.unit, b.line, ev.unit)})")
            elif len(picked) >= 2:
                add("GL106", ev.unit, ev.line,
                    f"the best of several validation scores is picked here (`{ev.detail.get('what', '')}`): "
                    "selection on the validation set")

    for ev in seg:
        if ev.kind == "calib_train" and last_train_update is not None and ev.time > last_train_update:
            # judged by GL202 against the training timer (is time reserved for it?)
            add(AFTER_TRAINING_CALIBRATION, ev.unit, ev.line,
                f"training data feeds quantization calibration here ({ev.detail.get('how', 'calibration')}) "
                "after the last training step")
        if ev.kind == "calib" and ev.regions:
            add("GL107", ev.unit, ev.line,
                f"{_source_of(ev.regions, ev.unit)} feeds quantization calibration here "
                f"({ev.detail.get('how', 'calibration')})")

    for ev in seg:
        if ev.kind in ("score", "answer"):
            for m in sorted(x for x in ev.labels if isinstance(x, tuple) and x[0] == MATCH):
                _, label, line, read_label, read_line = m
                where = f"line {read_line}" if read_label == ev.unit.label else f"{read_label}:{read_line}"
                what = "score" if ev.kind == "score" else "loss"
                add("GL110", ev.unit, line,
                    f"the scored targets are compared here with tokens read from a file at {where}, and the "
                    f"{what} at {_where(ev.unit, ev.line, ev.unit)} changes where they match: the file "
                    "carries validation tokens (a paid prefix)")
                break
        if ev.kind == "ship":
            add("GL110", ev.unit, ev.line,
                f"{_source_of(ev.regions, ev.unit) if ev.regions else 'a table filled from validation tokens'} "
                f"is written into what ships ({ev.detail['how']}): the artifact then carries the answers")
        elif ev.kind == "prefix":
            # Another pass scores the same stream without this cut, and what the cut data feed is
            # no loss (hit counts, similarities: a diagnostic on a sample next to the full
            # evaluation): the cut score is not a BPB that could be reported. A warning.
            mark = (PREFIX, *ev.detail["site"]) if ev.detail.get("site") else None
            cut_scores = [s for s in scores if mark is not None and mark in s.labels]
            uncut = next((s for s in scores if mark is not None and mark not in s.labels
                          and any_overlap(s.regions, ev.regions)), None)
            if uncut is not None and cut_scores and not any(LOSS in s.labels for s in cut_scores):
                add("GL109", ev.unit, ev.line,
                    f"the {ev.detail['what']} are cut to `{ev.detail['bound']}` (`{ev.detail['text']}`) "
                    f"for statistics that are no loss (no log or cross-entropy), while the score at "
                    f"{_where(uncut.unit, uncut.line, ev.unit)} covers them without this cut: a diagnostic "
                    "on a sample; check that it is not reported as the score",
                    warning=True)
                continue
            run = f", {ev.detail['run']}" if ev.detail.get("run") else ""
            add("GL109", ev.unit, ev.line,
                f"the {ev.detail['what']} are cut to `{ev.detail['bound']}` (`{ev.detail['text']}`{run}): "
                "the score covers only part of the validation set")
        elif ev.kind == "skip":
            step, width = ev.detail["step"], ev.detail["width"]
            add("GL109", ev.unit, ev.line,
                f"the loop steps {step} tokens but scores windows of {width}: {step - width} of every "
                f"{step} validation tokens are never scored")

    _judge_train_reads(seg, scores, last_train_update, all_events, add, scoring_functions)


def _judge_counts(u: Event, scores: list[Event], before: list[Event], add) -> None:
    """A table of counts (or sums) of validation tokens, read by a later score of some of the same
    tokens: the prediction of those tokens used statistics that include the tokens themselves (and,
    for a table completed over the whole stream, the tokens after them). Whether the model output
    was computed before or after the table does not matter (a stored first-pass probability mixed
    with the complete table is still rescored), only that the score reads this very table.

    The legal cache, updated with a chunk after that chunk is scored, never meets this: its reads of
    the table come from later chunks (other iterations of the same loop) than its writes."""
    mark = (CACHE_WRITE, u.time)
    later = [e for e in scores if e.time > u.time and mark in e.labels and compatible(e.path, u.path)
             and not _earlier_chunk(u, e) and any_overlap(e.regions, u.regions)]
    if not later:
        return
    e = later[0]
    table = f"{_where(u.unit, u.line, e.unit)} ({u.detail.get('sink', '')})"
    if before:
        first = before[0]
        first_at = ("here in an earlier pass" if (first.unit, first.line) == (e.unit, e.line)
                    else f"at {_where(first.unit, first.line, e.unit)}")
        add("GL103", e.unit, e.line,
            f"tokens first scored {first_at} are counted into a table at {table} and scored again here "
            "with that table: the second score uses statistics that include the tokens themselves")
    else:
        add("GL103", e.unit, e.line,
            f"{_source_of(u.regions, u.unit)} is counted into a table at {table} before those tokens are "
            "scored here with that table: each prediction uses statistics of the whole stream, "
            "including the token being predicted and the ones after it")


def _earlier_chunk(write: Event, read: Event) -> bool:
    """Did the table hold only tokens of earlier iterations of a loop that runs both the write and
    the read, a loop that walks the stream (`model.earlier_iteration`)? Then the read scores a later
    chunk than the one counted: the legal score-then-count loop. (Regions of one window can carry
    the whole batch it was computed with, which would otherwise make chunk i+1's score look like it
    reads its own counts.) A loop that repeats the same tokens (epochs, passes) does not qualify:
    its later iteration rescores them."""
    written = write.detail.get("written", write.regions)
    return earlier_iteration(write.detail.get("loops", ()), written, read.detail.get("loops", ())) is not None


def _affects(update: Event, score: Event, loads: list[Event] = ()) -> bool:
    """Can the update change the score? When the step is known to train only certain modules
    (a fresh adapter passed to the model), only scores computed through those modules are affected:
    a compile warm-up that trains a throwaway adapter changes no later score. A module that loaded
    a trained module's weights after the step (directly, or from the file they were saved to)
    carries the step too."""
    if update.detail.get("detached"):
        # the step fits only its leaf tensors (a bias on detached logits): only scores computed
        # through them change
        return any(f in score.labels for f in update.detail.get("fits") or ())
    trains = update.detail.get("trains")
    if not trains:
        return True
    carriers = _carriers(trains, update.time, [e for e in loads if e.time < score.time])
    return any((OBJ, o) in score.labels or (VIA, o) in score.labels for o in carriers)


def _carriers(trained: frozenset, time: int, loads: list[Event]) -> set:
    """The modules holding what a step at `time` did to `trained`: those modules, and every module
    that loaded the weights of a carrier after the carrier had them (in execution order)."""
    since = {o: time for o in trained}
    for ev in sorted(loads, key=lambda e: e.time):
        if any(since.get(src, ev.time) < ev.time for src in ev.detail["sources"]):
            for dst in ev.detail["into"]:
                since.setdefault(dst, ev.time)
    return set(since)


def _in_scoring_pass(first: Event, update: Event) -> bool:
    """Was the update made inside the pass that made the first score? That pass is the call whose
    loop cut the scored tokens into chunks (the loop keys of the score's regions name the frame
    they ran in), or the call that accumulated the score when no loop cut them."""
    frames = _pass_frames(first)
    return any(f[0] in frames for f in update.stack)


def _pass_frames(first: Event) -> set:
    frames = {key[3] for r in first.regions for key in r.all_gens if len(key) > 3}
    if not frames and first.stack:
        frames = {first.stack[-1][0]}
    return frames


class _ScorePairs:
    """Indexes over one segment's scores (in time order) that answer, for one update, what the
    lists `before` and `later` of `_judge_segment` would: the same elements, found without a
    pass over every score."""

    def __init__(self, scores: list[Event]):
        self.scores = scores
        self.times = [e.time for e in scores]
        self.in_order = all(a < b for a, b in zip(self.times, self.times[1:]))
        # (forward time, position) ascending: the later scores by the time their output was made
        self.by_forward = sorted((e.forward_time, i) for i, e in enumerate(scores))
        self.forwards = [f for f, _ in self.by_forward]
        self._fit_index: dict | None = None
        self._label_index: dict = {}
        self._frame_index: dict | None = None

    def first_before(self, u: Event, is_before) -> list[Event]:
        """[the first score before u that may hold its tokens], or []."""
        candidates = self.scores[:bisect_left(self.times, u.time)] if self.in_order else self.scores
        for e in candidates:
            if is_before(e):
                return [e]
        return []

    def any_in_pass(self, u: Event, is_before) -> bool:
        """Was some score before u (that may hold its tokens) made in u's pass (`_in_scoring_pass`)?"""
        if self._frame_index is None:
            self._frame_index = {}
            for i, e in enumerate(self.scores):
                for f in _pass_frames(e):
                    self._frame_index.setdefault(f, []).append(i)
        seen: set = set()
        for f in u.stack:
            for i in self._frame_index.get(f[0], ()):
                if i not in seen:
                    seen.add(i)
                    if is_before(self.scores[i]):
                        return True
        return False

    def first_later(self, u: Event, may_follow, reaches) -> list[Event]:
        """[the first score, in time order, that u can change], or []."""
        for e in self.scores:
            if may_follow(e, e.forward_time) and reaches(e):
                return [e]
        return []

    def nearest_later(self, u: Event, fits, may_follow, reaches) -> Event | None:
        """Of the scores u can change, the one whose output was made soonest after u (its forward
        time when that comes after u, else its own time); the first in time order on a tie."""
        best = None      # (key, position)
        # scores whose output was made after u: by forward time, the first that u reaches
        for j in range(bisect_right(self.forwards, u.time), len(self.by_forward)):
            forward, i = self.by_forward[j]
            if best is not None and forward > best[0]:
                break
            if reaches(self.scores[i]) and (best is None or (forward, i) < best):
                best = (forward, i)
        # scores whose output came before u, which may still follow it through a fitted label
        for i in self._label_followers(u, fits):
            e = self.scores[i]
            if (e.forward_time <= u.time and may_follow(e, e.forward_time) and reaches(e)
                    and (best is None or (e.time, i) < best)):
                best = (e.time, i)
        return self.scores[best[1]] if best is not None else None

    def _label_followers(self, u: Event, fits) -> set:
        if self._fit_index is None:
            self._fit_index = {}
            for i, e in enumerate(self.scores):
                for x in e.labels:
                    if isinstance(x, tuple) and len(x) == 2 and x[0] == FIT:
                        self._fit_index.setdefault(x[1], []).append(i)
        out = set(self._fit_index.get(u.time, ()))
        for f in fits:
            hits = self._label_index.get(f)
            if hits is None:
                hits = self._label_index[f] = [i for i, e in enumerate(self.scores) if f in e.labels]
            out.update(hits)
        return out


def _rescoring_passes(picked: list[Event], last_train_update_between: list[Event]):
    """Two scorings of overlapping tokens with no training step between them."""
    for i, a in enumerate(picked):
        for b in picked[i + 1:]:
            if a.time == b.time or not any_overlap(a.regions, b.regions):
                continue
            lo, hi = sorted((a.time, b.time))
            if not any(lo < u.time < hi for u in last_train_update_between):
                return a, b
    return None


def _judge_train_reads(seg: list[Event], scores: list[Event], last_train_update: int | None,
                       all_events: list[Event], add, scoring_functions: frozenset) -> None:
    reads = [e for e in seg if e.kind == "read"]
    if not reads:
        return
    # The frames of functions that score by structure (the phase model's scoring functions: a
    # no-grad region that accumulates a forward or a loss) on some scoring path. A caller that
    # only calls one (main, `train_and_eval()`) is not evaluation.
    # A function that also trains (its own loop steps on training data) is training, not evaluation.
    training_frames = {f[0] for e in seg if e.kind == "update" and e.train for f in e.stack}
    eval_frames = {f[0] for e in scores for f in e.stack if f[3] in scoring_functions} - training_frames
    scored_reads = {x[1] for e in scores for x in e.labels if isinstance(x, tuple) and x[0] == TREAD}
    for r in reads:
        frame = next((f for f in r.stack[1:] if f[0] in eval_frames), None)
        if frame is not None:
            _, unit, line, _ = frame
            add("GL202", unit, line,
                f"training data is read during evaluation (the read at {_where(r.unit, r.line, unit)} runs inside "
                "a function that scores validation data)")
        elif last_train_update is not None and r.time > last_train_update and any(
                all_events[i] is r for i in scored_reads if i < len(all_events)):
            add("GL202", r.unit, r.line,
                "training data read here after training has ended flows into the validation score")
