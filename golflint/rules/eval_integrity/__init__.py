"""GL1xx: evaluation integrity (the four conditions of RULES.md).

Split by technique: ordering.py (what is trained or calibrated on before it is scored, passes,
selection), prediction.py (what a prediction may depend on and how it is normalized),
scoring.py (what the reported score covers and how its bytes are counted).
"""

from __future__ import annotations

from ..base import Rule
from . import ordering, prediction, scoring

RULES: list[type[Rule]] = [*ordering.RULES, *prediction.RULES, *scoring.RULES]
