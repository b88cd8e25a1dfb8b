"""Tolerant train-log parser.

Submissions print their logs in many shapes: the baseline's `key:value` lines, `key=value`
variants, rank or timestamp prefixes, ANSI colours, CRLF line endings, tqdm progress bars that
rewrite a line with carriage returns. The parser looks for facts, not for a format: a score is any
line carrying both `val_loss` and `val_bpb`; a size is a `Total submission size ...` /
`Serialized model ...` / `Code size` line; the last occurrence wins, as the run's final word.

Speed: a line reaches a regular expression only when it holds a substring that expression needs,
so a multi-megabyte log of step lines costs a few substring tests per line. Never raises: junk
yields an empty TrainLog whose `missing` says what was not found.
"""

from __future__ import annotations

import math
import re
from pathlib import PurePosixPath

from .model import Score, TrainLog

DEFAULT_EXACT_DECIMALS = 6
_BINARY_PROBE = 8192

_NUM = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?:nan|inf)"
_SEP = r"\s*[:=]\s*"
# A key must not be the tail of a longer name: `val_loss` but not `pre_val_loss`, `eval_time` but
# not `total_eval_time`.
_KEY_START = r"(?<![A-Za-z0-9_])"

_VAL_LOSS = re.compile(_KEY_START + r"val_loss" + _SEP + r"(" + _NUM + r")", re.IGNORECASE)
_VAL_BPB = re.compile(_KEY_START + r"val_bpb" + _SEP + r"(" + _NUM + r")", re.IGNORECASE)
_EVAL_TIME = re.compile(_KEY_START + r"eval_time(?:_(ms|s))?" + _SEP + r"(" + _NUM + r")\s*(ms|s)?", re.IGNORECASE)
_TOTAL_EVAL = re.compile(_KEY_START + r"total_eval_time(?:_(ms|s))?" + _SEP + r"(" + _NUM + r")\s*(ms|s)?",
                         re.IGNORECASE)
_TRAIN_TIME = re.compile(_KEY_START + r"train_time(?:_(ms|s))?" + _SEP + r"(" + _NUM + r")\s*(ms|s)?", re.IGNORECASE)
_STEP = re.compile(_KEY_START + r"step" + _SEP + r"(\d+)(?:\s*/\s*(\d+))?", re.IGNORECASE)
_STEP_AVG = re.compile(_KEY_START + r"step_avg(?:_ms)?" + _SEP + r"(" + _NUM + r")\s*(ms|s)?", re.IGNORECASE)
_SEED = re.compile(_KEY_START + r"seed" + _SEP + r"(\d+)\b", re.IGNORECASE)
# A line of Python source quoted in a log, not a log line: calls, statements, assignments in code.
_CODE_LIKE = re.compile(r"[;()]|\b(?:def|class|import|return|self|lambda)\b")
# `world_size:8 grad_accum_steps:1`: how many GPUs the run used (the baseline prints it).
_WORLD_SIZE = re.compile(_KEY_START + r"world_size" + _SEP + r"(\d+)\b", re.IGNORECASE)
_TOTAL_SIZE = re.compile(r"Total submission size\s*([^:=]*?)\s*[:=]\s*(\d[\d,]*)\s*bytes", re.IGNORECASE)
_MODEL_SIZE = re.compile(r"Serialized model\s*([^:=]*?)\s*[:=]\s*(\d[\d,]*)\s*bytes", re.IGNORECASE)
_CODE_SIZE = re.compile(r"Code size\s*[:=]\s*(\d[\d,]*)\s*bytes", re.IGNORECASE)
_COMPRESSED_CODE_SIZE = re.compile(r"Code size\s*\(compressed\)\s*[:=]\s*(\d[\d,]*)\s*bytes", re.IGNORECASE)
_PEAK_MEMORY = re.compile(r"peak memory allocated\s*[:=]\s*(" + _NUM + r")\s*MiB", re.IGNORECASE)
# The token a score line starts with names the evaluation: `final_int8_zlib_roundtrip_exact`,
# `quantized_ttt_phased`; prefixes such as `[rank0]` or a timestamp come before it.
_LABEL = re.compile(r"[A-Za-z][\w.+\-/:]*")
# What may precede a line's own first word: `[rank0]`, `2026-03-01 12:00:01`, `INFO:`, `|`.
_LEADING_NOISE = (r"(?:\s*(?:\[[^\]]*\]|\d{4}-\d\d-\d\d(?:[T ]|$)|\d\d:\d\d:\d\d(?:[.,]\d+)?Z?|"
                  r"[A-Z]{3,8}:(?!\S)|[|>:-]))*\s*")
