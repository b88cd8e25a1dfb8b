"""GL1xx rules (prediction)."""

from __future__ import annotations

from ..base import Rule

RULES: list[type[Rule]] = []
