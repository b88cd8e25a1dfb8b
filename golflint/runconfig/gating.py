"""Severity of code findings under the run configuration. Placeholder: findings pass unchanged."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..findings import Finding

if TYPE_CHECKING:
    from ..submission import Submission


def apply_gating(sub: "Submission", findings: list[Finding]) -> list[Finding]:
    return findings
