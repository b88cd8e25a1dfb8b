"""GL4xx: logs, claims and time: scores backed by logs, time caps, significance."""

from __future__ import annotations

from .base import Rule

RULES: list[type[Rule]] = []
