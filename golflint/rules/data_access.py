"""GL2xx: data and network access."""

from __future__ import annotations

from .base import Rule

RULES: list[type[Rule]] = []