# In-training validation lines begin with their step; a final score line never does.
_STEP_LINE = re.compile(_LEADING_NOISE + r"step" + _SEP + r"(\d+)", re.IGNORECASE)
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]")
_FILE_SEED = re.compile(r"seed[_\-]?(\d+)", re.IGNORECASE)
_FILE_SHORT_SEED = re.compile(r"(?:^|[_\-.])s(\d+)(?=[_\-.]|$)", re.IGNORECASE)
_STOP_WORDS = ("stopping_early", "wallclock_cap")


def parse_log(path: str, content: str | bytes | None, problem: str | None = None,
              exact_min_decimals: int = DEFAULT_EXACT_DECIMALS) -> TrainLog:
    """Parse one log. `content` is its text or raw bytes; `problem` a read problem (then no content)."""
    log = TrainLog(path=path, problem=problem)
    log.file_seed = seed_from_file_name(path)
    if problem is None and content is None:
        log.problem = "could not be read"
    if log.problem is not None:
        _seed_fallback(log)
        return log
    text = _decode(log, content) if isinstance(content, bytes) else content
    if text is None:
        _seed_fallback(log)
        return log
    try:
        _scan(log, text, max(0, int(exact_min_decimals)))
    except Exception as exc:  # pragma: no cover - a parser bug must not take the check down
        log.missing.append(f"a readable log (the parser stopped: {type(exc).__name__})")
    _seed_fallback(log)
    _note_missing(log)
    return log


def seed_from_file_name(path: str) -> int | None:
    stem = PurePosixPath(path.replace("\\", "/")).name
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    m = _FILE_SEED.search(stem) or _FILE_SHORT_SEED.search(stem)
    return int(m.group(1)) if m else None


def _decode(log: TrainLog, data: bytes) -> str | None:
    if b"\x00" in data[:_BINARY_PROBE]:
        log.problem = "is binary (holds NUL bytes), not text"
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        text = data.decode("utf-8", errors="replace")
        log.replaced_bytes = max(1, text.count("\ufffd") - data.count("\ufffd".encode()))
        line = data.count(b"\n", 0, exc.start) + 1
        log.decode_line = line
        log.decode_problem = (f"is not valid UTF-8 (invalid byte at offset {exc.start}, line {line}); "
                              f"{log.replaced_bytes} undecodable byte sequence(s) were read as U+FFFD")
        return text


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value


def _decimals(text: str) -> int:
    mantissa = text.lower().split("e", 1)[0]
    return len(mantissa.split(".", 1)[1]) if "." in mantissa else 0


def _to_ms(value: float, unit_suffix: str | None, unit_after: str | None) -> float | None:
    unit = (unit_after or unit_suffix or "").lower()
    if unit == "ms":
        return value
    if unit == "s":
        return value * 1000.0
    return None  # a bare number: seconds or milliseconds cannot be told apart


def _segments(raw: str) -> list[str]:
    """What a terminal would have shown for one line: tqdm rewrites with \\r, colours with ANSI."""
    if "\x1b" in raw:
        raw = _ANSI.sub("", raw)
    if "\r" in raw:
        return [s for s in raw.split("\r") if s.strip()]
    return [raw]


def _spellings(needle: str) -> tuple[str, ...]:
    """The ways a log may capitalize a lowercase needle: val_loss, VAL_LOSS, Total Submission Size."""
    return tuple(dict.fromkeys((needle, needle.upper(), needle.capitalize(), needle.title())))


