"""GL1xx rules (ordering)."""

from __future__ import annotations

from ..base import Rule

RULES: list[type[Rule]] = []
