"""The unit of output: a Finding, and the severities it can carry."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from typing import Any


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 2, "warning": 1, "info": 0}[self.value]

    @classmethod
    def parse(cls, value: str) -> "Severity":
        try:
            return cls(value.lower())
        except ValueError:
            raise ValueError(f"unknown severity {value!r}; use error, warning or info") from None


@dataclass(frozen=True)
class Finding:
    rule: str                      # "GL101"
    name: str                      # "val-tokens-trained-before-scored"
    severity: Severity
    message: str
    file: str | None = None        # path relative to the submission folder, or a display label
    line: int | None = None        # 1-based, in the file named by `file`
    col: int | None = None         # 1-based
    hint: str | None = None
    # Where a finding sits in decoded (packed) code: "train_gpt.py (decoded, layer 1)".
    where: str | None = None
    suppressed: bool = False
    suppress_reason: str | None = None
    data: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def with_(self, **changes: Any) -> "Finding":
        return replace(self, **changes)

    @property
    def location(self) -> str:
        place = self.where or self.file or ""
        if self.line is not None:
            place = f"{place}:{self.line}" if place else f"line {self.line}"
            if self.col is not None:
                place = f"{place}:{self.col}"
        return place

    def sort_key(self) -> tuple:
        return (-self.severity.rank, self.file or "", self.line or 0, self.rule)
