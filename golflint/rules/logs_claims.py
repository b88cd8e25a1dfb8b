"""GL4xx: logs, claims and time: scores backed by logs, time caps, significance.

The train logs are the submission's evidence: the scores, times and sizes it claims must be the
ones its runs printed. Logs are parsed by golflint/logs/parse.py (tolerant of the formats real
runs print); which log backs which claimed seed is decided once, in golflint/logs/evidence.py.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterable
from typing import Any

from ..claims import SUBMISSION_JSON, ClaimLines, number
from ..facts.declared import Fact
from ..files import escapes
from ..findings import Finding, Severity
from ..logs.evidence import (
    METRICS,
    agrees,
    claim_values,
    claimed_seeds,
    record_significance,
    seed_evidence,
)
from ..logs.model import TrainLog
from .base import Invalid, Rule, Valid, examples

# -- example material ---------------------------------------------------------------------------------
_README = "# Tiny run\n\nBaseline with a longer warmdown.\n\n```\nSEED=1 torchrun --nproc_per_node=8 train_gpt.py\n```\n"
_CODE = "print('train, quantize, evaluate')\n"
# Three seeds that beat the default record (val_loss 2.07269931) by about 0.0126 nats.
_SEEDS = {1: (2.06012374, 1.21693775), 2: (2.05968127, 1.21667638), 3: (2.06051892, 1.21717119)}


def _log(seed: int | None = 1, loss: float | None = None, bpb: float | None = None, *, train_ms: int = 600016,
         eval_s: float = 41.3, total: int = 15819999, final: bool = True) -> str:
    """A baseline-format log. Line 1 seed, 3 stop line, 4 in-training validation, 7 total size,
    8 final score, 9 total eval time."""
    default_loss, default_bpb = _SEEDS.get(seed or 1, _SEEDS[1])
    loss = default_loss if loss is None else loss
    bpb = default_bpb if bpb is None else bpb
    lines = [
        f"seed:{seed}" if seed is not None else "model_params:19408384",
        "step:200/20000 train_loss:5.7667 train_time:8718ms step_avg:43.59ms",
        f"stopping_early: wallclock_cap train_time:{train_ms}ms step:13765/20000",
        "step:13765/20000 val_loss:2.0529 val_bpb:1.2127",
        f"Serialized model int8+zlib: {total - 8795} bytes",
        "Code size: 8795 bytes",
        f"Total submission size int8+zlib: {total} bytes",
        f"final_int8_zlib_roundtrip_exact val_loss:{loss:.8f} val_bpb:{bpb:.8f}" if final else
        "serializing model",
        f"total_eval_time:{eval_s}s",
    ]
    return "\n".join(lines) + "\n"


def _claims(results: dict[Any, tuple[float, float]] | None = None, **changes: Any) -> str:
    results = _SEEDS if results is None else results
    data: dict[str, Any] = {"author": "A. Golfer", "name": "Tiny run", "date": "2026-01-01"}
    if results:
        n = len(results)
        data["val_loss"] = round(sum(v[0] for v in results.values()) / n, 8)
        data["val_bpb"] = round(sum(v[1] for v in results.values()) / n, 8)
        data["seed_results"] = {str(s): {"val_loss": v[0], "val_bpb": v[1]} for s, v in results.items()}
    data.update(changes)
    return json.dumps({k: v for k, v in data.items() if v is not ...}, indent=2) + "\n"


def _folder(changes: dict[str, Any] | None = None, seeds: tuple[int, ...] = (1, 2, 3)) -> dict[str, str | bytes]:
    """A consistent three-seed submission, with some files replaced (or dropped with ...)."""
    files: dict[str, Any] = {"README.md": _README, "train_gpt.py": _CODE,
                             "submission.json": _claims({s: _SEEDS[s] for s in seeds})}
    files.update({f"train_seed{s}.log": _log(s) for s in seeds})
    files.update(changes or {})
    return {k: v for k, v in files.items() if v is not ...}


def _one_seed(log: str | bytes | None = None, **claims: Any) -> dict[str, str | bytes]:
    """A single-run submission: headline claims only, one train.log."""
    body = {"val_loss": 2.06012374, "val_bpb": 1.21693775, **claims}
    return {"README.md": _README, "train_gpt.py": _CODE, "submission.json": _claims({}, **body),
            "train.log": _log(None) if log is None else log}


# Claimed seed_results lines in _claims' JSON (indent 2): seed "1" val_loss at 9, "2" at 13, "3" at 17.
_SEED_LOSS_LINE = {1: 9, 2: 13, 3: 17}


def _fmt_s(seconds: float) -> str:
    return f"{seconds:,.1f} s"


def _score_text(value: float) -> str:
    return f"{value:.8f}".rstrip("0").rstrip(".") if value == value else "nan"


def _readable(sub) -> list[TrainLog]:
    return [log for log in sub.logs if log.problem is None]


def _at_most_warning(rule: Rule) -> Severity:
    current = rule.effective_severity
    return current if current.rank <= Severity.WARNING.rank else Severity.WARNING


# Sentences that waive the time limits: "time limits are waived", "waives the 10-minute limit",
# "unlimited compute", "no time limit", "the time limits do not apply".
_WAIVER = re.compile(
    r"(?<!not )(?<!n't )waiv\w*[^.\n]{0,80}?\b(?:time|wall-?clock|limits?|minutes?|600)\b"
    r"|\b(?:time|wall-?clock|training|evaluation)[^.\n]{0,40}?\blimits?\b[^.\n]{0,40}?"
    r"(?<!not )(?<!n't )\b(?:waived|do(?:es)? not apply|don't apply|not enforced|lifted|exceeded)"
    r"|\bunlimited[ -]compute\b|\bno time limits?\b",
    re.IGNORECASE,
)


_NOT_BACKING = " (reported only: this log backs none of the claimed scores)"


def readme_waives_time_limits(sub) -> bool:
    text = sub.text("README.md")
    return bool(text and _WAIVER.search(text))


class _TimeCapRule(Rule):
    """Shared by the train and eval time caps: which logs the caps judge, and with what severity.

    As the organizers apply them: a track's `time_cap_severity` (rulebook; "info" on the
    non-record track, which has no ten-minute caps) sets the severity; on the record track the
    caps judge the logs that back the claimed scores, and other logs in the folder (ablations,
    other hardware: an accepted record carries a 2,400 s run beside its 600 s ones) are info.
    """

    def _severity(self, sub) -> tuple[Severity, str]:
        track_policy = sub.track_settings.get("time_cap_severity")
        if track_policy:
            return Severity.parse(str(track_policy)), f" (reported only: the {sub.track} track has no time cap)"
        if sub.track_settings.get("time_limits_waivable") and readme_waives_time_limits(sub):
            return _at_most_warning(self), " (the README waives the time limits on this track)"
        return self.effective_severity, ""

    def _judged(self, sub) -> list[tuple[TrainLog, bool]]:
        """(log, backs a claim) for each readable log."""
        backing = _backing_logs(sub)
        return [(log, backing is None or log.path in backing) for log in _readable(sub)]


def _backing_logs(sub) -> set[str] | None:
    """Paths of the logs that back the claimed scores: each claimed seed's matching log, else the
    logs whose final score is the headline. None when nothing ties claims to logs (then every log
    is judged)."""
    paths = {ev.matched.path for ev in seed_evidence(sub) if ev.matched is not None}
    if not paths:
        headline = {m: v for m in METRICS if (v := number(sub.claims.get(m))) is not None}
        if headline:
            paths = {log.path for log in _readable(sub)
                     if log.final is not None and all(agrees(v, log.final, m) for m, v in headline.items())}
    return paths or None


# -- the rules ------------------------------------------------------------------------------------------
class LogWithoutFinalScore(Rule):
    """A train log holds no final score line, or nothing golflint recognizes at all.

    The final score is the last line carrying `val_loss` and `val_bpb` printed after training,
    preferably at exact precision (`logs.exact_min_decimals` digits), such as
    `final_int8_zlib_roundtrip_exact val_loss:2.07269931 val_bpb:1.22436570` or
    `quantized_ttt_phased val_loss:2.31944212 val_bpb:1.05989454 eval_time:508785ms`. In-training
    validation lines (`step:13780/20000 val_loss:... val_bpb:...`) score the model before
    quantization and do not count. The finding names everything else the log lacks too.

    **Why.** A log without a final score cannot back any claimed score: the run crashed before
    evaluation, the log was cut, or it prints in a format nobody can check.

    **Example.** A log that ends at `stopping_early: wallclock_cap ...` with no evaluation after it.

    **Instead.** Commit the complete log of each run, through its final evaluation line.
    """

    id = "GL401"
    name = "log-without-final-score"
    facts = frozenset({Fact.LOGS})
    severity = Severity.WARNING
    message = "a train log has no final score line"
    hint = "commit the complete log of each run, through its final `val_loss:... val_bpb:...` line"
    valid = examples(lambda: (
        Valid(files=_folder()),
        Valid(files=_one_seed("step:13780/20000 val_loss:2.0712 val_bpb:1.2267\n"
                              "final_int8_zlib_roundtrip val_loss:2.0727 val_bpb:1.2244 eval_time:1436ms\n",
                              val_loss=2.0727, val_bpb=1.2244),
              note="a rounded final score is still a final score"),
        Valid(files=_one_seed("[rank0] 2026-03-01 12:00:01 quantized_ttt_phased val_loss=2.31944212 "
                              "val_bpb=1.05989454 eval_time=508785ms\r\n", val_loss=2.31944212, val_bpb=1.05989454),
              note="prefixes, key=value and CRLF"),
        Valid(files=_folder({"train_seed1.log": b"\x00\x01binary"}), note="unreadable: GL402's finding"),
    ))
    invalid = examples(lambda: (
        Invalid(files=_one_seed(_log(None, final=False)), file="train.log", lines=4,
                note="only an in-training validation line"),
        Invalid(files=_one_seed("hello world\nthis is not a train log\n"), file="train.log"),
        Invalid(files=_folder({"train_seed3.log": ""}), file="train_seed3.log", note="empty log"),
    ))

    def check(self, sub) -> Iterable[Finding]:
        for log in _readable(sub):
            if log.final is not None:
                continue
            known = (log.scores or log.train_time_ms is not None or log.steps is not None
                     or log.total_bytes is not None or log.model_bytes is not None)
            lacking = "; ".join(log.missing) or "a final score line"
            if not log.line_count:
                message = f"{log.path} is empty"
            elif not known:
                message = (f"{log.path} is in a format golflint does not recognize: found no score, step, time "
                           "or size line")
            else:
                message = f"{log.path} has no final score line; it lacks {lacking}"
            last_step = log.last_step_score
            yield self.report(message, file=log.path, line=last_step.line if last_step else None)


class UnreadableTrainLog(Rule):
    """A train log is binary, too large to read, or cannot be read at all.

    Reported as an error: nothing the submission claims can be checked against a log that cannot
    be read, and a log is plain text by nature, so binary content means the wrong file was
    committed. (A log that is text with a few bytes that are not UTF-8 is parsed anyway: GL403.)

    **Why.** The logs are the evidence behind every claimed score, time and size.

    **Example.** `train_seed42.log` that is a copy of a checkpoint, or a 60 MB log over
    `general.max_text_file_bytes`.

    **Instead.** Commit the text log the run wrote (`python train_gpt.py 2>&1 | tee train_seed42.log`).
    """

    id = "GL402"
    name = "unreadable-train-log"
    facts = frozenset({Fact.LOGS})
    severity = Severity.ERROR
    message = "a train log cannot be read as text"
    hint = "commit the text log the run printed; trim nothing but tqdm progress noise"
    valid = examples(lambda: (
        Valid(files=_folder()),
        Valid(files=_folder({"train_seed1.log": _log(1).encode() + b"# caf\xe9\n"}),
              note="not UTF-8 but text: GL403"),
        Valid(files=_folder({"weights.bin": b"\x00\x01\x02"}), note="binary files that are not logs"),
    ))
    invalid = examples(lambda: (
        Invalid(files=_folder({"train_seed1.log": b"\x00\x00\x89PNG\x00binary"}), file="train_seed1.log"),
        Invalid(files=_folder({"train_seed2.log": b"PK\x03\x04" + bytes(range(256)) * 4}), file="train_seed2.log"),
        Invalid(files=_folder({"train_seed3.log": _log(3) * 40}), file="train_seed3.log",
                settings={"general": {"max_text_file_bytes": 2000}}, note="over the read limit"),
    ))

    def check(self, sub) -> Iterable[Finding]:
        for log in sub.logs:
            if log.problem is None or escapes(sub.root, log.path):
                continue  # a symlink out of the folder is GL003's
            yield self.report(f"{log.path} {log.problem}; no claim can be checked against it", file=log.path)


class TrainLogNotUtf8(Rule):
    """A train log is text but holds bytes that are not UTF-8; it was parsed with them replaced.

    A warning, not an error: a progress bar cut mid-character or a terminal in another encoding
    leaves a few bad bytes without making the log's numbers less trustworthy, and the scores in
    it are still checked. (Binary logs are GL402.)

    **Why.** Other tools (and reviewers' editors) may refuse the file; the bad bytes can hide a
    line that was edited by hand.

    **Example.** A log whose tqdm bar was written in Latin-1: `loading 50% \xe9\xe9\xe9`.

    **Instead.** Save the log as UTF-8 (`iconv -f latin1 -t utf-8`), or drop the progress noise.
    """

    id = "GL403"
    name = "train-log-not-utf8"
    facts = frozenset({Fact.LOGS})
    severity = Severity.WARNING
    message = "a train log is not valid UTF-8"
    hint = "save the log as UTF-8, e.g. `iconv -f latin1 -t utf-8 train.log > train.utf8.log`"
    valid = examples(lambda: (
        Valid(files=_folder()),
        Valid(files=_folder({"train_seed1.log": _log(1) + "loading \u2588\u2588\u2588\u258c 55%\n"}),
              note="UTF-8 block characters are fine"),
        Valid(files=_folder({"train_seed1.log": b"\x00\x00binary"}), note="binary: GL402"),
    ))
    invalid = examples(lambda: (
        Invalid(files=_folder({"train_seed1.log": _log(1).encode() + b"loading 50% \xe9\xe9\n"}),
                file="train_seed1.log", lines=10),
        Invalid(files=_folder({"train_seed2.log": b"caf\xe9\n" + _log(2).encode()}), file="train_seed2.log",
                lines=1),
        Invalid(files=_folder({"train_seed3.log": _log(3).encode() + b"\xe2\x96"}), file="train_seed3.log",
                note="a multi-byte character cut at the end"),
    ))

    def check(self, sub) -> Iterable[Finding]:
        for log in _readable(sub):
            if log.decode_problem:
                yield self.report(f"{log.path} {log.decode_problem}", file=log.path, line=log.decode_line)


class ClaimedScoreNotInLog(Rule):
    """A claimed score is not the final score of the log that should back it.

    Each `seed_results` entry's `val_loss`/`val_bpb` must equal the final score of that seed's log
    (found by the seed the log prints, else the seed in its file name). A submission with a single
    run and no `seed_results` must have its headline equal to that log's final score. Figures are
    compared to the precision of the coarser of the two, allowing one unit in its last digit
    (a claim may be rounded or truncated to the digits it prints).

    **Why.** A claim that no log backs was copied from another run, typed by hand, or taken from a
    better line of the log than the final one (an in-training validation before quantization, or a
    pass before the last), which the rules forbid.

    **Example.** seed 1 claims val_bpb 1.2150 while `train_seed1.log` ends with
    `final_int8_zlib_roundtrip_exact val_loss:2.06012374 val_bpb:1.21693775`.

    Severity: an error on a track where the score decides a record (`requires_significance`).
    A warning when the claim equals a later score line of the same log that is not the final one
    (the organizers accepted such headlines: a sliding-window score beside a TTT line), and on a
    track without records, where no verdict rests on the figure. A headline that is the mean of
    several claimed seeds is not compared with one log (their logs are GL405's).

    A result the README or submission.json reports as a mean is checked too: a figure printed to
    at least `logs.reported_mean_min_decimals` decimals that equals the mean of the final scores of
    several logs, one of them a log whose seed submission.json does not claim, while the claimed
    seeds' mean is another number. The reported result then rests on a run the claims leave out
    (a reference run, another configuration); same severity policy.

    **Instead.** Copy each seed's figures from the final score line of its own log, and report
    the mean over the claimed seeds, all runs of the submitted configuration.
    """

    id = "GL404"
    name = "claimed-score-not-in-log"
    facts = frozenset({Fact.LOGS})
    severity = Severity.ERROR
    message = "a claimed score is not the final score of its log"
    hint = "copy each seed's val_loss/val_bpb from the final score line of that seed's log"
    valid = examples(lambda: (
        Valid(files=_folder()),
        Valid(files=_folder({"submission.json": _claims({1: (2.0601, 1.2169), 2: (2.0597, 1.2167),
                                                         3: (2.0605, 1.2172)})}),
              note="rounded to 4 decimals"),
        Valid(files=_one_seed(), note="single run: headline equals the log"),
        Valid(files=_one_seed(val_loss=2.0601, val_bpb=1.2169), note="single run, headline truncated"),
    ))
    invalid = examples(lambda: (
        Invalid(files=_folder({"submission.json": _claims({**_SEEDS, 1: (2.06012374, 1.2150)})}),
                file="train_seed1.log", lines=8),
        Invalid(files=_one_seed(val_bpb=1.2127, val_loss=2.0529), file="train.log", lines=8,
                note="the headline is the in-training validation line"),
        Invalid(files=_folder({"train_seed2.log": _log(2, loss=2.0650, bpb=1.2200)}), file="train_seed2.log",
                lines=8, note="the log disagrees"),
        Invalid(files=_folder({"train_seed3.log": _log(3, final=False)}), file="train_seed3.log",
                note="the seed's log has no final score"),
        Invalid(files=_folder({"train_seed4.log": _log(4, 2.05900000, 1.21600000),
                               "README.md": _README + "\nFinal result: 1.21669633 mean val_bpb over four logs.\n"}),
                file="README.md", lines=9,
                note="the README's mean takes in a fourth log whose seed is not claimed"),
    ))
    valid = valid.extended(lambda: (
        Valid(files=_folder({"train_seed4.log": _log(4, 2.05900000, 1.21600000),
                             "README.md": _README + "\nMean val_bpb 1.21692844 over seeds 1-3; "
                             "seed 4 was an ablation.\n"}),
              note="an extra log, and the README reports the claimed seeds' mean"),
    ))

    def check(self, sub) -> Iterable[Finding]:
        yield from self._reported_means(sub)
        evidence = seed_evidence(sub)
        checked_any = False
        for ev in evidence:
            values = claim_values(ev.claim)
            if not values:
                continue
            checked_any = True
            readable = [log for log in ev.logs if log.problem is None]
            if ev.matched is not None or not readable:
                continue  # backed; no log at all (GL405); or none readable (GL402)
            yield self._mismatch(sub, f"seed {ev.seed}", values, readable)
        if checked_any:
            return
        # No per-seed scores: a single run's headline must be its log's final score. A headline
        # that is the mean of several claimed seeds is not one run's score (their logs: GL405).
        if len(claimed_seeds(sub.claims)) > 1:
            return
        candidates = [ev.logs for ev in evidence if ev.logs] if evidence else [_readable(sub)]
        if len(candidates) != 1 or len(candidates[0]) != 1:
            return
        values = {m: v for m in METRICS if (v := number(sub.claims.get(m))) is not None}
        log = candidates[0][0]
        if values and log.problem is None and not all(
                log.final is not None and agrees(v, log.final, m) for m, v in values.items()):
            yield self._mismatch(sub, "the headline", values, [log])

    def _reported_means(self, sub) -> Iterable[Finding]:
        """A mean the README or submission.json reports that takes in a log whose seed is not
        claimed (and is not the claimed seeds' mean): one finding, at the first such figure."""
        claimed = claimed_seeds(sub.claims)
        logs = [log for log in _readable(sub) if log.final is not None and log.seed is not None]
        # a log backs a claim when the shared evidence ties it to a claimed seed (by the seed it
        # prints, its file name, or its scores); the others are runs the claims leave out
        tied = {id(log) for ev in seed_evidence(sub) for log in (*ev.logs, ev.matched) if log is not None}
        extra = [log for log in logs if id(log) not in tied and str(log.seed) not in claimed
                 and str(log.file_seed) not in claimed]
        if not claimed or not extra or len(logs) > MAX_MEAN_LOGS:
            return
        backed = [log for log in logs if log not in extra]
        min_decimals = int(sub.settings.get("logs.reported_mean_min_decimals", 5))
        decides = bool(sub.track_settings.get("requires_significance"))
        means = []   # (metric, logs, mean, the claimed seeds' mean)
        for metric in METRICS:
            scores = {log.path: _metric(log.final, metric) for log in logs}
            claimed_mean = (sum(scores[log.path] for log in backed) / len(backed)) if backed else None
            own = {round(v, 8) for v in scores.values()}
            for group in _groups(logs, extra):
                mean = sum(scores[log.path] for log in group) / len(group)
                if (claimed_mean is None or abs(mean - claimed_mean) > 1e-9) and round(mean, 8) not in own:
                    means.append((metric, group, mean, claimed_mean))
        for rel in ("README.md", SUBMISSION_JSON):
            text = sub.text(rel) or ""
            for line, content in enumerate(text.splitlines(), 1):
                for m in _FIGURE.finditer(content):
                    figure = m.group(0)
                    decimals = len(figure.split(".")[1])
                    if decimals < min_decimals:
                        continue
                    value = float(figure)
                    hit = next((x for x in means if abs(value - x[2]) <= 10 ** -decimals), None)
                    if hit is None:
                        continue
                    metric, group, _, claimed_mean = hit
                    names = ", ".join(log.path for log in group)
                    left = ", ".join(f"{log.path} (seed {log.seed})" for log in group if log in extra)
                    also = (f"; the claimed seeds' mean is {_score_text(claimed_mean)}"
                            if claimed_mean is not None else "")
                    yield self.report(
                        f"{rel} reports {figure}, the mean {metric} of {names}, but submission.json "
                        f"claims no {left}: the reported result takes in a run the claims leave out{also}",
                        file=rel, line=line, severity=None if decides else Severity.WARNING)
                    return

    def _mismatch(self, sub, who: str, values: dict[str, float], logs: list[TrainLog]) -> Finding:
        # Severity (rulebook policy, see the docstring): an error where the score decides a record
        # and the log does not hold it as a final score; a warning on a track without records, or
        # when the claim is a later, non-final score line of the same log (accepted as such).
        decides = bool(sub.track_settings.get("requires_significance"))
        lower = None if decides else Severity.WARNING
        log = next((lg for lg in logs if lg.final is not None), logs[0])
        others = "" if len(logs) == 1 else f" (nor do {', '.join(lg.path for lg in logs if lg is not log)})"
        final = log.final
        if final is None:
            claimed = ", ".join(f"{m} {_score_text(v)}" for m, v in values.items())
            return self.report(f"{who} claims {claimed} but {log.path} has no final score line{others}",
                               file=log.path, line=None, severity=lower)
        wrong = {m: v for m, v in values.items() if not agrees(v, final, m)}
        claimed = ", ".join(f"{m} {_score_text(v)}" for m, v in wrong.items())
        logged = ", ".join(f"{m} {_score_text(final.val_loss if m == 'val_loss' else final.val_bpb)}" for m in wrong)
        message = f"{who} claims {claimed} but {log.path}'s final score (`{final.label}`) is {logged}{others}"
        elsewhere = next((s for s in reversed(log.scores) if s is not final
                          and all(agrees(v, s, m) for m, v in values.items())), None)
        if elsewhere is not None:
            what = (f"the in-training validation at step {elsewhere.step}, before quantization"
                    if elsewhere.step is not None else f"`{elsewhere.label}`, not the final score")
            message += f"; the claim matches line {elsewhere.line} ({what})"
            if elsewhere.step is None:
                lower = Severity.WARNING
        return self.report(message, file=log.path, line=final.line, severity=lower)


MAX_MEAN_LOGS = 8
_FIGURE = re.compile(r"(?<![\d.])\d+\.\d+(?![\d.])")


def _metric(score, metric: str) -> float:
    return score.val_loss if metric == "val_loss" else score.val_bpb


def _groups(logs: list[TrainLog], extra: list[TrainLog]) -> Iterable[list[TrainLog]]:
    """Every set of two or more logs that takes in at least one unclaimed log, largest first."""
    from itertools import combinations

    for size in range(len(logs), 1, -1):
        for group in combinations(logs, size):
            if any(log in extra for log in group):
                yield list(group)


class ClaimedSeedWithoutLog(Rule):
    """submission.json claims a seed that no train log backs.

    A log backs a seed when it prints that seed (`seed:42`, `SEED=42`) or carries it in its file
    name (`train_seed42.log`, `log_s42.txt`). A log that names no seed still backs a seed whose
    claimed scores equal its final score. When some logs name no seed and the claim has no scores
    to match them by, the finding is a warning: the seed may be in one of them.

    **Why.** A record is judged on all the seeds it reports; a seed without its log is a result
    nobody can check (or a run that was lost and filled in from memory).

    **Example.** `"seeds": [1, 2, 3]` with only `train_seed1.log` and `train_seed2.log`.

    A warning: a seed without its log is a claim not backed, not a claim contradicted, and the
    organizers accepted records that list seeds whose logs were not committed
    (2026-03-19_MLP3x_QAT_Int6_SlidingWindow ships one of its three seeds' logs). A log that
    contradicts a claim is GL404.

    **Instead.** Commit every seed's log, or drop the seeds whose logs are gone and rerun.
    """

    id = "GL405"
    name = "claimed-seed-without-log"
    facts = frozenset({Fact.LOGS})
    severity = Severity.WARNING
    message = "a claimed seed has no train log"
    hint = "commit the log of every claimed seed (train_seed<N>.log), or remove the seed from the claims"
    valid = examples(lambda: (
        Valid(files=_folder()),
        Valid(files=_folder({"train_seed1.log": ..., "run_a.log": _log(None)}),
              note="a log without a seed backs the seed whose scores it holds"),
        Valid(files=_folder({"train_seed3.log": ..., "log_s3.txt": _log(None, *_SEEDS[3])}),
              note="the seed in a short file name"),
        Valid(files=_one_seed(), note="no seeds claimed"),
    ))
    invalid = examples(lambda: (
        Invalid(files=_folder({"train_seed3.log": ...}), file=SUBMISSION_JSON, lines=_SEED_LOSS_LINE[3] - 1),
        Invalid(files=_folder({"train_seed2.log": ..., "submission.json": _claims(seeds=[1, 2, 3])}),
                file=SUBMISSION_JSON),
        Invalid(files=_folder({"train_seed1.log": ..., "run_a.log": _log(None, loss=2.07, bpb=1.23)}),
                file=SUBMISSION_JSON, note="the seedless log holds other scores"),
    ))

    def check(self, sub) -> Iterable[Finding]:
        lines = ClaimLines(sub)
        unnamed = [log for log in _readable(sub) if log.seed is None]
        for ev in seed_evidence(sub):
            if ev.logs or ev.matched is not None:
                continue
            line = lines(*ev.claim.path) if ev.claim is not None else lines("seeds")
            if unnamed and not claim_values(ev.claim):
                names = ", ".join(log.path for log in unnamed)
                yield self.report(f"no log names seed {ev.seed}; it may be one of the logs that name no seed "
                                  f"({names})", file=SUBMISSION_JSON, line=line, severity=_at_most_warning(self))
                continue
            present = sorted({str(log.seed) for log in sub.logs if log.seed is not None}, key=_seed_order)
            have = f"logs name seeds {', '.join(present)}" if present else "no log names a seed"
            if unnamed:
                have += f"; none of {', '.join(log.path for log in unnamed)} holds its claimed scores"
            yield self.report(f"seed {ev.seed} is claimed but no train log backs it ({have})",
                              file=SUBMISSION_JSON, line=line)


def _seed_order(seed: str) -> tuple[int, Any]:
    return (0, int(seed)) if seed.isdigit() else (1, seed)


class UnclaimedSeedLog(Rule):
    """A train log's seed is not among the seeds submission.json claims.

    **Why.** Running more seeds than are reported and keeping the best is selection over runs,
    which the rules forbid ("report the fixed seeds"). An extra log may be innocent (a rerun, an
    ablation), so this is a warning; say in the README what it is.

    **Example.** Claims for seeds 1, 2 and 3, and a fourth log `train_seed4.log`.

    **Instead.** Claim every seed you ran, or move logs of other experiments out of the folder.
    """

    id = "GL406"
    name = "unclaimed-seed-log"
    facts = frozenset({Fact.LOGS})
    severity = Severity.WARNING
    message = "a train log's seed is not claimed"
    hint = "report every seed you ran in seed_results, or remove logs of other experiments from the folder"
    valid = examples(lambda: (
        Valid(files=_folder()),
        Valid(files=_one_seed(_log(7)), note="no seeds claimed: nothing to compare"),
        Valid(files=_folder({"submission.json": _claims(seeds=[1, 2, 3], seed_results=...)}),
              note="seeds listed without results"),
    ))
    invalid = examples(lambda: (
        Invalid(files=_folder({"train_seed4.log": _log(4)}), file="train_seed4.log", lines=1),
        Invalid(files=_folder({"train_seed1.log": _log(1).replace("seed:1", "seed:1337", 1)}),
                file="train_seed1.log", lines=1, note="printed seed wins over the file name"),
        Invalid(files=_folder({"extra_seed9.log": _log(None)}), file="extra_seed9.log",
                note="seed from the file name only"),
    ))

    def check(self, sub) -> Iterable[Finding]:
        claimed = claimed_seeds(sub.claims)
        if not claimed:
            return
        names = ", ".join(sorted(claimed, key=_seed_order))
        for log in sub.logs:
            if log.seed is None or str(log.seed) in claimed:
                continue
            where = "prints" if log.seed_source == "line" else "is named for"
            yield self.report(f"{log.path} {where} seed {log.seed}, which submission.json does not claim "
                              f"(claimed: {names})", file=log.path,
                              line=log.seed_line if log.seed_source == "line" else None)


class LogSeedDisagreesWithFileName(Rule):
    """A log prints one seed but its file name says another.

    **Why.** Seeds are matched to claims by the seed the run printed; a file named for another
    seed usually means logs were renamed or swapped, and its claims were checked against the
    wrong run.

    **Example.** `train_seed2.log` whose first line is `seed:1`.

    **Instead.** Name each log after the seed its run used.
    """

    id = "GL407"
    name = "log-seed-disagrees-with-file-name"
    facts = frozenset({Fact.LOGS})
    severity = Severity.WARNING
    message = "a log's printed seed differs from the seed in its file name"
    hint = "rename the log after the seed its run printed"
    valid = examples(lambda: (
        Valid(files=_folder()),
        Valid(files=_folder({"train_seed1.log": ..., "train.log": _log(1)}), note="no seed in the name"),
        Valid(files=_folder({"train_seed1.log": _log(None)}), note="no seed printed"),
    ))
    invalid = examples(lambda: (
        Invalid(files=_folder({"train_seed2.log": _log(1), "train_seed1.log": _log(2)}), file="train_seed2.log",
                lines=1),
        Invalid(files=_folder({"train_seed3.log": _log(3).replace("seed:3", "SEED=33", 1)}),
                file="train_seed3.log", lines=1),
        Invalid(files=_folder({"seed1.log": _log(1).replace("seed:1", "seed: 11", 1)}), file="seed1.log", lines=1),
    ))

    def check(self, sub) -> Iterable[Finding]:
        for log in _readable(sub):
            name = log.path.rsplit("/", 1)[-1].lower()
            if (log.seed_source == "line" and log.file_seed is not None and "seed" in name
                    and log.file_seed != log.seed):
                yield self.report(f"{log.path} prints seed {log.seed} but its name says seed {log.file_seed}",
                                  file=log.path, line=log.seed_line)


class TrainTimeOverCap(_TimeCapRule):
    """A run trained longer than the track's cap (`tracks.<track>.train_seconds`, 600 s).

    Training time is the `train_time` of the wallclock stop line
    (`stopping_early: wallclock_cap train_time:600038ms ...`), else of the last step line. The
    baseline checks the cap between steps, so a run may end up to one step past it: that much
    (one `step_avg`, or `logs.train_time_slack_seconds` if larger) is allowed. On a track whose time
    limits may be waived (`time_limits_waivable`), a README that waives them lowers this to a warning.

    **Why.** The challenge is the best model trainable in 10 minutes on 8xH100.

    **Example.** `step:20000/20000 ... train_time:731244ms`: a run that never hit the wallclock stop.

    **Instead.** Keep the wallclock stop (`MAX_WALLCLOCK_SECONDS=600`), or submit to the non-record
    track and say in its README that the time limits are waived.
    """

    id = "GL408"
    name = "train-time-over-cap"
    facts = frozenset({Fact.LOGS})
    severity = Severity.ERROR
    message = "a run trained longer than the track allows"
    hint = "stop training at the wallclock cap (MAX_WALLCLOCK_SECONDS=600), or submit as non-record"
    valid = examples(lambda: (
        Valid(files=_folder(), note="600,016 ms: one step past the cap is the wallclock stop working"),
        Valid(files=_folder({"train_seed1.log": _log(1, train_ms=599000)})),
        Valid(files=_folder({"train_seed1.log": _log(1, train_ms=590_000)}), track="non-record"),
    ))
    invalid = examples(lambda: (
        Invalid(files=_folder({"train_seed1.log": _log(1, train_ms=731244)}), file="train_seed1.log", lines=3),
        Invalid(files=_folder({"train_seed2.log": _log(2, train_ms=600800)}), file="train_seed2.log", lines=3,
                note="0.8 s past the cap is more than one step"),
        Invalid(files=_folder({"train_seed3.log": _log(3, train_ms=7_200_000)}), track="non-record",
                file="train_seed3.log", lines=3, note="non-record: reported as info, the track has no time cap"),
        Invalid(files=_folder({"train_seed1.log": _log(1, train_ms=600016), "train_ablation.log": _log(
            None, train_ms=2_400_000)}), file="train_ablation.log", lines=3,
                note="a log backing no claim: reported as info"),
        Invalid(files=_folder({"train_seed1.log": "world_size:2 grad_accum_steps:4\n" + _log(1, train_ms=2_400_107)}),
                file="train_seed1.log", lines=4, note="2 GPUs for 2,400 s: the cap's compute on 8, info"),
    ))

    def check(self, sub) -> Iterable[Finding]:
        cap = sub.track_settings.get("train_seconds")
        if cap is None:
            return
        severity, waived = self._severity(sub)
        base_slack = float(sub.settings.get("logs.train_time_slack_seconds", 0.0))
        for log, backs in self._judged(sub):
            if log.train_time_ms is None:
                continue
            seconds = log.train_time_ms / 1000.0
            slack = max(base_slack, (log.step_avg_ms or 0.0) / 1000.0)
            if seconds > float(cap) + slack:
                level, why = (severity, waived) if backs else (Severity.INFO, _NOT_BACKING)
                gpus = int(sub.track_settings.get("gpus", 8) or 8)
                if log.world_size and log.world_size < gpus and seconds * log.world_size / gpus <= float(cap) + slack:
                    # Fewer GPUs for longer: the same compute as the cap on the track's hardware.
                    level = Severity.INFO
                    why = (f" (reported only: on {log.world_size} GPUs, line {log.world_size_line}, that is "
                           f"{_fmt_s(seconds * log.world_size / gpus)} on {gpus})")
                yield self.report(f"{log.path}: training took {_fmt_s(seconds)}, over the {sub.track} track's "
                                  f"{_fmt_s(float(cap))} cap{why}", file=log.path, line=log.train_time_line,
                                  severity=level, seconds=seconds, cap=cap)


class EvalTimeOverCap(_TimeCapRule):
    """Evaluation took longer than the track's cap (`tracks.<track>.eval_seconds`, 600 s).

    Evaluation time is `total_eval_time` when the log prints it, else the `eval_time` of the final
    score line (or of the last score line that has one). On a track whose time limits may be
    waived, a README that waives them lowers this to a warning.

    **Why.** Evaluation has its own 10-minute budget on 8xH100, in addition to training; test-time
    training and multi-pass schemes are where it is exceeded.

    **Example.** `quantized_ttt_phased val_loss:2.31944212 val_bpb:1.05989454 eval_time:708785ms`.

    **Instead.** Shorten test-time training (fewer steps or chunks) until the whole evaluation fits.
    """

    id = "GL409"
    name = "eval-time-over-cap"
    facts = frozenset({Fact.LOGS})
    severity = Severity.ERROR
    message = "evaluation took longer than the track allows"
    hint = "shorten evaluation (fewer test-time training steps or chunks) to fit the cap"
    valid = examples(lambda: (
        Valid(files=_folder()),
        Valid(files=_one_seed("final_int8_zlib_roundtrip val_loss:2.0727 val_bpb:1.2244 eval_time:1436ms\n",
                              val_loss=2.0727, val_bpb=1.2244)),
        Valid(files=_one_seed("quantized_ttt_phased val_loss:2.31944212 val_bpb:1.05989454 eval_time:508785ms\n"
                              "total_eval_time:508.8s\n", val_loss=2.31944212, val_bpb=1.05989454)),
    ))
    invalid = examples(lambda: (
        Invalid(files=_folder({"train_seed2.log": _log(2, eval_s=708.8)}), file="train_seed2.log", lines=9),
        Invalid(files=_one_seed("quantized_ttt_phased val_loss:2.31944212 val_bpb:1.05989454 eval_time:708785ms\n",
                                val_loss=2.31944212, val_bpb=1.05989454), file="train.log", lines=1),
        Invalid(files=_folder({"train_seed1.log": _log(1, eval_s=1800.0)}), track="non-record",
                file="train_seed1.log", lines=9, note="non-record without a waiver"),
    ))

    def check(self, sub) -> Iterable[Finding]:
        cap = sub.track_settings.get("eval_seconds")
        if cap is None:
            return
        severity, waived = self._severity(sub)
        for log, backs in self._judged(sub):
            if log.eval_time_s is not None and log.eval_time_s > float(cap):
                source = "total_eval_time" if log.eval_time_source == "total_eval_time" else (
                    f"eval_time of `{log.eval_time_source}`")
                level, why = (severity, waived) if backs else (Severity.INFO, _NOT_BACKING)
                yield self.report(f"{log.path}: evaluation took {_fmt_s(log.eval_time_s)} ({source}), over the "
                                  f"{sub.track} track's {_fmt_s(float(cap))} cap{why}", file=log.path,
                                  line=log.eval_time_line, severity=level, seconds=log.eval_time_s, cap=cap)


class LoggedSizeOverCap(Rule):
    """A run logged a total submission size over the cap (`bytes.cap`, 16,000,000 bytes).

    The size is the last `Total submission size ...: N bytes` line, else `Serialized model ...`
    plus `Code size`, else the model size alone. (GL301 checks the files on disk; this checks the
    run that produced the scores, which may differ when the code was trimmed afterwards.)

    **Why.** A score earned by an artifact over 16 MB does not count, even if the committed files
    were made to fit later.

    **Example.** `Total submission size int8+zlib: 16003152 bytes`.

    **Instead.** Shrink the model (fewer parameters, stronger quantization or codec) and rerun.
    """

    id = "GL410"
    name = "logged-size-over-cap"
    facts = frozenset({Fact.LOGS})
    severity = Severity.ERROR
    message = "a run's logged submission size is over the cap"
    hint = "shrink the artifact (fewer parameters, int6/int5, zstd-22/lzma) and rerun every seed"
    valid = examples(lambda: (
        Valid(files=_folder()),
        Valid(files=_folder({"train_seed1.log": _log(1, total=16_000_000)}), note="exactly at the cap"),
        Valid(files=_one_seed("Serialized model: 67224983 bytes\nSerialized model int8+zlib: 15815847 bytes\n"
                              "final_int8_zlib_roundtrip_exact val_loss:2.06012374 val_bpb:1.21693775\n"),
              note="the raw checkpoint line comes before the compressed one"),
    ))
    invalid = examples(lambda: (
        Invalid(files=_folder({"train_seed1.log": _log(1, total=16_003_152)}), file="train_seed1.log", lines=7),
        Invalid(files=_one_seed("Serialized model quantized+brotli: 15998000 bytes\nCode size: 47642 bytes\n"
                                "final_int8_zlib_roundtrip_exact val_loss:2.06012374 val_bpb:1.21693775\n"),
                file="train.log", lines=1, note="model + code"),
        Invalid(files=_folder({"train_seed2.log": _log(2, total=16_777_216)}), file="train_seed2.log", lines=7,
                note="16 MiB is not 16 MB"),
    ))

    def check(self, sub) -> Iterable[Finding]:
        cap = int(sub.settings.get("bytes.cap"))
        for log in _readable(sub):
            if log.total_bytes is not None:
                size, line, what = log.total_bytes, log.total_bytes_line, "total submission size"
            elif log.model_bytes is not None and log.code_bytes is not None:
                size, line = log.model_bytes + log.code_bytes, log.model_bytes_line
                what = f"model {log.model_bytes:,} + code {log.code_bytes:,} bytes"
            elif log.model_bytes is not None:
                size, line, what = log.model_bytes, log.model_bytes_line, "serialized model alone"
            else:
                continue
            if size > cap:
                over = sub.track_settings.get("over_cap_severity")  # rulebook: the track's policy
                yield self.report(f"{log.path} logs {size:,} bytes ({what}), {size - cap:,} over the {cap:,}-byte "
                                  "cap", file=log.path, line=line, size=size, cap=cap,
                                  severity=Severity.parse(str(over)) if over else None)


def _significance_applies(sub) -> bool:
    return bool(sub.track_settings.get("requires_significance")) and bool(sub.claims)


def _seed_loss_line(sub) -> int | None:
    return ClaimLines(sub)("val_loss")


class SignificanceNotShown(Rule):
    """A record claim does not show a significant improvement over the record it must beat.

    A one-sided one-sample t-test over the seeds' scores (their logs' final scores, else as
    claimed), in val_bpb: H0 is mean >= record - margin. The record is the best record dated before
    the submission in its own `records/<track>/` folder (the tree being checked, e.g. a fork's),
    else the rulebook's `significance.record_val_bpb`; `golflint check --against VAL_LOSS` compares
    val_loss in nats against that value instead. The margin is `significance.min_improvement_nats`
    (0.005 nats) converted to BPB with the submission's own val_bpb / val_loss; the level is
    `significance.p_value` (0.01). The finding names the record used. Applies on tracks with
    `requires_significance`. Too few seeds to test at all is GL412.

    A warning, not an error: the organizers merged record-track submissions that did not show
    this against the record before them (see the `[significance]` comments in rules.toml), so
    failing it means "not shown to be a new best", not "rejected".

    **Why.** Seed-to-seed noise is a few thousandths of a nat; without the test a lucky seed
    could set a record. The rules ask for 0.005 nats at p < 0.01. val_loss is per token, so it
    cannot compare submissions with different tokenizers; val_bpb can.

    **Example.** Three seeds at val_bpb 1.2230, 1.2250, 1.2210 against a record of 1.2244: no better
    on average than the record.

    **Instead.** Run more seeds, or improve the model further. Pure systems speed-ups without ML
    changes are exempt: say so in the README (and `--ignore GL411`).
    """

    id = "GL411"
    name = "significance-not-shown"
    facts = frozenset({Fact.LOGS})
    severity = Severity.WARNING
    message = "the seeds do not show a significant improvement over the record"
    hint = "run more seeds or improve further; pure systems speed-ups are exempt (say so, and --ignore GL411)"
    valid = examples(lambda: (
        Valid(files=_folder()),
        Valid(files=_folder(), settings={"significance": {"record_val_bpb": 1.2228}},
              note="0.0059 BPB better; the margin is 0.0030 BPB (0.005 nats) at p < 0.01"),
        Valid(files=_folder(), settings={"significance": {"record_val_loss": 2.0700,
                                                          "record_source": "--against"}},
              note="--against compares val_loss in nats: 0.0099 better"),
        Valid(files=_folder({"train_seed1.log": _log(1, loss=2.0800)}), track="non-record",
              note="non-record track: no significance needed"),
        Valid(files=_one_seed(), note="one seed: GL412"),
    ))
    invalid = examples(lambda: (
        Invalid(files=_folder(), settings={"significance": {"record_val_bpb": 1.2198}}, file=SUBMISSION_JSON,
                lines=5, note="0.0029 BPB better: less than 0.005 nats in BPB"),
        Invalid(files=_folder({"submission.json": _claims({1: (2.0670, 1.2200), 2: (2.0690, 1.2210),
                                                           3: (2.0660, 1.2190)}),
                               "train_seed1.log": _log(1, 2.0670, 1.2200), "train_seed2.log": _log(2, 2.0690, 1.2210),
                               "train_seed3.log": _log(3, 2.0660, 1.2190)}),
                file=SUBMISSION_JSON, note="better on average but too noisy"),
        Invalid(files=_folder(), settings={"significance": {"record_val_bpb": 1.2100}}, file=SUBMISSION_JSON,
                note="worse than the record"),
    ))

    def check(self, sub) -> Iterable[Finding]:
        if not _significance_applies(sub):
            return
        result = record_significance(sub)
        if result.std is None or result.significant:
            return  # too few seeds: GL412
        yield self.report(f"{result.verdict} ({result.summary()}; record {result.metric} "
                          f"{_score_text(result.record)} from {result.record_source}, threshold "
                          f"{_score_text(result.threshold)})", file=SUBMISSION_JSON, line=_seed_loss_line(sub),
                          n=result.n, mean=result.mean, std=result.std, t=result.t, p=result.p,
                          metric=result.metric, record=result.record, record_source=result.record_source)


class TooFewSeeds(Rule):
    """A record claim has fewer seeds than the significance test needs (`significance.min_seeds`).

    Applies on tracks with `requires_significance`. Seeds are the claimed seeds, else the logs
    with a final score.

    A warning, not an error: the claim is unproven rather than disproven, and pure systems
    speed-ups without ML changes are exempt from the test, which golflint cannot tell from the code.

    **Why.** One run cannot show that an improvement is more than seed noise; the rules ask for a
    significance test across runs, usually over three seeds.

    **Example.** A record-track folder with one `train.log` and headline scores only.

    **Instead.** Run at least three seeds and report each in `seed_results`, with its log. For a
    pure systems speed-up, say so in the README (and `--ignore GL412`).
    """

    id = "GL412"
    name = "too-few-seeds"
    facts = frozenset({Fact.LOGS})
    severity = Severity.WARNING
    message = "too few seeds to show significance"
    hint = "run at least three seeds and report each in seed_results, with its log"
    valid = examples(lambda: (
        Valid(files=_folder()),
        Valid(files=_folder(seeds=(1, 2))),
        Valid(files=_one_seed(), track="non-record", note="non-record track"),
    ))
    invalid = examples(lambda: (
        Invalid(files=_one_seed(), file=SUBMISSION_JSON, lines=5),
        Invalid(files=_folder(seeds=(1,)), file=SUBMISSION_JSON),
        Invalid(files=_folder(seeds=(1, 2)), file=SUBMISSION_JSON, settings={"significance": {"min_seeds": 3}},
                note="two seeds, three required"),
    ))

    def check(self, sub) -> Iterable[Finding]:
        if not _significance_applies(sub):
            return
        result = record_significance(sub)
        if result.std is not None:
            return
        yield self.report(f"{result.verdict}, so the claim is not shown to beat the record "
                          f"({result.metric} {_score_text(result.record)} from {result.record_source}) by "
                          f"{result.delta_nats if result.delta_nats is not None else result.delta:g} nats",
                          file=SUBMISSION_JSON, line=_seed_loss_line(sub), n=result.n)


_SHIPPED = ("import os\n\n\ndef train(steps):\n    lr = float(os.environ.get('LR', 0.05))\n"
            "    return steps * lr\n\n\ndef evaluate(model):\n    return sum(model) / len(model)\n\n\n"
            "print(train(int(os.environ.get('STEPS', 20))))\n")


def _source_log(code: str) -> str:
    return code + "\n" + "=" * 100 + "\n" + _log(1)


class LogSourceDiffers(Rule):
    """A log carries the source of the script that wrote it, and that source is not the code shipped.

    The baseline and most records write their own source at the top of each log (`log0(code)`),
    before a line of 100 `=`. golflint compares it with the shipped code (the decoded layer of a
    self-extracting script) on the syntax tree, so comments and formatting never count, and names
    the top-level functions and classes that differ and the `os.environ.get` defaults that changed.
    A log is compared with the closest shipped script (a folder may ship several experiments').

    Info: accepted records were often edited after their runs (a logging line, a default), so a
    difference is for a reviewer to read, not a verdict. Deciding which differences change
    evaluation, data or scoring is not done yet. A log that carries, word for word, another
    script the folder ships (an ablation's, a variant's) is backed by that script: no finding.

    **Why.** The logs back the claims only if the shipped code produced them; a folder that ships
    different code beside its logs (the plain baseline beside logs of a 0.027 BPB run) backs nothing.

    **Example.** The log's `evaluate` divides by the byte count, the shipped one by the token count.

    **Instead.** Rerun the shipped code and commit its logs, or ship the code the logs came from.
    """

    id = "GL413"
    name = "log-source-differs"
    facts = frozenset({Fact.CODE, Fact.LOGS})
    severity = Severity.INFO
    message = "a log carries source that differs from the shipped code"
    hint = "rerun the shipped code and commit its logs, or ship the code the logs came from"
    valid = examples(lambda: (
        Valid(files=_folder({"train_gpt.py": _SHIPPED, "train_seed1.log": _source_log(_SHIPPED)})),
        Valid(files=_folder({"train_gpt.py": _SHIPPED,
                             "train_seed1.log": _source_log("# a comment\n" + _SHIPPED.replace("\n\n\n", "\n\n"))}),
              note="comments and blank lines are not differences"),
        Valid(files=_folder({"train_gpt.py": _SHIPPED}), note="a log without source: nothing to compare"),
        Valid(files=_folder({"train_gpt.py": _SHIPPED,
                             "ablation.py": _SHIPPED.replace("sum(model) / len(model)", "sum(model) / 2"),
                             "train_ablation.log": _source_log(_SHIPPED.replace("sum(model) / len(model)",
                                                                                "sum(model) / 2"))}),
              note="the log of another script the folder ships"),
    ))
    invalid = examples(lambda: (
        Invalid(files=_folder({"train_gpt.py": _SHIPPED, "train_seed1.log": _source_log(
            _SHIPPED.replace("sum(model) / len(model)", "sum(model) / 2"))}), file="train_seed1.log"),
        Invalid(files=_folder({"train_gpt.py": _SHIPPED, "train_seed1.log": _source_log(
            _SHIPPED.replace("'LR', 0.05", "'LR', 0.04"))}), file="train_seed1.log", note="a default changed"),
        Invalid(files=_folder({"train_gpt.py": _SHIPPED, "train_seed1.log": _source_log(
            _SHIPPED + "\n\ndef extra():\n    return 1\n")}), file="train_seed1.log", note="a function only in the log"),
    ))

    def check(self, sub) -> Iterable[Finding]:
        from ..logs.source import Definitions, LoggedSources, compare, logged_source

        # Every shipped script, each as its innermost decoded layer where packed; a log is compared
        # with the closest one (a folder may ship the scripts of several experiments).
        innermost: dict[str, Any] = {}
        for unit in sub.python_units:
            if unit.path not in innermost or unit.layer > innermost[unit.path].layer:
                innermost[unit.path] = unit
        if not innermost:
            return
        shipped_texts = {unit.source.strip() for unit in innermost.values()}
        shipped_defs: dict[str, Definitions] = {}
        # Every seed's log usually carries the same source: each distinct text is compared once.
        seen: dict[str, tuple[Any, Any] | None] = {}
        readings = LoggedSources(innermost.values())
        other_scripts: set[str] | None = None
        for log in _readable(sub):
            source = logged_source(sub.text(log.path) or "")
            if source is None or source.strip() in shipped_texts:
                continue  # none, or the shipped code itself
            if other_scripts is None:
                # A folder may ship the scripts of other experiments beside the submission's own
                # (ablations, variants): a log that carries one of them word for word is backed
                # by code in the folder.
                other_scripts = {(sub.text(rel) or "").strip() for rel in sub.files
                                 if rel.endswith(".py") and rel not in innermost}
            if source.strip() in other_scripts:
                continue
            if source not in seen:
                seen[source] = None
                try:
                    logged = readings.definitions(source, log.path)
                except (SyntaxError, ValueError, RecursionError):
                    continue  # not source after all
                for unit in innermost.values():
                    if unit.path not in shipped_defs:
                        shipped_defs[unit.path] = Definitions(unit.tree, unit.source, unit.nodes(ast.Call))
                seen[source] = min(((u, compare(logged, shipped_defs[u.path])) for u in innermost.values()),
                                   key=lambda pair: pair[1].size)
            if seen[source] is None:
                continue
            shipped, diff = seen[source]
            if diff.empty:
                continue
            parts = []
            for label, names in (("functions that differ", diff.functions), ("only in the log", diff.only_in_log),
                                 ("only shipped", diff.only_shipped), ("settings", diff.settings)):
                if names:
                    shown = ", ".join(names[:8]) + (f", and {len(names) - 8} more" if len(names) > 8 else "")
                    parts.append(f"{label}: {shown}")
            yield self.report(f"{log.path} carries the source of the run that wrote it, which differs from "
                              f"{shipped.label}: " + "; ".join(parts), file=log.path, line=1,
                              functions=diff.functions, settings=diff.settings)


RULES: list[type[Rule]] = [
    LogWithoutFinalScore, UnreadableTrainLog, TrainLogNotUtf8, ClaimedScoreNotInLog, ClaimedSeedWithoutLog,
    UnclaimedSeedLog, LogSeedDisagreesWithFileName, TrainTimeOverCap, EvalTimeOverCap, LoggedSizeOverCap,
    SignificanceNotShown, TooFewSeeds, LogSourceDiffers,
]
