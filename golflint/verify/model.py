"""What verify found: a verdict per check, per seed, and overall."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any


class Verdict(str, Enum):
    PASS = "pass"
    FAIL = "fail"
    NOT_COMPARABLE = "not comparable"   # timing on hardware that is not the reference's
    NO_CLAIM = "no claim"               # nothing claimed to compare with
    CRASHED = "crashed"
    TIMEOUT = "timeout"
    INTERRUPTED = "interrupted"
    SKIPPED = "skipped"
    OVERRIDDEN = "overridden"           # preflight errors, run anyway with --force
    UNKNOWN = "unknown"                 # the evidence needed for a verdict is missing or was tampered with

    @property
    def failing(self) -> bool:
        return self in (Verdict.FAIL, Verdict.CRASHED, Verdict.TIMEOUT, Verdict.UNKNOWN)


class Outcome(str, Enum):
    VERIFIED = "verified"
    NOT_VERIFIED = "not verified"
    COULD_NOT_RUN = "could not run"

    @property
    def exit_code(self) -> int:
        return {Outcome.VERIFIED: 0, Outcome.NOT_VERIFIED: 1, Outcome.COULD_NOT_RUN: 2}[self]


@dataclass
class Check:
    name: str                   # "score", "bytes", "bpb accounting", "network", ...
    verdict: Verdict
    claimed: str = ""
    reproduced: str = ""
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "verdict": self.verdict.value}


@dataclass
class SeedRun:
    seed: str | None            # None: the script's own default seed
    workdir: str = ""
    log_path: str = ""
    returncode: int | None = None
    wall_s: float | None = None
    artifact_s: float | None = None
    val_loss: float | None = None
    val_bpb: float | None = None
    train_time_ms: float | None = None
    artifact_bytes: int | None = None
    code_bytes: int | None = None
    network_attempts: list[dict] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    log_tail: str = ""

    @property
    def label(self) -> str:
        return f"seed {self.seed}" if self.seed is not None else "default seed"

    @property
    def total_bytes(self) -> int | None:
        if self.artifact_bytes is None or self.code_bytes is None:
            return None
        return self.artifact_bytes + self.code_bytes

    @property
    def verdict(self) -> Verdict:
        for check in self.checks:
            if check.verdict in (Verdict.CRASHED, Verdict.TIMEOUT, Verdict.INTERRUPTED):
                return check.verdict
        return Verdict.FAIL if any(c.verdict.failing for c in self.checks) else Verdict.PASS

    def to_json(self) -> dict[str, Any]:
        data = {k: v for k, v in asdict(self).items() if k != "checks"}
        data.update(label=self.label, total_bytes=self.total_bytes, verdict=self.verdict.value,
                    checks=[c.to_json() for c in self.checks])
        return data


@dataclass
class Calibration:
    ran: bool
    ms_per_step: float | None = None
    expected_ms_per_step: float | None = None
    tokens_per_step: int | None = None
    factor: float | None = None         # measured / expected: > 1 slower than the reference hardware
    comparable: bool = False
    note: str = ""
    log_path: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class VerifyResult:
    submission: str
    gpus: int
    sandbox: str = ""
    workdir: str = ""
    preflight: Check | None = None
    calibration: Calibration | None = None
    runs: list[SeedRun] = field(default_factory=list)
    problem: str | None = None          # why verify could not run (outcome COULD_NOT_RUN)
    interrupted: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def outcome(self) -> Outcome:
        if self.problem is not None or self.interrupted:
            return Outcome.COULD_NOT_RUN
        if self.preflight is not None and self.preflight.verdict.failing:
            return Outcome.NOT_VERIFIED
        if not self.runs:
            return Outcome.COULD_NOT_RUN
        if any(run.verdict is not Verdict.PASS for run in self.runs):
            return Outcome.NOT_VERIFIED
        return Outcome.VERIFIED

    def to_json(self) -> dict[str, Any]:
        return {
            "version": 1,
            "submission": self.submission,
            "outcome": self.outcome.value,
            "exit_code": self.outcome.exit_code,
            "gpus": self.gpus,
            "sandbox": self.sandbox,
            "workdir": self.workdir,
            "problem": self.problem,
            "interrupted": self.interrupted,
            "notes": self.notes,
            "preflight": self.preflight.to_json() if self.preflight else None,
            "calibration": self.calibration.to_json() if self.calibration else None,
            "runs": [run.to_json() for run in self.runs],
        }
