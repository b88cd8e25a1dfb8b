"""GL3xx: artifact bytes: code + compressed model against the cap, byte claims."""

from __future__ import annotations

from .base import Rule

RULES: list[type[Rule]] = []
