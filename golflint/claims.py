"""Reading the claims in submission.json the way the rules need them.

submission.json has grown over the challenge: older records carry only headline fields, newer ones
`seed_results` as a list of objects (each with a `seed`) or as an object keyed by seed. These
helpers give every rule the same view of both shapes, and line numbers for findings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .jsonpos import JsonLines

if TYPE_CHECKING:
    from .submission import Submission

SUBMISSION_JSON = "submission.json"


@dataclass(frozen=True)
class SeedClaim:
    seed: str | None            # "42"; None when a list entry names no seed
    path: tuple[Any, ...]       # where it sits: ("seed_results", "42") or ("seed_results", 0)
    fields: dict[str, Any]

    @property
    def label(self) -> str:
        if self.seed is not None:
            return f"seed {self.seed}"
        return f"seed_results[{self.path[-1]}]"

    def number(self, key: str) -> float | None:
        return number(self.fields.get(key))


def number(value: Any) -> float | None:
    """A JSON number as float (booleans are not numbers), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def is_finite(value: float) -> bool:
    return not (math.isnan(value) or math.isinf(value))


def seed_claims(claims: dict[str, Any]) -> list[SeedClaim]:
    """The per-seed entries of `seed_results`, whichever shape it has; malformed entries skipped."""
    field_name = "seed_results"
    results = claims.get(field_name)
    if results is None and isinstance(claims.get("seeds"), dict):
        # {"42": {"val_bpb": ...}}: per-seed results under `seeds` (accepted records)
        field_name = "seeds"
        results = claims[field_name]
    out: list[SeedClaim] = []
    if isinstance(results, dict):
        for key, entry in results.items():
            if isinstance(entry, dict):
                out.append(SeedClaim(_seed_name(key), (field_name, key), entry))
    elif isinstance(results, list):
        for i, entry in enumerate(results):
            if isinstance(entry, dict):
                seed = entry.get("seed")
                out.append(SeedClaim(_seed_name(seed) if seed is not None else None,
                                     (field_name, i), entry))
    return out


def _seed_name(value: Any) -> str:
    text = str(value).strip()
    # "seed42" and "seed_42" name the same seed as 42 does
    lowered = text.lower()
    for prefix in ("seed_", "seed-", "seed"):
        if lowered.startswith(prefix) and lowered[len(prefix):].isdigit():
            return lowered[len(prefix):]
    return text


class ClaimLines:
    """Line numbers in submission.json, computed on first use only."""

    def __init__(self, sub: Submission):
        self._sub = sub
        self._lines: JsonLines | None = None

    def __call__(self, *path: Any) -> int | None:
        if self._lines is None:
            self._lines = JsonLines(self._sub.text(SUBMISSION_JSON) or "")
        return self._lines.line(*path)
