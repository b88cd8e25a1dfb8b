"""Significance of a record claim: do the seeds' val_loss beat the record by the required margin?

The rulebook asks a new record to beat the current best by at least `min_improvement_nats` of
val_loss at p < `p_value`. Only the record's val_loss is known (not its per-seed runs), so this is
a one-sided one-sample t-test of the seeds against record - delta:

    H0: mean(val_loss) >= record - delta        H1: mean(val_loss) < record - delta

t = (mean - (record - delta)) / (s / sqrt(n)) with the sample standard deviation s (ddof = 1),
and p = P(T_{n-1} <= t). A t-test needs a variance, so fewer than two seeds cannot show anything.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Significance:
    n: int
    mean: float | None
    std: float | None             # sample standard deviation (ddof = 1); None below two seeds
    t: float | None
    p: float | None
    threshold: float              # record - delta: the mean must be significantly below this
    record: float
    delta: float
    alpha: float
    significant: bool
    verdict: str                  # one sentence for people
    metric: str = "val_loss"      # what the values are: val_loss (nats) or val_bpb
    delta_nats: float | None = None   # the rulebook's margin in nats, when `delta` is converted
    record_source: str = ""       # which record was used, for people

    def summary(self) -> str:
        parts = [f"n={self.n}"]
        if self.mean is not None:
            parts.append(f"mean {self.metric} {self.mean:.6f}")
        if self.std is not None:
            parts.append(f"std {self.std:.6f}")
        if self.t is not None:
            parts.append(f"t={self.t:.3f}")
        if self.p is not None:
            parts.append(f"p={_fmt_p(self.p)}")
        return ", ".join(parts)


def _fmt_p(p: float) -> str:
    if p == 0.0:
        return "0"
    return f"{p:.2g}" if p >= 1e-4 else f"{p:.1e}"


def significance(val_losses: Sequence[float], record: float, delta: float, alpha: float,
                 min_seeds: int = 2, metric: str = "val_loss", delta_nats: float | None = None) -> Significance:
    """One-sided test that the mean of `val_losses` lies below `record - delta` at level `alpha`
    (`val_losses` may be val_bpb values: `metric` says which, for the wording)."""
    values = [float(v) for v in val_losses if v is not None and math.isfinite(float(v))]
    n = len(values)
    threshold = record - delta
    mean = statistics.fmean(values) if values else None
    base = dict(n=n, mean=mean, threshold=threshold, record=record, delta=delta, alpha=alpha,
                metric=metric, delta_nats=delta_nats)
    unit = "nats" if metric == "val_loss" else "BPB"
    margin = f"{delta:g}" if delta_nats is None or metric == "val_loss" else f"{delta:.5f} BPB ({delta_nats:g} nats)"
    need = max(2, int(min_seeds))
    if n < need:
        what = "one seed" if n == 1 else f"{n} seeds"
        return Significance(std=None, t=None, p=None, significant=False, **base,
                            verdict=f"{what} cannot show significance: the t-test needs at least {need}")
    assert mean is not None
    std = statistics.stdev(values)
    if std == 0.0:
        # Identical seeds: no spread to test against. The sign alone decides, and says so.
        below = mean < threshold
        t = -math.inf if below else (math.inf if mean > threshold else 0.0)
        p = 0.0 if below else 1.0
    else:
        t = (mean - threshold) / (std / math.sqrt(n))
        p = t_cdf(t, n - 1)
    significant = p < alpha
    improvement = record - mean
    if significant:
        verdict = (f"the seeds beat the record by {improvement:.4f} {unit} on average, significantly more than "
                   f"{margin} at p < {alpha:g}")
    elif improvement <= 0:
        verdict = f"the seeds' mean {metric} {mean:.6f} does not beat the record {record:.6f}"
    else:
        verdict = (f"the seeds beat the record by {improvement:.4f} {unit} on average, which does not show an "
                   f"improvement of at least {margin} at p < {alpha:g}")
    if std == 0.0:
        verdict += "; the seeds' val_loss values are identical, which independent runs rarely are"
    return Significance(std=std, t=t, p=p, significant=significant, verdict=verdict, **base)


def t_cdf(t: float, df: int) -> float:
    """P(T <= t) for Student's t with an integer number of degrees of freedom.

    The finite series of Abramowitz & Stegun 26.7.3 and 26.7.4 (exact for integer df), instead of
    scipy.stats: importing that costs about a second, more than checking a whole submission, and
    the seed count minus one is always an integer. tests/test_stats.py checks it against scipy.
    """
    if df < 1:
        raise ValueError("degrees of freedom must be at least 1")
    if math.isnan(t):
        return math.nan
    if math.isinf(t):
        return 0.0 if t < 0 else 1.0
    theta = math.atan(abs(t) / math.sqrt(df))
    c2 = math.cos(theta) ** 2
    if df % 2 == 1:
        series, term = 1.0 if df > 1 else 0.0, 1.0
        for k in range(3, df, 2):          # (2/3) c2, (2*4)/(3*5) c2^2, ...
            term *= (k - 1) / k * c2
            series += term
        within = 2.0 / math.pi * (theta + math.sin(theta) * math.cos(theta) * series)
    else:
        series, term = 1.0, 1.0
        for k in range(2, df, 2):          # (1/2) c2, (1*3)/(2*4) c2^2, ...
            term *= (k - 1) / k * c2
            series += term
        within = math.sin(theta) * series
    within = min(1.0, max(0.0, within))   # P(|T| <= |t|)
    return 0.5 + within / 2.0 if t >= 0 else 0.5 - within / 2.0