# The lowered copy doubles a log's memory for as long as it is read: a larger log (the accepted
# records' largest is 0.2 MB; a hostile one may reach general.max_text_file_bytes, and a text
# with one character beyond U+FFFF takes four bytes per character) is searched spelling by spelling.
_LOWERED_MAX_CHARS = 16_000_000


class _Lines:
    """Finds the lines holding a substring without visiting the others.

    Most of a log is step lines, and most facts are "the last line that says X", so searching
    for X from the end with str.rfind reads each fact in microseconds whatever the log's size.
    A needle is found in the few spellings logs use (`_spellings`: val_loss, VAL_LOSS, ...), by
    searching a lowercased copy of the log and reading the spelling at each hit: one search per
    question. (Searching the log itself once per spelling read it whole for every spelling it never
    uses: 283 MB of searching for 8.5 MB of accepted records' logs, against one lowercasing of
    it.) A text whose lowercase is longer (U+0130 lowercases to two characters) has no copy with
    the same positions, and a very long one gets none (`_LOWERED_MAX_CHARS`): they are searched
    once per spelling.
    """

    def __init__(self, text: str):
        self.text = text
        self.newlines = text.count("\n")
        self.lowered: str | None = None
        if len(text) <= _LOWERED_MAX_CHARS:
            lowered = text.lower()
            self.lowered = lowered if len(lowered) == len(text) else None

    def _bounds(self, pos: int) -> tuple[int, int]:
        start = self.text.rfind("\n", 0, pos) + 1
        end = self.text.find("\n", pos)
        return start, len(self.text) if end < 0 else end

    def number(self, start: int) -> int:
        # Count on the shorter side: facts found from the end sit near the end.
        if start > len(self.text) // 2:
            return self.newlines - self.text.count("\n", start) + 1
        return self.text.count("\n", 0, start) + 1

    def _next_hit(self, needle: str, spellings: frozenset[str], pos: int) -> int:
        """Where the first spelling of `needle` at or after `pos` starts (-1: none). A hit of
        the lowered needle whose text is another casing (vAL_loss) or another character that
        lowercases to the same letter (the Kelvin sign) is passed over."""
        text, lowered, key, n = self.text, self.lowered, needle.lower(), len(needle)
        at = lowered.find(key, pos)  # type: ignore[union-attr]
        while at >= 0 and text[at:at + n] not in spellings:
            at = lowered.find(key, at + 1)  # type: ignore[union-attr]
        return at

    def _last_hit(self, needle: str, spellings: frozenset[str], end: int) -> int:
        """Where the last spelling of `needle` that ends by `end` starts (-1: none)."""
        text, lowered, key, n = self.text, self.lowered, needle.lower(), len(needle)
        at = lowered.rfind(key, 0, end)  # type: ignore[union-attr]
        while at >= 0 and text[at:at + n] not in spellings:
            at = lowered.rfind(key, 0, at + n - 1)  # type: ignore[union-attr]
        return at

    def forward(self, needle: str):
        """(line number, segments) of each line holding `needle`, first to last."""
        if self.lowered is None:
            yield from self._forward_by_spelling(needle)
            return
        text, spellings = self.text, frozenset(_spellings(needle))
        line_start, number = 0, 1
        hit = self._next_hit(needle, spellings, 0)
        while hit >= 0:
            start, end = self._bounds(hit)
            number += text.count("\n", line_start, start)
            line_start = start
            yield number, _segments(text[start:end])
            hit = self._next_hit(needle, spellings, end + 1)

    def last(self, needle: str, pattern: re.Pattern):
        """(line number, match) of the last line segment holding `needle` that matches `pattern`."""
        if self.lowered is None:
            return self._last_by_spelling(needle, pattern)
        text, spellings = self.text, frozenset(_spellings(needle))
        hit = self._last_hit(needle, spellings, len(text))
        while hit >= 0:
            start, end = self._bounds(hit)
            for segment in reversed(_segments(text[start:end])):
                m = pattern.search(segment)
                if m:
                    return self.number(start), m
            hit = self._last_hit(needle, spellings, start)
        return None

    def _forward_by_spelling(self, needle: str):
        """`forward` without a lowered copy: the next hit of each spelling at or after `pos`."""
        text = self.text
        hits = {s: text.find(s) for s in _spellings(needle)}
        hits = {s: at for s, at in hits.items() if at >= 0}
        pos, line_start, number = 0, 0, 1
        while hits:
            hit = min(hits.values())
            start, end = self._bounds(hit)
            number += text.count("\n", line_start, start)
            line_start = start
            yield number, _segments(text[start:end])
            pos = end + 1
            for s, at in list(hits.items()):
                if at < pos:
                    at = text.find(s, pos)
                    if at < 0:
                        del hits[s]
                    else:
                        hits[s] = at

    def _last_by_spelling(self, needle: str, pattern: re.Pattern):
        """`last` without a lowered copy: the last hit of each spelling before the line looked at
        last (a spelling with none is dropped)."""
        text = self.text
        hits = {s: text.rfind(s) for s in _spellings(needle)}
        hits = {s: at for s, at in hits.items() if at >= 0}
        while hits:
            start, end = self._bounds(max(hits.values()))
            for segment in reversed(_segments(text[start:end])):
                m = pattern.search(segment)
                if m:
                    return self.number(start), m
            for s, at in list(hits.items()):
                if at + len(s) > start:
                    at = text.rfind(s, 0, start)
                    if at < 0:
                        del hits[s]
                    else:
                        hits[s] = at
        return None


