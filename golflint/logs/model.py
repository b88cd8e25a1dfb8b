"""What a parsed train log holds."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Score:
    label: str            # "final_int8_zlib_roundtrip_exact", "quantized_ttt_phased", ...
    val_loss: float
    val_bpb: float
    line: int
    exact: bool           # printed at exact precision (the final score is the last exact one)
    eval_time_ms: float | None = None


@dataclass
class TrainLog:
    path: str
    problem: str | None = None            # unreadable / binary / not UTF-8
    seed: int | None = None
    seed_line: int | None = None
    scores: list[Score] = field(default_factory=list)
    train_time_ms: float | None = None
    train_time_line: int | None = None
    eval_time_s: float | None = None
    eval_time_line: int | None = None
    total_bytes: int | None = None
    total_bytes_line: int | None = None
    model_bytes: int | None = None
    model_bytes_line: int | None = None
    code_bytes: int | None = None
    code_bytes_line: int | None = None
    steps: int | None = None
    step_avg_ms: float | None = None
    missing: list[str] = field(default_factory=list)   # what a known format has that this lacks

    @property
    def final(self) -> Score | None:
        exact = [s for s in self.scores if s.exact]
        pool = exact or self.scores
        return pool[-1] if pool else None
