"""GL1xx rules (scoring)."""

from __future__ import annotations

from ..base import Rule

RULES: list[type[Rule]] = []
