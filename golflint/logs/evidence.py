"""What the logs say about the claims: which log backs which claimed seed, and the seeds' val_loss.

Shared by the GL4xx rules and the check's JSON summary, so both tell the same story. Seeds are
compared as strings ("42"), the way submission.json keys them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
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


def seed_evidence(sub: "Submission") -> list[SeedEvidence]:
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


def seed_val_losses(sub: "Submission") -> list[tuple[str, float, str]]:
    """(seed, val_loss, source) per seed: the backing log's final score, else the claim.

    Without claimed seeds, every readable log with a final score counts once.
    """
    out: list[tuple[str, float, str]] = []
    evidence = seed_evidence(sub)
    if evidence:
        for ev in evidence:
            log = ev.matched or (ev.logs[0] if len(ev.logs) == 1 else None)
            final = log.final if log is not None else None
            if final is not None and math.isfinite(final.val_loss):
                out.append((ev.seed, final.val_loss, f"{log.path} line {final.line}"))  # type: ignore[union-attr]
                continue
            claimed = claim_values(ev.claim).get("val_loss")
            if claimed is not None:
                out.append((ev.seed, claimed, "submission.json"))
        return out
    seen: set[str] = set()
    for log in sub.logs:
        final = log.final
        key = str(log.seed) if log.seed is not None else log.path
        if final is None or key in seen or not math.isfinite(final.val_loss):
            continue
        seen.add(key)
        out.append((key, final.val_loss, f"{log.path} line {final.line}"))
    if not out:
        headline = number(sub.claims.get("val_loss"))
        if headline is not None and math.isfinite(headline):
            out.append(("headline", headline, "submission.json"))
    return out


def record_significance(sub: "Submission") -> Significance:
    values = [v for _, v, _ in seed_val_losses(sub)]
    return significance(
        values,
        record=float(sub.settings.get("significance.record_val_loss")),
        delta=float(sub.settings.get("significance.min_improvement_nats")),
        alpha=float(sub.settings.get("significance.p_value")),
        min_seeds=int(sub.settings.get("significance.min_seeds", 2)),
    )


def log_details(sub: "Submission") -> dict[str, Any]:
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
    finite = lambda x: x if x is None or math.isfinite(x) else None  # noqa: E731
    return {
        "logs": logs,
        "significance": {
            "n": sig.n, "mean": sig.mean, "std": sig.std, "t": finite(sig.t), "p": sig.p,
            "record_val_loss": sig.record, "min_improvement_nats": sig.delta, "p_value": sig.alpha,
            "significant": sig.significant, "verdict": sig.verdict,
        },
    }
