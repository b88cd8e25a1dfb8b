"""Measure a submission's counted bytes: code files on disk + the compressed model file."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..submission import Submission


@dataclass
class Measurement:
    code_bytes: int | None                      # None: no counted code file could be measured
    code_files: dict[str, int] = field(default_factory=dict)
    model_bytes: int | None = None
    model_source: str | None = None             # "final_model.int8.ptz" or "train_seed42.log line 812"
    cap: int = 16_000_000
    model_file: str | None = None               # the artifact file measured, when it is a file here

    @property
    def total(self) -> int | None:
        if self.code_bytes is None or self.model_bytes is None:
            return None
        return self.code_bytes + self.model_bytes

    @property
    def headroom(self) -> int | None:
        return None if self.total is None else self.cap - self.total


def measure_submission(sub: "Submission") -> Measurement:
    cap = int(sub.settings.get("bytes.cap"))
    patterns = sub.settings.get("bytes.code_files")
    code_files = {}
    for rel in sub.files:
        # The entry script is counted code whatever its name (train_gpt_cuda_ternary.py ...).
        if rel == sub.entry_script or any(fnmatch.fnmatch(rel, p) for p in patterns):
            size = sub.size(rel)
            if size is not None:
                code_files[rel] = size
    m = Measurement(code_bytes=sum(code_files.values()) if code_files else None,
                    code_files=code_files, cap=cap)
    artifacts = sub.glob(sub.settings.get("bytes.artifact_patterns"))
    sizes = [(rel, sub.size(rel)) for rel in artifacts]
    sizes = [(rel, s) for rel, s in sizes if s is not None]
    if sizes:
        rel, size = max(sizes, key=lambda item: item[1])
        m.model_bytes, m.model_source, m.model_file = size, rel, rel
    else:
        for log in sub.logs:
            if log.model_bytes is not None:
                m.model_bytes = log.model_bytes
                m.model_source = f"{log.path} line {log.model_bytes_line}"
                break
    return m