def _scan(log: TrainLog, text: str, exact_min_decimals: int) -> None:
    lines = _Lines(text)
    log.line_count = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
    # Only the last in-training validation line is kept: a log that validates every few steps
    # holds tens of thousands, and none of them but the last can matter to a claim.
    last_step: tuple[int, str, int] | None = None
    for number, segments in lines.forward("val_loss"):
        for segment in segments:
            step_line = _STEP_LINE.match(segment)
            if step_line:
                last_step = (number, segment, int(step_line.group(1)))
                continue
            score = _score(segment, number, exact_min_decimals)
            if score is not None:
                log.scores.append(score)
    if last_step is not None:
        score = _score(last_step[1], last_step[0], exact_min_decimals, step=last_step[2])
        if score is not None:
            log.scores.append(score)
            log.scores.sort(key=lambda s: s.line)
    _times(log, lines)
    found = lines.last("step", _STEP)
    if found:
        number, m = found
        log.steps = int(m.group(1))
        log.max_steps = int(m.group(2)) if m.group(2) else None
    found = lines.last("step_avg", _STEP_AVG)
    if found:
        number, m = found
        value = _number(m.group(1))
        if value is not None:
            log.step_avg_ms = _to_ms(value, None, m.group(2) or "ms")
            log.step_avg_line = number
    _sizes(log, lines)
    for number, segments in lines.forward("seed"):
        # Logs that carry the script's own source (`log0(code)`) hold `seed=0` in code lines:
        # those are not the run's seed.
        m = next((m for m in map(_SEED.search, segments) if m and not _CODE_LIKE.search(m.string)), None)
        if m:
            log.seed, log.seed_line, log.seed_source = int(m.group(1)), number, "line"
            break
    for number, segments in lines.forward("world_size"):
        m = next((m for m in map(_WORLD_SIZE.search, segments) if m), None)
        if m:
            log.world_size, log.world_size_line = int(m.group(1)), number
            break
    found = lines.last("peak memory", _PEAK_MEMORY)
    if found and _number(found[1].group(1)) is not None:
        log.peak_memory_mib, log.peak_memory_line = _number(found[1].group(1)), found[0]


def _timed(found) -> tuple[float, int] | None:
    if not found:
        return None
    number, m = found
    value = _number(m.group(2))
    ms = _to_ms(value, m.group(1), m.group(3)) if value is not None else None
    return (ms, number) if ms is not None else None


