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
    # The training step of an in-training validation line (`step:200/20000 val_loss:...`); such a
    # line scores the model before quantization and the round trip, so it is never a final score.
    step: int | None = None
    loss_decimals: int = 0     # digits printed after the decimal point: how precise the figure is
    bpb_decimals: int = 0


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
    world_size: int | None = None                  # GPUs the run used (`world_size:2`)
    world_size_line: int | None = None
    compressed_code_bytes: int | None = None        # `Code size (compressed): N bytes`
    compressed_code_bytes_line: int | None = None
    steps: int | None = None
    step_avg_ms: float | None = None
    missing: list[str] = field(default_factory=list)   # what a known format has that this lacks
    # -- additions of the full parser -----------------------------------------------------------
    file_seed: int | None = None          # the seed the file name carries (train_seed42.log)
    seed_source: str | None = None        # "line" (printed by the run) or "file name"
    # Text that is not valid UTF-8 but not binary either is parsed with U+FFFD in place of the
    # bad bytes; `problem` stays None so the scores are still checked.
    decode_problem: str | None = None
    replaced_bytes: int = 0
    decode_line: int | None = None        # the line of the first undecodable byte
    line_count: int = 0
    stopped_early: bool = False           # the run printed a wallclock-cap stop line
    max_steps: int | None = None          # the 20000 of `step:13780/20000`
    step_avg_line: int | None = None
    eval_time_source: str | None = None   # "total_eval_time" or the score label it came from
    model_format: str | None = None       # "int8+zlib" from `Serialized model int8+zlib: N bytes`
    total_format: str | None = None
    peak_memory_mib: float | None = None
    peak_memory_line: int | None = None

    @property
    def final(self) -> Score | None:
        """The last exact-precision score; else the last score printed after training; else None."""
        exact = [s for s in self.scores if s.exact and s.step is None]
        pool = exact or [s for s in self.scores if s.step is None]
        return pool[-1] if pool else None

    @property
    def last_step_score(self) -> Score | None:
        during = [s for s in self.scores if s.step is not None]
        return during[-1] if during else None
