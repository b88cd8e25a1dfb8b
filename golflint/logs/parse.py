"""Tolerant train-log parser. Minimal version; the full parser replaces it."""

from __future__ import annotations

import re

from .model import Score, TrainLog

_SCORE = re.compile(r"^(?P<label>\S+)\s.*?val_loss[:=]\s*(?P<loss>[0-9.]+).*?val_bpb[:=]\s*(?P<bpb>[0-9.]+)")


def parse_log(path: str, text: str | None, problem: str | None = None) -> TrainLog:
    log = TrainLog(path=path, problem=problem)
    if text is None:
        return log
    for i, line in enumerate(text.splitlines(), 1):
        m = _SCORE.search(line)
        if m:
            decimals = len(m.group("bpb").split(".")[-1])
            log.scores.append(Score(m.group("label"), float(m.group("loss")), float(m.group("bpb")),
                                    i, exact=decimals >= 6))
    if not log.scores:
        log.missing.append("a final score line (val_loss and val_bpb)")
    return log