def _times(log: TrainLog, lines: _Lines) -> None:
    # The wallclock stop line states the time training ended; without one, the last step line.
    timed = None
    for word in _STOP_WORDS:
        timed = timed or _timed(lines.last(word, _TRAIN_TIME))
    log.stopped_early = timed is not None
    timed = timed or _timed(lines.last("train_time", _TRAIN_TIME))
    if timed:
        log.train_time_ms, log.train_time_line = timed
    # total_eval_time sums every evaluation pass; a score line's eval_time times only its own.
    timed = _timed(lines.last("total_eval_time", _TOTAL_EVAL))
    if timed:
        log.eval_time_s, log.eval_time_line = timed[0] / 1000.0, timed[1]
        log.eval_time_source = "total_eval_time"
        return
    final = log.final
    timed_scores = [s for s in log.scores if s.step is None and s.eval_time_ms is not None]
    source = final if final is not None and final.eval_time_ms is not None else (
        timed_scores[-1] if timed_scores else None)
    if source is not None:
        log.eval_time_s, log.eval_time_line = source.eval_time_ms / 1000.0, source.line  # type: ignore[operator]
        log.eval_time_source = source.label


def _score(line: str, number: int, exact_min_decimals: int, step: int | None = None) -> Score | None:
    loss = _VAL_LOSS.search(line)
    bpb = _VAL_BPB.search(line)
    if not loss or not bpb:
        return None
    loss_value, bpb_value = _number(loss.group(1)), _number(bpb.group(1))
    if loss_value is None or bpb_value is None:
        return None
    prefix = line[:min(loss.start(), bpb.start())]
    tokens = _LABEL.findall(prefix)
    label = tokens[-1].rstrip(":") if tokens else ""
    eval_ms = None
    if "eval_time" in line:
        for m in _EVAL_TIME.finditer(line):
            value = _number(m.group(2))
            if value is not None:
                eval_ms = _to_ms(value, m.group(1), m.group(3))
                break
    loss_dec, bpb_dec = _decimals(loss.group(1)), _decimals(bpb.group(1))
    finite = math.isfinite(loss_value) and math.isfinite(bpb_value)
    exact = finite and step is None and min(loss_dec, bpb_dec) >= exact_min_decimals
    return Score(label, loss_value, bpb_value, number, exact, eval_ms, step, loss_dec, bpb_dec)


def _sizes(log: TrainLog, lines: _Lines) -> None:
    found = lines.last("submission size", _TOTAL_SIZE)
    if found:
        log.total_bytes, log.total_bytes_line = int(found[1].group(2).replace(",", "")), found[0]
        log.total_format = found[1].group(1).strip() or None
    found = lines.last("serialized model", _MODEL_SIZE)
    if found:
        log.model_bytes, log.model_bytes_line = int(found[1].group(2).replace(",", "")), found[0]
        log.model_format = found[1].group(1).strip() or None
    found = lines.last("code size", _CODE_SIZE)
    if found:
        log.code_bytes, log.code_bytes_line = int(found[1].group(1).replace(",", "")), found[0]
    found = lines.last("code size", _COMPRESSED_CODE_SIZE)
    if found:
        log.compressed_code_bytes = int(found[1].group(1).replace(",", ""))
        log.compressed_code_bytes_line = found[0]


def _seed_fallback(log: TrainLog) -> None:
    if log.seed is None and log.file_seed is not None:
        log.seed, log.seed_source = log.file_seed, "file name"


def _note_missing(log: TrainLog) -> None:
    if not log.scores:
        log.missing.append("a score line (val_loss and val_bpb)")
    elif log.final is None:
        log.missing.append("a final score line after training (only in-training validation lines)")
    elif not log.final.exact:
        log.missing.append("an exact-precision final score line (only rounded ones)")
    if log.train_time_ms is None:
        log.missing.append("the training time (train_time)")
    if log.eval_time_s is None:
        log.missing.append("the evaluation time (eval_time or total_eval_time)")
    if log.total_bytes is None and log.model_bytes is None:
        log.missing.append("the submission size (Total submission size / Serialized model)")
