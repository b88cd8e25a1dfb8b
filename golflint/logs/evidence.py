"""What the logs say about the claims: which log backs which claimed seed, and the seeds' val_loss.

Shared by the GL4xx rules and the check's JSON summary, so both tell the same story. Seeds are
compared as strings ("42"), the way submission.json keys them.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..claims import SeedClaim, number, seed_claims
from .model import Score, TrainLog
from .stats import Significance, significance

if TYPE_CHECKING:
    from ..submission import Submission

METRICS = ("val_loss", "val_bpb")


@dataclass
class SeedEvidence:
    seed: str
    claim: SeedClaim | None                 # None: the seed is only listed in `seeds`
    logs: list[TrainLog] = field(default_factory=list)   # logs that name this seed
    matched: TrainLog | None = None         # the log whose final score backs the claim, if any


def claimed_seeds(claims: dict[str, Any]) -> dict[str, SeedClaim | None]:
    """Seeds named by `seed_results` (with their entries) and by `seeds`, in the order given."""
    out: dict[str, SeedClaim | None] = {}
    for claim in seed_claims(claims):
        if claim.seed is not None:
            out[claim.seed] = claim
    listed = claims.get("seeds")
    if isinstance(listed, str):
        # "1, 2, 3": the wrong type is GL006's to report, but the seeds it names are still claimed.
        listed = re.findall(r"\d+", listed)
    if isinstance(listed, list):
        for item in listed:
            if isinstance(item, (int, str)) and not isinstance(item, bool) and str(item).strip():
                out.setdefault(str(item).strip(), None)
    return out


def decimals_of(value: float) -> int:
    """Digits after the decimal point in the shortest form of a JSON number (2.0727 -> 4)."""
    try:
        exponent = Decimal(repr(float(value))).normalize().as_tuple().exponent
    except (InvalidOperation, ValueError, OverflowError):
        return 0
    return max(0, -exponent) if isinstance(exponent, int) else 0


def agrees(claimed: float, score: Score, metric: str) -> bool:
    """Claimed and logged figure agree to the precision of the coarser of the two.

    One unit in the last printed digit, not half: a claim may be rounded or truncated.
    """
    logged = score.val_loss if metric == "val_loss" else score.val_bpb
    if not (math.isfinite(claimed) and math.isfinite(logged)):
        return False
    logged_decimals = score.loss_decimals if metric == "val_loss" else score.bpb_decimals
    digits = min(decimals_of(claimed), logged_decimals)
    return abs(claimed - logged) <= 10.0 ** -digits + 1e-12


def claim_values(claim: SeedClaim | None) -> dict[str, float]:
    if claim is None:
        return {}
    out = {}
    for metric in METRICS:
        value = claim.number(metric)
        if value is not None and math.isfinite(value):
            out[metric] = value
    return out


def final_agrees(values: dict[str, float], log: TrainLog) -> bool:
    final = log.final
    return final is not None and bool(values) and all(agrees(v, final, m) for m, v in values.items())


def seed_evidence(sub: Submission) -> list[SeedEvidence]:
    """Each claimed seed with the logs that name it, and the log that backs its scores.

    A log that prints no seed (and has none in its name) may still back a claim by its scores.
    """
    by_seed: dict[str, list[TrainLog]] = {}
    for log in sub.logs:
        if log.seed is not None:
            by_seed.setdefault(str(log.seed), []).append(log)
    unnamed = [log for log in sub.logs if log.seed is None and log.problem is None]
    out = []
    for seed, claim in claimed_seeds(sub.claims).items():
        ev = SeedEvidence(seed, claim, list(by_seed.get(seed, [])))
        values = claim_values(claim)
        if values:
            ev.matched = next((log for log in ev.logs if final_agrees(values, log)), None)
            if ev.matched is None and not ev.logs:
                ev.matched = next((log for log in unnamed if final_agrees(values, log)), None)
        elif len(ev.logs) == 1:
            ev.matched = ev.logs[0]
        out.append(ev)
    return out


def _seed_results(sub: Submission, need_bpb: bool) -> list[tuple[str, float | None, float | None, str]]:
    """(seed, val_loss, val_bpb, source) per seed: the backing log's final score, else the claim.

    Without claimed seeds, every readable log with a final score counts once; without those either,
    the headline. `need_bpb`: a log's final score counts only with a finite val_bpb too.
    """
    out: list[tuple[str, float | None, float | None, str]] = []
    evidence = seed_evidence(sub)
    if evidence:
        for ev in evidence:
            log = ev.matched or (ev.logs[0] if len(ev.logs) == 1 else None)
            final = log.final if log is not None else None
            if final is not None and math.isfinite(final.val_loss) and (not need_bpb or math.isfinite(final.val_bpb)):
                out.append((ev.seed, final.val_loss, final.val_bpb, f"{log.path} line {final.line}"))  # type: ignore[union-attr]
                continue
            claimed = claim_values(ev.claim)
            if claimed:
                out.append((ev.seed, claimed.get("val_loss"), claimed.get("val_bpb"), "submission.json"))
        return out
    seen: set[str] = set()
    for log in sub.logs:
        final = log.final
        key = str(log.seed) if log.seed is not None else log.path
        if final is None or key in seen or not math.isfinite(final.val_loss):
            continue
        seen.add(key)
        out.append((key, final.val_loss, final.val_bpb, f"{log.path} line {final.line}"))
    if not out:
        loss, bpb = number(sub.claims.get("val_loss")), number(sub.claims.get("val_bpb"))
        if loss is not None or bpb is not None:
            out.append(("headline", loss, bpb, "submission.json"))
    return out


def seed_val_losses(sub: Submission) -> list[tuple[str, float, str]]:
    """(seed, val_loss, source) per seed, from `_seed_results`."""
    return [(seed, loss, source) for seed, loss, _, source in _seed_results(sub, need_bpb=False)
            if loss is not None and (seed != "headline" or math.isfinite(loss))]


@dataclass(frozen=True)
class RecordToBeat:
    metric: str          # "val_bpb" (tokenizer independent) or "val_loss" (nats, --against)
    value: float
    source: str          # for people: which record, and why that one


_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})")


def _date_of(folder_name: str, claims: dict[str, Any]) -> str | None:
    """The submission's date: submission.json `date` (ISO), else the folder name's YYYY-MM-DD."""
    for text in (claims.get("date"), folder_name):
        match = _DATE.match(str(text or "").strip())
        if match:
            return match.group(1)
    return None


def _accepted_records(track_folder: Path, skip: Path) -> list[tuple[str, float, str]]:
    """(date, val_bpb, folder name) of every other submission in this track folder that claims a
    headline val_bpb: the records accepted before it, as the tree being checked holds them."""
    return [(date, bpb, name) for date, bpb, name, path in _track_records(str(track_folder)) if path != skip]


@lru_cache(maxsize=16)
def _track_records(track_folder_path: str) -> tuple[tuple[str, float, str, Path], ...]:
    """Every submission of one track folder with a dated headline val_bpb; read once per run (a
    check of the whole tree asks for it once per submission)."""
    from ..files import read_file

    track_folder = Path(track_folder_path)
    out = []
    try:
        folders = sorted(p for p in track_folder.iterdir() if p.is_dir() and not p.is_symlink())
    except OSError:
        return ()
    for folder in folders:
        names = sorted(p.name for p in folder.glob("submission*.json"))
        name = "submission.json" if "submission.json" in names else (names[0] if len(names) == 1 else None)
        if name is None:
            continue
        fr = read_file(folder, name, 1_000_000)
        if fr.text_problem() is not None:
            continue
        try:
            data = json.loads(fr.text() or "")
        except (ValueError, RecursionError):
            continue
        if not isinstance(data, dict):
            continue
        bpb = number(data.get("val_bpb"))
        date = _date_of(folder.name, data)
        if bpb is not None and math.isfinite(bpb) and bpb > 0 and date is not None:
            out.append((date, bpb, folder.name, folder.resolve()))
    return tuple(out)


def record_to_beat(sub: Submission) -> RecordToBeat:
    """The record a record-track claim must beat, the way the organizers judge it.

    `--against VAL_LOSS` wins (nats). Otherwise, with `significance.record_from_tree`, the best
    (lowest val_bpb) record in the same `records/<track>/` folder dated before the submission;
    else the rulebook's `significance.record_val_bpb`.
    """
    settings = sub.settings
    if settings.get("significance.record_source", "tree") == "--against":
        value = float(settings.get("significance.record_val_loss"))
        return RecordToBeat("val_loss", value, f"--against {value:g}")
    fallback = RecordToBeat("val_bpb", float(settings.get("significance.record_val_bpb")),
                            "the rulebook (significance.record_val_bpb)")
    root = sub.root.resolve()
    track_folder = root.parent
    if settings.get("significance.record_source", "tree") != "tree" or track_folder.parent.name != "records":
        return fallback
    own = _date_of(root.name, sub.claims)
    if own is None:
        return fallback
    earlier = [r for r in _accepted_records(track_folder, root) if r[0] < own]
    if not earlier:
        return fallback
    date, bpb, name = min(earlier, key=lambda r: r[1])
    return RecordToBeat("val_bpb", bpb, f"{track_folder.name}/{name} (val_bpb {bpb:g}, dated {date}, "
                                        f"the best record dated before this one's {own})")


def seed_scores(sub: Submission) -> list[tuple[str, float | None, float | None]]:
    """(seed, val_loss, val_bpb) per seed, from the same sources as `seed_val_losses`."""
    return [(seed, loss, bpb) for seed, loss, bpb, _ in _seed_results(sub, need_bpb=True)]


def record_significance(sub: Submission) -> Significance:
    """The significance test of a record claim, in BPB where the seeds give it.

    val_loss (nats per token) is not comparable across tokenizers (an SP8192 record at val_bpb 1.06
    has val_loss 2.32; the SP1024 baseline at 1.22 has 2.07), val_bpb is. The rulebook's margin is
    in nats per token; in BPB it is margin * bpb / loss with the submission's own seeds (bits per
    byte per nat per token = tokens per byte / ln 2).
    """
    delta = float(sub.settings.get("significance.min_improvement_nats"))
    alpha = float(sub.settings.get("significance.p_value"))
    min_seeds = int(sub.settings.get("significance.min_seeds", 2))
    record = record_to_beat(sub)
    scores = seed_scores(sub)
    losses = [loss for _, loss, _ in scores if loss is not None and math.isfinite(loss)]
    bpbs = [bpb for _, _, bpb in scores if bpb is not None and math.isfinite(bpb)]
    if record.metric == "val_bpb" and len(bpbs) == len(scores) and scores:
        paired = [(loss, bpb) for _, loss, bpb in scores
                  if loss is not None and bpb is not None and loss > 0 and math.isfinite(loss)]
        ratio = (sum(b for _, b in paired) / sum(loss for loss, _ in paired)) if paired else 1 / math.log(2)
        result = significance(bpbs, record=record.value, delta=delta * ratio, alpha=alpha,
                              min_seeds=min_seeds, metric="val_bpb", delta_nats=delta)
    else:
        value = record.value if record.metric == "val_loss" else float(sub.settings.get("significance.record_val_loss"))
        source = record.source if record.metric == "val_loss" else "the rulebook (significance.record_val_loss)"
        record = RecordToBeat("val_loss", value, source)
        result = significance(losses, record=value, delta=delta, alpha=alpha, min_seeds=min_seeds,
                              metric="val_loss", delta_nats=delta)
    return replace(result, record_source=record.source)


def log_details(sub: Submission) -> dict[str, Any]:
    """Per-log scores, times and sizes, and the significance test, for the JSON report's details."""
    logs = []
    for log in sub.logs:
        final = log.final
        logs.append({
            "file": log.path,
            "seed": log.seed,
            "val_loss": final.val_loss if final else None,
            "val_bpb": final.val_bpb if final else None,
            "score_label": final.label if final else None,
            "score_line": final.line if final else None,
            "exact": final.exact if final else None,
            "train_time_s": None if log.train_time_ms is None else round(log.train_time_ms / 1000.0, 3),
            "eval_time_s": log.eval_time_s,
            "total_bytes": log.total_bytes,
            "model_bytes": log.model_bytes,
            "problem": log.problem,
            "missing": list(log.missing),
        })
    sig = record_significance(sub)
    # JSON has no infinity: identical seeds give t = -inf.
    finite = lambda x: x if x is None or math.isfinite(x) else None
    return {
        "logs": logs,
        "significance": {
            "n": sig.n, "mean": sig.mean, "std": sig.std, "t": finite(sig.t), "p": sig.p,
            "metric": sig.metric, "record": sig.record, "record_source": sig.record_source,
            "threshold": sig.threshold, "margin": sig.delta, "min_improvement_nats": sig.delta_nats,
            "p_value": sig.alpha,
            "significant": sig.significant, "verdict": sig.verdict,
        },
    }
